//! A Slack incoming-webhook message: a top-level `text` (what notifications and
//! clients without Block Kit show) and at most 50 Block Kit blocks: a header, the
//! headline, one section per alert with its dashboard link, and a context line.

use super::text::{alert_url, headline, hint, integration_url, scope};
use crate::email::subject;
use clef_pro_projections::outbox::{Intent, IntentKind};
use serde_json::{Value, json};

/// Slack refuses a message of more than 50 blocks.
const MAX_BLOCKS: usize = 50;
/// Blocks that are not an alert: header, headline, the "more" line, the hint.
const FRAME_BLOCKS: usize = 4;
/// Slack's limit on a section's text.
const MAX_SECTION: usize = 3000;

/// `&`, `<` and `>` are Slack's control characters in mrkdwn.
fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    html_escape::encode_text(s)
}

pub(super) fn message(i: &Intent, public_url: &str) -> Value {
    let listed = i.alerts.len().min(MAX_BLOCKS - FRAME_BLOCKS);
    let more = i.alerts.len() - listed + i.omitted as usize;
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": truncate(&subject(i), 150)}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": format!(
            "*{}*: {} — <{}|open in clef-pro>",
            esc(&i.integration_name), esc(&headline(i)), integration_url(public_url, i)
        )}}),
    ];
    for a in &i.alerts[..listed] {
        let mark = match (i.kind, a.new) {
            (IntentKind::Resolved, _) => "*RESOLVED* ",
            (IntentKind::Failing, true) => "*NEW* ",
            (IntentKind::Failing, false) => "",
        };
        let text = format!(
            "{mark}*{}* <{}|{}> (`{}`) in `{}`\n{}",
            a.severity,
            alert_url(public_url, i, a),
            esc(&a.rule_name),
            esc(a.rule_id.as_str()),
            esc(&scope(a)),
            esc(&a.message)
        );
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate(&text, MAX_SECTION)}}));
    }
    if more > 0 {
        blocks.push(
            json!({"type": "context", "elements": [{"type": "mrkdwn", "text": format!(
                "{more} more alert(s) not listed: <{}|see them all>", integration_url(public_url, i)
            )}]}),
        );
    }
    if i.kind == IntentKind::Failing {
        blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": hint(i)}]}));
    }
    json!({"text": subject(i), "blocks": blocks})
}

/// At most `max` characters, with an ellipsis when cut.
fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max - 1).collect();
    out.push('…');
    out
}
