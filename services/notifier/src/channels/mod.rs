//! Delivery over HTTP to the destinations of the operator's file: the payload of each
//! kind, and what an answer means.
//!
//! One `reqwest` client (rustls, a 10 s timeout, no redirects: a destination's URL is
//! the operator's, and a redirect would send the payload and its credential elsewhere).
//! An answer is read as follows: 2xx delivered (unless the kind says its body refuses
//! it); 429 retried after its `Retry-After`; 408 and 5xx and every connection error
//! retried with backoff; 410 disables a webhook destination; any other answer fails the
//! notification for good. Reasons carry the status and a short, single-line snippet of
//! the body, never a URL (the URL is a credential) and never a header.

mod pagerduty;
mod slack;
mod teams;
mod webhook;

use crate::Outcome;
use crate::destinations::{Credential, Destination};
use clef_pro_projections::outbox::Intent;
use reqwest::StatusCode;
use serde_json::Value;
use std::time::Duration;

/// The client every destination is sent with.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("clef-pro/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("the HTTP client builds with rustls")
}

/// The longest `Retry-After` honoured: a longer one is capped, so a misbehaving
/// receiver cannot park a notification for days.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Sends `intent` to `dest`, which is of the intent's kind.
pub(crate) async fn send(
    http: &reqwest::Client,
    dest: &Destination,
    intent: &Intent,
    public_url: &str,
) -> Outcome {
    use clef_pro_schema::domain::ChannelKind;
    match (&dest.credential, dest.kind) {
        (Credential::RoutingKey(key), ChannelKind::Pagerduty) => {
            for event in pagerduty::events(intent, key, public_url) {
                let outcome = post(http, dest, &event, &[], Refusal::None).await;
                if !matches!(outcome, Outcome::Sent) {
                    return outcome;
                }
            }
            Outcome::Sent
        }
        (Credential::SigningKey(key), ChannelKind::Webhook) => {
            let body = webhook::body(intent, public_url);
            let headers = webhook::headers(intent, key, &body);
            post(http, dest, &body, &headers, Refusal::None).await
        }
        (_, ChannelKind::Slack) => {
            let body = slack::message(intent, public_url);
            post(http, dest, &body, &[], Refusal::UnlessOk).await
        }
        (_, ChannelKind::Teams) => {
            let body = teams::message(intent, public_url);
            post(http, dest, &body, &[], Refusal::None).await
        }
        _ => Outcome::Permanent(format!(
            "destination of kind {} cannot send this notification",
            dest.kind
        )),
    }
}

/// Whether a 2xx answer's body can still refuse the message.
#[derive(Clone, Copy)]
enum Refusal {
    None,
    /// Slack answers `ok`; any other body (`invalid_blocks`, `no_text`, …) says the
    /// message was not posted, and posting it again would not change that.
    UnlessOk,
}

async fn post(
    http: &reqwest::Client,
    dest: &Destination,
    body: &Value,
    headers: &[(&str, String)],
    refusal: Refusal,
) -> Outcome {
    let bytes = serde_json::to_vec(body).expect("a JSON value serialises");
    let mut req = http
        .post(dest.url.clone())
        .header("content-type", "application/json")
        .body(bytes);
    for (name, value) in headers {
        req = req.header(*name, value);
    }
    let answer = match req.send().await {
        Ok(a) => a,
        Err(e) => {
            return Outcome::Transient {
                reason: format!("{}: {}", dest.kind, e.without_url()),
                retry_after: None,
            };
        }
    };
    let status = answer.status();
    let retry_after = retry_after(answer.headers());
    let text = answer.text().await.unwrap_or_default();
    classify(dest, status, retry_after, &text, refusal)
}

fn classify(
    dest: &Destination,
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &str,
    refusal: Refusal,
) -> Outcome {
    let kind = dest.kind;
    let said = || format!("{kind} answered {}{}", status.as_u16(), snippet(body));
    if status.is_success() {
        return match refusal {
            Refusal::UnlessOk if !body.trim().is_empty() && body.trim() != "ok" => {
                Outcome::Permanent(format!("{} (the message was refused)", said()))
            }
            _ => Outcome::Sent,
        };
    }
    match status {
        StatusCode::TOO_MANY_REQUESTS => Outcome::Transient {
            reason: said(),
            retry_after,
        },
        StatusCode::REQUEST_TIMEOUT => Outcome::Transient {
            reason: said(),
            retry_after,
        },
        s if s.is_server_error() => Outcome::Transient {
            reason: said(),
            retry_after,
        },
        StatusCode::GONE if kind == clef_pro_schema::domain::ChannelKind::Webhook => {
            Outcome::Gone(said())
        }
        _ => Outcome::Permanent(said()),
    }
}

/// `Retry-After` in seconds or as an HTTP date, capped at [`MAX_RETRY_AFTER`].
fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let v = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    let wait = match v.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => httpdate::parse_http_date(v)
            .ok()?
            .duration_since(std::time::SystemTime::now())
            .unwrap_or_default(),
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

/// `: <the first 120 characters of the body, on one line>`, or nothing.
fn snippet(body: &str) -> String {
    let one_line: String = body
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(120)
        .collect();
    let one_line = one_line.trim();
    if one_line.is_empty() {
        String::new()
    } else {
        format!(": {one_line}")
    }
}

/// What the chat and webhook payloads say of an intent.
pub(crate) mod text {
    use clef_pro_projections::outbox::{Intent, IntentAlert, IntentKind};

    pub fn integration_url(public_url: &str, i: &Intent) -> String {
        format!(
            "{}/integrations/{}",
            public_url.trim_end_matches('/'),
            i.integration
        )
    }

    pub fn alert_url(public_url: &str, i: &Intent, a: &IntentAlert) -> String {
        format!("{}#alert-{}", integration_url(public_url, i), a.id)
    }

    pub fn scope(a: &IntentAlert) -> String {
        let s = a.scope.to_string();
        if s.is_empty() {
            "whole repository".into()
        } else {
            s
        }
    }

    /// `2 open alerts (1 new) at commit 3f78685 on main` or `2 alerts resolved by …`.
    pub fn headline(i: &Intent) -> String {
        let total = i.alerts.len() + i.omitted as usize;
        match i.kind {
            IntentKind::Failing => {
                let new = i.alerts.iter().filter(|a| a.new).count();
                format!(
                    "{total} open alert(s) ({new} new) at commit {} on {}",
                    i.commit.short(),
                    i.branch
                )
            }
            IntentKind::Resolved => format!(
                "{total} alert(s) resolved by commit {} on {}",
                i.commit.short(),
                i.branch
            ),
        }
    }

    /// The closing line: how reminders of failing alerts stop, or what a resolved one
    /// leaves behind.
    pub fn hint(i: &Intent) -> &'static str {
        match i.kind {
            IntentKind::Failing => {
                "Acknowledge an alert in the dashboard to stop these notifications; it stays open until a report shows it fixed."
            }
            IntentKind::Resolved => {
                "The alert stays in the dashboard's history; if the rule fails again, a new alert opens."
            }
        }
    }
}

#[cfg(test)]
mod tests;
