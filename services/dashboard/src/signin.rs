//! Signing in with a viewer or admin token, and out. Sign-in starts a session kept in
//! the log (`clef_pro_app::commands::sessions`); its cookie is HttpOnly, SameSite=Strict, Path=/, and
//! Secure when the service is reached over HTTPS. The token itself is never stored or
//! logged.
//!
//! Login CSRF: the form page sets a short-lived `clef_pro_signin` cookie holding a
//! random nonce and carries, in a hidden field, the nonce's keyed hash. A sign-in must
//! present both, so a page of another site (or of another port of this host, which
//! SameSite does not tell apart) cannot sign a browser into the attacker's session:
//! it can read neither the cookie nor the form. The request's origin is checked too
//! (`clef_pro_api::csrf`).

use super::admission::Posted;
use super::failure::Failure;
use super::layout::layout;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use clef_pro_api::credential::COOKIE;
use clef_pro_api::csrf;
use clef_pro_api::error::ApiError;
use clef_pro_api::extract::Form;
use clef_pro_api::state::AppState;
use clef_pro_app::commands::sessions::{LIFETIME_MS, SignIn as Outcome};
use clef_pro_app::secret::new_secret;
use maud::html;
use serde::Deserialize;

/// The cookie holding the sign-in form's nonce, and how long a form stays usable.
const SIGN_IN_COOKIE: &str = "clef_pro_signin";
const SIGN_IN_SECS: u64 = 900;

fn form_token(state: &AppState, nonce: &str) -> String {
    csrf::token(
        &state.app().config().session_key,
        &format!("sign-in:{nonce}"),
    )
}

/// The sign-in page with a fresh nonce (its cookie is set on the answer).
fn sign_in_page(
    state: &AppState,
    status: StatusCode,
    error: Option<&str>,
) -> Result<Response, Failure> {
    let nonce = new_secret("csi_");
    let main = html! {
        section class="sign-in" aria-labelledby="sign-in-h" {
            h1 id="sign-in-h" { "Sign in" }
            p { "Use a viewer or admin token (" code { "POST /api/v1/admin/tokens" } " issues them)." }
            @if let Some(e) = error {
                p class="notice error" role="alert" id="sign-in-error" { (e) }
            }
            form method="post" action="/sign-in" {
                input type="hidden" name="csrf" value=(form_token(state, &nonce));
                label for="token" { "Token" }
                input id="token" name="token" type="password" autocomplete="current-password" required autofocus;
                button type="submit" id="sign-in-submit" { "Sign in" }
            }
        }
    };
    let cookie = cookie_header(state, SIGN_IN_COOKIE, nonce, "/sign-in", SIGN_IN_SECS)?;
    Ok((
        status,
        [(header::SET_COOKIE, cookie)],
        layout("Sign in", None, None, main),
    )
        .into_response())
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

/// `Set-Cookie` for `name`: HttpOnly, SameSite=Strict, and Secure when the service is
/// reached over HTTPS; an empty value with `max_age_secs` 0 clears it.
fn cookie_header(
    state: &AppState,
    name: &'static str,
    value: String,
    path: &'static str,
    max_age_secs: u64,
) -> Result<HeaderValue, Failure> {
    let cookie = Cookie::build((name, value))
        .path(path)
        .max_age(time::Duration::seconds(
            i64::try_from(max_age_secs).unwrap_or(i64::MAX),
        ))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.secure_cookies())
        .build();
    HeaderValue::from_str(&cookie.to_string())
        .map_err(|_| ApiError::Internal("a cookie is not a header value".into()).into())
}

#[utoipa::path(post, path = "/sign-in", tag = "dashboard",
    request_body(content_type = "application/x-www-form-urlencoded", description = "`token`: a viewer or admin token."),
    responses((status = 303, description = "Signed in: sets the session cookie and goes to `/`."),
        (status = 401, description = "The token is not valid.", content_type = "text/html"),
        (status = 403, description = "The form's sign-in token is missing or stale, or the request came from another site.", content_type = "text/html"),
        (status = 413, description = "The form is larger than 64 KiB.", body = clef_pro_api::error::ErrorBody),
        (status = 415, description = "Not a form.", body = clef_pro_api::error::ErrorBody),
        (status = 422, description = "The `token` field is missing.", body = clef_pro_api::error::ErrorBody)))]
pub async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(f): Form<SignIn>,
) -> Result<Response, Failure> {
    let jar = CookieJar::from_headers(&headers);
    let nonce = jar.get(SIGN_IN_COOKIE).map_or("", |c| c.value());
    if nonce.is_empty()
        || !csrf::holds(
            &state.app().config().session_key,
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
    let Outcome::Started { session, .. } = state.app().sign_in(&f.token).await? else {
        return sign_in_page(
            &state,
            StatusCode::UNAUTHORIZED,
            Some("That token is not valid."),
        );
    };
    let mut resp = Redirect::to("/").into_response();
    let h = resp.headers_mut();
    h.append(
        header::SET_COOKIE,
        cookie_header(&state, COOKIE, session, "/", LIFETIME_MS / 1000)?,
    );
    h.append(
        header::SET_COOKIE,
        cookie_header(&state, SIGN_IN_COOKIE, String::new(), "/sign-in", 0)?,
    );
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
    state.app().sign_out(posted.visitor.session()).await?;
    let mut resp = Redirect::to("/sign-in").into_response();
    resp.headers_mut().insert(
        header::SET_COOKIE,
        cookie_header(&state, COOKIE, String::new(), "/", 0)?,
    );
    Ok(resp)
}
