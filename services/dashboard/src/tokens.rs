//! `GET /settings`: the deployment's people, for admins: issue a viewer or admin token
//! (shown once), revoke one (it and every session signed in with it end at once), and
//! the way to the audit log. The same commands as `POST`/`DELETE /api/v1/admin/tokens`.

use super::admission::Posted;
use super::components::{badge, csrf_field, table};
use super::failure::Failure;
use super::layout::layout;
use super::time::time;
use super::visitor::Visitor;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use clef_pro_api::error::ApiError;
use clef_pro_api::extract::{Path, Query};
use clef_pro_api::state::AppState;
use clef_pro_app::views::TokenView;
use clef_pro_schema::event::Role;
use maud::{Markup, html};
use serde::Deserialize;

/// What the page says above the list.
enum Notice {
    None,
    Revoked,
    Issued { label: String, token: String },
    Invalid(String),
}

fn notice(n: &Notice) -> Markup {
    html! {
        @match n {
            Notice::None => {},
            Notice::Revoked => p class="notice ok" role="status" id="saved" { "Token revoked." },
            Notice::Issued { label, token } => div class="notice ok new-key" role="status" {
                p { "New token " strong { (label) } ". Copy it now: it is shown only once." }
                p {
                    code id="new-token" { (token) }
                    " "
                    button type="button" data-copy="new-token" { "Copy" }
                }
            },
            Notice::Invalid(m) => p class="notice error" role="alert" id="settings-error" { "Not issued: " (m) },
        }
    }
}

fn rows(tokens: &[TokenView], v: &Visitor) -> Markup {
    html! {
        @for t in tokens {
            tr id={ "token-" (t.id) } data-revoked=(t.revoked) {
                td { (t.label) }
                td { code { (t.id) } }
                td { (t.role.as_str()) }
                td { (time(t.created_at)) }
                td {
                    @if t.revoked {
                        (badge("revoked", "✖", "Revoked"))
                    } @else {
                        form method="post" action={ "/settings/tokens/" (t.id) "/revoke" } {
                            (csrf_field(v))
                            button type="submit" class="danger" aria-label={ "Revoke " (t.label) } { "Revoke" }
                        }
                    }
                }
            }
        }
    }
}

fn page(
    state: &AppState,
    v: &Visitor,
    status: StatusCode,
    n: &Notice,
) -> Result<Response, Failure> {
    let tokens = state.app().tokens()?;
    let main = html! {
        h1 { "Settings" }
        (notice(n))
        section aria-labelledby="tokens-h" {
            h2 id="tokens-h" { "People's tokens" }
            p {
                "Viewers read every integration and acknowledge alerts; admins also configure. "
                "A token is shown once and kept only as a hash; revoking one ends its sessions at once. "
                "Every change is in the " a href="/audit" { "audit log" } "."
            }
            (table(Some("tokens"), &["Label", "Id", "Role", "Issued", ""], rows(&tokens, v)))
            form class="inline" method="post" action="/settings/tokens" {
                (csrf_field(v))
                h3 { "Issue a token" }
                label for="token-label" { "Label" }
                " "
                input id="token-label" name="label" required maxlength="200";
                " "
                label for="token-role" { "Role" }
                " "
                select id="token-role" name="role" {
                    option value="viewer" { "viewer" }
                    option value="admin" { "admin" }
                }
                " "
                button type="submit" { "Issue token" }
            }
        }
    };
    let mut resp = layout("Settings", Some(v), None, main).into_response();
    *resp.status_mut() = status;
    Ok(resp)
}

#[derive(Deserialize)]
pub struct Shown {
    revoked: Option<String>,
}

#[utoipa::path(get, path = "/settings", operation_id = "people", tag = "dashboard", security(("session" = [])),
    responses((status = 200, description = "People's tokens: issue and revoke (admins only).", content_type = "text/html"),
        (status = 403, description = "Not an admin.", content_type = "text/html")))]
pub async fn show(
    State(state): State<AppState>,
    visitor: Visitor,
    Query(q): Query<Shown>,
) -> Result<Response, Failure> {
    visitor.require_admin()?;
    let n = if q.revoked.is_some() {
        Notice::Revoked
    } else {
        Notice::None
    };
    page(&state, &visitor, StatusCode::OK, &n)
}

#[derive(Deserialize)]
pub struct NewToken {
    label: String,
    role: String,
}

#[utoipa::path(post, path = "/settings/tokens", tag = "dashboard", security(("session" = [])),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`label`, `role` (`viewer` or `admin`) and `csrf`."),
    responses((status = 201, description = "Issued: the page shows the token once.", content_type = "text/html"),
        (status = 403, description = "Not an admin, or no valid CSRF token.", content_type = "text/html"),
        (status = 422, description = "A field is invalid.", content_type = "text/html")))]
pub async fn issue(
    State(state): State<AppState>,
    posted: Posted<NewToken>,
) -> Result<Response, Failure> {
    let v = &posted.visitor;
    v.require_admin()?;
    let role = match posted.form.role.as_str() {
        "viewer" => Role::Viewer,
        "admin" => Role::Admin,
        _ => {
            let e = Notice::Invalid("role: must be viewer or admin".into());
            return page(&state, v, StatusCode::UNPROCESSABLE_ENTITY, &e);
        }
    };
    let label = posted.form.label.clone();
    match state
        .app()
        .issue_token(Some(&v.person), role, label.clone())
        .await
    {
        Ok((_, token)) => page(
            &state,
            v,
            StatusCode::CREATED,
            &Notice::Issued { label, token },
        ),
        Err(e) => match ApiError::from(e) {
            ApiError::Invalid(f) => {
                let e = Notice::Invalid(format!("{}: {}", f.field, f.message));
                page(&state, v, StatusCode::UNPROCESSABLE_ENTITY, &e)
            }
            other => Err(other.into()),
        },
    }
}

#[utoipa::path(post, path = "/settings/tokens/{token}/revoke", tag = "dashboard", security(("session" = [])),
    params(("token" = String, Path, description = "The token id.")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`csrf`."),
    responses((status = 303, description = "Revoked at once, with its sessions."),
        (status = 403, description = "Not an admin, or no valid CSRF token.", content_type = "text/html")))]
pub async fn revoke(
    State(state): State<AppState>,
    Path(token): Path<String>,
    posted: Posted<()>,
) -> Result<Response, Failure> {
    posted.visitor.require_admin()?;
    state
        .app()
        .revoke_token(&posted.visitor.person, &token)
        .await?;
    Ok(Redirect::to("/settings?revoked=1").into_response())
}
