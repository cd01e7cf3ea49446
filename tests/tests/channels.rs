//! Slack, Teams, PagerDuty and webhook channels end to end (issue 16), against real
//! HTTP receivers that script their answers, on both logs: each kind's payload, a
//! critical-only channel, acknowledgement against PagerDuty's resolve, resolved notices
//! only where asked, retries (429 with `Retry-After`, 5xx, a receiver down for 30 s)
//! keeping the `webhook-id`, signatures checked by the `standardwebhooks` crate, 410,
//! 2xx refusals, two instances on one stream, and no credential in any written byte.

use clef_pro_tests::destinations::{
    ROUTING_KEY, SIGNING_SECRET, SLACK, SLACK_TOKEN, TEAMS, TEAMS_TOKEN, destinations, rule_ids,
    set_channels, start,
};
use clef_pro_tests::fixtures::{report, sha};
use clef_pro_tests::nats::NatsServer;
use clef_pro_tests::receiver::{Answer, Received, Receiver};
use clef_pro_tests::service::Backend;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;

const CRIT: (&str, &str, bool, &str) = ("missing_keys", "oauth/production", false, "critical");
const WARN: (&str, &str, bool, &str) = ("rotation_max_age", "database", false, "warning");
const CRIT_OK: (&str, &str, bool, &str) = ("missing_keys", "oauth/production", true, "critical");

const WAIT: Duration = Duration::from_secs(30);

fn verify_signature(r: &Received) {
    let wh = standardwebhooks::Webhook::new(SIGNING_SECRET).expect("secret");
    wh.verify(&r.body, &r.headers)
        .expect("the signature verifies with the standardwebhooks crate");
}

async fn every_kind(backend: Backend) {
    let rx = Receiver::start(Answer::status(200, "ok")).await;
    let dir = tempfile::tempdir().expect("dir");
    let file = destinations(&rx, &dir);
    let s = start(backend, &file).await;
    let c = s.client();
    let (id, key) = c.integration("payments", json!({})).await;

    // Unknown names and kind mismatches are refused, naming the entry.
    let r = set_channels(
        &c,
        &id,
        json!([{"channel": "slack", "target": "nope", "minSeverity": "warning"}]),
    )
    .await;
    r.expect_error(422, Some("notifications[0].target"));
    let r = set_channels(
        &c,
        &id,
        json!([
        {"channel": "email", "target": "a@acme.com", "minSeverity": "warning"},
        {"channel": "teams", "target": "security-slack", "minSeverity": "warning"}]),
    )
    .await;
    r.expect_error(422, Some("notifications[1].target"));

    let r = set_channels(&c, &id, json!([
        {"channel": "slack", "target": "security-slack", "minSeverity": "warning"},
        {"channel": "slack", "target": "critical-slack", "minSeverity": "critical"},
        {"channel": "teams", "target": "teams", "minSeverity": "warning"},
        {"channel": "pagerduty", "target": "oncall", "minSeverity": "warning"},
        {"channel": "webhook", "target": "siem", "minSeverity": "warning", "sendResolved": true},
    ])).await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let shown = r.body["notifications"].to_string();
    for secret in [SLACK_TOKEN, TEAMS_TOKEN, ROUTING_KEY, SIGNING_SECRET] {
        assert!(!shown.contains(secret), "{shown}");
    }
    assert_eq!(r.body["notifications"][4]["sendResolved"], true);

    // Report 1: a critical and a warning alert open.
    c.submit(&key, "r1", &[CRIT, WARN]).await;
    let slack = rx.wait_for(SLACK, 1, WAIT).await;
    let m = slack[0].json();
    assert!(
        m["text"].as_str().expect("text").contains("payments"),
        "{m}"
    );
    let blocks = m["blocks"].as_array().expect("blocks");
    assert!(blocks.len() <= 50);
    let text = m.to_string();
    assert!(
        text.contains("missing_keys") && text.contains("rotation_max_age"),
        "{text}"
    );
    assert!(text.contains("*NEW*") && text.contains(&format!("/integrations/{id}#alert-")));

    let crit_only = rx.wait_for("/critical", 1, WAIT).await[0]
        .json()
        .to_string();
    assert!(
        crit_only.contains("missing_keys") && !crit_only.contains("rotation_max_age"),
        "{crit_only}"
    );

    let teams = rx.wait_for(TEAMS, 1, WAIT).await[0].json();
    assert_eq!(teams["type"], "message");
    let card = &teams["attachments"][0];
    assert_eq!(
        card["contentType"],
        "application/vnd.microsoft.card.adaptive"
    );
    assert_eq!(card["content"]["type"], "AdaptiveCard");
    assert!(
        card["content"]["body"]
            .as_array()
            .expect("body")
            .iter()
            .all(|b| b["type"] == "RichTextBlock")
    );

    let alerts = c.alerts(&id, "open").await;
    let crit_id = alerts
        .iter()
        .find(|a| a["ruleId"] == "missing_keys")
        .expect("crit")["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let pd = rx.wait_for("/pagerduty", 2, WAIT).await;
    let mut triggered: Vec<String> = pd
        .iter()
        .map(|r| {
            let e = r.json();
            assert_eq!(e["event_action"], "trigger");
            assert_eq!(e["routing_key"], ROUTING_KEY);
            assert!(
                e["payload"]["summary"]
                    .as_str()
                    .is_some_and(|s| !s.is_empty())
            );
            assert!(
                ["critical", "warning"]
                    .contains(&e["payload"]["severity"].as_str().expect("severity"))
            );
            assert!(e["payload"]["source"].as_str().is_some());
            assert!(
                e["links"][0]["href"]
                    .as_str()
                    .expect("link")
                    .contains("#alert-")
            );
            e["dedup_key"].as_str().expect("dedup_key").to_owned()
        })
        .collect();
    triggered.sort();
    let mut open_ids: Vec<String> = alerts
        .iter()
        .map(|a| a["id"].as_str().expect("id").to_owned())
        .collect();
    open_ids.sort();
    assert_eq!(
        triggered, open_ids,
        "one trigger per alert, dedup_key = the alert id"
    );

    let hook = rx.wait_for("/hook", 1, WAIT).await;
    verify_signature(&hook[0]);
    let body = hook[0].json();
    assert_eq!(body["type"], "alerts.failing");
    assert_eq!(body["data"]["integration"]["id"], id.as_str());
    assert_eq!(body["data"]["commit"], sha("r1"));
    assert_eq!(
        rule_ids(&body["data"]["alerts"]),
        ["missing_keys", "rotation_max_age"]
    );
    assert_eq!(body["data"]["alerts"][0]["status"], "open");

    // Report 2: the critical acknowledged, both still failing: the reminder lists the
    // warning only, and the critical-only channel gets nothing.
    assert_eq!(c.acknowledge(&id, &crit_id).await.status, 200);
    c.submit(&key, "r2", &[CRIT, WARN]).await;
    let slack = rx.wait_for(SLACK, 2, WAIT).await[1].json().to_string();
    assert!(
        !slack.contains("missing_keys") && slack.contains("rotation_max_age"),
        "{slack}"
    );
    let hook = rx.wait_for("/hook", 2, WAIT).await;
    assert_eq!(
        rule_ids(&hook[1].json()["data"]["alerts"]),
        ["rotation_max_age"]
    );
    rx.wait_for("/pagerduty", 3, WAIT).await;

    // Report 3: the acknowledged critical resolves. PagerDuty resolves it anyway; the
    // webhook (sendResolved) gets a resolved notice; Slack (not sendResolved) does not.
    c.submit(&key, "r3", &[CRIT_OK, WARN]).await;
    let pd = rx.wait_for("/pagerduty", 5, WAIT).await;
    let resolves: Vec<Value> = pd
        .iter()
        .map(Received::json)
        .filter(|e| e["event_action"] == "resolve")
        .collect();
    assert_eq!(resolves.len(), 1, "{resolves:?}");
    assert_eq!(resolves[0]["dedup_key"], crit_id.as_str());
    let hook = rx.wait_for("/hook", 4, WAIT).await;
    let resolved: Vec<Value> = hook
        .iter()
        .map(Received::json)
        .filter(|b| b["type"] == "alerts.resolved")
        .collect();
    assert_eq!(resolved.len(), 1);
    assert_eq!(resolved[0]["data"]["alerts"][0]["id"], crit_id.as_str());
    assert_eq!(resolved[0]["data"]["alerts"][0]["status"], "resolved");
    let slack = rx.wait_for(SLACK, 3, WAIT).await;
    assert!(
        slack
            .iter()
            .all(|m| !m.json().to_string().contains("RESOLVED"))
    );
    c.settle().await;
    assert_eq!(
        rx.received_at("/critical").len(),
        1,
        "a critical-only channel got a warning"
    );
    assert_eq!(rx.received_at(SLACK).len(), 3);

    let metrics = c.metrics().await;
    for kind in ["slack", "teams", "pagerduty", "webhook"] {
        let sent = metrics
            [&format!("clef_pro_notifier_deliveries_total{{kind=\"{kind}\",outcome=\"sent\"}}")];
        assert!(sent > 0.0, "{kind}: {sent}");
    }

    // No credential in any byte the service wrote, nor in its output.
    for secret in [
        SLACK_TOKEN,
        TEAMS_TOKEN,
        ROUTING_KEY,
        SIGNING_SECRET,
        &SIGNING_SECRET[6..],
    ] {
        let found = clef_pro_tests::files_containing(s.dir.path(), secret.as_bytes());
        assert!(found.is_empty(), "{secret} written to {found:?}");
    }
}

/// 429 with `Retry-After`, 5xx, and a receiver down for 30 s: each notification is
/// delivered once afterwards, every attempt with the same `webhook-id`.
async fn retries(backend: Backend) {
    let mut rx = Receiver::start(Answer::status(204, "")).await;
    let dir = tempfile::tempdir().expect("dir");
    let file = destinations(&rx, &dir);
    let s = start(backend, &file).await;
    let c = s.client();
    let (id, key) = c.integration("payments", json!({})).await;
    let r = set_channels(
        &c,
        &id,
        json!([{"channel": "webhook", "target": "siem", "minSeverity": "warning"}]),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);

    rx.script(
        "/hook",
        [
            Answer::status(503, "busy"),
            Answer::too_many(2),
            Answer::status(200, ""),
        ],
    );
    c.submit(&key, "a1", &[CRIT]).await;
    let got = rx.wait_for("/hook", 3, WAIT).await;
    let ids: Vec<&str> = got
        .iter()
        .map(|r| r.header("webhook-id").expect("id"))
        .collect();
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "a retry keeps its webhook-id: {ids:?}"
    );
    got.iter().for_each(verify_signature);
    assert!(
        got[2].at - got[1].at >= Duration::from_secs(2),
        "Retry-After honoured"
    );

    // Down for 30 s while three reports arrive.
    rx.stop().await;
    for commit in ["b1", "b2", "b3"] {
        let r = c
            .report(&key, &report(&sha(commit), "main", &[CRIT, WARN]))
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
    }
    c.caught_up().await;
    tokio::time::sleep(Duration::from_secs(30)).await;
    rx.restart().await;
    let got = rx.wait_for("/hook", 6, Duration::from_secs(120)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for r in rx.received_at("/hook") {
        verify_signature(&r);
        *by_id
            .entry(r.header("webhook-id").expect("id").to_owned())
            .or_default() += 1;
    }
    assert_eq!(by_id.len(), 4, "{by_id:?}");
    assert_eq!(got.len(), 6);
    assert_eq!(
        rx.received_at("/hook").len(),
        6,
        "each delivered once after the outage: {by_id:?}"
    );
}

/// Refusals: Slack's 2xx `invalid_blocks`, PagerDuty's 400, and a webhook's 410, which
/// disables the destination: the next notification fails without a request.
async fn refusals(backend: Backend) {
    let rx = Receiver::start(Answer::status(200, "ok")).await;
    let dir = tempfile::tempdir().expect("dir");
    let file = destinations(&rx, &dir);
    let s = start(backend, &file).await;
    let c = s.client();
    let (id, key) = c.integration("payments", json!({})).await;
    let r = set_channels(
        &c,
        &id,
        json!([
            {"channel": "slack", "target": "security-slack", "minSeverity": "warning"},
            {"channel": "webhook", "target": "siem", "minSeverity": "warning"},
            {"channel": "pagerduty", "target": "oncall", "minSeverity": "warning"},
        ]),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    rx.script(SLACK, [Answer::status(200, "invalid_blocks")]);
    rx.script("/hook", [Answer::status(410, "gone")]);
    rx.script("/pagerduty", [Answer::status(400, "Invalid routing key")]);
    c.submit(&key, "c1", &[CRIT]).await;
    for path in [SLACK, "/hook", "/pagerduty"] {
        rx.wait_for(path, 1, WAIT).await;
    }
    let failed = |alert: &Value, channel: &str| -> Option<String> {
        alert["notifications"]
            .as_array()?
            .iter()
            .find(|n| n["channel"] == channel && n["status"] == "failed")
            .map(|n| n["reason"].as_str().unwrap_or_default().to_owned())
    };
    let deadline = std::time::Instant::now() + WAIT;
    let alert = loop {
        let a = c.alerts(&id, "open").await.remove(0);
        if ["slack", "webhook", "pagerduty"]
            .iter()
            .all(|k| failed(&a, k).is_some())
        {
            break a;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "failures not recorded: {a}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(failed(&alert, "slack").unwrap().contains("invalid_blocks"));
    assert!(failed(&alert, "webhook").unwrap().contains("410"));
    assert!(failed(&alert, "pagerduty").unwrap().contains("400"));
    let text = alert.to_string();
    for secret in [SLACK_TOKEN, ROUTING_KEY] {
        assert!(!text.contains(secret), "{text}");
    }

    // The disabled webhook gets no request for the next report.
    c.submit(&key, "c2", &[CRIT]).await;
    rx.wait_for(SLACK, 2, WAIT).await;
    c.settle().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        rx.received_at("/hook").len(),
        1,
        "a destination that answered 410 is disabled"
    );
}

macro_rules! on_both_logs {
    ($($name:ident),*) => {$(
        mod $name {
            use super::*;
            #[tokio::test]
            async fn embedded() {
                super::$name(Backend::Embedded).await;
            }
            #[tokio::test]
            async fn nats() {
                let nats = NatsServer::start().await;
                super::$name(Backend::Nats(nats.url())).await;
            }
        }
    )*};
}

on_both_logs!(every_kind, retries, refusals);

/// Two instances on one stream share the work: each notification is sent once.
#[tokio::test]
async fn two_instances_on_one_stream_send_each_once() {
    let nats = NatsServer::start().await;
    let rx = Receiver::start(Answer::status(200, "")).await;
    let dir = tempfile::tempdir().expect("dir");
    let file = destinations(&rx, &dir);
    let a = start(Backend::Nats(nats.url()), &file).await;
    let b = start(Backend::Nats(nats.url()), &file).await;
    let c = a.client();
    let (id, key) = c.integration("payments", json!({})).await;
    let r = set_channels(
        &c,
        &id,
        json!([{"channel": "webhook", "target": "siem", "minSeverity": "warning"}]),
    )
    .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    for n in 0..8 {
        let results = if n % 2 == 0 { [CRIT] } else { [WARN] };
        c.submit(&key, &format!("two{n}"), &results).await;
    }
    rx.wait_for("/hook", 8, WAIT).await;
    b.client().settle().await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut by_id: HashMap<String, usize> = HashMap::new();
    for r in rx.received_at("/hook") {
        *by_id
            .entry(r.header("webhook-id").expect("id").to_owned())
            .or_default() += 1;
    }
    assert_eq!(by_id.len(), 8);
    assert!(by_id.values().all(|n| *n == 1), "{by_id:?}");
}
