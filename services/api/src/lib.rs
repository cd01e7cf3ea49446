//! clef-pro's HTTP surface: the client-compatible ingest API, the admin and read API,
//! OTLP and metrics, and what the dashboard's pages share with them (authentication
//! extractors, CSRF, errors, limits). Every handler calls the application layer
//! (`clef_pro_app`). [`router_and_document`] builds the surface, with the pages it is
//! given, apart from serving it, so tests can drive it with `oneshot` or serve it on
//! port 0.

pub mod auth;
pub mod body;
pub mod credential;
pub mod csrf;
pub mod error;
pub mod extract;
pub mod failures;
pub mod headers;
pub mod limits;
pub mod metrics;
pub mod openapi;
pub mod routes;
pub mod state;

use axum::Router;
use routes::{admin, audit, ingest, ops, otlp, read, tokens, triage};
pub use state::{AppState, Settings};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use utoipa::OpenApi;
pub use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Every route of docs/api.md, with `pages` (the dashboard's), and the
/// OpenAPI document that describes them. Routes are only ever added with `routes!`, which takes the description from
/// each handler's `#[utoipa::path]`, so no route can exist undescribed (the
/// `openapi_lists_every_route` test also checks this source for other ways of adding one).
pub fn router_and_document(
    state: AppState,
    pages: OpenApiRouter<AppState>,
) -> (Router, utoipa::openapi::OpenApi) {
    let otlp = || {
        OpenApiRouter::new()
            .routes(routes!(otlp::logs))
            .routes(routes!(otlp::checkpoint))
    };
    let (api, mut doc) = OpenApiRouter::with_openapi(openapi::Base::openapi())
        .routes(routes!(ingest::post_report))
        .routes(routes!(ingest::post_batch))
        .routes(routes!(read::list_integrations))
        .routes(routes!(ingest::get_integration))
        .routes(routes!(admin::rename_integration))
        .routes(routes!(read::matrix))
        .routes(routes!(read::reports))
        .routes(routes!(read::alerts))
        .routes(routes!(read::acknowledge))
        .routes(routes!(triage::inbox))
        .routes(routes!(triage::insights))
        .routes(routes!(triage::integration_insights))
        .routes(routes!(admin::create_integration))
        .routes(routes!(admin::create_key, admin::list_keys))
        .routes(routes!(admin::revoke_key))
        .routes(routes!(admin::set_policies))
        .routes(routes!(admin::set_notifications))
        .routes(routes!(admin::set_config))
        .routes(routes!(tokens::create_token, tokens::list_tokens))
        .routes(routes!(tokens::revoke_token))
        .routes(routes!(audit::audit))
        .routes(routes!(openapi::document))
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
        .merge(otlp())
        .nest("/otlp", otlp())
        .merge(pages)
        .split_for_parts();
    openapi::unique_operation_ids(&mut doc);
    let json = doc.to_json().expect("the OpenAPI document serializes");
    let app = api
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .fallback(|| async { error::ApiError::NotFound("route") })
        .method_not_allowed_fallback(|| async { error::ApiError::MethodNotAllowed })
        .layer(axum::Extension(openapi::Document(Arc::new(json))))
        .layer(axum::extract::DefaultBodyLimit::max(FORM_LIMIT))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csrf::guard,
        ))
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
        .layer(axum::middleware::map_response(error::timeout_as_json))
        .with_state(state);
    let app = headers::secured(app);
    (app, doc)
}

/// Only `GET /metrics`, for `--metrics-listen`: the metrics on an address of their
/// own (an internal network, say) rather than beside the public API.
pub fn metrics_router(state: AppState) -> Router {
    let (router, _) = OpenApiRouter::new()
        .routes(routes!(ops::metrics_only))
        .split_for_parts();
    router
        .fallback(|| async { error::ApiError::NotFound("route") })
        .with_state(state)
}

/// The service's routes with `pages`; see [`router_and_document`].
pub fn router(state: AppState, pages: OpenApiRouter<AppState>) -> Router {
    router_and_document(state, pages).0
}

/// Largest form body (the sign-in form and the dashboard's forms): 64 KiB. JSON bodies
/// have their own, larger limits (`routes::ingest`).
pub const FORM_LIMIT: usize = 64 << 10;

/// A client must send a request's whole header within this time, or its connection is
/// closed (slow-loris clients hold no connection for longer).
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest pause between two reads of a request body before the request fails (408).
pub const BODY_IDLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a whole request may take, body and appends included (408).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// Serves `app` (the [`router`], or the [`metrics_router`]) over HTTP/1.1 on
/// `listener` until `shutdown` completes, then lets in-flight requests (and their
/// appends) finish. Each request carries its peer
/// address as `ConnectInfo<SocketAddr>`, for the limits of [`limits`].
pub async fn serve(
    listener: TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;
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
