//! clef-pro's HTTP surface: the client-compatible ingest API, the admin and read API,
//! metrics, and the dashboard. [`router`] builds it apart from serving it, so tests can
//! drive it with `oneshot` or serve it on port 0.

pub mod auth;
pub mod body;
pub mod error;
pub mod metrics;
pub mod routes;
pub mod session;
pub mod state;

use axum::Router;
use axum::routing::{delete, get, post, put};
use routes::{admin, ingest, ops, read};
pub use state::{AppState, Settings};
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;

/// Every route of CONTRACT sections 3 and 5.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/api/v1/reports", post(ingest::post_report))
        .route("/api/v1/reports/batch", post(ingest::post_batch))
        .route("/api/v1/integrations", get(read::list_integrations))
        .route("/api/v1/integrations/{id}", get(ingest::get_integration))
        .route("/api/v1/integrations/{id}/matrix", get(read::matrix))
        .route("/api/v1/integrations/{id}/reports", get(read::reports))
        .route("/api/v1/integrations/{id}/alerts", get(read::alerts))
        .route(
            "/api/v1/integrations/{id}/alerts/{alert}/acknowledge",
            post(read::acknowledge),
        )
        .route(
            "/api/v1/admin/integrations",
            post(admin::create_integration),
        )
        .route(
            "/api/v1/admin/integrations/{id}/keys",
            post(admin::create_key).get(admin::list_keys),
        )
        .route(
            "/api/v1/admin/integrations/{id}/keys/{key}",
            delete(admin::revoke_key),
        )
        .route(
            "/api/v1/admin/integrations/{id}/policies",
            put(admin::set_policies),
        )
        .route(
            "/api/v1/admin/integrations/{id}/notifications",
            put(admin::set_notifications),
        )
        .route(
            "/api/v1/admin/integrations/{id}/config",
            put(admin::set_config),
        )
        .route("/api/v1/admin/tokens", post(admin::create_token))
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .fallback(|| async { error::ApiError::NotFound("route") })
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(60),
        ))
        .with_state(state)
}

/// Serves `router(state)` on `listener` until `shutdown` completes, then lets in-flight
/// requests (and their appends) finish.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}
