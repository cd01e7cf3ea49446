//! `bench alerts`: an integration with 10,000 alerts from reports of the largest
//! accepted size; its pages while others read, and `/healthz` meanwhile.

use crate::client;
use crate::load::{closed, open};
use crate::results::{Row, record};
use clef_pro_tests::fixtures::{big_report, sha};
use clef_pro_tests::service::{Backend, Service};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A report of the largest accepted size: 50 × 100 cells and 5,000 results, of which
/// 1,000 fail, each under its own rule (`round` makes them new rules).
fn largest(commit: &str, round: usize) -> Value {
    let mut r = big_report(commit, 50, 100);
    let results: Vec<Value> = (0..5000)
        .map(|i| {
            let severity = ["critical", "error", "warning", "info"][i % 4];
            json!({"ruleId": format!("rule_{round}_{i}"), "passed": i >= 1000,
                   "severity": severity,
                   "message": "Rotation overdue (94 days)", "scope": format!("ns{}/env{}", i % 50, i % 100)})
        })
        .collect();
    r["policyResults"] = json!(results);
    r
}

/// An integration with 10,000 alerts, from ten reports of the largest accepted size:
/// the alerts JSON and the dashboard page while others read, and `/healthz` meanwhile.
pub async fn alerts(rows: &mut Vec<Row>) {
    let s = Service::start(Backend::Embedded, None).await;
    let c = s.client();
    let (id, key) = c.integration("alerts", json!({})).await;
    let http = client();
    let fill = Instant::now();
    for round in 0..10 {
        let body = largest(&sha(&format!("big{round}")), round);
        let r = http
            .post(format!("{}/api/v1/reports", s.url))
            .header("x-api-key", &key)
            .json(&body)
            .send()
            .await
            .expect("report");
        assert_eq!(r.status(), 201, "the largest report is accepted");
    }
    c.caught_up().await;
    let all = c
        .get(&format!(
            "/api/v1/integrations/{id}/alerts?status=all&limit=1"
        ))
        .await;
    assert!(
        all["next"].is_string(),
        "the integration has alerts to page through"
    );
    println!(
        "-- alerts: 10 reports of 5,000 results (1,000 failing) in {:.1}s",
        fill.elapsed().as_secs_f64()
    );
    let cookie = c.sign_in(&s.admin).await.cookie;
    let pages = [
        (
            "alerts JSON (status=all, first page of 200)",
            format!("{}/api/v1/integrations/{id}/alerts?status=all", s.url),
            None,
        ),
        (
            "alerts JSON (open, first page of 200)",
            format!("{}/api/v1/integrations/{id}/alerts", s.url),
            None,
        ),
        (
            "dashboard integration page (status=all)",
            format!("{}/integrations/{id}?status=all", s.url),
            Some(cookie),
        ),
    ];
    read_while_healthz(rows, &s, "10,000 alerts", pages).await;
}

/// Each page read by two clients for 5 s while `/healthz` is asked 100 times a second:
/// the page's p99 against the same run's `/healthz`, and `/healthz`'s own p99. A page
/// with a cookie is read signed in; one without, with the admin token.
pub async fn read_while_healthz<const N: usize>(
    rows: &mut Vec<Row>,
    s: &Service,
    what: &str,
    pages: [(&str, String, Option<String>); N],
) {
    let http = client();
    let admin = format!("Bearer {}", s.admin);
    for (name, url, cookie) in pages {
        let h = http.clone();
        let auth = admin.clone();
        let page = closed(
            2,
            Duration::from_secs(5),
            Arc::new(move |_| match &cookie {
                Some(c) => h.get(&url).header("cookie", c),
                None => h.get(&url).header("authorization", &auth),
            }),
        );
        let hc = client();
        let health_url = format!("{}/healthz", s.url);
        let health = open(
            100,
            Duration::from_secs(5),
            Arc::new(move |_| hc.get(&health_url)),
        );
        let (page, health) = tokio::join!(page, health);
        record(
            rows,
            Row::new(
                format!("{name}, {what}: p99 (p50 {:.1} ms)", page.ms(0.5)),
                "ms",
                page.ms(0.99),
            )
            .vs("same run /healthz p99 ms", health.ms(0.99))
            .target("p99 < 50 ms", page.ms(0.99) < 50.0),
        );
        record(
            rows,
            Row::new(
                format!("/healthz while reading the {name}: p99"),
                "ms",
                health.ms(0.99),
            )
            .target("p99 < 50 ms", health.ms(0.99) < 50.0),
        );
    }
}
