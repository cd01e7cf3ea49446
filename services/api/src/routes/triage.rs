//! Triage across integrations: the alert inbox, times to resolve and trends.

use crate::auth::Viewer;
use crate::error::ApiError;
use crate::extract::{Path, Query};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use clef_pro_app::principal::Caller;
use clef_pro_app::queries::triage::InboxQuery;
use clef_pro_app::views::{InboxPage, InsightsView};

#[utoipa::path(get, path = "/api/v1/alerts", tag = "read", security(("bearer" = []), ("session" = [])),
    params(("status" = Option<String>, Query, description = "`open` (default), `resolved` or `all`."),
        ("acknowledged" = Option<bool>, Query, description = "Only acknowledged (`true`) or unacknowledged (`false`) alerts."),
        ("severity" = Option<String>, Query, description = "Only this severity: `critical`, `error`, `warning` or `info`."),
        ("integration" = Option<String>, Query, description = "Only this integration's alerts."),
        ("rule" = Option<String>, Query, description = "Only this rule's alerts."),
        ("age" = Option<String>, Query, description = "Only alerts opened within this long: hours or days, such as `24h` or `7d`."),
        ("limit" = Option<usize>, Query, description = "Page size: default 50, at most 500."),
        ("before" = Option<String>, Query, description = "The `next` cursor of the previous page.")),
    responses((status = 200, description = "Every integration's alerts, most severe first, then oldest first.", body = InboxPage), crate::openapi::ReadErrors))]
pub async fn inbox(
    State(state): State<AppState>,
    _: Viewer,
    Query(q): Query<InboxQuery>,
) -> Result<Json<InboxPage>, ApiError> {
    Ok(Json(state.app().blocking(move |app| app.inbox(&q)).await?))
}

#[utoipa::path(get, path = "/api/v1/insights", tag = "read", security(("bearer" = []), ("session" = [])),
    responses((status = 200, description = "Times to resolve by severity and the trend, over every integration.", body = InsightsView), crate::openapi::ReadErrors))]
pub async fn insights(
    State(state): State<AppState>,
    _: Viewer,
) -> Result<Json<InsightsView>, ApiError> {
    Ok(Json(state.app().blocking(|app| app.insights(None)).await?))
}

#[utoipa::path(get, path = "/api/v1/integrations/{id}/insights", tag = "read", security(("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "The integration id.")),
    responses((status = 200, description = "The integration's times to resolve by severity and its trend.", body = InsightsView), crate::openapi::ReadErrors))]
pub async fn integration_insights(
    State(state): State<AppState>,
    Viewer(person): Viewer,
    Path(id): Path<String>,
) -> Result<Json<InsightsView>, ApiError> {
    let id = state
        .app()
        .visible_integration(&Caller::Person(person), &id)?;
    Ok(Json(
        state
            .app()
            .blocking(move |app| app.insights(Some(&id)))
            .await?,
    ))
}
