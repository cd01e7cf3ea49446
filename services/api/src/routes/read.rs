//! The read and acknowledge endpoints of CONTRACT section 5. They read only the
//! projection stores.

use crate::auth::{Caller, Person};
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::routes::views::{
    AlertList, AlertView, IntegrationList, MatrixView, ReportPage, ReportSummaryView,
};
use crate::routes::{paging, views};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use clef_pro_projections::Kind;
use clef_pro_projections::alerts::AlertCursor;
use clef_pro_projections::lifecycle::Status;
use clef_pro_projections::matrix::{Position, ReportSummary, StoredReport};
use clef_pro_schema::domain::{Branch, CommitSha};
use clef_pro_schema::event::Event;
use clef_pro_schema::ids::{AlertId, IntegrationId};
use serde::Deserialize;

/// Default and largest page of `GET …/reports`.
pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 500;

/// A person may read any integration.
fn person_integration(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
) -> Result<IntegrationId, ApiError> {
    let person = state.authenticate_person(headers)?;
    views::visible_integration(state, &Caller::Person(person), id)
}

#[utoipa::path(get, path = "/api/v1/integrations", tag = "read", security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = IntegrationList), crate::openapi::ReadErrors))]
pub async fn list_integrations(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<IntegrationList>, ApiError> {
    state.authenticate_person(&headers)?;
    let integrations = state
        .blocking(|state| {
            let all = state.projections().registry(|r| r.integrations())?;
            all.iter()
                .map(|i| views::integration_view(state, &i.id))
                .collect::<Result<Vec<_>, ApiError>>()
        })
        .await?;
    Ok(Json(IntegrationList { integrations }))
}

/// The optional `branch` query parameter; empty means none.
fn branch_param(b: Option<&str>) -> Result<Option<Branch>, ApiError> {
    b.filter(|b| !b.is_empty())
        .map(|b| Branch::parse(b).map_err(|e| ApiError::invalid("branch", e.0)))
        .transpose()
}

#[derive(Debug, Deserialize)]
pub struct MatrixQuery {
    pub branch: Option<String>,
    pub commit: Option<String>,
}

/// The report shown for a matrix query, and whether it is the newest one for the query.
pub fn matrix_report(
    state: &AppState,
    id: &IntegrationId,
    q: &MatrixQuery,
) -> Result<Option<(StoredReport, bool)>, ApiError> {
    let branch = branch_param(q.branch.as_deref())?;
    let latest = state.projections().matrix(|m| match &branch {
        Some(b) => m.latest_on(id, b),
        None => {
            let heads = m.heads(id)?;
            match heads.latest_tracked.or(heads.latest) {
                Some(h) => m.report(id, &h.commit),
                None => Ok(None),
            }
        }
    })?;
    match q.commit.as_deref().filter(|c| !c.is_empty()) {
        None => Ok(latest.map(|r| (r, true))),
        Some(c) => {
            let commit = CommitSha::parse(c).map_err(|e| ApiError::invalid("commit", e.0))?;
            let at = state.projections().matrix(|m| m.report(id, &commit))?;
            let is_latest = latest.as_ref().is_some_and(|l| l.report.commit == commit);
            Ok(at.map(|r| (r, is_latest)))
        }
    }
}

#[utoipa::path(get, path = "/api/v1/integrations/{id}/matrix", tag = "read", security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "The integration id."),
        ("branch" = Option<String>, Query, description = "The newest report on this branch."),
        ("commit" = Option<String>, Query, description = "The report of this commit.")),
    responses((status = 200, description = "The matrix at the latest report (on a tracked branch when there is one), or at the given commit.", body = MatrixView), crate::openapi::ReadErrors))]
pub async fn matrix(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<MatrixQuery>,
    headers: HeaderMap,
) -> Result<Json<MatrixView>, ApiError> {
    let id = person_integration(&state, &headers, &id)?;
    let view = state
        .blocking(move |state| {
            let (report, latest) =
                matrix_report(state, &id, &q)?.ok_or(ApiError::NotFound("report"))?;
            Ok::<_, ApiError>(MatrixView::of(&report, latest))
        })
        .await?;
    Ok(Json(view))
}

#[derive(Debug, Deserialize)]
pub struct ReportsQuery {
    pub branch: Option<String>,
    pub limit: Option<usize>,
    pub before: Option<String>,
}

/// A page of history, newest first, and the cursor of the next page.
pub fn reports_page(
    state: &AppState,
    id: &IntegrationId,
    q: &ReportsQuery,
) -> Result<(Vec<ReportSummary>, Option<String>), ApiError> {
    let branch = branch_param(q.branch.as_deref())?;
    let before = paging::cursor(q.before.as_deref(), Position::parse_cursor)?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let page = state
        .projections()
        .matrix(|m| m.history(id, branch.as_ref(), before, limit + 1))?;
    let (page, next) = paging::cut(page, limit, |r| r.position.cursor());
    Ok((page, next))
}

#[utoipa::path(get, path = "/api/v1/integrations/{id}/reports", tag = "read", security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "The integration id."),
        ("branch" = Option<String>, Query, description = "Only this branch's history."),
        ("limit" = Option<usize>, Query, description = "Page size: default 50, at most 500."),
        ("before" = Option<String>, Query, description = "The `next` cursor of the previous page.")),
    responses((status = 200, description = "Newest first, by arrival in the log.", body = ReportPage), crate::openapi::ReadErrors))]
pub async fn reports(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<ReportsQuery>,
    headers: HeaderMap,
) -> Result<Json<ReportPage>, ApiError> {
    let id = person_integration(&state, &headers, &id)?;
    let page = state
        .blocking(move |state| {
            let (page, next) = reports_page(state, &id, &q)?;
            Ok::<_, ApiError>(ReportPage {
                reports: page.iter().map(ReportSummaryView::of).collect(),
                next,
            })
        })
        .await?;
    Ok(Json(page))
}

#[derive(Debug, Deserialize)]
pub struct AlertsQuery {
    pub status: Option<String>,
    pub limit: Option<usize>,
    pub before: Option<String>,
}

/// Default and largest page of `GET …/alerts`.
pub const ALERTS_DEFAULT_LIMIT: usize = 200;
pub const ALERTS_MAX_LIMIT: usize = 1000;

/// A page of an integration's alerts with `status` = `open` (default), `resolved` or
/// `all`, newest first, and the cursor of the next page. Its cost is its page: the
/// store keeps alerts indexed by status, and each alert's notifications by alert.
pub fn alert_page(
    state: &AppState,
    id: &IntegrationId,
    q: &AlertsQuery,
    default_limit: usize,
) -> Result<(Vec<AlertView>, Option<String>), ApiError> {
    let status = match q.status.as_deref().unwrap_or("open") {
        "open" => Some(Status::Open),
        "resolved" => Some(Status::Resolved),
        "all" => None,
        _ => return Err(ApiError::invalid("status", "must be open, resolved or all")),
    };
    let after = paging::cursor(q.before.as_deref(), AlertCursor::parse)?;
    let limit = q.limit.unwrap_or(default_limit).clamp(1, ALERTS_MAX_LIMIT);
    let alerts = state
        .projections()
        .alerts(|a| a.page(id, status, after.as_ref(), limit + 1))?;
    let (alerts, next) = paging::cut(alerts, limit, |a| AlertCursor::of(a).to_string());
    let views = alerts
        .iter()
        .map(|a| {
            let sent = state.projections().outbox(|o| o.for_alert(&a.id))?;
            Ok(AlertView::of(a, &sent))
        })
        .collect::<Result<_, ApiError>>()?;
    Ok((views, next))
}

#[utoipa::path(get, path = "/api/v1/integrations/{id}/alerts", tag = "read", security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "The integration id."), ("status" = Option<String>, Query, description = "`open` (default), `resolved` or `all`."),
        ("limit" = Option<usize>, Query, description = "Page size: default 200, at most 1000."),
        ("before" = Option<String>, Query, description = "The `next` cursor of the previous page.")),
    responses((status = 200, description = "Newest first (by when each alert opened).", body = AlertList), crate::openapi::ReadErrors))]
pub async fn alerts(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<AlertsQuery>,
    headers: HeaderMap,
) -> Result<Json<AlertList>, ApiError> {
    let id = person_integration(&state, &headers, &id)?;
    let (alerts, next) = state
        .blocking(move |state| alert_page(state, &id, &q, ALERTS_DEFAULT_LIMIT))
        .await?;
    Ok(Json(AlertList { alerts, next }))
}

/// Acknowledges an open alert on behalf of `who`; idempotent; 409 once resolved.
pub async fn acknowledge_alert(
    state: &AppState,
    id: &IntegrationId,
    alert: &str,
    who: &Person,
) -> Result<AlertView, ApiError> {
    let alert_id = AlertId::parse(alert).map_err(|_| ApiError::NotFound("alert"))?;
    let current = state
        .projections()
        .alerts(|a| a.alert(&alert_id))?
        .filter(|a| a.integration == *id)
        .ok_or(ApiError::NotFound("alert"))?;
    if current.status == Status::Resolved {
        return Err(ApiError::Conflict(
            "the alert is resolved; only open alerts can be acknowledged".into(),
        ));
    }
    if !current.acknowledged() {
        let sealed = state.seal(who.did(Event::AlertAcknowledged {
            integration: id.clone(),
            alert: alert_id.clone(),
            by: who.name.clone(),
            at: clef_pro_schema::now_ms(),
        }));
        state.append(&sealed, &[Kind::Alerts, Kind::Outbox]).await?;
    }
    let a = state
        .projections()
        .alerts(|a| a.alert(&alert_id))?
        .ok_or(ApiError::NotFound("alert"))?;
    let sent = state.projections().outbox(|o| o.for_alert(&alert_id))?;
    Ok(AlertView::of(&a, &sent))
}

#[utoipa::path(post, path = "/api/v1/integrations/{id}/alerts/{alert}/acknowledge", tag = "read", security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "The integration id."), ("alert" = String, Path, description = "The alert id.")),
    responses((status = 200, description = "Acknowledged (idempotent): notifications stop; the alert stays open.", body = AlertView),
        (status = 409, description = "The alert is resolved.", body = crate::error::ErrorBody), crate::openapi::ReadErrors))]
pub async fn acknowledge(
    State(state): State<AppState>,
    Path((id, alert)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Json<AlertView>, ApiError> {
    let person = state.authenticate_person(&headers)?;
    let id = views::visible_integration(&state, &Caller::Person(person.clone()), &id)?;
    Ok(Json(acknowledge_alert(&state, &id, &alert, &person).await?))
}
