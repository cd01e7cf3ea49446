//! clef-pro's HTTP surface: the client-compatible ingest API, the admin and read API,
//! metrics, and the dashboard. [`router`] builds it apart from serving it, so tests can
//! drive it with `oneshot` or serve it on port 0.

pub mod auth;
pub mod body;
pub mod dashboard;
pub mod error;
pub mod limits;
pub mod metrics;
pub mod routes;
pub mod session;
pub mod state;

use axum::Router;
use axum::routing::{delete, get, post, put};
use routes::{admin, ingest, ops, otlp, read};
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
        .route("/v1/logs", post(otlp::logs))
        .route("/v1/checkpoint", get(otlp::checkpoint))
        .route("/otlp/v1/logs", post(otlp::logs))
        .route("/otlp/v1/checkpoint", get(otlp::checkpoint))
        .route("/healthz", get(ops::healthz))
        .route("/metrics", get(ops::metrics))
        .merge(dashboard::routes())
        .fallback(|| async { error::ApiError::NotFound("route") })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::auth_failures,
        ))
        .layer(tower_http::timeout::RequestBodyTimeoutLayer::new(
            BODY_IDLE_TIMEOUT,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            REQUEST_TIMEOUT,
        ))
        .with_state(state)
}

/// A client must send a request's whole header within this time, or its connection is
/// closed (slow-loris clients hold no connection for longer).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest pause between two reads of a request body before the request fails (408).
pub const BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a whole request may take, body and appends included (408).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Serves `router(state)` over HTTP/1.1 on `listener` until `shutdown` completes, then
/// lets in-flight requests (and their appends) finish. Each request carries its peer
/// address as `ConnectInfo<SocketAddr>`, for the limits of [`limits`].
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;
    let app = router(state);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT);
    let connections = hyper_util::server::graceful::GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(c) => c,
                // Out of file descriptors and the like: pause instead of spinning.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let app = app.clone();
        let service = hyper::service::service_fn(move |mut req: axum::http::Request<_>| {
            req.extensions_mut()
                .insert(axum::extract::ConnectInfo(peer));
            app.clone().oneshot(req.map(axum::body::Body::new))
        });
        let conn = connections.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    drop(listener);
    connections.shutdown().await;
    Ok(())
}
