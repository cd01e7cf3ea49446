//! A drop-in target for the shipped Clef CLI's `clef report --push`, which speaks
//! OTLP/HTTP JSON: `GET …/v1/checkpoint` and `POST …/v1/logs` under `/` and `/otlp`.
//! Requests map to the same report events as the REST API (`schema::otlp`).

use crate::body;
use crate::error::ApiError;
use crate::routes::{ingest, views};
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use clef_pro_schema::otlp::{self, FilePattern};
use serde_json::{Value, json};

/// `POST …/v1/logs`: one commit's report. Any 2xx is success to the CLI.
pub async fn logs(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let key = state.authenticate_key(&headers)?;
    let integration = views::integration(&state, &key.integration)?;
    let req: Value = body::json(body, ingest::REPORT_LIMIT).await?;
    let pattern = integration
        .file_pattern
        .as_deref()
        .and_then(FilePattern::compile);
    let report = otlp::report(&req, pattern.as_ref())?;
    let mut out = ingest::accept_report(&state, &key.integration, report).await?;
    out["partialSuccess"] = json!({});
    Ok(Json(out))
}

/// `GET …/v1/checkpoint`: the newest commit on a tracked branch, or 404 when the
/// integration has none yet (the CLI then pushes HEAD only).
pub async fn checkpoint(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let key = state.authenticate_key(&headers)?;
    let heads = state.projections().matrix(|m| m.heads(&key.integration))?;
    let head = heads.latest_tracked.ok_or(ApiError::NotFound("report"))?;
    Ok(Json(
        json!({"lastCommitSha": head.commit.as_str(), "lastTimestamp": clef_pro_schema::time::rfc3339(head.received_at)}),
    ))
}
