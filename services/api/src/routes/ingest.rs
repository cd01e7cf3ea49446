//! The client-compatible ingest API of docs/api.md.

use crate::auth::{AnyCaller, Key};
use crate::body;
use crate::error::ApiError;
use crate::extract::Path;
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use clef_pro_app::commands::reports::{BatchAccepted, ReportAccepted};
use clef_pro_app::principal::Caller;
use clef_pro_app::views::IntegrationView;
use clef_pro_schema::wire::{BatchIn, ReportIn};

/// Largest single report body: 2 MiB (a 50 × 10 matrix is about 100 KB).
pub const REPORT_LIMIT: usize = 2 << 20;
/// Largest batch body: 32 MiB.
pub const BATCH_LIMIT: usize = 32 << 20;

/// `GET /api/v1/integrations/{id}`: for the CLI (its own integration) and for people.
#[utoipa::path(get, path = "/api/v1/integrations/{id}", tag = "ingest", security(("apiKey" = []), ("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "The integration id.")),
    responses((status = 200, description = "The integration; the CLI reads `lastCommitSha` and `config`.", body = IntegrationView), crate::openapi::ReadErrors))]
pub async fn get_integration(
    State(state): State<AppState>,
    AnyCaller(caller): AnyCaller,
    Path(id): Path<String>,
) -> Result<Json<IntegrationView>, ApiError> {
    let app = state.app();
    let id = app.visible_integration(&caller, &id)?;
    let mut view = app.blocking(move |app| app.integration_view(&id)).await?;
    // Who is notified (addresses, destination names) is for people, not for CI.
    if matches!(caller, Caller::Key(_)) {
        view.notifications.clear();
    }
    Ok(Json(view))
}

/// `POST /api/v1/reports`.
#[utoipa::path(post, path = "/api/v1/reports", tag = "ingest", security(("apiKey" = []), ("bearer" = [])),
    request_body = clef_pro_schema::wire::ReportIn,
    responses((status = 201, description = "Stored (or an identical resubmission).", body = ReportAccepted), crate::openapi::WriteErrors))]
pub async fn post_report(
    State(state): State<AppState>,
    Key(key): Key,
    body: Body,
) -> Result<(StatusCode, Json<ReportAccepted>), ApiError> {
    let (wire, size): (ReportIn, _) = body::json_sized(state.app(), body, REPORT_LIMIT).await?;
    let accepted = state.app().submit_report(&key, wire, size).await?;
    Ok((StatusCode::CREATED, Json(accepted)))
}

/// `POST /api/v1/reports/batch`: all or nothing; the last report is HEAD.
#[utoipa::path(post, path = "/api/v1/reports/batch", tag = "ingest", security(("apiKey" = []), ("bearer" = [])),
    request_body = clef_pro_schema::wire::BatchIn,
    responses((status = 201, description = "Every report stored, or none.", body = BatchAccepted), crate::openapi::WriteErrors))]
pub async fn post_batch(
    State(state): State<AppState>,
    Key(key): Key,
    body: Body,
) -> Result<(StatusCode, Json<BatchAccepted>), ApiError> {
    let (wire, size): (BatchIn, _) = body::json_sized(state.app(), body, BATCH_LIMIT).await?;
    let accepted = state.app().submit_batch(&key, wire, size).await?;
    Ok((StatusCode::CREATED, Json(accepted)))
}
