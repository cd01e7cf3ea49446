//! The dashboard (docs/api.md): HTML pages rendered from the application layer's
//! queries (`clef_pro_app`), the same typed views the JSON API serves, and changed
//! through its commands. Pages are `maud` templates, which escape every spliced value:
//! one [`layout::layout`] built from small [`components`]. The security headers are
//! the HTTP surface's outermost layers (`clef_pro_api::headers`), so no answer can miss
//! them.
//!
//! It shares the HTTP surface's authentication, CSRF and errors (`clef_pro_api`) and
//! calls none of its handlers. Pages need a session cookie (signed-out visitors are sent
//! to `/sign-in`); every state-changing form carries the session's CSRF token
//! ([`admission::Posted`] checks it), and the cookie is SameSite=Strict. The integration
//! page polls `…/live` and swaps in new sections when a report arrives.

mod admission;
mod alerts;
mod assets;
mod audit;
mod chart;
mod components;
mod failure;
pub use failure::page as failure_page;
mod history;
mod inbox;
mod insights;
mod integration;
mod layout;
mod overview;
mod page_query;
mod report;
mod settings;
mod signin;
mod time;
mod tokens;
mod visitor;

use clef_pro_api::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The dashboard's routes, for `clef_pro_api::router_and_document`.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(overview::show))
        .routes(routes!(overview::create_integration))
        .routes(routes!(overview::rename_integration))
        .routes(routes!(inbox::show))
        .routes(routes!(inbox::acknowledge))
        .routes(routes!(tokens::show))
        .routes(routes!(tokens::issue))
        .routes(routes!(tokens::revoke))
        .routes(routes!(audit::show))
        .routes(routes!(signin::form, signin::submit))
        .routes(routes!(signin::sign_out))
        .routes(routes!(integration::show))
        .routes(routes!(integration::live))
        .routes(routes!(integration::acknowledge))
        .routes(routes!(settings::show))
        .routes(routes!(settings::create_key))
        .routes(routes!(settings::revoke_key))
        .routes(routes!(settings::set_policies))
        .routes(routes!(settings::set_notifications))
        .routes(routes!(settings::set_config))
        .routes(routes!(assets::css))
        .routes(routes!(assets::js))
}
