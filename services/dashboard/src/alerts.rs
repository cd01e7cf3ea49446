//! The alerts section: open, resolved or all, optionally of one severity, each with its
//! whole lifecycle and an Acknowledge button while it is open and unacknowledged.
//! It renders the same view models the read API returns (`read::alert_page`), one page
//! at a time.

use super::html::{self, Esc, csrf_field, parse_severity, short};
use super::page_query::PageQuery;
use super::time::time;
use super::visitor::Visitor;
use clef_pro_app::views::AlertView;
use clef_pro_schema::ids::IntegrationId;

fn commit_link(id: &IntegrationId, q: &PageQuery, commit: &str) -> String {
    let at = PageQuery {
        commit: Some(commit.to_owned()),
        ..q.clone()
    };
    format!(
        r#"<a href="{}"><code>{}</code></a>"#,
        Esc(&at.href(id)),
        short(commit)
    )
}

fn notifications(a: &AlertView) -> String {
    let list = &a.notifications;
    let count = |s: &str| list.iter().filter(|n| n.status == s).count();
    let items: String = list
        .iter()
        .map(|n| {
            let reason = n
                .reason
                .as_deref()
                .map(|r| format!(" ({})", Esc(r)))
                .unwrap_or_default();
            format!(
                "<li>{} to {} {}{reason}</li>",
                Esc(n.status),
                n.channel,
                Esc(&n.target)
            )
        })
        .collect();
    format!(
        r#"{} sent, {} failed, {} pending<ul class="sent">{items}</ul>"#,
        count("sent"),
        count("failed"),
        count("pending")
    )
}

fn alert(id: &IntegrationId, q: &PageQuery, v: &Visitor, a: &AlertView) -> String {
    let open = a.status == "open";
    let acked = a.acknowledged;
    let status = if open {
        r#"<span class="badge open"><span aria-hidden="true">●</span> Open</span>"#
    } else {
        r#"<span class="badge resolved"><span aria-hidden="true">✓</span> Resolved</span>"#
    };
    let ack_badge = if acked {
        r#" <span class="badge acked"><span aria-hidden="true">☑</span> Acknowledged</span>"#
    } else {
        ""
    };
    let ack = match (acked, a.acknowledged_at) {
        (true, Some(at)) => format!(
            "{} at {}",
            Esc(a.acknowledged_by.as_deref().unwrap_or("")),
            time(at)
        ),
        _ => "not acknowledged".to_owned(),
    };
    let resolved = match a.resolved_by_commit.as_deref() {
        Some(c) => {
            let at = a.resolved_at.map(time).unwrap_or_default();
            format!("{} {at}", commit_link(id, q, c))
        }
        None => "—".to_owned(),
    };
    let previous = match a.previous_alert_id.as_deref() {
        Some(p) => format!(r##"<a href="#alert-{0}"><code>{0}</code></a>"##, Esc(p)),
        None => "—".to_owned(),
    };
    let button = if open && !acked {
        format!(
            r#"<form method="post" action="/integrations/{}/alerts/{}/acknowledge">{}{}<button type="submit" class="ack">Acknowledge</button></form>"#,
            Esc(id.as_str()),
            Esc(&a.id),
            csrf_field(v),
            q.hidden(PageQuery::KEYS)
        )
    } else {
        String::new()
    };
    let scope = if a.scope.is_empty() {
        "repository"
    } else {
        &a.scope
    };
    let severity = html::severity(a.severity);
    format!(
        r#"<li><article class="alert" id="alert-{aid}" data-status="{status_word}" data-acknowledged="{acked}">
<h3>{severity} {} <code>{}</code> {status}{ack_badge}</h3>
<p class="message">{}</p>
<dl class="facts">
<div><dt>Scope</dt><dd>{}</dd></div>
<div><dt>Opened by</dt><dd>{} {}</dd></div>
<div><dt>Resolved by</dt><dd>{resolved}</dd></div>
<div><dt>Acknowledged</dt><dd class="ack-by">{ack}</dd></div>
<div><dt>Previous alert</dt><dd>{previous}</dd></div>
<div><dt>Notifications</dt><dd>{}</dd></div>
</dl>{button}</article></li>"#,
        Esc(&a.rule_name),
        Esc(&a.rule_id),
        Esc(&a.message),
        Esc(scope),
        commit_link(id, q, &a.opened_by_commit),
        time(a.opened_at),
        notifications(a),
        aid = Esc(&a.id),
        status_word = Esc(a.status),
    )
}

/// `alerts` are already filtered by status; the severity filter applies here.
pub fn section(
    id: &IntegrationId,
    q: &PageQuery,
    v: &Visitor,
    alerts: &[AlertView],
    next: Option<&str>,
) -> String {
    let severity = q.severity.as_deref().and_then(parse_severity);
    let shown: Vec<&AlertView> = alerts
        .iter()
        .filter(|a| severity.is_none_or(|s| a.severity == s))
        .collect();
    let status = q.status.as_deref().unwrap_or("open");
    let statuses: String = ["open", "resolved", "all"]
        .iter()
        .map(|s| {
            let sel = if *s == status { " selected" } else { "" };
            format!(r#"<option value="{s}"{sel}>{s}</option>"#)
        })
        .collect();
    let items: String = shown.iter().map(|a| alert(id, q, v, a)).collect();
    let list = if items.is_empty() {
        r#"<p id="no-alerts">No alerts match.</p>"#.to_owned()
    } else {
        format!(r#"<ul class="alerts" id="alert-list">{items}</ul>"#)
    };
    let older = match next {
        Some(cursor) => {
            let page = PageQuery {
                alerts: Some(cursor.to_owned()),
                ..q.clone()
            };
            format!(
                r#"<p><a id="older-alerts" href="{}#alerts">Older alerts</a></p>"#,
                Esc(&page.href(id))
            )
        }
        None => String::new(),
    };
    format!(
        r#"<section id="alerts" data-region aria-labelledby="alerts-h">
<h2 id="alerts-h">Alerts <span class="count">({})</span></h2>
<form class="filter" method="get" action="/integrations/{}">{}
<label for="status">Status</label>
<select id="status" name="status">{statuses}</select>
<label for="severity">Severity</label>
<select id="severity" name="severity"><option value="">any</option>{}</select>
<button type="submit">Show</button>
</form>
{list}
{older}
</section>"#,
        shown.len(),
        Esc(id.as_str()),
        q.hidden(&["commit", "branch", "before"]),
        html::severity_options(severity)
    )
}
