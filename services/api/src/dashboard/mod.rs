//! The dashboard (CONTRACT section 5, issue 6): HTML rendered by the binary itself from
//! the same projections and functions as the read and admin API. Pages need a session
//! cookie (signed-out visitors are sent to `/sign-in`); every state-changing form carries
//! the session's CSRF token ([`visitor::Posted`] checks it), and the cookie is
//! SameSite=Strict. The integration page polls `…/live` and swaps in new sections when a
//! report arrives.

mod alerts;
mod assets;
mod csrf;
mod failure;
mod history;
mod html;
mod integration;
mod overview;
mod report;
mod settings;
mod signin;
mod time;
mod visitor;

use crate::state::AppState;
use axum::Router;
use axum::routing::{get, post};

/// The dashboard's routes, merged into [`crate::router`].
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(overview::show))
        .route("/sign-in", get(signin::form).post(signin::submit))
        .route("/sign-out", post(signin::sign_out))
        .route("/integrations/{id}", get(integration::show))
        .route("/integrations/{id}/live", get(integration::live))
        .route(
            "/integrations/{id}/alerts/{alert}/acknowledge",
            post(integration::acknowledge),
        )
        .route("/integrations/{id}/settings", get(settings::show))
        .route(
            "/integrations/{id}/settings/keys",
            post(settings::create_key),
        )
        .route(
            "/integrations/{id}/settings/keys/{key}/revoke",
            post(settings::revoke_key),
        )
        .route(
            "/integrations/{id}/settings/policies",
            post(settings::set_policies),
        )
        .route(
            "/integrations/{id}/settings/notifications",
            post(settings::set_notifications),
        )
        .route(
            "/integrations/{id}/settings/config",
            post(settings::set_config),
        )
        .route("/assets/app.css", get(assets::css))
        .route("/assets/app.js", get(assets::js))
}
