//! Liveness, readiness and metrics.

use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use clef_pro_projections::Kind;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
    /// Which log backend serves: `embedded` or `nats`.
    pub log: &'static str,
}

#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, description = "Alive.", body = Health)))]
pub async fn healthz(State(state): State<AppState>) -> Json<Health> {
    Json(Health {
        status: "ok",
        log: state.app().log().kind(),
    })
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Readiness {
    /// `ready`; or `starting` while a store is built aside (after an upgrade) or the
    /// projections have not yet applied the log as it was when the service started.
    pub status: &'static str,
    /// Stores of an earlier release that still serve while their successors are built.
    pub building: usize,
}

#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses((status = 200, description = "Ready: every projection serves its current version, caught up with the log as it was at the start.", body = Readiness),
              (status = 503, description = "Starting: reads are served, from stores that may lag or be an earlier release's.", body = Readiness)))]
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Readiness>) {
    let p = state.app().projections();
    let (code, status) = if p.ready() {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "starting")
    };
    (
        code,
        Json(Readiness {
            status,
            building: p.building(),
        }),
    )
}

#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text exposition (404 here when `--metrics-listen` serves it on its own address).", content_type = "text/plain")))]
pub async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> axum::response::Response {
    if state.settings().metrics_elsewhere {
        return crate::error::ApiError::NotFound("route").into_response();
    }
    exposition(&state, &headers).await.into_response()
}

/// `GET /metrics` on the metrics address (`--metrics-listen`).
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text exposition.", content_type = "text/plain")))]
pub async fn metrics_only(State(state): State<AppState>, headers: HeaderMap) -> impl IntoResponse {
    exposition(&state, &headers).await
}

/// The metrics in the classic Prometheus text format (docs/api.md), or in
/// OpenMetrics when the scraper's `Accept` asks for it.
async fn exposition(state: &AppState, headers: &HeaderMap) -> impl IntoResponse + use<> {
    let p = state.app().projections();
    // Read in log order: the head, then the checkpoints, then what the stores hold. A
    // scrape showing no lag then counts every intent the events up to that head made
    // (read first, the counts could miss one the outbox applied in between, and a
    // "settled" scrape would show nothing pending while a notification was).
    let head = state.app().log().head().await.ok();
    let checkpoints = Kind::ALL
        .iter()
        .map(|&k| (k.name(), p.checkpoint(k)))
        .collect();
    let counts = p.outbox(|o| o.counts()).ok();
    let reading = crate::metrics::Reading {
        head,
        checkpoints,
        refused: state.app().log().authenticity().refused(),
        replayed: p.replays().unwrap_or(0),
        notifications: counts.map_or([0; 3], |c| [c.pending, c.sent, c.failed]),
    };
    let text = state.metrics().render(&reading);
    let openmetrics = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/openmetrics-text"));
    if openmetrics {
        ([(header::CONTENT_TYPE, crate::metrics::OPENMETRICS)], text)
    } else {
        (
            [(header::CONTENT_TYPE, crate::metrics::PROMETHEUS_TEXT)],
            crate::metrics::classic(&text),
        )
    }
}
