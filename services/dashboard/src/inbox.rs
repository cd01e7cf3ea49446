//! `GET /alerts`: one inbox across every integration, the most severe first, then the
//! oldest; filtered by status, acknowledgement, severity, integration, rule and age;
//! a page at a time; each open alert acknowledged in place. The same query and views
//! as `GET /api/v1/alerts`.

use super::admission::Posted;
use super::components::{badge, csrf_field, severity, severity_options, table};
use super::failure::Failure;
use super::layout::layout;
use super::time::{ago, time};
use super::visitor::Visitor;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use clef_pro_api::extract::{Path, Query};
use clef_pro_api::state::AppState;
use clef_pro_app::App;
use clef_pro_app::principal::Caller;
use clef_pro_app::queries::triage::InboxQuery;
use clef_pro_app::views::{InboxAlertView, InboxPage};
use maud::{Markup, html};
use serde::{Deserialize, Serialize};

/// The inbox's filters as the page's form sends them (every one a string; empty is no
/// filter), and as its links and forms carry them along.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Filters {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    status: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    acknowledged: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    severity: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    integration: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    rule: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    age: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    before: String,
}

impl Filters {
    fn query(&self) -> InboxQuery {
        let some = |s: &String| Some(s.clone()).filter(|s| !s.is_empty());
        InboxQuery {
            status: some(&self.status),
            acknowledged: some(&self.acknowledged),
            severity: some(&self.severity),
            integration: some(&self.integration),
            rule: some(&self.rule),
            age: some(&self.age),
            limit: Some(PAGE),
            before: some(&self.before),
        }
    }

    /// `/alerts` with these filters (and page), as a link.
    fn href(&self) -> String {
        match serde_urlencoded::to_string(self) {
            Ok(q) if !q.is_empty() => format!("/alerts?{q}"),
            _ => "/alerts".to_owned(),
        }
    }
}

/// Alerts per page.
const PAGE: usize = 50;

fn select(id: &str, label: &str, chosen: &str, options: &[(&str, &str)]) -> Markup {
    html! {
        label for=(id) { (label) }
        select id=(id) name=(id) {
            @for (value, text) in options {
                option value=(value) selected[*value == chosen] { (text) }
            }
        }
    }
}

fn filters(f: &Filters, integrations: &[(String, String)]) -> Markup {
    let chosen_severity = super::components::parse_severity(&f.severity);
    html! {
        form class="filter inbox-filter" method="get" action="/alerts" role="search" aria-label="Filter alerts" {
            (select("status", "Status", &f.status, &[("", "open"), ("resolved", "resolved"), ("all", "all")]))
            (select("acknowledged", "Acknowledged", &f.acknowledged, &[("", "either"), ("false", "not acknowledged"), ("true", "acknowledged")]))
            label for="severity" { "Severity" }
            select id="severity" name="severity" {
                option value="" { "any" }
                (severity_options(chosen_severity))
            }
            label for="integration" { "Integration" }
            select id="integration" name="integration" {
                option value="" { "any" }
                @for (id, name) in integrations {
                    option value=(id) selected[*id == f.integration] { (name) }
                }
            }
            label for="rule" { "Rule" }
            input id="rule" name="rule" value=(f.rule) size="16";
            (select("age", "Opened within", &f.age, &[("", "any time"), ("24h", "24 hours"), ("7d", "7 days"), ("30d", "30 days")]))
            button type="submit" { "Filter" }
        }
    }
}

fn row(a: &InboxAlertView, f: &Filters, v: &Visitor, now: u64) -> Markup {
    let al = &a.alert;
    let open = al.status == "open";
    html! {
        tr id={ "inbox-" (al.id) } data-integration=(al.integration_id)
            data-severity=(al.severity.as_str()) data-status=(al.status) data-acknowledged=(al.acknowledged) {
            td { (severity(al.severity)) }
            td { a href={ "/integrations/" (al.integration_id) "#alert-" (al.id) } { (a.integration_name) } }
            td { (al.rule_name) " " code { (al.rule_id) } }
            td { @if al.scope.is_empty() { "repository" } @else { (al.scope) } }
            td { (time(al.opened_at)) br; span class="hint" { (ago(al.opened_at, now)) } }
            td {
                @if open { (badge("open", "●", "Open")) } @else { (badge("resolved", "✓", "Resolved")) }
                @if al.acknowledged { " " (badge("acked", "☑", "Acknowledged")) }
            }
            td {
                @if open && !al.acknowledged {
                    form method="post" action={ "/alerts/" (al.integration_id) "/" (al.id) "/acknowledge" } {
                        (csrf_field(v))
                        @for (k, val) in hidden(f) { input type="hidden" name=(k) value=(val); }
                        button type="submit" class="ack" aria-label={ "Acknowledge " (al.rule_name) " in " (a.integration_name) } { "Acknowledge" }
                    }
                }
            }
        }
    }
}

/// The filters a form carries back to the page it came from.
fn hidden(f: &Filters) -> Vec<(&'static str, String)> {
    [
        ("status", &f.status),
        ("acknowledged", &f.acknowledged),
        ("severity", &f.severity),
        ("integration", &f.integration),
        ("rule", &f.rule),
        ("age", &f.age),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| (k, v.clone()))
    .collect()
}

fn render(app: &App, f: Filters, visitor: Visitor) -> Result<Response, Failure> {
    let InboxPage { alerts, next } = app.inbox(&f.query())?;
    let integrations = app.integration_names()?;
    let now = clef_pro_schema::now_ms();
    let older = next.map(|n| Filters {
        before: n,
        ..f.clone()
    });
    let main = html! {
        h1 { "Alerts" }
        p class="hint" { "Every integration's alerts, the most severe first, then the oldest." }
        (filters(&f, &integrations))
        @if alerts.is_empty() {
            p id="no-alerts" { "No alerts match." }
        } @else {
            (table(
                Some("inbox"),
                &["Severity", "Integration", "Rule", "Scope", "Opened", "Status", ""],
                html! { @for a in &alerts { (row(a, &f, &visitor, now)) } },
            ))
        }
        @if let Some(page) = &older {
            p { a id="next-page" href=(page.href()) { "Next page" } }
        }
        @if !f.before.is_empty() {
            p { a id="first-page" href=(Filters { before: String::new(), ..f.clone() }.href()) { "First page" } }
        }
    };
    Ok(layout("Alerts", Some(&visitor), None, main).into_response())
}

#[utoipa::path(get, path = "/alerts", operation_id = "inbox", tag = "dashboard", security(("session" = [])),
    params(("status" = Option<String>, Query, description = "`open` (default), `resolved` or `all`."),
        ("acknowledged" = Option<String>, Query, description = "`true` or `false`."),
        ("severity" = Option<String>, Query, description = "One severity."),
        ("integration" = Option<String>, Query, description = "One integration id."),
        ("rule" = Option<String>, Query, description = "One rule id."),
        ("age" = Option<String>, Query, description = "Opened within: `24h`, `7d`, `30d`."),
        ("before" = Option<String>, Query, description = "The page cursor.")),
    responses((status = 200, description = "Every integration's alerts, most severe first, then oldest.", content_type = "text/html"),
        (status = 303, description = "Signed out: sent to `/sign-in`.")))]
pub async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(f): Query<Filters>,
) -> Result<Response, Failure> {
    state
        .app()
        .blocking(move |app| render(app, f, visitor))
        .await
}

#[utoipa::path(post, path = "/alerts/{id}/{alert}/acknowledge", operation_id = "inbox_acknowledge", tag = "dashboard", security(("session" = [])),
    params(("id" = String, Path, description = "The integration id."), ("alert" = String, Path, description = "The alert id.")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`csrf` and the inbox's filters."),
    responses((status = 303, description = "Acknowledged; back to the inbox with its filters."),
        (status = 403, description = "No valid CSRF token.", content_type = "text/html")))]
pub async fn acknowledge(
    State(state): State<AppState>,
    Path((id, alert)): Path<(String, String)>,
    posted: Posted<Filters>,
) -> Result<Response, Failure> {
    let app = state.app();
    let id = app.visible_integration(&Caller::Person(posted.visitor.person.clone()), &id)?;
    app.acknowledge(&id, &alert, &posted.visitor.person).await?;
    Ok(Redirect::to(&posted.form.href()).into_response())
}
