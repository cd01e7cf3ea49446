//! The headers every dashboard answer carries, as layers of its router, so that no
//! answer can miss them: pages, error pages, the sign-in form and redirects alike.
//!
//! - `Cache-Control: no-store`: pages carry the CSRF token and, once, a new API key. Set
//!   only when the answer has none, so the static assets keep their own lifetime.
//! - `Content-Security-Policy`: scripts, styles and forms from this origin only, no
//!   framing, no `<base>`; the pages have no inline script or style.
//! - `X-Content-Type-Options: nosniff`: answers are read as the type they declare.

use axum::http::{HeaderValue, header};
use clef_pro_api::state::AppState;
use tower_http::set_header::SetResponseHeaderLayer;
use utoipa_axum::router::OpenApiRouter;

const CSP: &str = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// `routes` with the security headers set on every answer.
pub fn secured(routes: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    routes
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
}
