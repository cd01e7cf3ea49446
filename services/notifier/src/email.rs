//! The email for one notification intent: a subject with the integration and counts by
//! severity, a plain-text and an HTML part listing each alert with a dashboard link.
//! Everything in it comes from the outbox, which holds only sealed (redacted) text.

use crate::channels::text::{alert_url, hint, integration_url, scope};
use clef_pro_projections::outbox::{Intent, IntentKind};
use clef_pro_schema::domain::Severity;
use clef_pro_schema::event::Target;
use lettre::Message;
use lettre::message::{Mailbox, MultiPart};
use maud::{DOCTYPE, html};

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
    let which = match i.kind {
        IntentKind::Failing => "open",
        IntentKind::Resolved => "resolved",
    };
    (i.omitted > 0).then(|| {
        format!(
            "{} more {which} alert(s) are not listed here; see them all at {}",
            i.omitted,
            integration_url(public_url, i)
        )
    })
}

pub fn plain(i: &Intent, public_url: &str) -> String {
    let n = i.alerts.len() + i.omitted as usize;
    let (name, commit, branch) = (&i.integration_name, &i.commit, &i.branch);
    let mut out = match i.kind {
        IntentKind::Failing => {
            format!(
                "clef-pro found {n} open alert(s) for {name} at commit {commit} on {branch}.\n\n"
            )
        }
        IntentKind::Resolved => {
            format!("Commit {commit} on {branch} resolved {n} alert(s) of {name}.\n\n")
        }
    };
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
    out.push_str(hint(i));
    out.push('\n');
    out
}

/// The HTML part: the same facts as [`plain`], one table row per alert. `maud`
/// escapes every value, so no rule name or message can inject markup.
pub fn html(i: &Intent, public_url: &str) -> String {
    html! {
        (DOCTYPE)
        html {
            body {
                h1 { (subject(i)) }
                p { "Commit " code { (i.commit) } " on " code { (i.branch) } "." }
                table border="1" cellpadding="4" {
                    thead {
                        tr {
                            th { "Severity" } th { "Rule" } th { "Scope" } th { "Message" }
                            th { "Introduced by" } th { "Link" }
                        }
                    }
                    tbody {
                        @for a in &i.alerts {
                            tr {
                                td { @if a.new { strong { "NEW" } " " } (a.severity.as_str()) }
                                td { (a.rule_name) br; small { (a.rule_id) } }
                                td { (scope(a)) }
                                td { (a.message) }
                                td { code { (a.opened_by.short()) } }
                                td { a href=(alert_url(public_url, i, a)) { "open" } }
                            }
                        }
                    }
                }
                @if let Some(more) = omitted(i, public_url) { p { (more) } }
                p { (hint(i)) }
            }
        }
    }
    .into_string()
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
