//! The client-compatible ingest API of CONTRACT section 3.

use crate::auth::KeyCaller;
use crate::body;
use crate::error::ApiError;
use crate::extract::Path;
use crate::routes::views;
use crate::routes::views::{IntegrationView, report_id};
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use clef_pro_projections::Kind;
use clef_pro_schema::event::Event;
use clef_pro_schema::ids::IntegrationId;
use clef_pro_schema::report::Report;
use clef_pro_schema::sealed::Sealed;
use clef_pro_schema::wire::{BatchIn, ReportIn};
use serde::Serialize;
use utoipa::ToSchema;

/// Largest single report body: 2 MiB (a 50 × 10 matrix is about 100 KB).
pub const REPORT_LIMIT: usize = 2 << 20;
/// Largest batch body: 32 MiB.
pub const BATCH_LIMIT: usize = 32 << 20;

/// Projections a report must be visible in before the request returns.
const REPORT_VIEWS: &[Kind] = &[Kind::Matrix, Kind::Alerts];

/// What the redaction chokepoint replaced in a request: a count and fingerprints.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Redacted {
    pub secrets_redacted: usize,
    /// `<REDACTED:fingerprint=…>` markers' fingerprints, in order.
    pub fingerprints: Vec<String>,
}

impl Redacted {
    fn of(sealed: &Sealed) -> Self {
        let fingerprints: Vec<String> = sealed
            .redactions()
            .iter()
            .map(|r| r.fingerprint.as_str().to_owned())
            .collect();
        Self {
            secrets_redacted: fingerprints.len(),
            fingerprints,
        }
    }
}

/// `POST /api/v1/reports`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "rpt_9a1b2c3d4e5f6a7b", "commitSha": "3f786850e387550fdab836ed7e6dc881de23001b",
    "branch": "main", "integrationId": "int_4f7c2a19d03e5b86", "duplicate": false, "secretsRedacted": 0, "fingerprints": []}))]
pub struct ReportAccepted {
    pub id: String,
    pub commit_sha: String,
    /// `null` for a report sent without a branch.
    pub branch: Option<String>,
    pub integration_id: String,
    /// True when the same content was already in the log.
    pub duplicate: bool,
    #[serde(flatten)]
    pub redacted: Redacted,
}

/// `POST /api/v1/reports/batch`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"accepted": 2, "reportIds": ["rpt_11aa22bb33cc44dd", "rpt_22bb33cc44dd55ee"], "duplicate": false,
    "secretsRedacted": 0, "fingerprints": []}))]
pub struct BatchAccepted {
    pub accepted: usize,
    pub report_ids: Vec<String>,
    pub duplicate: bool,
    #[serde(flatten)]
    pub redacted: Redacted,
}

/// `GET /api/v1/integrations/{id}`: for the CLI (its own integration) and for people.
#[utoipa::path(get, path = "/api/v1/integrations/{id}", tag = "ingest", security(("apiKey" = []), ("bearer" = []), ("session" = [])),
    params(("id" = String, Path, description = "The integration id.")),
    responses((status = 200, description = "The integration; the CLI reads `lastCommitSha` and `config`.", body = IntegrationView), crate::openapi::ReadErrors))]
pub async fn get_integration(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<IntegrationView>, ApiError> {
    let caller = state.authenticate_any(&headers)?;
    let id = views::visible_integration(&state, &caller, &id)?;
    let view = state
        .blocking(move |state| views::integration_view(state, &id))
        .await?;
    Ok(Json(view))
}

/// What both report endpoints start with: the API key, whether its integration
/// collects CI context, and the body.
async fn read<T: serde::de::DeserializeOwned + Send + 'static>(
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
#[utoipa::path(post, path = "/api/v1/reports", tag = "ingest", security(("apiKey" = []), ("bearer" = [])),
    request_body = clef_pro_schema::wire::ReportIn,
    responses((status = 201, description = "Stored (or an identical resubmission).", body = ReportAccepted), crate::openapi::WriteErrors))]
pub async fn post_report(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<ReportAccepted>), ApiError> {
    let (key, collect_ci, wire) = read::<ReportIn>(&state, &headers, body, REPORT_LIMIT).await?;
    let integration = key.integration.clone();
    let sealed = state
        .blocking(move |state| {
            let report = Report::from_wire(wire, "", collect_ci)?;
            Ok::<_, ApiError>(seal_report(state, integration, report))
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(accept_report(&state, &key.integration, sealed).await?),
    ))
}

/// The event of one validated report, through the redaction chokepoint (CPU work:
/// call it off the async runtime).
pub fn seal_report(state: &AppState, integration: IntegrationId, report: Report) -> Sealed {
    state.seal(Event::ReportSubmitted {
        integration,
        report,
        at: clef_pro_schema::now_ms(),
    })
}

/// Appends one sealed report; the response body of every ingest path.
pub async fn accept_report(
    state: &AppState,
    integration: &IntegrationId,
    sealed: Sealed,
) -> Result<ReportAccepted, ApiError> {
    let appended = state.append(&sealed, REPORT_VIEWS).await?;
    let Event::ReportSubmitted { report, .. } = sealed.event() else {
        unreachable!("sealed what we built")
    };
    state.metrics().reports_accepted.inc();
    record_redactions(state, &sealed);
    tracing::info!(%integration, commit = %report.commit, seq = appended.seq, duplicate = appended.duplicate, "report accepted");
    Ok(ReportAccepted {
        id: report_id(integration, &report.commit).to_string(),
        commit_sha: report.commit.to_string(),
        branch: report.branch.as_ref().map(ToString::to_string),
        integration_id: integration.to_string(),
        duplicate: appended.duplicate,
        redacted: Redacted::of(&sealed),
    })
}

/// `POST /api/v1/reports/batch`: all or nothing; the last report is HEAD.
#[utoipa::path(post, path = "/api/v1/reports/batch", tag = "ingest", security(("apiKey" = []), ("bearer" = [])),
    request_body = clef_pro_schema::wire::BatchIn,
    responses((status = 201, description = "Every report stored, or none.", body = BatchAccepted), crate::openapi::WriteErrors))]
pub async fn post_batch(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<BatchAccepted>), ApiError> {
    let (key, collect_ci, wire) = read::<BatchIn>(&state, &headers, body, BATCH_LIMIT).await?;
    let integration = key.integration.clone();
    let sealed = state
        .blocking(move |state| {
            Ok::<_, ApiError>(state.seal(Event::BatchSubmitted {
                integration,
                reports: Report::batch_from_wire(wire.reports, collect_ci)?,
                at: clef_pro_schema::now_ms(),
            }))
        })
        .await?;
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
    Ok((
        StatusCode::CREATED,
        Json(BatchAccepted {
            accepted: reports.len(),
            report_ids: ids,
            duplicate: appended.duplicate,
            redacted: Redacted::of(&sealed),
        }),
    ))
}

fn record_redactions(state: &AppState, sealed: &Sealed) {
    for _ in sealed.redactions() {
        state.metrics().secrets_redacted.inc();
    }
}
