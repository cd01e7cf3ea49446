//! How the dashboard answers a failure: a signed-out visitor is sent to sign in; any other
//! error becomes an HTML page with the status the API would give (the same `ApiError`
//! mapping, so a viewer on settings gets 403 and a bad form 422).

use super::html::{Esc, page};
use axum::response::{IntoResponse, Redirect, Response};
use clef_pro_api::error::ApiError;

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

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        match self {
            Self::SignedOut => Redirect::to("/sign-in").into_response(),
            Self::Api(e) => {
                // `ApiError`'s Display never carries internal details.
                let message = e.to_string();
                let status = e.into_response().status();
                let main = format!(
                    r#"<h1>{}</h1><p class="notice error" role="alert">{}</p><p><a href="/">Back to the integrations</a></p>"#,
                    status.as_u16(),
                    Esc(&message)
                );
                page(status, "Error", None, "", &main)
            }
        }
    }
}
