//! The headers every answer carries, API and dashboard alike, as the outermost layers
//! of the router, so that none can miss them: pages, error pages, refusals, redirects.
//!
//! - `Cache-Control: no-store`: answers may carry a new token, key or CSRF token, or what
//!   only a signed-in person may see. Set only when the answer has none, so the static
//!   assets keep their own short lifetime.
//! - `Content-Security-Policy`: scripts, styles and forms from this origin only, no
//!   framing, no `<base>`; the pages have no inline script or style.
//! - `X-Content-Type-Options: nosniff`: answers are read as the type they declare.
//! - `Referrer-Policy: same-origin`: no page address leaves for another site.

use axum::Router;
use axum::http::{HeaderValue, header};
use tower_http::set_header::SetResponseHeaderLayer;

const CSP: &str = "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

/// `router` with the security headers set on every answer.
pub fn secured(router: Router) -> Router {
    router
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
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
}
