//! Limits on what one client address may cost: failed authentications.
//!
//! Each peer address has a token bucket of [`Settings::auth_failures_per_minute`]
//! tokens that refills at that rate per minute. Every 401 answered to a request that
//! presented a credential (a header credential, a session cookie, a sign-in form) takes
//! a token: a request without one guesses nothing, so probes for 401 never lock a
//! client out. While its bucket is empty, every request from the address (but
//! `/healthz` and `/readyz`) gets 429 with `Retry-After` before any credential is looked at. Guessing keys therefore costs
//! a minute per budget, and a legitimate client behind the same address recovers once
//! the bucket refills. The limit keys on the TCP peer: behind a reverse proxy every
//! client shares the proxy's address, so set the limit there or turn it off here (0).
//!
//! [`Settings::auth_failures_per_minute`]: crate::Settings::auth_failures_per_minute

use crate::credential::{COOKIE, credential};
use crate::error::ApiError;
pub use crate::failures::AuthFailures;
use crate::state::AppState;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use std::net::SocketAddr;
use std::time::Instant;

/// The dashboard's sign-in form posts here.
const SIGN_IN: &str = "/sign-in";

/// Middleware: refuses addresses that used up their failures, and counts each 401.
/// Requests without a peer address (handler tests through `oneshot`) pass unlimited.
pub async fn auth_failures(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(ip) = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
    else {
        return next.run(req).await;
    };
    let limiter = state.auth_failures();
    if !matches!(req.uri().path(), "/healthz" | "/readyz") && limiter.exhausted(ip, Instant::now())
    {
        return ApiError::RateLimited.into_response();
    }
    let guess = presents_credential(&req);
    let resp = next.run(req).await;
    if guess && resp.status() == StatusCode::UNAUTHORIZED {
        limiter.record(ip, Instant::now());
    }
    resp
}

/// Whether `req` presents something that can be a wrong guess: a header credential, a
/// session cookie or the sign-in form.
fn presents_credential(req: &Request) -> bool {
    credential(req.headers()).is_some()
        || CookieJar::from_headers(req.headers()).get(COOKIE).is_some()
        || (req.method() == Method::POST && req.uri().path() == SIGN_IN)
}
