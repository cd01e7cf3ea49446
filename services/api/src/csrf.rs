//! Cross-site request forgery. A request that changes something and is authenticated
//! by the session cookie alone (no `Authorization` or `x-api-key` header, which a
//! browser never adds by itself) must
//! - come from this site: `Sec-Fetch-Site: same-origin` and an `Origin` of the service,
//!   when the browser sends them ([`guard`]; this also covers sign-in, before any
//!   session exists);
//! - carry the session's CSRF token: in the `X-CSRF-Token` header on the JSON API
//!   (`crate::auth`), in the `csrf` field of the dashboard's forms (the dashboard's
//!   `Posted` extractor).
//!
//! A CSRF token is a keyed BLAKE3 hash, under the session key, of the session cookie's
//! value: another site can neither read the cookie nor compute the hash. The "csrf"
//! context prefix keeps these hashes apart from other hashes made with the same key.
//! Scripts authenticate with Bearer tokens and are not affected.

use crate::credential::credential;
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;

/// The header that carries the CSRF token on the JSON API.
pub const HEADER: &str = "x-csrf-token";

/// The token for a session cookie value.
pub fn token(key: &[u8; 32], session: &str) -> String {
    blake3::Hasher::new_keyed(key)
        .update(b"clef-pro csrf\0")
        .update(session.as_bytes())
        .finalize()
        .to_hex()
        .to_string()
}

/// Whether `presented` is the token of `session`, compared in constant time.
pub fn holds(key: &[u8; 32], session: &str, presented: &str) -> bool {
    bool::from(token(key, session).as_bytes().ct_eq(presented.as_bytes()))
}

/// Refuses cookie-authenticated writes from another origin; see the module's
/// description. (The JSON API's CSRF header is checked where the session is resolved,
/// `crate::auth`, and the dashboard's form field by its forms' extractor.)
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let h = req.headers();
    if req.method().is_safe() || credential(h).is_some() {
        return next.run(req).await;
    }
    if !same_origin(&state, h) {
        tracing::warn!("a cookie-authenticated write from another origin was refused");
        let refused = ApiError::Refused("the request came from another site");
        return match state.settings().page_failure {
            Some(page) if is_page(req.uri().path()) => page(refused),
            _ => refused.into_response(),
        };
    }
    next.run(req).await
}

/// Whether `path` is one of the dashboard's pages: none of the JSON API's, OTLP's or
/// their aliases'.
fn is_page(path: &str) -> bool {
    !["/api/", "/otlp/", "/v1/"]
        .iter()
        .any(|prefix| path.starts_with(prefix))
}

/// Whether the browser says the request comes from this service's own pages. Clients
/// that send neither header (not browsers) pass; the CSRF token still applies to them.
fn same_origin(state: &AppState, h: &HeaderMap) -> bool {
    let header = |name: &str| h.get(name).and_then(|v| v.to_str().ok());
    if header("sec-fetch-site").is_some_and(|s| s != "same-origin") {
        return false;
    }
    let Some(origin) = header("origin") else {
        return true;
    };
    let public = state.settings().public_url.trim_end_matches('/');
    let scheme = public.split_once("://").map_or("http", |(s, _)| s);
    let own = header("host").map(|host| format!("{scheme}://{host}"));
    origin == public || own.as_deref() == Some(origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_holds_only_for_its_session_and_key() {
        let t = token(&[1; 32], "viewer.1.2.mac");
        assert!(holds(&[1; 32], "viewer.1.2.mac", &t));
        assert!(!holds(&[1; 32], "viewer.1.2.other", &t));
        assert!(!holds(&[2; 32], "viewer.1.2.mac", &t));
        assert!(!holds(&[1; 32], "viewer.1.2.mac", ""));
    }
}
