//! The stylesheet and script, compiled into the binary: the dashboard needs no CDN and
//! no build step.

use axum::http::header;
use axum::response::IntoResponse;

const CSS: &str = include_str!("assets/app.css");
const JS: &str = include_str!("assets/app.js");

/// Short-lived caching: a new binary may ship new assets under the same path.
const CACHE: &str = "public, max-age=300";

#[utoipa::path(get, path = "/assets/app.css", tag = "dashboard",
    responses((status = 200, description = "The dashboard's stylesheet.", content_type = "text/css")))]
pub async fn css() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, CACHE),
        ],
        CSS,
    )
}

#[utoipa::path(get, path = "/assets/app.js", tag = "dashboard",
    responses((status = 200, description = "The dashboard's script (live updates).", content_type = "text/javascript")))]
pub async fn js() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, CACHE),
        ],
        JS,
    )
}
