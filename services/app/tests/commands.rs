//! The commands, given / when / then, on an embedded log in a temporary directory with
//! the projectors running: no HTTP, no process. What a command promises is checked
//! through the queries (and the log's head), as an edge would see it.

mod support;

use clef_pro_app::Error;
use clef_pro_app::commands::sessions::SignIn;
use clef_pro_app::queries::access::AuditQuery;
use clef_pro_app::queries::alerts::AlertsQuery;
use clef_pro_app::queries::history::MatrixQuery;
use clef_pro_schema::event::Role;
use serde_json::{Value, json};
use std::time::Duration;
use support::{SMALL, admin, given, wire};

/// A body size past [`clef_pro_app::INLINE_WORK`]: processed on a blocking thread.
const LARGE: usize = clef_pro_app::INLINE_WORK + 1;

fn report(commit: &str, passed: bool, message: &str) -> Value {
    json!({
        "commitSha": commit, "branch": "main", "commitTimestamp": 1_700_000_000_000u64,
        "cliVersion": "0.1.30",
        "summary": {"filesScanned": 1, "namespaces": ["oauth"], "environments": ["production"],
            "cells": [{"namespace": "oauth", "environment": "production",
                       "healthStatus": if passed {"healthy"} else {"critical"}, "description": "4 keys"}],
            "violations": u32::from(!passed), "passed": passed},
        "drift": [],
        "policyResults": [{"ruleId": "missing_keys", "ruleName": "Missing keys", "passed": passed,
                           "severity": "critical", "message": message, "scope": "oauth/production"}]
    })
}

const C1: &str = "1111111111111111111111111111111111111111";
const C2: &str = "2222222222222222222222222222222222222222";

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_with_one_bad_report_appends_nothing() {
    let g = given();
    let (_, key) = g.integration("payments").await;
    let head = g.app.log().head().await.expect("head");

    let result = g
        .app
        .submit_batch(
            &key,
            wire(json!({"reports": [report(C1, true, "ok"), report("not-a-commit", true, "ok")]})),
            SMALL,
        )
        .await;

    match result {
        Err(Error::Invalid(f)) => assert_eq!(f.field, "reports[1].commitSha"),
        other => panic!("expected a field error, got {other:?}"),
    }
    assert_eq!(g.app.log().head().await.expect("head"), head);
}

#[tokio::test(flavor = "multi_thread")]
async fn acknowledging_silences_an_alert_that_stays_open_until_a_report_resolves_it() {
    let g = given();
    let (id, key) = g.integration("payments").await;
    g.app
        .submit_report(&key, wire(report(C1, false, "2 keys missing")), SMALL)
        .await
        .expect("accepted");
    let (open, _) = g
        .app
        .alert_page(&id, &AlertsQuery::default(), 50)
        .expect("alerts");
    assert_eq!(open.len(), 1);

    let acked = g
        .app
        .acknowledge(&id, &open[0].id, &admin())
        .await
        .expect("acknowledged");

    assert_eq!(acked.status, "open");
    assert!(acked.acknowledged);
    assert_eq!(acked.acknowledged_by.as_deref(), Some("operator"));
    g.app
        .submit_report(&key, wire(report(C2, true, "all keys present")), SMALL)
        .await
        .expect("accepted");
    match g.app.acknowledge(&id, &open[0].id, &admin()).await {
        Err(Error::Conflict(_)) => {}
        other => panic!("a resolved alert cannot be acknowledged: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_key_no_longer_authenticates() {
    let g = given();
    let (id, key_id, secret) = g.integration_with_secret("payments").await;
    assert!(g.app.key_caller(&secret).expect("read").is_some());

    g.app
        .revoke_key(&admin(), &id, key_id.as_str())
        .await
        .expect("revoked");

    assert!(g.app.key_caller(&secret).expect("read").is_none());
    assert!(g.app.caller(&secret).expect("read").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_channel_must_name_a_destination_of_its_kind() {
    let g = given();
    let (id, _) = g.integration("payments").await;
    let head = g.app.log().head().await.expect("head");

    let result = g
        .app
        .set_notifications(
            &admin(),
            &id,
            wire(json!({"notifications": [
                {"channel": "email", "target": "sec@example.com", "minSeverity": "error"},
                {"channel": "slack", "target": "ops", "minSeverity": "critical"}]})),
        )
        .await;

    match result {
        Err(Error::Invalid(f)) => assert_eq!(f.field, "notifications[1].target"),
        other => panic!("expected a field error, got {other:?}"),
    }
    assert_eq!(g.app.log().head().await.expect("head"), head);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_token_cannot_sign_in_and_the_attempt_is_audited() {
    let g = given();
    let (token_id, token) = g
        .app
        .issue_token(Some(&admin()), Role::Viewer, "alice".into())
        .await
        .expect("issued");
    let SignIn::Started { session, .. } = g.app.sign_in(&token).await.expect("signed in") else {
        panic!("a valid token signs in")
    };
    assert!(g.app.session_person(&session).expect("read").is_some());

    g.app
        .revoke_token(&admin(), token_id.as_str())
        .await
        .expect("revoked");

    assert!(g.app.session_person(&session).expect("read").is_none());
    assert!(matches!(
        g.app.sign_in(&token).await.expect("answered"),
        SignIn::Refused
    ));
    let audit = g.app.audit_page(&AuditQuery::default()).expect("audit");
    let actions: Vec<&str> = audit.entries.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["sign-in.failed", "token.revoke", "sign-in", "token.issue"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secret_in_a_report_is_stored_only_as_its_fingerprint() {
    let g = given();
    let (id, key) = g.integration("payments").await;
    let secret = "AKIAQ3EGUJ7ZHX4KMN2P";

    let accepted = g
        .app
        .submit_report(
            &key,
            wire(report(C1, false, &format!("leaked {secret} in a message"))),
            LARGE,
        )
        .await
        .expect("accepted");

    assert_eq!(accepted.redacted.secrets_redacted, 1);
    let stored = g
        .app
        .matrix_view(&id, &MatrixQuery::default())
        .expect("read")
        .expect("stored");
    let text = format!("{stored:?}");
    assert!(!text.contains(secret));
    assert!(text.contains(&accepted.redacted.fingerprints[0]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_renamed_integration_is_named_anew_in_its_notifications() {
    let g = given();
    let (id, key) = g.integration("payments").await;
    g.app
        .set_notifications(
            &admin(),
            &id,
            wire(json!({"notifications": [
                {"channel": "email", "target": "sec@example.com", "minSeverity": "info"}]})),
        )
        .await
        .expect("set");

    g.app
        .rename_integration(&admin(), &id, wire(json!({"name": "payments-api"})))
        .await
        .expect("renamed");
    g.app
        .submit_report(&key, wire(report(C1, false, "2 keys missing")), SMALL)
        .await
        .expect("accepted");

    assert_eq!(
        g.app.integration_view(&id).expect("view").name,
        "payments-api"
    );
    let (open, _) = g
        .app
        .alert_page(&id, &AlertsQuery::default(), 50)
        .expect("alerts");
    let alert = clef_pro_schema::ids::AlertId::parse(&open[0].id).expect("id");
    // A report waits for the matrix and the alerts only; the outbox follows.
    let head = g.app.log().head().await.expect("head");
    let outbox = clef_pro_projections::Kind::Outbox;
    let caught_up = g
        .app
        .projections()
        .wait_for(outbox, head, Duration::from_secs(10));
    assert!(caught_up.await, "the outbox applied the report");
    let intents = g
        .app
        .projections()
        .outbox(|o| o.for_alert(&alert))
        .expect("intents");
    assert_eq!(intents.len(), 1);
    assert_eq!(intents[0].integration_name, "payments-api");
}
