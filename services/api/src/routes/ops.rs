//! Liveness, readiness and metrics.

use crate::metrics::write_metric;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
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
        log: state.log().kind(),
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
    let p = state.projections();
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
pub async fn metrics(State(state): State<AppState>) -> axum::response::Response {
    if state.settings().metrics_elsewhere {
        return crate::error::ApiError::NotFound("route").into_response();
    }
    exposition(&state).await.into_response()
}

/// `GET /metrics` on the metrics address (`--metrics-listen`).
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Prometheus text exposition.", content_type = "text/plain")))]
pub async fn metrics_only(State(state): State<AppState>) -> impl IntoResponse {
    exposition(&state).await
}

async fn exposition(state: &AppState) -> impl IntoResponse + use<> {
    let mut out = String::new();
    let head = state.log().head().await.ok();
    write_metric(
        &mut out,
        "clef_pro_log_up",
        "gauge",
        "1 when the log answered the last head query.",
        &[("", u64::from(head.is_some()))],
    );
    let head = head.unwrap_or(0);
    write_metric(
        &mut out,
        "clef_pro_log_head",
        "gauge",
        "Sequence of the last record in the log.",
        &[("", head)],
    );
    let labels: Vec<String> = Kind::ALL
        .iter()
        .map(|k| format!("projector=\"{}\"", k.name()))
        .collect();
    let checkpoints: Vec<(&str, u64)> = Kind::ALL
        .iter()
        .zip(&labels)
        .map(|(&k, l)| (l.as_str(), state.projections().checkpoint(k)))
        .collect();
    write_metric(
        &mut out,
        "clef_pro_projector_checkpoint",
        "gauge",
        "Last log sequence each projector applied.",
        &checkpoints,
    );
    let lag: Vec<(&str, u64)> = checkpoints
        .iter()
        .map(|(l, c)| (*l, head.saturating_sub(*c)))
        .collect();
    write_metric(
        &mut out,
        "clef_pro_projector_lag",
        "gauge",
        "Log head minus the projector's checkpoint.",
        &lag,
    );
    let m = state.metrics();
    for (name, help, v) in [
        (
            "clef_pro_reports_accepted_total",
            "Single reports accepted.",
            m.reports_accepted.get(),
        ),
        (
            "clef_pro_batches_accepted_total",
            "Batches accepted.",
            m.batches_accepted.get(),
        ),
        (
            "clef_pro_secrets_redacted_total",
            "Matches the redaction chokepoint replaced.",
            m.secrets_redacted.get(),
        ),
        (
            "clef_pro_auth_failures_total",
            "Requests with an unknown or revoked credential.",
            m.auth_failures.get(),
        ),
        (
            "clef_pro_events_refused_total",
            "Log records refused since start: forged, altered, unauthenticated or malformed.",
            state.log().authenticity().refused(),
        ),
        (
            "clef_pro_events_replayed_total",
            "Genuine events stored again (replays) that the projectors refused.",
            state.projections().replays().unwrap_or(0),
        ),
    ] {
        write_metric(&mut out, name, "counter", help, &[("", v)]);
    }
    let counts = state.projections().outbox(|o| o.counts()).ok();
    let (pending, sent, failed) = counts.map_or((0, 0, 0), |c| (c.pending, c.sent, c.failed));
    write_metric(
        &mut out,
        "clef_pro_notifications",
        "gauge",
        "Notification intents by status.",
        &[
            ("status=\"pending\"", pending),
            ("status=\"sent\"", sent),
            ("status=\"failed\"", failed),
        ],
    );
    if let Some(extra) = &state.settings().extra_metrics {
        out.push_str(&extra());
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], out)
}
