//! The shipped Clef CLI's `clef report --push` (OTLP/HTTP JSON) end to end: a first
//! push, a gap-fill of several commits, an up-to-date run, and lint/drift pushes that
//! carry key names and paths; the result matches the equivalent REST reports, and no
//! path or key name from the requests is anywhere in what the service wrote.

use clef_pro_tests::client::{Client, Resp};
use clef_pro_tests::files_containing;
use clef_pro_tests::fixtures::sha;
use clef_pro_tests::service::{Backend, Service};
use serde_json::{Value, json};

const KEY_NAME: &str = "STRIPE_WEBHOOK_SIGNING_SECRET";
const PATH: &str = "/home/runner/work/acme/secrets/payments/production.enc.yaml";

fn s(k: &str, v: &str) -> Value {
    json!({"key": k, "value": {"stringValue": v}})
}

fn int(k: &str, v: u64) -> Value {
    json!({"key": k, "value": {"intValue": v.to_string()}})
}

/// An OTLP request as `clef report --push` sends it for one commit.
fn push(commit: Option<&str>, branch: &str, failing: bool) -> Value {
    let mut resource = vec![
        s("service.name", "clef-cli"),
        s("service.version", "0.1.30"),
        s("clef.repo.origin", "git@github.com:acme/payments.git"),
        s("clef.repo.branch", branch),
    ];
    if let Some(c) = commit {
        resource.push(s("clef.repo.commit", c));
    }
    let mut records = vec![
        json!({"timeUnixNano": "1700000000000000000", "severityText": "INFO",
        "body": {"stringValue": format!("report for {PATH}")},
        "attributes": [s("event.name", "clef.report.summary"), int("clef.errorCount", u64::from(failing)),
                       int("clef.warningCount", 1), int("clef.infoCount", 0), int("clef.matrixCells", 4),
                       json!({"key": "clef.passed", "value": {"boolValue": !failing}})]}),
    ];
    if failing {
        records.push(json!({"attributes": [s("event.name", "clef.report.issue"), s("clef.severity", "error"),
            s("clef.category", "schema"), s("clef.message", &format!("{KEY_NAME} does not match the schema in {PATH}")),
            s("clef.file", PATH), s("clef.key", KEY_NAME), s("clef.fixCommand", &format!("clef set payments/production {KEY_NAME}")),
            s("secret.extra", "dropped by the allow-list")]}));
    }
    records.push(
        json!({"attributes": [s("event.name", "clef.report.issue"), s("clef.severity", "warning"),
        s("clef.category", "rotation"), s("clef.message", "rotation overdue"),
        s("clef.namespace", "database"), s("clef.environment", "staging")]}),
    );
    json!({"resourceLogs": [{"resource": {"attributes": resource}, "scopeLogs": [{"scope": {"name": "clef"}, "logRecords": records}]}]})
}

/// The REST report carrying the same facts.
fn rest(commit: &str, branch: &str, failing: bool) -> Value {
    let mut results = vec![
        json!({"ruleId": "rotation/warning", "ruleName": "rotation", "passed": false, "severity": "warning",
                                  "message": "rotation overdue", "scope": "database/staging"}),
    ];
    let mut cells = vec![
        json!({"namespace": "database", "environment": "staging", "healthStatus": "warning", "description": "1 issue(s)"}),
    ];
    if failing {
        results.insert(0, json!({"ruleId": "schema/error", "ruleName": "schema", "passed": false, "severity": "error",
                                 "message": "<key> does not match the schema in <file>", "scope": "payments/production"}));
        cells.push(json!({"namespace": "payments", "environment": "production", "healthStatus": "critical", "description": "1 issue(s)"}));
    }
    let (namespaces, environments) = if failing {
        (
            json!(["database", "payments"]),
            json!(["staging", "production"]),
        )
    } else {
        (json!(["database"]), json!(["staging"]))
    };
    json!({"commitSha": commit, "branch": branch, "cliVersion": "0.1.30",
           "summary": {"filesScanned": 4, "namespaces": namespaces, "environments": environments, "cells": cells,
                       "violations": 1 + u32::from(failing), "passed": !failing},
           "policyResults": results})
}

async fn otlp(c: &Client, key: &str, body: &Value) -> Resp {
    c.with_key(key, "POST", "/otlp/v1/logs", body).await
}

/// Alerts without ids and times, for comparing two integrations.
fn shape(alerts: Vec<Value>) -> Vec<(String, String, String, String, String)> {
    let mut v: Vec<_> = alerts
        .iter()
        .map(|a| {
            let f = |k: &str| a[k].as_str().unwrap_or("").to_owned();
            (
                f("ruleId"),
                f("scope"),
                f("status"),
                f("openedByCommit"),
                f("resolvedByCommit"),
            )
        })
        .collect();
    v.sort();
    v
}

#[tokio::test(flavor = "multi_thread")]
async fn clef_report_push_is_a_drop_in_target() {
    let mut svc = Service::start(Backend::Embedded, None).await;
    let c = svc.client();
    let (id, key) = c.integration("otlp", json!({})).await;
    let (rid, rkey) = c.integration("rest", json!({})).await;
    for i in [&id, &rid] {
        let r = c
            .configure(
                i,
                json!({"filePattern": "{namespace}/{environment}.enc.yaml"}),
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
    }

    // First push: never reported → 404; the CLI pushes HEAD only.
    let cp = c
        .send(
            "GET",
            "/otlp/v1/checkpoint",
            Some(("x-api-key", &key)),
            None,
        )
        .await;
    assert_eq!(cp.status, 404);
    let r = otlp(&c, &key, &push(Some(&sha("h1")), "main", true)).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        c.report(&rkey, &rest(&sha("h1"), "main", true))
            .await
            .status,
        201
    );
    let cp = c
        .send(
            "GET",
            "/v1/checkpoint",
            Some(("authorization", &format!("Bearer {key}"))),
            None,
        )
        .await;
    assert_eq!(cp.status, 200);
    assert_eq!(cp.body["lastCommitSha"], sha("h1"));
    assert!(
        cp.body["lastTimestamp"]
            .as_str()
            .is_some_and(|t| t.ends_with('Z') && t.contains('T'))
    );

    // Gap fill: commits since, oldest first, without a branch; then HEAD.
    for g in ["g1", "g2"] {
        assert_eq!(
            otlp(&c, &key, &push(Some(&sha(g)), "", true)).await.status,
            200
        );
        assert_eq!(c.report(&rkey, &rest(&sha(g), "", true)).await.status, 201);
    }
    assert_eq!(
        otlp(&c, &key, &push(Some(&sha("h2")), "main", false))
            .await
            .status,
        200
    );
    assert_eq!(
        c.report(&rkey, &rest(&sha("h2"), "main", false))
            .await
            .status,
        201
    );

    // Up to date: the checkpoint is HEAD, so the CLI pushes nothing.
    let cp = c
        .send(
            "GET",
            "/otlp/v1/checkpoint",
            Some(("x-api-key", &key)),
            None,
        )
        .await;
    assert_eq!(cp.body["lastCommitSha"], sha("h2"));

    // lint and drift pushes carry no commit: refused, nothing written.
    let head = c.metrics().await["clef_pro_log_head"];
    for cmd in ["lint", "drift"] {
        let mut body = push(None, "main", true);
        body["resourceLogs"][0]["scopeLogs"][0]["logRecords"][1]["attributes"]
            .as_array_mut()
            .unwrap()
            .push(s("clef.command", cmd));
        let r = otlp(&c, &key, &body).await;
        assert_eq!(r.status, 422, "{:?}", r.body);
        assert!(
            r.body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("clef report --push")
        );
    }
    assert_eq!(c.metrics().await["clef_pro_log_head"], head);

    // The OTLP integration looks exactly like the REST one.
    assert_eq!(
        shape(c.alerts(&id, "all").await),
        shape(c.alerts(&rid, "all").await)
    );
    assert!(!c.alerts(&id, "all").await.is_empty());
    for q in ["", "?commit="] {
        let q = if q.is_empty() {
            String::new()
        } else {
            format!("{q}{}", sha("g1"))
        };
        let a = c.get(&format!("/api/v1/integrations/{id}/matrix{q}")).await;
        let b = c
            .get(&format!("/api/v1/integrations/{rid}/matrix{q}"))
            .await;
        for k in ["commitSha", "branch", "cells", "policyResults", "summary"] {
            assert_eq!(a[k], b[k], "{k} differs for matrix{q}");
        }
    }
    let ha = c.get(&format!("/api/v1/integrations/{id}/reports")).await;
    let hb = c.get(&format!("/api/v1/integrations/{rid}/reports")).await;
    let commits = |h: &Value| {
        h["reports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["commitSha"].clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(commits(&ha), commits(&hb));
    // main's history holds every commit reported for it, the branchless gap fill
    // included, whichever client sent it.
    for i in [&id, &rid] {
        let h = c
            .get(&format!("/api/v1/integrations/{i}/reports?branch=main"))
            .await;
        let want: Vec<Value> = ["h2", "g2", "g1", "h1"].map(|c| json!(sha(c))).into();
        assert_eq!(commits(&h), want);
    }

    // No path and no key name anywhere the service wrote.
    svc.stop().await;
    for needle in [
        KEY_NAME,
        PATH,
        "/home/runner",
        "secret.extra",
        "git@github.com:acme",
        "clef set payments",
    ] {
        let found = files_containing(svc.dir.path(), needle.as_bytes());
        assert!(found.is_empty(), "{needle} found in {found:?}");
    }
}
