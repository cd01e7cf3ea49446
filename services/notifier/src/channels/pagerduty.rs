//! PagerDuty Events API v2: one `trigger` per listed alert of a failing notification
//! and one `resolve` per alert of a resolved one, each with `dedup_key` = the alert id,
//! so PagerDuty keeps one incident per alert and a retry or a reminder is folded into it.

use super::text::{alert_url, integration_url, scope};
use clef_pro_projections::outbox::{Intent, IntentKind};
use serde_json::{Value, json};

/// PagerDuty's limit on `payload.summary`.
const MAX_SUMMARY: usize = 1024;

pub(super) fn events(i: &Intent, routing_key: &str, public_url: &str) -> Vec<Value> {
    i.alerts
        .iter()
        .map(|a| match i.kind {
            IntentKind::Resolved => json!({
                "routing_key": routing_key,
                "event_action": "resolve",
                "dedup_key": a.id.as_str(),
            }),
            IntentKind::Failing => {
                let summary: String = format!(
                    "[{}] {}: {} in {}: {}",
                    a.severity,
                    i.integration_name,
                    a.rule_name,
                    scope(a),
                    a.message
                )
                .chars()
                .take(MAX_SUMMARY)
                .collect();
                json!({
                    "routing_key": routing_key,
                    "event_action": "trigger",
                    "dedup_key": a.id.as_str(),
                    "payload": {
                        "summary": summary,
                        // PagerDuty's four severities are clef-pro's.
                        "severity": a.severity.as_str(),
                        "source": format!("clef-pro/{}", i.integration_name),
                        "component": scope(a),
                        "group": i.integration_name,
                        "class": a.rule_id.as_str(),
                        "custom_details": {
                            "integration": i.integration.as_str(),
                            "rule": a.rule_id.as_str(),
                            "ruleName": a.rule_name,
                            "scope": scope(a),
                            "openedByCommit": a.opened_by.as_str(),
                            "commit": i.commit.as_str(),
                            "branch": i.branch.as_str(),
                            "message": a.message,
                        },
                    },
                    "links": [
                        {"href": alert_url(public_url, i, a), "text": "Alert in clef-pro"},
                        {"href": integration_url(public_url, i), "text": i.integration_name},
                    ],
                    "client": "clef-pro",
                    "client_url": integration_url(public_url, i),
                })
            }
        })
        .collect()
}
