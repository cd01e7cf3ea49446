//! Signing in with a viewer or admin token, and out. Sign-in starts a session kept in
//! the log (`crate::session`); its cookie is HttpOnly, SameSite=Strict, Path=/, and
//! Secure when the service is reached over HTTPS. The token itself is never stored or
//! logged.
//!
//! Login CSRF: the form page sets a short-lived `clef_pro_signin` cookie holding a
//! random nonce and carries, in a hidden field, the nonce's keyed hash. A sign-in must
//! present both, so a page of another site (or of another port of this host, which
//! SameSite does not tell apart) cannot sign a browser into the attacker's session:
//! it can read neither the cookie nor the form. The request's origin is checked too
//! (`crate::csrf`).

use super::admission::Posted;
use super::failure::Failure;
use super::html::{Esc, page};
use crate::auth::{hash, new_secret};
use crate::csrf;
use crate::error::ApiError;
use crate::extract::Form;
use crate::session::{COOKIE, LIFETIME_MS, cookie};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use clef_pro_schema::event::Event;
use serde::Deserialize;

/// The cookie holding the sign-in form's nonce, and how long a form stays usable.
const SIGN_IN_COOKIE: &str = "clef_pro_signin";
const SIGN_IN_SECS: u64 = 900;

fn form_token(state: &AppState, nonce: &str) -> String {
    csrf::token(&state.settings().session_key, &format!("sign-in:{nonce}"))
}

/// The sign-in page with a fresh nonce (its cookie is set on the answer).
fn sign_in_page(
    state: &AppState,
    status: StatusCode,
    error: Option<&str>,
) -> Result<Response, Failure> {
    let nonce = new_secret("csi_");
    let error = error
        .map(|e| {
            format!(
                r#"<p class="notice error" role="alert" id="sign-in-error">{}</p>"#,
                Esc(e)
            )
        })
        .unwrap_or_default();
    let main = format!(
        r#"<section class="sign-in" aria-labelledby="sign-in-h">
<h1 id="sign-in-h">Sign in</h1>
<p>Use a viewer or admin token (<code>POST /api/v1/admin/tokens</code> issues them).</p>
{error}
<form method="post" action="/sign-in">
<input type="hidden" name="csrf" value="{}">
<label for="token">Token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button>
</form>
</section>"#,
        Esc(&form_token(state, &nonce))
    );
    let mut resp = page(status, "Sign in", None, "", &main);
    resp.headers_mut().append(
        header::SET_COOKIE,
        cookie_header(state, SIGN_IN_COOKIE, &nonce, "/sign-in", SIGN_IN_SECS)?,
    );
    Ok(resp)
}

#[utoipa::path(get, path = "/sign-in", tag = "dashboard",
    responses((status = 200, description = "The sign-in form.", content_type = "text/html")))]
pub async fn form(State(state): State<AppState>) -> Result<Response, Failure> {
    sign_in_page(&state, StatusCode::OK, None)
}

#[derive(Deserialize)]
pub struct SignIn {
    token: String,
    #[serde(default)]
    csrf: String,
}

/// `Set-Cookie` for `name`; an empty value with `max_age_secs` 0 clears it.
fn cookie_header(
    state: &AppState,
    name: &str,
    value: &str,
    path: &str,
    max_age_secs: u64,
) -> Result<HeaderValue, Failure> {
    let secure = if state.settings().public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Max-Age={max_age_secs}; Path={path}; HttpOnly; SameSite=Strict{secure}"
    ))
    .map_err(|_| ApiError::Internal("a cookie is not a header value".into()).into())
}

#[utoipa::path(post, path = "/sign-in", tag = "dashboard",
    request_body(content_type = "application/x-www-form-urlencoded", description = "`token`: a viewer or admin token."),
    responses((status = 303, description = "Signed in: sets the session cookie and goes to `/`."),
        (status = 401, description = "The token is not valid.", content_type = "text/html"),
        (status = 403, description = "The form's sign-in token is missing or stale, or the request came from another site.", content_type = "text/html"),
        (status = 413, description = "The form is larger than 64 KiB.", body = crate::error::ErrorBody),
        (status = 415, description = "Not a form.", body = crate::error::ErrorBody),
        (status = 422, description = "The `token` field is missing.", body = crate::error::ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<SignIn>,
) -> Result<Response, Failure> {
    let nonce = cookie(&headers, SIGN_IN_COOKIE).unwrap_or("");
    if nonce.is_empty()
        || !csrf::holds(
            &state.settings().session_key,
            &format!("sign-in:{nonce}"),
            &f.csrf,
        )
    {
        tracing::warn!("sign-in without a valid form token refused");
        return sign_in_page(
            &state,
            StatusCode::FORBIDDEN,
            Some("The sign-in form expired or did not come from this site. Please try again."),
        );
    }
    let secret = f.token.trim();
    let Some(person) = state.token_person(secret)? else {
        state.metrics().auth_failures.inc();
        let failed = state.seal(Event::SignInFailed {
            at: clef_pro_schema::now_ms(),
        });
        state
            .append(&failed, &[clef_pro_projections::Kind::Registry])
            .await?;
        return sign_in_page(
            &state,
            StatusCode::UNAUTHORIZED,
            Some("That token is not valid."),
        );
    };
    let value = state.start_session(&person, &hash(secret)).await?;
    let mut resp = Redirect::to("/").into_response();
    let h = resp.headers_mut();
    h.append(
        header::SET_COOKIE,
        cookie_header(&state, COOKIE, &value, "/", LIFETIME_MS / 1000)?,
    );
    h.append(
        header::SET_COOKIE,
        cookie_header(&state, SIGN_IN_COOKIE, "", "/sign-in", 0)?,
    );
    tracing::info!(role = ?person.role, "dashboard sign-in");
    Ok(resp)
}

/// Ends the session on the server (the old cookie stops working everywhere) and
/// clears the cookie.
#[utoipa::path(post, path = "/sign-out", tag = "dashboard", security(("session" = [])),
    responses((status = 303, description = "Signed out: the session ends on the server and the cookie is cleared.")))]
pub async fn sign_out(
    State(state): State<AppState>,
    posted: Posted<()>,
) -> Result<Response, Failure> {
    state.end_session(posted.visitor.session()).await?;
    let mut resp = Redirect::to("/sign-in").into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        cookie_header(&state, COOKIE, "", "/", 0)?,
    );
    Ok(resp)
}
