//! Handler tests in process: the service built by `Application::build` (the wiring of
//! `clef-pro serve`) over an embedded log and stores in a temporary directory, its router
//! driven with `tower::ServiceExt::oneshot`, with no process or port. They read as given / when / then. The process-level suite in
//! `tests/` keeps what needs a real process: kill -9, disks, NATS, SMTP, browsers.

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode};
use clap::Parser;
use clef_pro::Application;
use clef_pro::cli::{Cli, Command};
use serde_json::{Value, json};
use tower::ServiceExt;

const ADMIN: &str = "handler-test-admin-token";

/// A service built in this process by the same `Application::build` as `clef-pro
/// serve`, on a fresh embedded log, with the projectors and the notifier running.
struct App {
    router: Router,
    application: Application,
    _dir: tempfile::TempDir,
}

impl App {
    async fn new() -> App {
        let dir = tempfile::tempdir().expect("tempdir");
        let data = dir.path().to_str().expect("utf-8 path");
        let cli = Cli::try_parse_from([
            "clef-pro",
            "serve",
            "--data-dir",
            data,
            "--listen",
            "127.0.0.1:0",
            "--admin-token",
            ADMIN,
        ])
        .expect("flags");
        let Command::Serve(args) = cli.command else {
            panic!("parsed serve")
        };
        let application = Application::build(args).await.expect("built");
        App {
            router: application.router(),
            application,
            _dir: dir,
        }
    }

    /// One request; the answer's status and JSON body (`Null` when it has none).
    async fn call(
        &self,
        method: &str,
        path: &str,
        auth: (&str, &str),
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut req = Request::builder().method(method).uri(path);
        if !auth.0.is_empty() {
            req = req.header(auth.0, auth.1);
        }
        let req = match body {
            Some(b) => req
                .header("content-type", "application/json")
                .body(Body::from(b.to_string())),
            None => req.body(Body::empty()),
        }
        .expect("request");
        let resp = self.router.clone().oneshot(req).await.expect("an answer");
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), 1 << 20)
            .await
            .expect("body");
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    async fn admin(&self, method: &str, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let bearer = format!("Bearer {ADMIN}");
        self.call(method, path, ("authorization", &bearer), body)
            .await
    }

    /// Given: an integration and a CI key for it.
    async fn integration_with_key(&self) -> (String, String) {
        let (status, created) = self
            .admin(
                "POST",
                "/api/v1/admin/integrations",
                Some(json!({"name": "payments"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let id = created["id"].as_str().expect("id").to_owned();
        let (status, key) = self
            .admin(
                "POST",
                &format!("/api/v1/admin/integrations/{id}/keys"),
                Some(json!({"label": "ci"})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{key}");
        (id, key["apiKey"].as_str().expect("apiKey").to_owned())
    }
}

fn report(commit: &str, passed: bool) -> Value {
    json!({
        "commitSha": commit, "branch": "main", "commitTimestamp": 1_700_000_000_000u64,
        "cliVersion": "0.1.30",
        "summary": {"filesScanned": 1, "namespaces": ["oauth"], "environments": ["production"],
            "cells": [{"namespace": "oauth", "environment": "production",
                       "healthStatus": if passed {"healthy"} else {"critical"}, "description": "4 keys"}],
            "violations": u32::from(!passed), "passed": passed},
        "drift": [],
        "policyResults": [{"ruleId": "missing_keys", "ruleName": "Missing keys", "passed": passed,
                           "severity": "critical", "message": "2 keys missing", "scope": "oauth/production"}]
    })
}

const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_report_is_stored_and_opens_an_alert() {
    let app = App::new().await;
    let (id, key) = app.integration_with_key().await;

    let (status, accepted) = app
        .call(
            "POST",
            "/api/v1/reports",
            ("x-api-key", &key),
            Some(report(COMMIT, false)),
        )
        .await;

    assert_eq!(status, StatusCode::CREATED, "{accepted}");
    assert_eq!(accepted["commitSha"], COMMIT);
    let (status, matrix) = app
        .admin("GET", &format!("/api/v1/integrations/{id}/matrix"), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{matrix}");
    assert_eq!(matrix["commitSha"], COMMIT);
    let (_, alerts) = app
        .admin("GET", &format!("/api/v1/integrations/{id}/alerts"), None)
        .await;
    let open = alerts["alerts"].as_array().expect("alerts");
    assert_eq!(open.len(), 1, "{alerts}");
    assert_eq!(open[0]["ruleId"], "missing_keys");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_report_without_a_valid_key_is_refused_and_leaves_nothing() {
    let app = App::new().await;
    let (_, _key) = app.integration_with_key().await;
    let head = app.application.app().log().head().await.expect("head");

    for auth in [("", ""), ("x-api-key", "clef_not-a-key")] {
        let (status, error) = app
            .call("POST", "/api/v1/reports", auth, Some(report(COMMIT, true)))
            .await;

        assert_eq!(status, StatusCode::UNAUTHORIZED, "{error}");
        assert!(error["error"]["code"].is_string(), "{error}");
    }
    assert_eq!(
        app.application.app().log().head().await.expect("head"),
        head,
        "nothing was appended"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_viewer_cannot_configure() {
    let app = App::new().await;
    let (status, token) = app
        .admin(
            "POST",
            "/api/v1/admin/tokens",
            Some(json!({"role": "viewer", "label": "auditor"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{token}");
    let viewer = format!("Bearer {}", token["token"].as_str().expect("token"));

    let (status, error) = app
        .call(
            "POST",
            "/api/v1/admin/integrations",
            ("authorization", &viewer),
            Some(json!({"name": "x"})),
        )
        .await;

    assert_eq!(status, StatusCode::FORBIDDEN, "{error}");
    let (status, list) = app
        .call(
            "GET",
            "/api/v1/integrations",
            ("authorization", &viewer),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["integrations"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_are_prometheus_text_unless_openmetrics_is_asked_for() {
    let app = App::new().await;
    for (accept, wanted) in [
        ("", "text/plain; version=0.0.4"),
        (
            "application/openmetrics-text; version=1.0.0",
            "application/openmetrics-text",
        ),
    ] {
        let mut req = Request::builder().uri("/metrics");
        if !accept.is_empty() {
            req = req.header("accept", accept);
        }
        let resp = app
            .router
            .clone()
            .oneshot(req.body(Body::empty()).expect("request"))
            .await
            .expect("an answer");

        assert_eq!(resp.status(), StatusCode::OK);
        let content_type = resp.headers()["content-type"].to_str().expect("ascii");
        assert!(content_type.starts_with(wanted), "{content_type}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pages_send_signed_out_visitors_to_sign_in_and_carry_the_security_headers() {
    let app = App::new().await;
    for (path, status) in [("/", StatusCode::SEE_OTHER), ("/sign-in", StatusCode::OK)] {
        let resp = app
            .router
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).expect("request"))
            .await
            .expect("an answer");

        assert_eq!(resp.status(), status, "{path}");
        let h = resp.headers();
        if status == StatusCode::SEE_OTHER {
            assert_eq!(h["location"], "/sign-in");
            continue;
        }
        assert!(
            h["content-type"]
                .to_str()
                .expect("ascii")
                .starts_with("text/html")
        );
        assert!(
            h["content-security-policy"]
                .to_str()
                .expect("ascii")
                .contains("frame-ancestors 'none'")
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["cache-control"], "no-store");
    }
}
