//! The client-compatible ingest API end to end, on the embedded log and on a real
//! nats-server: the contract example, every error row, resubmission, and a batch
//! interrupted by `kill -9`.

use clef_pro_log::{Log, NatsOptions};
use clef_pro_schema::event::Event;
use clef_pro_tests::client::Client;
use clef_pro_tests::fixtures::{big_report, report, sha};
use clef_pro_tests::nats::NatsServer;
use clef_pro_tests::service::{Backend, Service};
use serde_json::json;
use std::time::Duration;

async fn head(c: &Client) -> f64 {
    c.metrics().await["clef_pro_log_head"]
}

/// Starts a service on the chosen backend (and its nats-server).
async fn start(nats: bool) -> (Service, Option<NatsServer>) {
    if nats {
        let n = NatsServer::start().await;
        (Service::start(Backend::Nats(n.url()), None).await, Some(n))
    } else {
        (Service::start(Backend::Embedded, None).await, None)
    }
}

async fn reopen_log(s: &Service, nats: &Option<NatsServer>) -> Log {
    match nats {
        None => Log::open_embedded(&s.data_dir().join("log"), true, s.deployment_key().events())
            .unwrap(),
        Some(n) => Log::connect_nats(NatsOptions::new(n.url()), s.deployment_key().events())
            .await
            .unwrap(),
    }
}

async fn events(log: &Log) -> Vec<Event> {
    let head = log.head().await.unwrap();
    let mut tail = log.tail(1).await.unwrap();
    let mut out = Vec::new();
    loop {
        let c = tokio::time::timeout(Duration::from_secs(20), tail.next_chunk(1000))
            .await
            .unwrap()
            .unwrap();
        out.extend(c.entries.into_iter().map(|e| e.event));
        if c.through >= head {
            return out;
        }
    }
}

async fn contract_example_is_accepted_and_logged(nats: bool) {
    let (mut s, n) = start(nats).await;
    let c = s.client();
    let (_, key) = c
        .integration("payments", json!({"collectCIContext": true}))
        .await;
    let body = report(
        &sha("abc"),
        "main",
        &[("missing_keys", "oauth/production", false, "critical")],
    );
    let r = c.report(&key, &body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert!(
        r.body["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("rpt_"))
    );
    assert_eq!(r.body["commitSha"], sha("abc"));
    // The answer's latency is in the route's histogram (never under the path itself).
    let m = c.metrics().await;
    let route = "method=\"POST\",route=\"/api/v1/reports\",status=\"201\"";
    assert_eq!(
        m[&format!("clef_pro_http_request_duration_seconds_count{{{route}}}")],
        1.0
    );
    assert!(
        m.keys().all(|k| !k.contains(&sha("abc"))),
        "no metric names a commit"
    );
    s.stop().await;
    let log = reopen_log(&s, &n).await;
    let found = events(&log).await.into_iter().any(|e| {
        matches!(e, Event::ReportSubmitted { report, .. } if report.commit.as_str() == sha("abc")
            && report.ci_context.as_ref().is_some_and(|ci| ci.provider == "github-actions"))
    });
    assert!(found, "the report's event is in the log");
}

async fn errors_leave_nothing_in_the_log(nats: bool) {
    let (s, mut n) = start(nats).await;
    let c = s.client();
    let (id, key) = c.integration("payments", json!({})).await;
    let (other, _) = c.integration("other", json!({})).await;
    let revoked = c.revoked_key(&id).await;
    let good = report(&sha("x"), "main", &[]);
    let before = head(&c).await;
    let check = |r: clef_pro_tests::client::Resp, status: u16, field: Option<&str>| {
        r.expect_error(status, field);
    };
    let post = |k: Option<&str>, body: Vec<u8>| {
        let c = c.clone();
        let k = k.map(str::to_owned);
        async move {
            c.send(
                "POST",
                "/api/v1/reports",
                k.as_deref().map(|k| ("x-api-key", k)),
                Some(body),
            )
            .await
        }
    };
    check(post(Some(&key), b"{not json".to_vec()).await, 400, None);
    check(post(None, good.to_string().into_bytes()).await, 401, None);
    check(
        post(Some("clef_wrong"), good.to_string().into_bytes()).await,
        401,
        None,
    );
    check(
        post(Some(&revoked), good.to_string().into_bytes()).await,
        401,
        None,
    );
    check(
        c.send(
            "GET",
            &format!("/api/v1/integrations/{other}"),
            Some(("x-api-key", &key)),
            None,
        )
        .await,
        404,
        None,
    );
    let mut unknown = good.clone();
    unknown["summary"]["recipients"] = json!(["age1…"]);
    check(
        c.report(&key, &unknown).await,
        422,
        Some("summary.recipients"),
    );
    let mut bad_sha = good.clone();
    bad_sha["commitSha"] = json!("not-a-sha");
    check(c.report(&key, &bad_sha).await, 422, Some("commitSha"));
    let too_many: Vec<_> = (0..501)
        .map(|i| report(&sha(&format!("b{i}")), "main", &[]))
        .collect();
    check(c.batch(&key, &too_many).await, 422, Some("reports"));
    let huge = vec![b' '; 3 << 20];
    check(post(Some(&key), huge).await, 413, None);
    assert_eq!(
        head(&c).await,
        before,
        "no rejected request reached the log"
    );
    if let Some(n) = n.as_mut() {
        n.stop().await;
        let r = c.report(&key, &good).await;
        check(r.clone(), 503, None);
        assert!(r.retry_after.is_some(), "503 carries Retry-After");
        n.restart().await;
        // Once the broker is back, the service reconnects by itself.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while c.metrics().await.get("clef_pro_log_up") != Some(&1.0) {
            assert!(
                tokio::time::Instant::now() < deadline,
                "service did not reconnect"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(head(&c).await, before, "the 503 left nothing in the log");
        assert_eq!(c.report(&key, &good).await.status, 201);
    }
}

async fn resubmission_is_one_event(nats: bool) {
    let (s, _n) = start(nats).await;
    let c = s.client();
    let (id, key) = c.integration("payments", json!({})).await;
    let body = report(
        &sha("same"),
        "main",
        &[("missing_keys", "oauth/production", false, "critical")],
    );
    let first = c.report(&key, &body).await;
    let h = head(&c).await;
    let second = c.report(&key, &body).await;
    assert_eq!((first.status, second.status), (201, 201));
    assert_eq!(second.body["duplicate"], true);
    assert_eq!(first.body["id"], second.body["id"]);
    assert_eq!(
        head(&c).await,
        h,
        "an identical resubmission appends nothing"
    );
    let reports = c.get(&format!("/api/v1/integrations/{id}/reports")).await;
    assert_eq!(reports["reports"].as_array().unwrap().len(), 1);
    assert_eq!(c.alerts(&id, "all").await.len(), 1);
}

/// A commit's older content sent again (A, then B, then A) replaces what is stored, as
/// any resubmission does, though the log took that content before; sent once more, it
/// is a duplicate again. One report, one event per change, and no alert state moves.
async fn older_content_resubmitted_replaces_the_stored_report(nats: bool) {
    let (s, _n) = start(nats).await;
    let c = s.client();
    let (id, key) = c.integration("payments", json!({})).await;
    let commit = sha("again");
    let a = report(
        &commit,
        "main",
        &[("missing_keys", "oauth/production", false, "critical")],
    );
    let b = report(
        &commit,
        "main",
        &[("missing_keys", "oauth/production", false, "warning")],
    );
    let severity = |c: &Client| {
        let (c, path) = (
            c.clone(),
            format!("/api/v1/integrations/{id}/matrix?commit={commit}"),
        );
        async move { c.get(&path).await["policyResults"][0]["severity"].clone() }
    };
    for (body, want) in [(&a, "critical"), (&b, "warning"), (&a, "critical")] {
        let r = c.report(&key, body).await;
        assert_eq!(
            (r.status, &r.body["duplicate"]),
            (201, &json!(false)),
            "{:?}",
            r.body
        );
        assert_eq!(severity(&c).await, want);
    }
    let h = head(&c).await;
    let again = c.report(&key, &a).await;
    assert_eq!(again.body["duplicate"], true, "{:?}", again.body);
    assert_eq!(head(&c).await, h, "the same content again appends nothing");
    assert_eq!(severity(&c).await, "critical");
    let reports = c.get(&format!("/api/v1/integrations/{id}/reports")).await;
    assert_eq!(reports["reports"].as_array().unwrap().len(), 1);
    let alerts = c.alerts(&id, "all").await;
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        alerts[0]["severity"], "critical",
        "a resubmission moves no alert"
    );
}

/// `kill -9` at different moments while a multi-message batch is being appended:
/// afterwards the batch is either wholly visible or not at all.
async fn killed_batch_is_all_or_nothing(nats: bool) {
    let (mut s, _n) = start(nats).await;
    let (id, key) = s.client().integration("payments", json!({})).await;
    for round in 0..4u64 {
        let c = s.client();
        let reports: Vec<_> = (0..500)
            .map(|i| big_report(&sha(&format!("k{round}-{i}")), 5, 4))
            .collect();
        let req = tokio::spawn({
            let c = c.clone();
            let key = key.clone();
            async move { c.batch(&key, &reports).await }
        });
        tokio::time::sleep(Duration::from_millis(20 + round * 60)).await;
        s.crash_and_restart().await;
        let acked = matches!(req.await, Ok(r) if r.status == 201);
        let c = s.client();
        c.settle().await;
        let page = c
            .get(&format!("/api/v1/integrations/{id}/reports?limit=500"))
            .await;
        let n = page["reports"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| {
                let commit = r["commitSha"].as_str().unwrap();
                (0..500).any(|i| sha(&format!("k{round}-{i}")) == commit)
            })
            .count();
        assert!(
            n == 0 || n == 500,
            "round {round}: {n} of 500 reports visible"
        );
        if acked {
            assert_eq!(n, 500, "round {round}: an acknowledged batch is visible");
        }
    }
}

macro_rules! on_both {
    ($($check:ident),*) => {$(
        mod $check {
            #[tokio::test(flavor = "multi_thread")]
            async fn embedded() {
                super::$check(false).await
            }
            #[tokio::test(flavor = "multi_thread")]
            async fn nats() {
                super::$check(true).await
            }
        }
    )*};
}

on_both!(
    contract_example_is_accepted_and_logged,
    errors_leave_nothing_in_the_log,
    resubmission_is_one_event,
    older_content_resubmitted_replaces_the_stored_report,
    killed_batch_is_all_or_nothing
);
