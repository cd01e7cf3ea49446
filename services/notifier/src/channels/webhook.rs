//! A webhook per the Standard Webhooks specification: a JSON body
//! `{"type", "timestamp", "data"}` and the headers `webhook-id` (the notification's
//! id, the same on every retry so receivers can deduplicate), `webhook-timestamp`
//! (Unix seconds of this attempt) and `webhook-signature`
//! (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">` under the `whsec_` key).

use super::text::{alert_url, integration_url, scope};
use base64::Engine as _;
use clef_pro_projections::outbox::{Intent, IntentKind};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

pub(super) fn body(i: &Intent, public_url: &str) -> Value {
    let (kind, status) = match i.kind {
        IntentKind::Failing => ("alerts.failing", "open"),
        IntentKind::Resolved => ("alerts.resolved", "resolved"),
    };
    let alerts: Vec<Value> = i
        .alerts
        .iter()
        .map(|a| {
            json!({
                "id": a.id.as_str(),
                "ruleId": a.rule_id.as_str(),
                "ruleName": a.rule_name,
                "scope": scope(a),
                "severity": a.severity,
                "status": status,
                "new": a.new,
                "message": a.message,
                "openedByCommit": a.opened_by.as_str(),
                "url": alert_url(public_url, i, a),
            })
        })
        .collect();
    json!({
        "type": kind,
        "timestamp": clef_pro_schema::time::rfc3339(i.created_at),
        "data": {
            "notificationId": i.id.as_str(),
            "integration": {"id": i.integration.as_str(), "name": i.integration_name, "url": integration_url(public_url, i)},
            "commit": i.commit.as_str(),
            "branch": i.branch.as_str(),
            "minSeverity": i.min_severity,
            "alerts": alerts,
            "omittedAlerts": i.omitted,
        },
    })
}

/// The Standard Webhooks headers of one attempt.
pub(super) fn headers(i: &Intent, key: &[u8], body: &Value) -> Vec<(&'static str, String)> {
    let id = i.id.to_string();
    let timestamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .to_string();
    let body = serde_json::to_vec(body).expect("a JSON value serialises");
    let signature = sign(key, &id, &timestamp, &body);
    vec![
        ("webhook-id", id),
        ("webhook-timestamp", timestamp),
        ("webhook-signature", signature),
    ]
}

fn sign(key: &[u8], id: &str, timestamp: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "v1,{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

#[cfg(test)]
mod tests {
    /// The specification's published test vector.
    #[test]
    fn signs_the_specifications_example() {
        use base64::Engine as _;
        let key = base64::engine::general_purpose::STANDARD
            .decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .unwrap();
        let got = super::sign(
            &key,
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            "1614265330",
            br#"{"test": 2432232314}"#,
        );
        assert_eq!(got, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
