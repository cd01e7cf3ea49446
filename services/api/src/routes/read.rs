//! The read and acknowledge endpoints of docs/api.md. They read only the
//! projection stores, through the application's queries.

use crate::auth::Viewer;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use clef_pro_app::App;
use clef_pro_app::principal::{Caller, Person};
use clef_pro_app::queries::alerts::{self, AlertsQuery};
use clef_pro_app::queries::history::{MatrixQuery, ReportsQuery};
use clef_pro_app::views::{AlertList, AlertView, IntegrationList, MatrixView, ReportPage};
use clef_pro_schema::ids::IntegrationId;

/// A person may read any integration that exists.
fn visible(app: &App, person: Person, id: &str) -> Result<IntegrationId, ApiError> {
    Ok(app.visible_integration(&Caller::Person(person), id)?)
}

#[utoipa::path(get, path = "/api/v1/integrations", tag = "read", security(("bearer" = []), ("session" = [])),
    responses((status = 200, body = IntegrationList), crate::openapi::ReadErrors))]
pub async fn list_integrations(
    State(state): State<AppState>,
    _: Viewer,
) -> Result<Json<IntegrationList>, ApiError> {
    let integrations = state.app().blocking(|app| app.integration_views()).await?;
    Ok(Json(IntegrationList { integrations }))
}

#[utoipa::path(get, path = "/api/v1/integrations/{id}/matrix", tag = "read", security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "The integration id."),
        ("branch" = Option<String>, Query, description = "The newest report on this branch."),
        ("commit" = Option<String>, Query, description = "The report of this commit.")),
    responses((status = 200, description = "The matrix at the latest report (on a tracked branch when there is one), or at the given commit.", body = MatrixView), crate::openapi::ReadErrors))]
pub async fn matrix(
    State(state): State<AppState>,
    Viewer(person): Viewer,
    Path(id): Path<String>,
    Query(q): Query<MatrixQuery>,
) -> Result<Json<MatrixView>, ApiError> {
    let id = visible(state.app(), person, &id)?;
    let view = state
        .app()
        .blocking(move |app| app.matrix_view(&id, &q))
        .await?
        .ok_or(ApiError::NotFound("report"))?;
    Ok(Json(view))
}

#[utoipa::path(get, path = "/api/v1/integrations/{id}/reports", tag = "read", security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "The integration id."),
        ("branch" = Option<String>, Query, description = "Only this branch's history."),
        ("limit" = Option<usize>, Query, description = "Page size: default 50, at most 500."),
        ("before" = Option<String>, Query, description = "The `next` cursor of the previous page.")),
    responses((status = 200, description = "Newest first, by arrival in the log.", body = ReportPage), crate::openapi::ReadErrors))]
pub async fn reports(
    State(state): State<AppState>,
    Viewer(person): Viewer,
    Path(id): Path<String>,
    Query(q): Query<ReportsQuery>,
) -> Result<Json<ReportPage>, ApiError> {
    let id = visible(state.app(), person, &id)?;
    let page = state
        .app()
        .blocking(move |app| app.reports_page(&id, &q))
        .await?;
    Ok(Json(page))
}

#[utoipa::path(get, path = "/api/v1/integrations/{id}/alerts", tag = "read", security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "The integration id."), ("status" = Option<String>, Query, description = "`open` (default), `resolved` or `all`."),
        ("limit" = Option<usize>, Query, description = "Page size: default 200, at most 1000."),
        ("before" = Option<String>, Query, description = "The `next` cursor of the previous page.")),
    responses((status = 200, description = "Newest first (by when each alert opened).", body = AlertList), crate::openapi::ReadErrors))]
pub async fn alerts(
    State(state): State<AppState>,
    Viewer(person): Viewer,
    Path(id): Path<String>,
    Query(q): Query<AlertsQuery>,
) -> Result<Json<AlertList>, ApiError> {
    let id = visible(state.app(), person, &id)?;
    let (alerts, next) = state
        .app()
        .blocking(move |app| app.alert_page(&id, &q, alerts::DEFAULT_LIMIT))
        .await?;
    Ok(Json(AlertList { alerts, next }))
}

#[utoipa::path(post, path = "/api/v1/integrations/{id}/alerts/{alert}/acknowledge", tag = "read", security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "The integration id."), ("alert" = String, Path, description = "The alert id.")),
    responses((status = 200, description = "Acknowledged (idempotent): notifications stop; the alert stays open.", body = AlertView),
        (status = 409, description = "The alert is resolved.", body = crate::error::ErrorBody), crate::openapi::ReadErrors))]
pub async fn acknowledge(
    State(state): State<AppState>,
    Viewer(person): Viewer,
    Path((id, alert)): Path<(String, String)>,
) -> Result<Json<AlertView>, ApiError> {
    let id = visible(state.app(), person.clone(), &id)?;
    Ok(Json(state.app().acknowledge(&id, &alert, &person).await?))
}
