//! `bench dashboard`: the integration page of a large matrix with a long history.

use crate::client;
use crate::load::closed;
use crate::results::{Row, record};
use clef_pro_tests::fixtures::{big_report, sha};
use clef_pro_tests::service::{Backend, Service};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;

/// The dashboard's integration page for 50 namespaces × 10 environments and 1,000
/// reports, signed in; latency on loopback is server time plus a local round trip.
pub async fn dashboard(rows: &mut Vec<Row>) {
    let s = Service::start(Backend::Embedded, None).await;
    let c = s.client();
    let (id, key) = c.integration("dashboard", json!({})).await;
    let http = client();
    for chunk in (0..1000).collect::<Vec<usize>>().chunks(50) {
        let reports: Vec<Value> = chunk
            .iter()
            .map(|i| big_report(&sha(&format!("d{i}")), 50, 10))
            .collect();
        let r = http
            .post(format!("{}/api/v1/reports/batch", s.url))
            .header("x-api-key", &key)
            .json(&json!({"reports": reports}))
            .send()
            .await;
        assert!(
            matches!(r, Ok(r) if r.status().is_success()),
            "fill the dashboard integration"
        );
    }
    c.caught_up().await;
    let signin = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let cookie = c.sign_in(&s.admin).await.cookie;
    let (url, health) = (
        format!("{}/integrations/{id}", s.url),
        format!("{}/healthz", s.url),
    );
    // The timed page must be the real one, not a redirect to sign-in.
    let first = signin
        .get(&url)
        .header("cookie", &cookie)
        .send()
        .await
        .expect("page");
    assert_eq!(
        first.status(),
        200,
        "the dashboard page answers when signed in"
    );
    let html = first.text().await.unwrap_or_default();
    assert!(html.contains("env9"), "the page shows the 50x10 matrix");
    let page = closed(
        1,
        Duration::from_secs(5),
        Arc::new(move |_| http.get(&url).header("cookie", &cookie)),
    )
    .await;
    let h = client();
    let base = closed(1, Duration::from_secs(2), Arc::new(move |_| h.get(&health))).await;
    let row = Row::new(
        format!(
            "dashboard integration page, 50x10, 1000 reports: p50 (p99 {:.1} ms)",
            page.ms(0.99)
        ),
        "ms",
        page.ms(0.5),
    )
    .vs("/healthz p50 ms", base.ms(0.5))
    .target("<= 200 ms", page.ms(0.99) <= 200.0);
    record(rows, row);
}
