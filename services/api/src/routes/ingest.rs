//! The client-compatible ingest API of CONTRACT section 3.

use crate::auth::KeyCaller;
use crate::body;
use crate::error::ApiError;
use crate::routes::views;
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use clef_pro_projections::Kind;
use clef_pro_schema::domain::CommitSha;
use clef_pro_schema::event::Event;
use clef_pro_schema::ids::{IntegrationId, ReportId};
use clef_pro_schema::report::Report;
use clef_pro_schema::sealed::{Sealed, seal};
use clef_pro_schema::wire::{BatchIn, ReportIn};
use serde_json::{Value, json};

/// Largest single report body: 2 MiB (a 50 × 10 matrix is about 100 KB).
pub const REPORT_LIMIT: usize = 2 << 20;
/// Largest batch body: 32 MiB.
pub const BATCH_LIMIT: usize = 32 << 20;
/// Most reports in one batch.
pub const MAX_BATCH: usize = 500;

/// Projections a report must be visible in before the request returns.
const REPORT_VIEWS: &[Kind] = &[Kind::Matrix, Kind::Alerts];

pub fn report_id(integration: &IntegrationId, commit: &CommitSha) -> ReportId {
    ReportId::derive(&[integration.as_str().as_bytes(), commit.as_str().as_bytes()])
}

fn redaction_summary(sealed: &Sealed) -> Value {
    let fps: Vec<&str> = sealed
        .redactions()
        .iter()
        .map(|r| r.fingerprint.as_str())
        .collect();
    json!({"secretsRedacted": fps.len(), "fingerprints": fps})
}

/// `GET /api/v1/integrations/{id}`: for the CLI (its own integration) and for people.
pub async fn get_integration(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let caller = state.authenticate_any(&headers)?;
    let id = views::visible_integration(&state, &caller, &id)?;
    Ok(Json(views::integration_json(&state, &id)?))
}

/// What both report endpoints start with: the API key, whether its integration
/// collects CI context, and the body.
async fn read<T: serde::de::DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
    limit: usize,
) -> Result<(KeyCaller, bool, T), ApiError> {
    let key = state.authenticate_key(headers)?;
    let collect_ci = views::collects_ci(state, &key.integration)?;
    Ok((key, collect_ci, body::json(body, limit).await?))
}

/// `POST /api/v1/reports`.
pub async fn post_report(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (key, collect_ci, wire) = read::<ReportIn>(&state, &headers, body, REPORT_LIMIT).await?;
    let report = Report::from_wire(wire, "", collect_ci)?;
    Ok((
        StatusCode::CREATED,
        Json(accept_report(&state, &key.integration, report).await?),
    ))
}

/// Seals and appends one validated report; the response body of every ingest path.
pub async fn accept_report(
    state: &AppState,
    integration: &IntegrationId,
    report: Report,
) -> Result<Value, ApiError> {
    let sealed = seal(Event::ReportSubmitted {
        integration: integration.clone(),
        report,
        at: clef_pro_schema::now_ms(),
    });
    let appended = state.append(&sealed, REPORT_VIEWS).await?;
    let Event::ReportSubmitted { report, .. } = sealed.event() else {
        unreachable!("sealed what we built")
    };
    state.metrics().reports_accepted.inc();
    record_redactions(state, &sealed);
    tracing::info!(%integration, commit = %report.commit, seq = appended.seq, duplicate = appended.duplicate, "report accepted");
    let mut out = json!({
        "id": report_id(integration, &report.commit).as_str(),
        "commitSha": report.commit.as_str(),
        "branch": report.branch.as_str(),
        "integrationId": integration.as_str(),
        "duplicate": appended.duplicate,
    });
    merge(&mut out, redaction_summary(&sealed));
    Ok(out)
}

/// `POST /api/v1/reports/batch`: all or nothing; the last report is HEAD.
pub async fn post_batch(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (key, collect_ci, wire) = read::<BatchIn>(&state, &headers, body, BATCH_LIMIT).await?;
    if wire.reports.is_empty() || wire.reports.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "reports",
            format!("must hold 1 to {MAX_BATCH} reports"),
        ));
    }
    let reports = wire
        .reports
        .into_iter()
        .enumerate()
        .map(|(i, r)| Report::from_wire(r, &format!("reports[{i}]."), collect_ci))
        .collect::<Result<Vec<_>, _>>()?;
    let sealed = seal(Event::BatchSubmitted {
        integration: key.integration.clone(),
        reports,
        at: clef_pro_schema::now_ms(),
    });
    let appended = state.append(&sealed, REPORT_VIEWS).await?;
    let Event::BatchSubmitted { reports, .. } = sealed.event() else {
        unreachable!("sealed what we built")
    };
    state.metrics().batches_accepted.inc();
    record_redactions(&state, &sealed);
    tracing::info!(integration = %key.integration, reports = reports.len(), seq = appended.seq, duplicate = appended.duplicate, "batch accepted");
    let ids: Vec<String> = reports
        .iter()
        .map(|r| report_id(&key.integration, &r.commit).to_string())
        .collect();
    let mut out =
        json!({"accepted": reports.len(), "reportIds": ids, "duplicate": appended.duplicate});
    merge(&mut out, redaction_summary(&sealed));
    Ok((StatusCode::CREATED, Json(out)))
}

fn record_redactions(state: &AppState, sealed: &Sealed) {
    for _ in sealed.redactions() {
        state.metrics().secrets_redacted.inc();
    }
}

fn merge(into: &mut Value, from: Value) {
    if let (Some(a), Value::Object(b)) = (into.as_object_mut(), from) {
        a.extend(b);
    }
}
