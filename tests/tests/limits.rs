//! Bounded cost (the security issue's "one large report stalls the server"): a report
//! of the largest accepted size is accepted; one past the limits is refused naming the
//! limit and leaves nothing in the log; its alerts are read a page at a time, in the
//! JSON API and on the dashboard; its notification is bounded. Latency under that load
//! is measured in `just bench alerts`, not here.

use clef_pro_tests::client::Client;
use clef_pro_tests::fixtures::{big_report, sha};
use clef_pro_tests::service::{Backend, Service};
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// 50 × 100 cells and 5,000 results of which `failing` fail, each its own rule.
fn report(commit: &str, failing: usize) -> Value {
    let mut r = big_report(commit, 50, 100);
    let results: Vec<Value> = (0..5000)
        .map(|i| {
            json!({"ruleId": format!("rule_{i}"), "passed": i >= failing, "severity": "warning",
                   "message": "Rotation overdue", "scope": format!("ns{}/env{}", i % 50, i % 100)})
        })
        .collect();
    r["policyResults"] = json!(results);
    r
}

async fn head(c: &Client) -> f64 {
    c.metrics().await["clef_pro_log_head"]
}

#[tokio::test(flavor = "multi_thread")]
async fn the_largest_report_is_accepted_and_read_a_page_at_a_time() {
    let s = Service::start(Backend::Embedded, None).await;
    let c = s.client();
    let (id, key) = c.integration("big", json!({})).await;
    assert_eq!(
        c.channels(&id, &[("security@acme.com", "info")])
            .await
            .status,
        200
    );

    // One failing identity too many: refused, naming the field and the limit.
    let before = head(&c).await;
    let r = c.report(&key, &report(&sha("too-many"), 1001)).await;
    r.expect_error(422, Some("policyResults"));
    assert!(
        r.body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("1000"),
        "{:?}",
        r.body
    );
    let mut too_many_cells = report(&sha("cells"), 0);
    too_many_cells["summary"]["cells"]
        .as_array_mut()
        .unwrap()
        .push(json!({"namespace": "x", "environment": "y", "healthStatus": "healthy"}));
    c.report(&key, &too_many_cells)
        .await
        .expect_error(422, Some("summary.cells"));
    assert_eq!(head(&c).await, before, "nothing of either reached the log");

    // The largest accepted report: 1,000 alerts open at once.
    let r = c.report(&key, &report(&sha("largest"), 1000)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let i = c.get(&format!("/api/v1/integrations/{id}")).await;
    assert_eq!(i["openAlerts"]["warning"], 1000);

    // The JSON API pages through them: default 200 a page, every alert once.
    let mut seen = BTreeSet::new();
    let mut path = format!("/api/v1/integrations/{id}/alerts");
    let mut pages = 0;
    loop {
        let page = c.get(&path).await;
        let alerts = page["alerts"].as_array().unwrap();
        assert!(alerts.len() <= 200);
        for a in alerts {
            assert!(
                seen.insert(a["id"].as_str().unwrap().to_owned()),
                "listed twice"
            );
        }
        pages += 1;
        match page["next"].as_str() {
            Some(next) => path = format!("/api/v1/integrations/{id}/alerts?before={next}"),
            None => break,
        }
    }
    assert_eq!((seen.len(), pages), (1000, 5));
    let small = c
        .get(&format!(
            "/api/v1/integrations/{id}/alerts?limit=7&status=all"
        ))
        .await;
    assert_eq!(small["alerts"].as_array().unwrap().len(), 7);

    // The dashboard shows one page of alerts with a link to the next.
    let session = c.sign_in(&s.admin).await;
    let page = c
        .send_headers(
            "GET",
            &format!("/integrations/{id}"),
            &[("cookie", &session.cookie)],
            None,
        )
        .await
        .unwrap();
    let html = page.body.as_str().unwrap();
    assert_eq!(html.matches(r#"<article class="alert""#).count(), 50);
    assert!(html.contains(r#"id="older-alerts""#));

    // The notification lists at most 50 of them and counts the rest.
    c.settle().await;
    let mail = std::fs::read_dir(s.data_dir().join("mail"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect::<Vec<_>>();
    assert_eq!(mail.len(), 1);
    assert!(
        mail[0].contains("950 more"),
        "the email says how many are not listed"
    );
    assert!(mail[0].len() < 200_000, "{} bytes", mail[0].len());
}
