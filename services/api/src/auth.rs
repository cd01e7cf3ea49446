//! Who is calling, as extractors. The request's credential (`Authorization: Bearer`,
//! `x-api-key`, or the dashboard's session cookie) is resolved once, in one registry
//! read (`clef_pro_app::principal`), and kept in the request's extensions, so the
//! extractors a handler takes ([`Key`], [`Viewer`], [`Admin`], [`AnyCaller`]) and the
//! dashboard's pages share it.
//!
//! A write to the JSON API authenticated by the session cookie alone must carry the
//! session's CSRF token in `X-CSRF-Token` (`crate::csrf`); the resolution refuses it
//! otherwise, before the handler reads its body.

use crate::credential::{COOKIE, credential};
use crate::csrf;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
pub use clef_pro_app::principal::{Caller, KeyCaller, Person};

/// What a request's credential resolved to.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The caller, when the credential works.
    pub caller: Option<Caller>,
    /// The session cookie's value, when the caller came from it.
    pub session: Option<String>,
    /// Whether a header credential was presented (a failure then counts in
    /// `clef_pro_auth_failures`; the address's limit counts cookies and sign-in forms
    /// too: `crate::limits`).
    presented: bool,
}

impl Resolved {
    /// The request's caller, resolved on the first call and kept for the others.
    pub fn of(parts: &mut Parts, state: &AppState) -> Result<Resolved, ApiError> {
        if let Some(r) = parts.extensions.get::<Resolved>() {
            return Ok(r.clone());
        }
        let app = state.app();
        let resolved = match credential(&parts.headers) {
            Some(secret) => Resolved {
                caller: app.caller(&secret)?,
                session: None,
                presented: true,
            },
            None => match CookieJar::from_headers(&parts.headers).get(COOKIE) {
                Some(c) => {
                    let person = app.session_person(c.value())?;
                    Resolved {
                        session: person.is_some().then(|| c.value().to_owned()),
                        caller: person.map(Caller::Person),
                        presented: false,
                    }
                }
                None => Resolved {
                    caller: None,
                    session: None,
                    presented: false,
                },
            },
        };
        if let Some(session) = &resolved.session
            && !parts.method.is_safe()
            && parts.uri.path().starts_with("/api/")
        {
            let presented = parts
                .headers
                .get(csrf::HEADER)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            if !csrf::holds(&app.config().session_key, session, presented) {
                tracing::warn!(
                    "a cookie-authenticated API write without its CSRF token was refused"
                );
                return Err(ApiError::Refused(
                    "a write authenticated by the session cookie needs the X-CSRF-Token header",
                ));
            }
        }
        parts.extensions.insert(resolved.clone());
        Ok(resolved)
    }

    /// Whether the request presented a header credential (which takes precedence over
    /// the session cookie).
    pub fn presented(&self) -> bool {
        self.presented
    }

    /// 401, counted when a header credential was presented.
    fn refuse(&self, state: &AppState) -> ApiError {
        if self.presented {
            state.app().counters().auth_failures.inc();
        }
        ApiError::Unauthorized
    }
}

/// An API key (CI), with its integration.
pub struct Key(pub KeyCaller);

/// A person with a viewer or admin token, or signed in.
pub struct Viewer(pub Person);

/// A person with an admin token, or signed in with one; 403 for a viewer.
pub struct Admin(pub Person);

/// A key or a person.
pub struct AnyCaller(pub Caller);

impl FromRequestParts<AppState> for AnyCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let r = Resolved::of(parts, state)?;
        r.caller
            .clone()
            .map(AnyCaller)
            .ok_or_else(|| r.refuse(state))
    }
}

impl FromRequestParts<AppState> for Key {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let r = Resolved::of(parts, state)?;
        match &r.caller {
            Some(Caller::Key(k)) => Ok(Key(k.clone())),
            _ => Err(r.refuse(state)),
        }
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let r = Resolved::of(parts, state)?;
        match &r.caller {
            Some(Caller::Person(p)) => Ok(Viewer(p.clone())),
            _ => Err(r.refuse(state)),
        }
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Viewer(p) = Viewer::from_request_parts(parts, state).await?;
        if p.is_admin() {
            Ok(Admin(p))
        } else {
            Err(ApiError::Forbidden)
        }
    }
}
