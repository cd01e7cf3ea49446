//! The alerts section: open, resolved or all, optionally of one severity, each with its
//! whole lifecycle and an Acknowledge button while it is open and unacknowledged.
//! It renders the same view models the read API returns (`read::alert_page`), one page
//! at a time.

use super::components::{badge, csrf_field, parse_severity, severity, severity_options, short};
use super::page_query::PageQuery;
use super::time::time;
use super::visitor::Visitor;
use clef_pro_app::views::AlertView;
use clef_pro_schema::ids::IntegrationId;
use maud::{Markup, html};

fn commit_link(id: &IntegrationId, q: &PageQuery, commit: &str) -> Markup {
    let at = PageQuery {
        commit: Some(commit.to_owned()),
        ..q.clone()
    };
    html! { a href=(at.href(id)) { code { (short(commit)) } } }
}

/// How many notifications were sent, failed and pending, and each one.
fn notifications(a: &AlertView) -> Markup {
    let list = &a.notifications;
    let count = |s: &str| list.iter().filter(|n| n.status == s).count();
    html! {
        (count("sent")) " sent, " (count("failed")) " failed, " (count("pending")) " pending"
        ul class="sent" {
            @for n in list {
                li {
                    (n.status) " to " (n.channel) " " (n.target)
                    @if let Some(r) = &n.reason { " (" (r) ")" }
                }
            }
        }
    }
}

/// The Acknowledge button; the form carries the page's query back to the page.
fn acknowledge(id: &IntegrationId, q: &PageQuery, v: &Visitor, a: &AlertView) -> Markup {
    html! {
        form method="post" action={ "/integrations/" (id) "/alerts/" (a.id) "/acknowledge" } {
            (csrf_field(v))
            (q.hidden(PageQuery::KEYS))
            button type="submit" class="ack" { "Acknowledge" }
        }
    }
}

fn alert(id: &IntegrationId, q: &PageQuery, v: &Visitor, a: &AlertView) -> Markup {
    let open = a.status == "open";
    let scope = if a.scope.is_empty() {
        "repository"
    } else {
        &a.scope
    };
    html! {
        li {
            article class="alert" id={ "alert-" (a.id) }
                data-status=(a.status) data-acknowledged=(a.acknowledged) {
                h3 {
                    (severity(a.severity)) " " (a.rule_name) " " code { (a.rule_id) } " "
                    @if open {
                        (badge("open", "●", "Open"))
                    } @else {
                        (badge("resolved", "✓", "Resolved"))
                    }
                    @if a.acknowledged { " " (badge("acked", "☑", "Acknowledged")) }
                }
                p class="message" { (a.message) }
                dl class="facts" {
                    div { dt { "Scope" } dd { (scope) } }
                    div {
                        dt { "Opened by" }
                        dd { (commit_link(id, q, &a.opened_by_commit)) " " (time(a.opened_at)) }
                    }
                    div {
                        dt { "Resolved by" }
                        dd {
                            @match &a.resolved_by_commit {
                                Some(c) => {
                                    (commit_link(id, q, c)) " "
                                    @if let Some(at) = a.resolved_at { (time(at)) }
                                }
                                None => "—",
                            }
                        }
                    }
                    div {
                        dt { "Acknowledged" }
                        dd class="ack-by" {
                            @match (a.acknowledged, a.acknowledged_at) {
                                (true, Some(at)) => {
                                    (a.acknowledged_by.as_deref().unwrap_or("")) " at " (time(at))
                                }
                                _ => "not acknowledged",
                            }
                        }
                    }
                    div {
                        dt { "Previous alert" }
                        dd {
                            @match &a.previous_alert_id {
                                Some(p) => a href={ "#alert-" (p) } { code { (p) } },
                                None => "—",
                            }
                        }
                    }
                    div { dt { "Notifications" } dd { (notifications(a)) } }
                }
                @if open && !a.acknowledged { (acknowledge(id, q, v, a)) }
            }
        }
    }
}

/// `alerts` are already filtered by status; the severity filter applies here.
pub fn section(
    id: &IntegrationId,
    q: &PageQuery,
    v: &Visitor,
    alerts: &[AlertView],
    next: Option<&str>,
) -> Markup {
    let severity = q.severity.as_deref().and_then(parse_severity);
    let shown: Vec<&AlertView> = alerts
        .iter()
        .filter(|a| severity.is_none_or(|s| a.severity == s))
        .collect();
    let status = q.status.as_deref().unwrap_or("open");
    let older = next.map(|cursor| PageQuery {
        alerts: Some(cursor.to_owned()),
        ..q.clone()
    });
    html! {
        section id="alerts" data-region aria-labelledby="alerts-h" {
            h2 id="alerts-h" { "Alerts " span class="count" { "(" (shown.len()) ")" } }
            form class="filter" method="get" action={ "/integrations/" (id) } {
                (q.hidden(&["commit", "branch", "before"]))
                label for="status" { "Status" }
                select id="status" name="status" {
                    @for s in ["open", "resolved", "all"] {
                        option value=(s) selected[s == status] { (s) }
                    }
                }
                label for="severity" { "Severity" }
                select id="severity" name="severity" {
                    option value="" { "any" }
                    (severity_options(severity))
                }
                button type="submit" { "Show" }
            }
            @if shown.is_empty() {
                p id="no-alerts" { "No alerts match." }
            } @else {
                ul class="alerts" id="alert-list" { @for a in &shown { (alert(id, q, v, a)) } }
            }
            @if let Some(page) = &older {
                p { a id="older-alerts" href={ (page.href(id)) "#alerts" } { "Older alerts" } }
            }
        }
    }
}
