//! `GET /integrations/{id}`: the shown report (latest, or `?commit=`), history and
//! alerts; `GET …/live`, which the page polls to pull in new reports; and the
//! acknowledge form.

use super::admission::Posted;
use super::failure::Failure;
use super::html::{Esc, page};
use super::page_query::PageQuery;
use super::visitor::Visitor;
use super::{alerts, history, report};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::routes::read::{self, MatrixQuery, ReportsQuery};
use crate::routes::views;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use clef_pro_schema::ids::IntegrationId;
use serde_json::{Value, json};

/// Reports per history page; the page never loads more than this many.
pub const HISTORY_PAGE: usize = 20;
/// Alerts per page of the alerts section.
pub const ALERTS_PAGE: usize = 50;

fn person_integration(state: &AppState, v: &Visitor, id: &str) -> Result<IntegrationId, Failure> {
    Ok(views::visible_integration(
        state,
        &Caller::Person(v.person.clone()),
        id,
    )?)
}

/// Changes whenever what the page shows changes: a report arrives (or is replaced), or
/// an alert opens, resolves or is acknowledged.
fn version(state: &AppState, id: &IntegrationId) -> Result<String, ApiError> {
    let heads = state.projections().matrix(|m| m.heads(id))?;
    let alerts = state.projections().alerts(|a| a.revision(id))?;
    let mut h = blake3::Hasher::new();
    h.update(&heads.reports.to_le_bytes());
    if let Some(l) = &heads.latest {
        h.update(l.position.cursor().as_bytes());
    }
    h.update(&alerts.to_le_bytes());
    Ok(h.finalize().to_hex()[..16].to_owned())
}

#[utoipa::path(get, path = "/integrations/{id}/live", tag = "dashboard", security(("session" = [])), params(("id" = String, Path, description = "The integration id.")),
    responses((status = 200, description = "The integration's version, polled by the page to refresh itself.", content_type = "application/json")))]
pub async fn live(
    State(state): State<AppState>,
    Path(id): Path<String>,
    visitor: Visitor,
) -> Result<Json<Value>, Failure> {
    let id = person_integration(&state, &visitor, &id)?;
    Ok(Json(json!({ "version": version(&state, &id)? })))
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
        .blocking(move |state| render(state, &id, q, visitor))
        .await
}

/// The integration page (store reads and HTML: run off the async runtime).
fn render(state: &AppState, id: &str, q: PageQuery, visitor: Visitor) -> Result<Response, Failure> {
    let state = state.clone();
    let id = person_integration(&state, &visitor, id)?;
    let integration = views::integration(&state, &id)?;
    let version = version(&state, &id)?;
    let shown = read::matrix_report(
        &state,
        &id,
        &MatrixQuery {
            branch: q.branch.clone(),
            commit: q.commit.clone(),
        },
    )?;
    if shown.is_none() && q.commit.as_deref().is_some_and(|c| !c.is_empty()) {
        return Err(ApiError::NotFound("report").into());
    }
    let (page_reports, next) = read::reports_page(
        &state,
        &id,
        &ReportsQuery {
            branch: q.branch.clone(),
            limit: Some(HISTORY_PAGE),
            before: q.before.clone(),
        },
    )?;
    let (alert_list, alerts_next) = read::alert_page(
        &state,
        &id,
        &read::AlertsQuery {
            status: q.status.clone(),
            limit: None,
            before: q.alerts.clone(),
        },
        ALERTS_PAGE,
    )?;
    let report_html = match &shown {
        Some((s, latest)) => format!(
            r#"<section id="report" data-region aria-labelledby="report-h">
<h2 id="report-h">Matrix</h2>{}{}{}
<h2>Policy results</h2>{}
</section>"#,
            report::marker(&id, &q, s, *latest),
            report::summary(s),
            report::matrix(&s.report),
            report::results(&s.report)
        ),
        None => r#"<section id="report" data-region><h2>Matrix</h2><p id="no-report">No report yet. Reports appear here as soon as CI sends them.</p></section>"#.to_owned(),
    };
    let settings = if visitor.is_admin() {
        format!(
            r#" <a class="button" href="/integrations/{}/settings">Settings</a>"#,
            Esc(id.as_str())
        )
    } else {
        String::new()
    };
    let main = format!(
        r#"<div class="title"><h1>{}</h1>{settings}</div>
{report_html}
<div class="columns">
{}
{}
</div>"#,
        Esc(&integration.name),
        alerts::section(&id, &q, &visitor, &alert_list, alerts_next.as_deref()),
        history::section(
            &id,
            &q,
            &page_reports,
            next.as_deref(),
            shown.as_ref().map(|(s, _)| s.report.commit.as_str()),
            &integration.tracked_branches
        ),
    );
    let hooks = format!(
        r#" data-live="/integrations/{}/live" data-version="{version}""#,
        Esc(id.as_str())
    );
    Ok(page(
        StatusCode::OK,
        &integration.name,
        Some(&visitor),
        &hooks,
        &main,
    ))
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
    let id = person_integration(&state, &posted.visitor, &id)?;
    read::acknowledge_alert(&state, &id, &alert, &posted.visitor.person).await?;
    Ok(Redirect::to(&format!("{}#alerts", posted.form.href(&id))).into_response())
}
