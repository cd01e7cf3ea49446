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
        json!({"lastCommitSha": head.commit.as_str(), "lastTimestamp": rfc3339(head.received_at)}),
    ))
}

/// `2023-11-14T22:13:20.000Z` for Unix milliseconds (proleptic Gregorian, UTC).
pub fn rfc3339(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        ms % 1000
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn rfc3339_dates() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            super::rfc3339(1_700_000_000_123),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(super::rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
