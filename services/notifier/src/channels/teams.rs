//! A Microsoft Teams message for a Workflows webhook: one Adaptive Card attachment
//! with wrapping text blocks (title, headline, one per alert with its link) and an
//! action that opens the integration in the dashboard.

use super::text::{ACK_HINT, alert_url, headline, integration_url, scope};
use crate::email::subject;
use clef_pro_projections::outbox::{Intent, IntentKind};
use serde_json::{Value, json};

fn block(text: String) -> Value {
    json!({"type": "TextBlock", "text": text, "wrap": true})
}

pub(super) fn message(i: &Intent, public_url: &str) -> Value {
    let mut body = vec![
        json!({"type": "TextBlock", "text": subject(i), "weight": "Bolder", "size": "Medium", "wrap": true}),
        json!({"type": "TextBlock", "text": headline(i), "isSubtle": true, "wrap": true}),
    ];
    for a in &i.alerts {
        let mark = match (i.kind, a.new) {
            (IntentKind::Resolved, _) => "**RESOLVED** ",
            (IntentKind::Failing, true) => "**NEW** ",
            (IntentKind::Failing, false) => "",
        };
        body.push(block(format!(
            "{mark}**{}** [{}]({}) (`{}`) in {}: {}",
            a.severity,
            a.rule_name,
            alert_url(public_url, i, a),
            a.rule_id,
            scope(a),
            a.message
        )));
    }
    if i.omitted > 0 {
        body.push(block(format!(
            "{} more alert(s) are not listed.",
            i.omitted
        )));
    }
    if i.kind == IntentKind::Failing {
        body.push(json!({"type": "TextBlock", "text": ACK_HINT, "isSubtle": true, "wrap": true}));
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body,
                "actions": [{"type": "Action.OpenUrl", "title": "Open in clef-pro", "url": integration_url(public_url, i)}],
            },
        }],
    })
}
