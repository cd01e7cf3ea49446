//! How the dashboard answers a failure: a signed-out visitor is sent to sign in; any other
//! error becomes an HTML page with the status the API would give (the same `ApiError`
//! mapping, so a viewer on settings gets 403 and a bad form 422).

use super::layout::layout;
use axum::response::{IntoResponse, Redirect, Response};
use clef_pro_api::error::ApiError;
use maud::html;

#[derive(Debug)]
pub enum Failure {
    SignedOut,
    Api(ApiError),
}

impl From<ApiError> for Failure {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

impl From<clef_pro_app::Error> for Failure {
    fn from(e: clef_pro_app::Error) -> Self {
        Self::Api(e.into())
    }
}

/// A refusal the HTTP surface makes before any page runs, as the page it would be
/// (`clef_pro_api::state::Settings::page_failure`).
pub fn page(e: ApiError) -> Response {
    Failure::Api(e).into_response()
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Self::SignedOut => Redirect::to("/sign-in").into_response(),
            Self::Api(e) => {
                // `ApiError`'s Display never carries internal details.
                let message = e.to_string();
                let status = e.into_response().status();
                let main = html! {
                    h1 { (status.as_u16()) }
                    p class="notice error" role="alert" { (message) }
                    p { a href="/" { "Back to the integrations" } }
                };
                (status, layout("Error", None, None, main)).into_response()
            }
        }
    }
}
