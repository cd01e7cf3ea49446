//! Upgrades without downtime: a store built by an earlier version of its projector that
//! this release can still read keeps serving while the current version is built aside
//! from the log, then is swapped in. Under read load no read fails, `/readyz` answers
//! 503 until the swap and 200 after, and the answers and `verify` hold afterwards.

use clef_pro_tests::client::Client;
use clef_pro_tests::history::History;
use clef_pro_tests::service::{Backend, Service};
use clef_pro_tests::stores::as_built_by;
use serde_json::Value;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread")]
async fn an_earlier_store_serves_while_its_successor_is_built_aside() {
    let mut s = Service::start(Backend::Embedded, None).await;
    let c = s.client();
    let history = History::make(&c).await;
    // Enough reports that building the alerts store takes a while.
    history.add_reports(&c, 60, 50).await;
    let before = history.answers(&s.url).await;
    s.stop().await;
    // Both stores whose layout changed since version 2 (alerts: triage tables; matrix:
    // reports by position) serve as they are while their successors are built aside.
    as_built_by(&s.data_dir().join("stores/alerts.redb"), 2);
    as_built_by(&s.data_dir().join("stores/matrix.redb"), 2);

    s.start_again().await;
    let viewer = Client::new(&s.url, &history.viewer);
    let id = &history.integrations[0];
    let paths = [
        format!("/api/v1/integrations/{id}/alerts?status=all"),
        format!("/api/v1/integrations/{id}"),
    ];
    let started = Instant::now();
    let (mut reads, mut slowest, mut not_ready) = (0, Duration::ZERO, 0);
    loop {
        for path in &paths {
            let t = Instant::now();
            let r = viewer.admin("GET", path, Value::Null).await;
            slowest = slowest.max(t.elapsed());
            reads += 1;
            assert_eq!(
                r.status, 200,
                "a read failed during the build: {:?}",
                r.body
            );
        }
        let ready = viewer.admin("GET", "/readyz", Value::Null).await;
        if ready.status == 200 {
            assert_eq!(ready.body["building"], 0);
            break;
        }
        assert_eq!(ready.status, 503, "{:?}", ready.body);
        not_ready += 1;
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the aside build never finished: {:?}",
            ready.body
        );
    }
    let output = std::fs::read_to_string(s.output_path()).unwrap();
    assert!(
        output.contains("built aside from the log")
            && output.contains("the store built aside serves now"),
        "the stores were built aside:\n{output}"
    );
    // How long reads take during the build is measured in `just bench upgrade`
    // (a release build); here it is only shown.
    println!(
        "upgrade: {reads} reads during the aside build ({not_ready} readiness checks said 503, {:?} until ready), slowest {slowest:?}",
        started.elapsed()
    );
    s.client().settle().await;
    assert_eq!(history.answers(&s.url).await, before);
    s.stop().await;
    let v = s.run("verify", &[]).await;
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
}
