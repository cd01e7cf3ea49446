//! Letting a request in: pages extract a [`Visitor`] (a valid session cookie, or the
//! sign-in page); state-changing forms extract [`Posted`], which also checks the
//! session's CSRF token, so no form handler can skip the check.

use super::failure::Failure;
use super::visitor::Visitor;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use clef_pro_api::auth::{Caller, Resolved};
use clef_pro_api::credential::COOKIE;
use clef_pro_api::csrf;
use clef_pro_api::error::ApiError;
use clef_pro_api::extract::Form;
use clef_pro_api::state::AppState;
use serde::Deserialize;
use serde::de::DeserializeOwned;

impl Visitor {
    /// Settings are for admins only.
    pub fn require_admin(&self) -> Result<(), Failure> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden.into())
        }
    }
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        let resolved = Resolved::of(parts, state)?;
        let presented = resolved.presented();
        let (person, session) = match (resolved.caller, resolved.session) {
            (Some(Caller::Person(p)), Some(s)) => (p, s),
            // A header credential (a proxy's, say) took precedence: pages are for the
            // session cookie, so look at it anyway.
            _ if presented => {
                let jar = CookieJar::from_headers(&parts.headers);
                let cookie = jar.get(COOKIE).ok_or(Failure::SignedOut)?;
                let session = cookie.value().to_owned();
                let person = state
                    .app()
                    .session_person(&session)?
                    .ok_or(Failure::SignedOut)?;
                (person, session)
            }
            _ => return Err(Failure::SignedOut),
        };
        Ok(Visitor {
            person,
            csrf: csrf::token(&state.app().config().session_key, &session),
            session,
        })
    }
}

/// A form posted by a signed-in visitor with the CSRF token of their session.
pub struct Posted<T> {
    pub visitor: Visitor,
    pub form: T,
}

#[derive(Deserialize)]
struct Envelope<T> {
    csrf: Option<String>,
    #[serde(flatten)]
    form: T,
}

impl<T: DeserializeOwned + Send> FromRequest<AppState> for Posted<T> {
    type Rejection = Failure;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Failure> {
        let (mut parts, body) = req.into_parts();
        let visitor = Visitor::from_request_parts(&mut parts, state).await?;
        let Form(envelope) =
            Form::<Envelope<T>>::from_request(Request::from_parts(parts, body), state)
                .await
                .map_err(Failure::from)?;
        let key = &state.app().config().session_key;
        match envelope.csrf {
            Some(t) if csrf::holds(key, &visitor.session, &t) => Ok(Posted {
                visitor,
                form: envelope.form,
            }),
            _ => {
                tracing::warn!("form post without a valid CSRF token refused");
                Err(ApiError::Forbidden.into())
            }
        }
    }
}
