//! Signing in with a viewer or admin token, and out. The session cookie is the one
//! `crate::session` issues and verifies: HttpOnly, SameSite=Strict, Path=/, and Secure
//! when the service is reached over HTTPS. The token itself is never stored or logged.

use super::failure::Failure;
use super::html::{Esc, page};
use super::visitor::Posted;
use crate::error::ApiError;
use crate::extract::Form;
use crate::session::{self, COOKIE, LIFETIME_MS};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

fn sign_in_page(status: StatusCode, error: Option<&str>) -> Response {
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
<label for="token">Token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button>
</form>
</section>"#
    );
    page(status, "Sign in", None, "", &main)
}

#[utoipa::path(get, path = "/sign-in", tag = "dashboard",
    responses((status = 200, description = "The sign-in form.", content_type = "text/html")))]
pub async fn form() -> Response {
    sign_in_page(StatusCode::OK, None)
}

#[derive(Deserialize)]
pub struct SignIn {
    token: String,
}

/// `Set-Cookie` for a session value; an empty value with `Max-Age=0` ends the session.
fn set_cookie(state: &AppState, value: &str, max_age_secs: u64) -> Result<HeaderValue, Failure> {
    let secure = if state.settings().public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{COOKIE}={value}; Max-Age={max_age_secs}; Path=/; HttpOnly; SameSite=Strict{secure}"
    ))
    .map_err(|_| ApiError::Internal("session cookie is not a header value".into()).into())
}

#[utoipa::path(post, path = "/sign-in", tag = "dashboard",
    request_body(content_type = "application/x-www-form-urlencoded", description = "`token`: a viewer or admin token."),
    responses((status = 303, description = "Signed in: sets the session cookie and goes to `/`."),
        (status = 401, description = "The token is not valid.", content_type = "text/html"),
        (status = 413, description = "The form is larger than 64 KiB.", body = crate::error::ErrorBody),
        (status = 415, description = "Not a form.", body = crate::error::ErrorBody),
        (status = 422, description = "The `token` field is missing.", body = crate::error::ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    Form(f): Form<SignIn>,
) -> Result<Response, Failure> {
    let Some(person) = state.token_person(f.token.trim())? else {
        state.metrics().auth_failures.inc();
        return Ok(sign_in_page(
            StatusCode::UNAUTHORIZED,
            Some("That token is not valid."),
        ));
    };
    let value = session::issue(
        &state.settings().session_key,
        &person,
        clef_pro_schema::now_ms(),
    );
    let mut resp = Redirect::to("/").into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(&state, &value, LIFETIME_MS / 1000)?,
    );
    tracing::info!(role = ?person.role, "dashboard sign-in");
    Ok(resp)
}

/// Clears the cookie. The session value itself stays valid until it expires, like any
/// bearer of a signed, stateless cookie; the browser no longer holds it.
#[utoipa::path(post, path = "/sign-out", tag = "dashboard", security(("session" = [])),
    responses((status = 303, description = "Signed out: clears the session cookie.")))]
pub async fn sign_out(State(state): State<AppState>, _: Posted<()>) -> Result<Response, Failure> {
    let mut resp = Redirect::to("/sign-in").into_response();
    resp.headers_mut()
        .insert(header::SET_COOKIE, set_cookie(&state, "", 0)?);
    Ok(resp)
}
