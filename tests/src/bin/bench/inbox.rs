//! `bench inbox`: the alert inbox across 50 integrations holding 10,000 open alerts, as
//! JSON and as the dashboard page, unfiltered and filtered, while `/healthz` is asked.

use crate::alerts::read_while_healthz;
use crate::client;
use crate::results::Row;
use clef_pro_tests::fixtures::{report, sha};
use clef_pro_tests::service::{Backend, Service};
use serde_json::json;
use std::time::Instant;

const INTEGRATIONS: usize = 50;
/// Failing results per integration's report: 50 × 200 = 10,000 open alerts.
const ALERTS_EACH: usize = 200;

pub async fn inbox(rows: &mut Vec<Row>) {
    let s = Service::start(Backend::Embedded, None).await;
    let c = s.client();
    let http = client();
    let fill = Instant::now();
    let severities = ["critical", "error", "warning", "info"];
    for i in 0..INTEGRATIONS {
        let (_, key) = c.integration(&format!("service-{i:02}"), json!({})).await;
        let mut body = report(&sha(&format!("inbox{i}")), "main", &[]);
        body["policyResults"] = (0..ALERTS_EACH)
            .map(|j| {
                json!({"ruleId": format!("rule_{j}"), "ruleName": format!("Rule {j}"), "passed": false,
                       "severity": severities[j % 4], "message": "Rotation overdue",
                       "scope": format!("ns{}/env{}", j % 20, j / 20)})
            })
            .collect();
        let r = http
            .post(format!("{}/api/v1/reports", s.url))
            .header("x-api-key", &key)
            .json(&body)
            .send()
            .await
            .expect("report");
        assert_eq!(r.status(), 201, "the report is accepted");
    }
    c.caught_up().await;
    let first = c.get("/api/v1/alerts?limit=1").await;
    assert!(
        first["next"].is_string(),
        "the inbox has alerts to page through"
    );
    println!(
        "-- inbox: {INTEGRATIONS} integrations, {} open alerts, in {:.1}s",
        INTEGRATIONS * ALERTS_EACH,
        fill.elapsed().as_secs_f64()
    );
    let cookie = c.sign_in(&s.admin).await.cookie;
    let pages = [
        (
            "inbox JSON (open, first page of 50)",
            format!("{}/api/v1/alerts", s.url),
            None,
        ),
        (
            "inbox JSON (?severity=info, unacknowledged, within 7d)",
            format!(
                "{}/api/v1/alerts?severity=info&acknowledged=false&age=7d",
                s.url
            ),
            None,
        ),
        (
            "inbox JSON (?rule=rule_199: one alert per integration)",
            format!("{}/api/v1/alerts?rule=rule_199", s.url),
            None,
        ),
        (
            "dashboard inbox page (open)",
            format!("{}/alerts", s.url),
            Some(cookie),
        ),
    ];
    read_while_healthz(rows, &s, "50 integrations, 10,000 alerts", pages).await;
}
