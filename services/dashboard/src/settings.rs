//! `GET /integrations/{id}/settings` (admins only) and its forms: API keys (a new key is
//! shown once, never stored in plaintext), policies, notification channels and the
//! collection config. Each form calls the same function as its admin API endpoint.

use super::admission::Posted;
use super::failure::Failure;
use super::layout::layout;
use super::visitor::Visitor;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use clef_pro_api::error::ApiError;
use clef_pro_api::extract::{Path, Query};
use clef_pro_api::state::AppState;
use clef_pro_schema::ids::IntegrationId;
use clef_pro_schema::wire::{ConfigIn, NewKeyIn};
use serde::Deserialize;
use std::collections::HashMap;

mod forms;
mod sections;
use forms::{notifications_in, policies_in};
use sections::Notice;

fn render(
    state: &AppState,
    id: &IntegrationId,
    v: &Visitor,
    status: StatusCode,
    notice: &Notice,
) -> Result<Response, Failure> {
    let i = state.app().integration_view(id)?;
    let keys = state.app().keys(id)?;
    let main = sections::page(&i, &keys, v, notice);
    let title = format!("{} settings", i.name);
    Ok((status, layout(&title, Some(v), None, main)).into_response())
}

/// The admin's integration, or the 403/404 page.
fn admin_integration(state: &AppState, v: &Visitor, id: &str) -> Result<IntegrationId, Failure> {
    v.require_admin()?;
    Ok(state.app().existing_integration(id)?)
}

#[derive(Deserialize)]
pub struct Shown {
    saved: Option<String>,
}

#[utoipa::path(get, path = "/integrations/{id}/settings", operation_id = "settings", tag = "dashboard", security(("session" = [])), params(("id" = String, Path, description = "The integration id.")),
    responses((status = 200, description = "Keys, policies, notifications and collection settings (admins only).", content_type = "text/html"),
        (status = 403, description = "Not an admin.", content_type = "text/html")))]
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<Shown>,
    visitor: Visitor,
) -> Result<Response, Failure> {
    let id = admin_integration(&state, &visitor, &id)?;
    let notice = match q.saved.as_deref() {
        Some("policies") => Notice::Saved("Policies"),
        Some("notifications") => Notice::Saved("Notification channels"),
        Some("config") => Notice::Saved("Collection config"),
        Some("revoked") => Notice::Saved("Key revocation"),
        _ => Notice::None,
    };
    render(&state, &id, &visitor, StatusCode::OK, &notice)
}

/// After a write: back to the page with a note, or the page again with what was invalid.
fn answer(
    state: &AppState,
    id: &IntegrationId,
    v: &Visitor,
    result: Result<(), ApiError>,
    saved: &str,
) -> Result<Response, Failure> {
    match result {
        Ok(()) => {
            Ok(Redirect::to(&format!("/integrations/{id}/settings?saved={saved}")).into_response())
        }
        Err(e @ ApiError::Invalid(_)) => render(
            state,
            id,
            v,
            StatusCode::UNPROCESSABLE_ENTITY,
            &Notice::Invalid(e.to_string()),
        ),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct NewKey {
    label: String,
}

#[utoipa::path(post, path = "/integrations/{id}/settings/keys", tag = "dashboard", security(("session" = [])), params(("id" = String, Path, description = "The integration id.")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "The form's fields and `csrf`."),
    responses((status = 303, description = "Issues an API key, shown once."),
        (status = 403, description = "Not an admin, or no valid CSRF token.", content_type = "text/html"),
        (status = 422, description = "A field is invalid.", content_type = "text/html")))]
pub async fn create_key(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<NewKey>,
) -> Result<Response, Failure> {
    let v = &posted.visitor;
    let id = admin_integration(&state, v, &id)?;
    let label = posted.form.label;
    let req = NewKeyIn {
        label: label.clone(),
    };
    match state.app().issue_key(&v.person, &id, req).await {
        Ok((_, key)) => render(
            &state,
            &id,
            v,
            StatusCode::CREATED,
            &Notice::NewKey { label, key },
        ),
        Err(e) => answer(&state, &id, v, Err(e.into()), "keys"),
    }
}

#[utoipa::path(post, path = "/integrations/{id}/settings/keys/{key}/revoke", tag = "dashboard", security(("session" = [])),
    params(("id" = String, Path, description = "The integration id."), ("key" = String, Path, description = "The key id.")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "`csrf`."),
    responses((status = 303, description = "Revoked at once."),
        (status = 403, description = "Not an admin, or no valid CSRF token.", content_type = "text/html")))]
pub async fn revoke_key(
    State(state): State<AppState>,
    Path((id, key)): Path<(String, String)>,
    posted: Posted<()>,
) -> Result<Response, Failure> {
    let id = admin_integration(&state, &posted.visitor, &id)?;
    let result = state
        .app()
        .revoke_key(&posted.visitor.person, &id, &key)
        .await
        .map(drop)
        .map_err(ApiError::from);
    answer(&state, &id, &posted.visitor, result, "revoked")
}

#[utoipa::path(post, path = "/integrations/{id}/settings/policies", tag = "dashboard", security(("session" = [])), params(("id" = String, Path, description = "The integration id.")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "The form's fields and `csrf`."),
    responses((status = 303, description = "Replaces the policies."),
        (status = 403, description = "Not an admin, or no valid CSRF token.", content_type = "text/html"),
        (status = 422, description = "A field is invalid.", content_type = "text/html")))]
pub async fn set_policies(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let id = admin_integration(&state, &posted.visitor, &id)?;
    let result = match policies_in(&posted.form) {
        Ok(req) => (state
            .app()
            .set_policies(&posted.visitor.person, &id, req)
            .await)
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    answer(&state, &id, &posted.visitor, result, "policies")
}

#[utoipa::path(post, path = "/integrations/{id}/settings/notifications", tag = "dashboard", security(("session" = [])), params(("id" = String, Path, description = "The integration id.")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "The form's fields and `csrf`."),
    responses((status = 303, description = "Replaces the email channels."),
        (status = 403, description = "Not an admin, or no valid CSRF token.", content_type = "text/html"),
        (status = 422, description = "A field is invalid.", content_type = "text/html")))]
pub async fn set_notifications(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<HashMap<String, String>>,
) -> Result<Response, Failure> {
    let id = admin_integration(&state, &posted.visitor, &id)?;
    let result = match notifications_in(&posted.form) {
        Ok(req) => (state
            .app()
            .set_notifications(&posted.visitor.person, &id, req)
            .await)
            .map_err(ApiError::from),
        Err(e) => Err(e),
    };
    answer(&state, &id, &posted.visitor, result, "notifications")
}

#[derive(Deserialize)]
pub struct ConfigForm {
    #[serde(rename = "collectCIContext")]
    collect: Option<String>,
    #[serde(rename = "trackedBranches")]
    tracked: String,
    #[serde(default, rename = "filePattern")]
    pattern: String,
}

#[utoipa::path(post, path = "/integrations/{id}/settings/config", tag = "dashboard", security(("session" = [])), params(("id" = String, Path, description = "The integration id.")),
    request_body(content_type = "application/x-www-form-urlencoded", description = "The form's fields and `csrf`."),
    responses((status = 303, description = "Changes collection and tracked branches."),
        (status = 403, description = "Not an admin, or no valid CSRF token.", content_type = "text/html"),
        (status = 422, description = "A field is invalid.", content_type = "text/html")))]
pub async fn set_config(
    State(state): State<AppState>,
    Path(id): Path<String>,
    posted: Posted<ConfigForm>,
) -> Result<Response, Failure> {
    let id = admin_integration(&state, &posted.visitor, &id)?;
    let f = &posted.form;
    let req = ConfigIn {
        // An unchecked checkbox is absent from the form.
        collect_ci_context: Some(f.collect.is_some()),
        tracked_branches: Some(
            f.tracked
                .split([',', ' '])
                .filter(|b| !b.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
        file_pattern: Some(f.pattern.trim().to_owned()).filter(|p| !p.is_empty()),
    };
    let result = (state
        .app()
        .set_config(&posted.visitor.person, &id, req)
        .await)
        .map_err(ApiError::from);
    answer(&state, &id, &posted.visitor, result, "config")
}
