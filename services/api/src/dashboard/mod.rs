//! The dashboard (CONTRACT section 5, issue 6): HTML rendered by the binary itself from
//! the same projections and functions as the read and admin API. Pages need a session
//! cookie (signed-out visitors are sent to `/sign-in`); every state-changing form carries
//! the session's CSRF token ([`admission::Posted`] checks it), and the cookie is
//! SameSite=Strict. The integration page polls `…/live` and swaps in new sections when a
//! report arrives.

mod admission;
mod alerts;
mod assets;
mod audit;
mod failure;
mod history;
mod html;
mod integration;
mod overview;
mod page_query;
mod report;
mod settings;
mod signin;
mod time;
mod visitor;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// The dashboard's routes, merged into [`crate::router_and_document`].
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(overview::show))
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
