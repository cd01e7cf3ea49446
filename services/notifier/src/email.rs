//! The email for one notification intent: a subject with the integration and counts by
//! severity, a plain-text and an HTML part listing each alert with a dashboard link.
//! Everything in it comes from the outbox, which holds only sealed (redacted) text.

use crate::channels::text::{alert_url, integration_url, scope};
use clef_pro_projections::outbox::{Intent, IntentKind};
use clef_pro_schema::domain::Severity;
use clef_pro_schema::event::Target;
use lettre::Message;
use lettre::message::{Mailbox, MultiPart};

/// The subject: `[clef-pro] payments: 1 critical, 2 warning (1 new, 2 still failing)`.
pub fn subject(i: &Intent) -> String {
    let counts: Vec<String> = Severity::ALL
        .iter()
        .filter_map(|s| {
            let n = i.alerts.iter().filter(|a| a.severity == *s).count();
            (n > 0).then(|| format!("{n} {s}"))
        })
        .collect();
    let new = i.alerts.iter().filter(|a| a.new).count();
    let still = i.alerts.len() - new;
    let what = match i.kind {
        IntentKind::Failing => format!("{new} new, {still} still failing"),
        IntentKind::Resolved => "resolved".to_owned(),
    };
    let more = match i.omitted {
        0 => String::new(),
        n => format!(", {n} more"),
    };
    format!(
        "[clef-pro] {}: {}{more} ({what})",
        i.integration_name,
        counts.join(", ")
    )
}

/// The line about alerts a long notification does not list, if any.
fn omitted(i: &Intent, public_url: &str) -> Option<String> {
    (i.omitted > 0).then(|| {
        format!(
            "{} more open alert(s) are not listed here; see them all at {}",
            i.omitted,
            integration_url(public_url, i)
        )
    })
}

pub fn plain(i: &Intent, public_url: &str) -> String {
    let mut out = format!(
        "clef-pro found {} open alert(s) for {} at commit {} on {}.\n\n",
        i.alerts.len() + i.omitted as usize,
        i.integration_name,
        i.commit,
        i.branch
    );
    for a in &i.alerts {
        out.push_str(&format!(
            "{}[{}] {} ({}) in {}\n  {}\n  introduced by commit {}\n  {}\n\n",
            if a.new { "NEW " } else { "" },
            a.severity,
            a.rule_name,
            a.rule_id,
            scope(a),
            a.message,
            a.opened_by,
            alert_url(public_url, i, a)
        ));
    }
    if let Some(more) = omitted(i, public_url) {
        out.push_str(&format!("{more}\n\n"));
    }
    out.push_str("Acknowledge an alert in the dashboard to stop these emails; it stays open until a report shows it fixed.\n");
    out
}

fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    html_escape::encode_quoted_attribute(s)
}

pub fn html(i: &Intent, public_url: &str) -> String {
    let mut rows = String::new();
    for a in &i.alerts {
        rows.push_str(&format!(
            "<tr><td>{}{}</td><td>{}<br><small>{}</small></td><td>{}</td><td>{}</td><td><code>{}</code></td><td><a href=\"{}\">open</a></td></tr>",
            if a.new { "<strong>NEW</strong> " } else { "" },
            esc(a.severity.as_str()),
            esc(&a.rule_name),
            esc(a.rule_id.as_str()),
            esc(&scope(a)),
            esc(&a.message),
            esc(a.opened_by.short()),
            esc(&alert_url(public_url, i, a)),
        ));
    }
    format!(
        "<!doctype html><html><body><h1>{}</h1><p>Commit <code>{}</code> on <code>{}</code>.</p>\
         <table border=\"1\" cellpadding=\"4\"><thead><tr><th>Severity</th><th>Rule</th><th>Scope</th><th>Message</th><th>Introduced by</th><th>Link</th></tr></thead><tbody>{rows}</tbody></table>\
         {}<p>Acknowledge an alert in the dashboard to stop these emails; it stays open until a report shows it fixed.</p></body></html>",
        esc(&subject(i)),
        esc(i.commit.as_str()),
        esc(i.branch.as_str()),
        omitted(i, public_url)
            .map(|m| format!("<p>{}</p>", esc(&m)))
            .unwrap_or_default(),
    )
}

/// Builds the message with the intent's stable `Message-ID`.
pub fn build(
    i: &Intent,
    from: &Mailbox,
    public_url: &str,
) -> Result<Message, lettre::error::Error> {
    let Target::Email(address) = &i.target else {
        return Err(lettre::error::Error::MissingTo);
    };
    let to: Mailbox = address
        .as_str()
        .parse()
        .map_err(|_| lettre::error::Error::MissingTo)?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject(i))
        .message_id(Some(i.message_id()))
        .multipart(MultiPart::alternative_plain_html(
            plain(i, public_url),
            html(i, public_url),
        ))
}
