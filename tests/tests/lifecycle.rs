//! The seed's alert lifecycle example through the HTTP API, on both log backends:
//! abc opens, def keeps it open, acknowledge, ghi keeps it open and acknowledged,
//! jkl resolves it, mno opens a new alert linked to the first.

use clef_pro_tests::client::Client;
use clef_pro_tests::fixtures::{report, sha};
use clef_pro_tests::nats::NatsServer;
use clef_pro_tests::service::{Backend, Service};
use serde_json::{Value, json};

const FAIL: (&str, &str, bool, &str) = ("missing_keys", "oauth/production", false, "critical");
const PASS: (&str, &str, bool, &str) = ("missing_keys", "oauth/production", true, "critical");

async fn only_alert(c: &Client, id: &str, status: &str) -> Value {
    let alerts = c.alerts(id, status).await;
    assert_eq!(alerts.len(), 1, "{status}: {alerts:?}");
    alerts[0].clone()
}

fn expect(alert: &Value, fields: Value) {
    for (k, v) in fields.as_object().unwrap() {
        assert_eq!(&alert[k], v, "field {k} of {alert:#}");
    }
}

async fn seed_example(backend: Backend) {
    let s = Service::start(backend, None).await;
    let c = s.client();
    let (id, key) = c.integration("acme", json!({})).await;
    let submit = |commit: &str, results: &[(&'static str, &'static str, bool, &'static str)]| {
        let body = report(&sha(commit), "main", results);
        let c = c.clone();
        let key = key.clone();
        async move {
            let r = c.report(&key, &body).await;
            assert_eq!(r.status, 201, "{:?}", r.body);
        }
    };

    submit("abc", &[FAIL]).await;
    let first = only_alert(&c, &id, "open").await;
    let first_id = first["id"].as_str().unwrap().to_owned();
    expect(
        &first,
        json!({
            "ruleId": "missing_keys", "ruleName": "Rule missing_keys", "scope": "oauth/production",
            "severity": "critical", "status": "open", "acknowledged": false, "acknowledgedBy": null,
            "acknowledgedAt": null, "openedByCommit": sha("abc"), "resolvedByCommit": null,
            "previousAlertId": null, "message": "missing_keys at oauth/production",
        }),
    );

    submit("def", &[FAIL]).await;
    let still = only_alert(&c, &id, "open").await;
    expect(
        &still,
        json!({"id": first_id, "status": "open", "acknowledged": false, "openedByCommit": sha("abc")}),
    );

    let ack = c.acknowledge(&id, &first_id).await;
    assert_eq!(ack.status, 200, "{:?}", ack.body);
    let again = c.acknowledge(&id, &first_id).await;
    assert_eq!(again.status, 200, "acknowledging twice is idempotent");
    assert_eq!(again.body["acknowledgedAt"], ack.body["acknowledgedAt"]);
    let acked = only_alert(&c, &id, "open").await;
    expect(
        &acked,
        json!({"id": first_id, "status": "open", "acknowledged": true, "acknowledgedBy": "operator"}),
    );
    assert!(acked["acknowledgedAt"].as_u64().is_some());

    submit("ghi", &[FAIL]).await;
    let after_ghi = only_alert(&c, &id, "open").await;
    expect(
        &after_ghi,
        json!({"id": first_id, "status": "open", "acknowledged": true, "openedByCommit": sha("abc"),
                              "resolvedByCommit": null}),
    );

    submit("jkl", &[PASS]).await;
    assert!(c.alerts(&id, "open").await.is_empty());
    let resolved = only_alert(&c, &id, "resolved").await;
    expect(
        &resolved,
        json!({"id": first_id, "status": "resolved", "acknowledged": true,
                             "openedByCommit": sha("abc"), "resolvedByCommit": sha("jkl")}),
    );
    let late = c.acknowledge(&id, &first_id).await;
    assert_eq!(
        late.expect_error(409, None),
        "conflict",
        "a resolved alert cannot be acknowledged"
    );

    submit("mno", &[FAIL]).await;
    let second = only_alert(&c, &id, "open").await;
    assert_ne!(second["id"], first_id);
    expect(
        &second,
        json!({"status": "open", "acknowledged": false, "openedByCommit": sha("mno"),
                           "resolvedByCommit": null, "previousAlertId": first_id}),
    );
    assert_eq!(c.alerts(&id, "all").await.len(), 2);
    let first_again = only_alert(&c, &id, "resolved").await;
    expect(
        &first_again,
        json!({"id": first_id, "resolvedByCommit": sha("jkl")}),
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_example_embedded() {
    seed_example(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn seed_example_nats() {
    let n = NatsServer::start().await;
    seed_example(Backend::Nats(n.url())).await;
}

/// The real CLI sends duplicate rule ids without a scope, and passing results with
/// severity `warning`: one alert per identity, and passing results never open one.
#[tokio::test(flavor = "multi_thread")]
async fn duplicate_rule_ids_and_passing_warnings() {
    let s = Service::start(Backend::Embedded, None).await;
    let c = s.client();
    let (id, key) = c.integration("acme", json!({})).await;
    let mut body = report(&sha("dup"), "main", &[]);
    body["policyResults"] = json!([
        {"ruleId": "schema/error", "ruleName": "Schema", "passed": false, "severity": "error", "message": "a"},
        {"ruleId": "schema/error", "ruleName": "Schema", "passed": false, "severity": "error", "message": "b"},
        {"ruleId": "lint/warning", "ruleName": "Lint", "passed": true, "severity": "warning", "message": "ok"},
    ]);
    assert_eq!(c.report(&key, &body).await.status, 201);
    let alerts = c.alerts(&id, "all").await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    expect(
        &alerts[0],
        json!({"ruleId": "schema/error", "scope": "", "status": "open"}),
    );
}

/// Reports on untracked branches are stored but never drive alerts; in a batch only
/// HEAD does; a resubmitted commit never changes alert state.
#[tokio::test(flavor = "multi_thread")]
async fn branches_batches_and_resubmissions() {
    let s = Service::start(Backend::Embedded, None).await;
    let c = s.client();
    let (id, key) = c
        .integration("acme", json!({"trackedBranches": ["main"]}))
        .await;
    assert_eq!(
        c.report(&key, &report(&sha("f1"), "feature/x", &[FAIL]))
            .await
            .status,
        201
    );
    assert!(
        c.alerts(&id, "all").await.is_empty(),
        "untracked branches open nothing"
    );
    let m = c
        .get(&format!(
            "/api/v1/integrations/{id}/matrix?branch=feature/x"
        ))
        .await;
    assert_eq!(m["commitSha"], sha("f1"));

    // Batch: the middle report fails, HEAD passes: no alert.
    let batch = [
        report(&sha("b1"), "main", &[PASS]),
        report(&sha("b2"), "main", &[FAIL]),
        report(&sha("b3"), "main", &[PASS]),
    ];
    let r = c.batch(&key, &batch).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["accepted"], 3);
    assert!(
        c.alerts(&id, "all").await.is_empty(),
        "only HEAD drives alerts"
    );
    let page = c
        .get(&format!("/api/v1/integrations/{id}/reports?branch=main"))
        .await;
    let commits: Vec<&str> = page["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["commitSha"].as_str().unwrap())
        .collect();
    assert_eq!(
        commits,
        [sha("b3"), sha("b2"), sha("b1")],
        "history is newest first"
    );

    // Resubmitting b2 (failing) alone changes nothing, even though it is now HEAD.
    assert_eq!(
        c.report(&key, &report(&sha("b2"), "main", &[FAIL]))
            .await
            .status,
        201
    );
    assert!(
        c.alerts(&id, "all").await.is_empty(),
        "a resubmitted commit never changes alerts"
    );

    // Pagination: limit 1 and the `next` cursor walk the history.
    let p1 = c
        .get(&format!(
            "/api/v1/integrations/{id}/reports?branch=main&limit=1"
        ))
        .await;
    let next = p1["next"].as_str().unwrap().to_owned();
    let p2 = c
        .get(&format!(
            "/api/v1/integrations/{id}/reports?branch=main&limit=1&before={next}"
        ))
        .await;
    assert_eq!(p2["reports"][0]["commitSha"], sha("b2"));

    // The matrix at an older commit, and lastCommitSha from the tracked branch.
    let old = c
        .get(&format!(
            "/api/v1/integrations/{id}/matrix?commit={}",
            sha("b1")
        ))
        .await;
    assert_eq!(
        (old["commitSha"].as_str(), old["latest"].as_bool()),
        (Some(sha("b1").as_str()), Some(false))
    );
    let i = c.get(&format!("/api/v1/integrations/{id}")).await;
    assert_eq!(i["lastCommitSha"], sha("b3"));
}
