//! A Microsoft Teams message for a Workflows webhook: one Adaptive Card attachment
//! with rich text blocks (title, headline, one per alert with its link) and an action
//! that opens the integration in the dashboard.
//!
//! Every text is a `TextRun`, which Adaptive Cards never read as Markdown: a rule name
//! or message from a report (`[Sign in again](https://…)`) shows as the characters it
//! is, never as a link or formatting. The alert's link is the run's own action.

use super::text::{alert_url, headline, hint, integration_url, scope};
use crate::email::subject;
use clef_pro_projections::outbox::{Intent, IntentKind};
use serde_json::{Value, json};

/// A run of plain text; `style` adds its look (`{"weight": "Bolder"}`).
fn run(text: impl Into<String>, style: Value) -> Value {
    let mut r = json!({"type": "TextRun", "text": text.into()});
    if let (Some(r), Value::Object(style)) = (r.as_object_mut(), style) {
        r.extend(style);
    }
    r
}

fn line(runs: Vec<Value>) -> Value {
    json!({"type": "RichTextBlock", "inlines": runs})
}

pub(super) fn message(i: &Intent, public_url: &str) -> Value {
    let mut body = vec![
        line(vec![run(
            subject(i),
            json!({"weight": "Bolder", "size": "Medium"}),
        )]),
        line(vec![run(headline(i), json!({"isSubtle": true}))]),
    ];
    for a in &i.alerts {
        let mark = match (i.kind, a.new) {
            (IntentKind::Resolved, _) => "RESOLVED ",
            (IntentKind::Failing, true) => "NEW ",
            (IntentKind::Failing, false) => "",
        };
        let link =
            json!({"selectAction": {"type": "Action.OpenUrl", "url": alert_url(public_url, i, a)}});
        body.push(line(vec![
            run(
                format!("{mark}{} ", a.severity),
                json!({"weight": "Bolder"}),
            ),
            run(a.rule_name.clone(), link),
            run(" (", Value::Null),
            run(a.rule_id.as_str(), json!({"fontType": "Monospace"})),
            run(format!(") in {}: {}", scope(a), a.message), Value::Null),
        ]));
    }
    if i.omitted > 0 {
        body.push(line(vec![run(
            format!("{} more alert(s) are not listed.", i.omitted),
            Value::Null,
        )]));
    }
    if i.kind == IntentKind::Failing {
        body.push(line(vec![run(hint(i), json!({"isSubtle": true}))]));
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
