//! A drop-in target for the shipped Clef CLI's `clef report --push`, which speaks
//! OTLP/HTTP JSON: `GET …/v1/checkpoint` and `POST …/v1/logs` under `/` and `/otlp`.
//! Requests map to the same report events as the REST API (`schema::otlp`).

use crate::auth::Key;
use crate::body;
use crate::error::ApiError;
use crate::routes::ingest::REPORT_LIMIT;
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use clef_pro_app::commands::reports::ReportAccepted;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// The answer to `POST …/v1/logs`: the report's, with OTLP's `partialSuccess`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OtlpAccepted {
    #[serde(flatten)]
    pub report: ReportAccepted,
    /// Always empty: a request is accepted whole or refused.
    pub partial_success: Value,
}

/// The newest commit on a tracked branch, from which the CLI fills gaps.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Checkpoint {
    pub last_commit_sha: String,
    /// RFC 3339, UTC.
    pub last_timestamp: String,
}

/// `POST …/v1/logs`: one commit's report. Any 2xx is success to the CLI.
#[utoipa::path(post, path = "/v1/logs", tag = "otlp", security(("apiKey" = []), ("bearer" = [])),
    request_body(content = Object, description = "An OTLP `ExportLogsServiceRequest` (JSON) from `clef report --push`; only an allow-list of attributes is read."),
    responses((status = 200, body = OtlpAccepted), crate::openapi::WriteErrors))]
pub async fn logs(
    State(state): State<AppState>,
    Key(key): Key,
    body: Body,
) -> Result<Json<OtlpAccepted>, ApiError> {
    let (req, size): (Value, _) = body::json_sized(state.app(), body, REPORT_LIMIT).await?;
    Ok(Json(OtlpAccepted {
        report: state.app().submit_otlp(&key, req, size).await?,
        partial_success: Value::Object(Default::default()),
    }))
}

/// `GET …/v1/checkpoint`: the newest commit on a tracked branch, or 404 when the
/// integration has none yet (the CLI then pushes HEAD only).
#[utoipa::path(get, path = "/v1/checkpoint", tag = "otlp", security(("apiKey" = []), ("bearer" = [])),
    responses((status = 200, description = "The newest commit on a tracked branch.", body = Checkpoint), crate::openapi::ReadErrors))]
pub async fn checkpoint(
    State(state): State<AppState>,
    Key(key): Key,
) -> Result<Json<Checkpoint>, ApiError> {
    let head = state
        .app()
        .last_tracked(&key.integration.id)?
        .ok_or(ApiError::NotFound("report"))?;
    Ok(Json(Checkpoint {
        last_commit_sha: head.commit.to_string(),
        last_timestamp: clef_pro_schema::time::rfc3339(head.received_at),
    }))
}
