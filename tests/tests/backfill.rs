//! Backfills as the real Clef `CloudClient` sends them, on both logs: every ancestor
//! with `branch: ""`, the branch name on HEAD only (docs/api.md). The batch is
//! accepted, the branch's history holds every commit, only HEAD drives alerts; a single
//! branchless report is stored and browsable but drives nothing.

use clef_pro_tests::client::Client;
use clef_pro_tests::fixtures::{report, sha};
use clef_pro_tests::nats::NatsServer;
use clef_pro_tests::service::{Backend, Service};
use serde_json::{Value, json};

const FAIL: (&str, &str, bool, &str) = ("missing_keys", "oauth/production", false, "critical");
const PASS: (&str, &str, bool, &str) = ("missing_keys", "oauth/production", true, "critical");

/// A backfill of `n` reports: ancestors `{label}0…` without a branch, HEAD on `main`.
/// `failing_at` is the index whose report fails; `ci` keeps HEAD's `ciContext`.
fn backfill(label: &str, n: usize, failing_at: usize, ci: bool) -> Vec<Value> {
    (0..n)
        .map(|i| {
            let results = if i == failing_at { [FAIL] } else { [PASS] };
            let head = i + 1 == n;
            let mut r = report(
                &sha(&format!("{label}{i}")),
                if head { "main" } else { "" },
                &results,
            );
            if !(head && ci) {
                r.as_object_mut().unwrap().remove("ciContext");
            }
            r
        })
        .collect()
}

fn commits(page: &Value) -> Vec<String> {
    page["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["commitSha"].as_str().unwrap().to_owned())
        .collect()
}

async fn main_history(c: &Client, id: &str) -> Vec<String> {
    commits(
        &c.get(&format!("/api/v1/integrations/{id}/reports?branch=main"))
            .await,
    )
}

async fn backfills_with_empty_branches(backend: Backend) {
    let s = Service::start(backend, None).await;
    let c = s.client();
    let (id, key) = c
        .integration("acme", json!({"collectCIContext": true}))
        .await;

    // 4 reports, HEAD with ciContext; the failing one is an ancestor: history only.
    let r = c.batch(&key, &backfill("a", 4, 1, true)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["accepted"], 4);
    let want: Vec<String> = (0..4).rev().map(|i| sha(&format!("a{i}"))).collect();
    assert_eq!(
        main_history(&c, &id).await,
        want,
        "HEAD first, every commit"
    );
    assert!(
        c.alerts(&id, "all").await.is_empty(),
        "a failing ancestor opens nothing"
    );
    let i = c.get(&format!("/api/v1/integrations/{id}")).await;
    assert_eq!(i["lastCommitSha"], sha("a3"));
    let ancestor = c
        .get(&format!(
            "/api/v1/integrations/{id}/matrix?commit={}",
            sha("a1")
        ))
        .await;
    assert_eq!(
        ancestor["branch"], "main",
        "an ancestor takes HEAD's branch"
    );

    // 5 reports, no ciContext anywhere, HEAD fails: it opens the alert.
    let r = c.batch(&key, &backfill("b", 5, 4, false)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let history = main_history(&c, &id).await;
    assert_eq!(history.len(), 9);
    assert_eq!(
        history[..5],
        (0..5)
            .rev()
            .map(|i| sha(&format!("b{i}")))
            .collect::<Vec<_>>()
    );
    let open = c.alerts(&id, "open").await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["openedByCommit"], sha("b4"));
    let i = c.get(&format!("/api/v1/integrations/{id}")).await;
    assert_eq!(i["lastCommitSha"], sha("b4"));
}

#[tokio::test(flavor = "multi_thread")]
async fn backfills_with_empty_branches_embedded() {
    backfills_with_empty_branches(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn backfills_with_empty_branches_nats() {
    let n = NatsServer::start().await;
    backfills_with_empty_branches(Backend::Nats(n.url())).await;
}

/// A single report without a branch: stored, browsable at its commit, in the
/// all-branches history, and never opens an alert, even on an integration whose
/// tracked branches are all there is.
#[tokio::test(flavor = "multi_thread")]
async fn a_single_branchless_report_is_history_only() {
    let s = Service::start(Backend::Embedded, None).await;
    let c = s.client();
    let (id, key) = c.integration("acme", json!({})).await;
    let r = c.report(&key, &report(&sha("lone"), "", &[FAIL])).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert_eq!(r.body["branch"], Value::Null);
    let m = c
        .get(&format!(
            "/api/v1/integrations/{id}/matrix?commit={}",
            sha("lone")
        ))
        .await;
    assert_eq!(m["commitSha"], sha("lone"));
    assert_eq!(m["branch"], Value::Null);
    assert_eq!(
        commits(&c.get(&format!("/api/v1/integrations/{id}/reports")).await),
        [sha("lone")]
    );
    assert!(main_history(&c, &id).await.is_empty());
    assert!(c.alerts(&id, "all").await.is_empty(), "opens nothing");
    let i = c.get(&format!("/api/v1/integrations/{id}")).await;
    assert_eq!(i["lastCommitSha"], Value::Null);

    // The next HEAD on a tracked branch claims it for that branch's history; still no
    // alert comes from it.
    let r = c.report(&key, &report(&sha("head"), "main", &[PASS])).await;
    assert_eq!(r.status, 201);
    assert_eq!(main_history(&c, &id).await, [sha("head"), sha("lone")]);
    assert!(c.alerts(&id, "all").await.is_empty());
}

/// `lastCommitSha` is the newest commit on a tracked branch, whichever branches are
/// tracked now: changing them points it at the newest report on the new ones (what the
/// CLI backfills from), or at nothing when none has a report.
#[tokio::test(flavor = "multi_thread")]
async fn the_last_commit_follows_the_tracked_branches() {
    let s = Service::start(Backend::Embedded, None).await;
    let c = s.client();
    let (id, key) = c
        .integration("acme", json!({"trackedBranches": ["develop"]}))
        .await;
    let last = |c: &Client| {
        let (c, id) = (c.clone(), id.clone());
        async move { c.get(&format!("/api/v1/integrations/{id}")).await["lastCommitSha"].clone() }
    };
    for (commit, branch) in [("m1", "main"), ("d1", "develop"), ("m2", "main")] {
        let r = c.report(&key, &report(&sha(commit), branch, &[PASS])).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    assert_eq!(last(&c).await, sha("d1"));
    let config = |branches: Value| {
        let (c, id) = (c.clone(), id.clone());
        async move {
            let r = c.configure(&id, json!({"trackedBranches": branches})).await;
            assert_eq!(r.status, 200, "{:?}", r.body);
        }
    };
    config(json!(["main"])).await;
    assert_eq!(last(&c).await, sha("m2"));
    config(json!(["develop", "main"])).await;
    assert_eq!(last(&c).await, sha("m2"));
    config(json!(["release"])).await;
    assert_eq!(last(&c).await, Value::Null);
}
