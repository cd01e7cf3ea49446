//! `GET /integrations/{id}`: the shown report (latest, or `?commit=`), history and
//! alerts; `GET …/live`, which the page polls to pull in new reports; and the
//! acknowledge form.

use super::admission::Posted;
use super::failure::Failure;
use super::layout::{Live, layout};
use super::page_query::PageQuery;
use super::visitor::Visitor;
use super::{alerts, history, insights, report};
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use clef_pro_api::error::ApiError;
use clef_pro_api::extract::{Path, Query};
use clef_pro_api::state::AppState;
use clef_pro_app::App;
use clef_pro_app::principal::Caller;
use clef_pro_app::queries::alerts::AlertsQuery;
use clef_pro_app::queries::history::{MatrixQuery, ReportsQuery};
use clef_pro_app::views::MatrixView;
use clef_pro_schema::ids::IntegrationId;
use maud::{Markup, html};
use serde_json::{Value, json};

/// Reports per history page; the page never loads more than this many.
pub const HISTORY_PAGE: usize = 20;
/// Alerts per page of the alerts section.
pub const ALERTS_PAGE: usize = 50;

fn person_integration(app: &App, v: &Visitor, id: &str) -> Result<IntegrationId, Failure> {
    Ok(app.visible_integration(&Caller::Person(v.person.clone()), id)?)
}

#[utoipa::path(get, path = "/integrations/{id}/live", tag = "dashboard", security(("session" = [])), params(("id" = String, Path, description = "The integration id.")),
    responses((status = 200, description = "The integration's version, polled by the page to refresh itself.", content_type = "application/json")))]
pub async fn live(
    State(state): State<AppState>,
    Path(id): Path<String>,
    visitor: Visitor,
) -> Result<Json<Value>, Failure> {
    let id = person_integration(state.app(), &visitor, &id)?;
    Ok(Json(json!({ "version": state.app().revision(&id)? })))
}

#[utoipa::path(get, path = "/integrations/{id}", operation_id = "integration", tag = "dashboard", security(("session" = [])),
    params(("id" = String, Path, description = "The integration id."), ("commit" = Option<String>, Query, description = "Show this older report."),
        ("branch" = Option<String>, Query, description = "History of one branch."),
        ("before" = Option<String>, Query, description = "History page cursor."),
        ("status" = Option<String>, Query, description = "Alerts: open, resolved or all."),
        ("severity" = Option<String>, Query, description = "Alerts of one severity.")),
    responses((status = 200, description = "Matrix, drift, history and alerts.", content_type = "text/html"),
        (status = 404, description = "No such integration.", content_type = "text/html")))]
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
    visitor: Visitor,
) -> Result<Response, Failure> {
    state
        .app()
        .blocking(move |app| render(app, &id, q, visitor))
        .await
}

/// The shown report's section, or the note that there is none yet.
fn report_section(id: &IntegrationId, q: &PageQuery, shown: Option<&MatrixView>) -> Markup {
    html! {
        @match shown {
            Some(m) => section id="report" data-region aria-labelledby="report-h" {
                h2 id="report-h" { "Matrix" }
                (report::marker(id, q, m))
                (report::summary(m))
                (report::matrix(m))
                h2 { "Policy results" }
                (report::results(m))
            },
            None => section id="report" data-region {
                h2 { "Matrix" }
                p id="no-report" { "No report yet. Reports appear here as soon as CI sends them." }
            },
        }
    }
}

/// The integration page (store reads and HTML: run off the async runtime).
fn render(app: &App, id: &str, q: PageQuery, visitor: Visitor) -> Result<Response, Failure> {
    let id = person_integration(app, &visitor, id)?;
    let integration = app.integration_view(&id)?;
    let version = app.revision(&id)?;
    let shown = app.matrix_view(
        &id,
        &MatrixQuery {
            branch: q.branch.clone(),
            commit: q.commit.clone(),
        },
    )?;
    if shown.is_none() && q.commit.as_deref().is_some_and(|c| !c.is_empty()) {
        return Err(ApiError::NotFound("report").into());
    }
    let history = app.reports_page(
        &id,
        &ReportsQuery {
            branch: q.branch.clone(),
            limit: Some(HISTORY_PAGE),
            before: q.before.clone(),
        },
    )?;
    let (alert_list, alerts_next) = app.alert_page(
        &id,
        &AlertsQuery {
            status: q.status.clone(),
            limit: None,
            before: q.alerts.clone(),
        },
        ALERTS_PAGE,
    )?;
    let insights = app.insights(Some(&id))?;
    let main = html! {
        div class="title" {
            h1 { (integration.name) }
            @if visitor.is_admin() {
                " " a class="button" href={ "/integrations/" (id) "/settings" } { "Settings" }
            }
        }
        (report_section(&id, &q, shown.as_ref()))
        div class="columns" {
            (alerts::section(&id, &q, &visitor, &alert_list, alerts_next.as_deref()))
            (history::section(
                &id,
                &q,
                &history,
                shown.as_ref().map(|m| m.commit.as_str()),
                &integration.tracked_branches,
            ))
        }
        (insights::section(&integration.name, &insights))
    };
    let live = Live {
        url: format!("/integrations/{id}/live"),
        version,
    };
    Ok(layout(&integration.name, Some(&visitor), Some(&live), main).into_response())
}

#[utoipa::path(post, path = "/integrations/{id}/alerts/{alert}/acknowledge", tag = "dashboard", security(("session" = [])),
    params(("id" = String, Path, description = "The integration id."), ("alert" = String, Path, description = "The alert id.")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`csrf`: the page's CSRF token."),
    responses((status = 303, description = "Acknowledged; back to the page."),
        (status = 403, description = "No valid CSRF token.", content_type = "text/html")))]
pub async fn acknowledge(
    State(state): State<AppState>,
    Path((id, alert)): Path<(String, String)>,
    posted: Posted<PageQuery>,
) -> Result<Response, Failure> {
    let id = person_integration(state.app(), &posted.visitor, &id)?;
    state
        .app()
        .acknowledge(&id, &alert, &posted.visitor.person)
        .await?;
    Ok(Redirect::to(&format!("{}#alerts", posted.form.href(&id))).into_response())
}
