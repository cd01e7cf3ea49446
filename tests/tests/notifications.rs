//! Notifications end to end against a real SMTP server (aiosmtpd): the seed's
//! notification table, minSeverity, backfill, SMTP outages, permanent failures, replay
//! sending nothing, and the one duplicate a crash between send and record may cause.

use clef_pro_tests::client::Client;
use clef_pro_tests::fixtures::{report, sha};
use clef_pro_tests::nats::NatsServer;
use clef_pro_tests::service::{Backend, Service};
use clef_pro_tests::smtp::SmtpServer;
use serde_json::json;
use std::time::Duration;

const CRIT: (&str, &str, bool, &str) = ("missing_keys", "oauth/production", false, "critical");
const WARN: (&str, &str, bool, &str) = ("rotation_max_age", "database", false, "warning");
const CRIT_OK: (&str, &str, bool, &str) = ("missing_keys", "oauth/production", true, "critical");
const WARN_OK: (&str, &str, bool, &str) = ("rotation_max_age", "database", true, "warning");

fn header<'a>(msg: &'a str, name: &str) -> Option<&'a str> {
    msg.lines()
        .find_map(|l| l.strip_prefix(name).and_then(|r| r.strip_prefix(": ")))
}

fn to(msgs: &[String], who: &str) -> Vec<String> {
    msgs.iter()
        .filter(|m| header(m, "To") == Some(who))
        .cloned()
        .collect()
}

async fn channels(c: &Client, id: &str) {
    let r = c
        .channels(
            id,
            &[
                ("security@acme.com", "critical"),
                ("dev-lead@acme.com", "warning"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
}

async fn notification_table(backend: Backend, smtp: &SmtpServer) {
    let s = Service::start(backend, Some(smtp.url())).await;
    let c = s.client();
    let (id, key) = c.integration("acme", json!({})).await;
    channels(&c, &id).await;

    // New alerts: one email per channel; the critical channel sees only the critical one.
    c.submit(&key, "abc", &[CRIT, WARN]).await;
    let m = smtp.messages();
    let (sec, dev) = (to(&m, "security@acme.com"), to(&m, "dev-lead@acme.com"));
    assert_eq!((sec.len(), dev.len()), (1, 1), "{m:#?}");
    let subject = header(&sec[0], "Subject").unwrap();
    assert!(
        subject.contains("acme") && subject.contains("1 critical") && subject.contains("1 new"),
        "{subject}"
    );
    assert!(
        !sec[0].contains("rotation_max_age"),
        "a critical channel gets nothing for a warning alert"
    );
    assert!(dev[0].contains("rotation_max_age") && dev[0].contains("missing_keys"));
    assert!(
        dev[0].contains("Content-Type: text/html") && dev[0].contains("Content-Type: text/plain")
    );
    let link = format!("/integrations/{id}#alert-");
    assert!(
        dev[0]
            .replace("=\r\n", "")
            .replace("=\n", "")
            .contains(&link),
        "links to the dashboard"
    );

    // Still failing, unacknowledged: one more email per report.
    c.submit(&key, "def", &[CRIT, WARN]).await;
    let m = smtp.messages();
    assert_eq!(
        (
            to(&m, "security@acme.com").len(),
            to(&m, "dev-lead@acme.com").len()
        ),
        (2, 2)
    );
    assert!(
        header(to(&m, "security@acme.com").last().unwrap(), "Subject")
            .unwrap()
            .contains("1 still failing")
    );

    // Acknowledged: no more for that alert; the warning keeps notifying the warning channel.
    let crit = c
        .alerts(&id, "open")
        .await
        .into_iter()
        .find(|a| a["ruleId"] == "missing_keys")
        .unwrap();
    let aid = crit["id"].as_str().unwrap();
    assert_eq!(c.acknowledge(&id, aid).await.status, 200);
    c.submit(&key, "ghi", &[CRIT, WARN]).await;
    let m = smtp.messages();
    assert_eq!(
        to(&m, "security@acme.com").len(),
        2,
        "acknowledged: no email"
    );
    let dev = to(&m, "dev-lead@acme.com");
    assert_eq!(dev.len(), 3);
    assert!(
        !dev[2].contains("Missing"),
        "the acknowledged alert is not listed"
    );

    // Resolved: nothing.
    c.submit(&key, "jkl", &[CRIT_OK, WARN_OK]).await;
    assert_eq!(smtp.messages().len(), 5, "resolved alerts send nothing");

    // A batch backfill notifies once, for HEAD.
    let batch: Vec<_> = ["b1", "b2", "b3"]
        .iter()
        .map(|b| report(&sha(b), "main", &[WARN]))
        .collect();
    assert_eq!(c.batch(&key, &batch).await.status, 201);
    c.settle().await;
    let m = smtp.messages();
    assert_eq!(m.len(), 6, "one email for the batch");
    assert!(
        to(&m, "dev-lead@acme.com")
            .last()
            .unwrap()
            .contains(&sha("b3"))
    );

    // The alert shows its notifications.
    let warn_alert = c
        .alerts(&id, "open")
        .await
        .into_iter()
        .find(|a| a["ruleId"] == "rotation_max_age")
        .unwrap();
    assert_eq!(warn_alert["notifications"].as_array().unwrap().len(), 1);
    assert_eq!(warn_alert["notifications"][0]["status"], "sent");
}

#[tokio::test(flavor = "multi_thread")]
async fn notification_table_embedded() {
    let smtp = SmtpServer::start().await;
    notification_table(Backend::Embedded, &smtp).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn notification_table_nats() {
    let (nats, smtp) = (NatsServer::start().await, SmtpServer::start().await);
    notification_table(Backend::Nats(nats.url()), &smtp).await;
}

/// With the SMTP server down, reports are accepted; when it returns, every pending
/// notification arrives exactly once.
async fn smtp_outage_delays_but_loses_nothing(backend: Backend, mut smtp: SmtpServer) {
    let s = Service::start(backend, Some(smtp.url())).await;
    let c = s.client();
    let (id, key) = c.integration("acme", json!({})).await;
    channels(&c, &id).await;
    smtp.stop().await;
    for commit in ["o1", "o2", "o3"] {
        let r = c.report(&key, &report(&sha(commit), "main", &[CRIT])).await;
        assert_eq!(r.status, 201, "reports are accepted while SMTP is down");
    }
    c.caught_up().await;
    let pending = c.metrics().await["clef_pro_notifications{status=\"pending\"}"];
    assert_eq!(pending, 6.0, "two channels × three reports wait");
    smtp.restart().await;
    c.settle().await;
    let m = smtp.messages();
    assert_eq!(m.len(), 6, "each pending notification arrives once");
    let mut ids: Vec<&str> = m.iter().filter_map(|x| header(x, "Message-ID")).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 6, "no duplicates");
    assert!(c.metrics().await["clef_pro_notifier_retried_total"] > 0.0);
}

/// A 5xx from the server is permanent: recorded as failed, visible, not retried.
async fn permanent_failures_are_recorded(backend: Backend, smtp: SmtpServer) {
    let s = Service::start(backend, Some(smtp.url())).await;
    let c = s.client();
    let (id, key) = c.integration("acme", json!({})).await;
    let r = c.channels(&id, &[("reject@acme.com", "info")]).await;
    assert_eq!(r.status, 200);
    c.submit(&key, "p1", &[CRIT]).await;
    let alert = &c.alerts(&id, "open").await[0];
    assert_eq!(alert["notifications"][0]["status"], "failed", "{alert:#}");
    assert_eq!(
        c.metrics().await["clef_pro_notifications{status=\"failed\"}"],
        1.0
    );
    let bad = c.channels(&id, &[("not an address", "info")]).await;
    assert_eq!(bad.status, 422);
    assert_eq!(bad.body["error"]["field"], "notifications[0].target");
}

/// A second instance with an empty data dir folds the same log and sends nothing: the
/// log says what was sent.
#[tokio::test(flavor = "multi_thread")]
async fn replay_from_an_empty_data_dir_sends_nothing() {
    let (nats, smtp) = (NatsServer::start().await, SmtpServer::start().await);
    let mut first = Service::start(Backend::Nats(nats.url()), Some(smtp.url())).await;
    let c = first.client();
    let (id, key) = c.integration("acme", json!({})).await;
    channels(&c, &id).await;
    c.submit(&key, "r1", &[CRIT, WARN]).await;
    c.submit(&key, "r2", &[CRIT]).await;
    let sent = smtp.messages().len();
    assert_eq!(sent, 4);
    first.stop().await;

    let second = Service::start(Backend::Nats(nats.url()), Some(smtp.url())).await;
    second.client().settle().await;
    assert_eq!(
        second.client().alerts(&id, "all").await.len(),
        2,
        "the new instance rebuilt the alerts"
    );
    assert_eq!(smtp.messages().len(), sent, "replay sends zero emails");
}

/// `kill -9` after the SMTP server stored a message but before the service recorded the
/// delivery: after restart the email is sent again, once, with the same Message-ID (on
/// JetStream once the dead process's claim on the intent has expired).
async fn crash_between_send_and_record_duplicates_once_with_the_same_message_id(
    backend: Backend,
    smtp: SmtpServer,
) {
    let mut s = Service::start(backend, Some(smtp.url())).await;
    let c = s.client();
    let (id, key) = c.integration("acme", json!({})).await;
    let r = c.channels(&id, &[("security@acme.com", "info")]).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        c.report(&key, &report(&sha("x1"), "main", &[CRIT]))
            .await
            .status,
        201
    );
    // The server stored the message and holds back its 250: crash now.
    assert_eq!(smtp.wait_for(1, Duration::from_secs(30)).await.len(), 1);
    s.crash_and_restart().await;
    s.client()
        .settle_within(clef_pro_log::ACK_WAIT + Duration::from_secs(60))
        .await;
    let m = smtp.messages();
    assert_eq!(m.len(), 2, "exactly one duplicate");
    assert_eq!(header(&m[0], "Message-ID"), header(&m[1], "Message-ID"));
}

/// Each named scenario, `run(backend, smtp)`, as an `embedded` and a `nats` test.
macro_rules! on_both_logs {
    ($($run:ident($smtp:expr);)*) => {$(
        mod $run {
            use super::*;

            #[tokio::test(flavor = "multi_thread")]
            async fn embedded() {
                super::$run(Backend::Embedded, $smtp.await).await;
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn nats() {
                let (nats, smtp) = (NatsServer::start().await, $smtp.await);
                super::$run(Backend::Nats(nats.url()), smtp).await;
            }
        }
    )*};
}

on_both_logs! {
    smtp_outage_delays_but_loses_nothing(SmtpServer::start());
    permanent_failures_are_recorded(SmtpServer::start());
    crash_between_send_and_record_duplicates_once_with_the_same_message_id(
        SmtpServer::start_with_delay(3000)
    );
}
