//! `bench upgrade`: reads while a store of an earlier projector version serves and its
//! successor is built aside from the log, against the same reads once it is swapped in.

use crate::load::{MakeRequest, closed, closed_until};
use crate::results::{Row, record};
use clef_pro_tests::history::History;
use clef_pro_tests::service::{Backend, Service};
use clef_pro_tests::stores::as_built_by;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Reports beyond the history, so that building the alerts store takes a while.
const BATCHES: usize = 400;
const PER_BATCH: usize = 50;

pub async fn upgrade(rows: &mut Vec<Row>) {
    let mut s = Service::start(Backend::Embedded, None).await;
    let c = s.client();
    let history = History::make(&c).await;
    history.add_reports(&c, BATCHES, PER_BATCH).await;
    s.stop().await;
    as_built_by(&s.data_dir().join("stores/alerts.redb"), 2);
    s.start_again().await;

    let id = history.integrations[0].clone();
    let (url, viewer) = (s.url.clone(), format!("Bearer {}", history.viewer));
    let http = reqwest::Client::new();
    let read: MakeRequest = Arc::new(move |i| {
        let path = if i % 2 == 0 {
            format!("/api/v1/integrations/{id}/alerts?status=all")
        } else {
            format!("/api/v1/integrations/{id}")
        };
        http.get(format!("{url}{path}"))
            .header("authorization", &viewer)
    });
    let (stop, until) = tokio::sync::watch::channel(false);
    let ready_url = format!("{}/readyz", s.url);
    let started = Instant::now();
    let (during, ()) = tokio::join!(closed_until(2, until, read.clone()), async {
        let probe = reqwest::Client::new();
        while !probe
            .get(&ready_url)
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let _ = stop.send(true);
    });
    let build = started.elapsed();
    let after = closed(2, Duration::from_secs(3), read).await;
    println!(
        "-- upgrade: the alerts store of {} reports built aside in {:.2}s; {} reads meanwhile, {} failed",
        BATCHES * PER_BATCH,
        build.as_secs_f64(),
        during.ok,
        during.failed
    );
    let slowest = during.ms(1.0);
    record(
        rows,
        Row::new(
            format!(
                "reads while a store is built aside: slowest (p99 {:.1} ms, {} failed)",
                during.ms(0.99),
                during.failed
            ),
            "ms",
            slowest,
        )
        .vs("same reads after the swap, p99 ms", after.ms(0.99))
        .target(
            "slowest < 100 ms, none failed",
            slowest < 100.0 && during.failed == 0,
        ),
    );
}
