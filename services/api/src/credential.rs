//! The credentials a request can present: a header credential (`Authorization: Bearer`
//! or `x-api-key`) and the dashboard's session cookie.

use axum::http::HeaderMap;
use axum_extra::headers::authorization::Bearer;
use axum_extra::headers::{Authorization, HeaderMapExt};

/// The session cookie's name.
pub const COOKIE: &str = "clef_pro_session";

/// The credential a request presents in a header: `Authorization: Bearer <x>` or
/// `x-api-key: <x>`.
pub fn credential(headers: &HeaderMap) -> Option<String> {
    headers
        .typed_get::<Authorization<Bearer>>()
        .map(|a| a.token().trim().to_owned())
        .or_else(|| {
            let key = headers.get("x-api-key")?.to_str().ok()?;
            Some(key.trim().to_owned())
        })
}
