//! The admin endpoints of docs/api.md. Each parses its body and calls one
//! command, which appends one event and waits until the registry shows it, so a new
//! key works at once.

use crate::auth::Admin;
use crate::body;
use crate::error::ApiError;
use crate::extract::Path;
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::StatusCode;
use clef_pro_app::views::{IntegrationView, KeyList};
use clef_pro_schema::ids::IntegrationId;
use clef_pro_schema::wire::{
    ConfigIn, NewIntegrationIn, NewKeyIn, NotificationsIn, PoliciesIn, RenameIn,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use utoipa::ToSchema;

/// A new API key: the plaintext is in this answer only.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"keyId": "key_3c9d0e1f2a3b4c5d", "apiKey": "clef_Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1", "integrationId": "int_4f7c2a19d03e5b86"}))]
pub struct KeyIssued {
    pub key_id: String,
    pub api_key: String,
    pub integration_id: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyRevoked {
    pub key_id: String,
    pub revoked: bool,
}

/// Admin bodies are small.
pub(crate) const ADMIN_LIMIT: usize = 256 << 10;

/// What every settings endpoint starts with, after the admin: an existing integration
/// and the body of the change.
async fn change<T: DeserializeOwned + Send + 'static>(
    state: &AppState,
    id: &str,
    body: Body,
) -> Result<(IntegrationId, T), ApiError> {
    let id = state.app().existing_integration(id)?;
    Ok((id, body::json(state.app(), body, ADMIN_LIMIT).await?))
}

#[utoipa::path(post, path = "/api/v1/admin/integrations", tag = "admin", security(("bearer" = [])),
    request_body = clef_pro_schema::wire::NewIntegrationIn,
    responses((status = 201, body = IntegrationView), crate::openapi::WriteErrors))]
pub async fn create_integration(
    State(state): State<AppState>,
    Admin(by): Admin,
    body: Body,
) -> Result<(StatusCode, Json<IntegrationView>), ApiError> {
    let req: NewIntegrationIn = body::json(state.app(), body, ADMIN_LIMIT).await?;
    let id = state.app().create_integration(&by, req).await?;
    Ok((
        StatusCode::CREATED,
        Json(state.app().integration_view(&id)?),
    ))
}

#[utoipa::path(patch, path = "/api/v1/admin/integrations/{id}", tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "The integration id.")),
    request_body = clef_pro_schema::wire::RenameIn,
    responses((status = 200, description = "Renamed; the id, keys and history stay.", body = IntegrationView), crate::openapi::WriteErrors))]
pub async fn rename_integration(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<IntegrationView>, ApiError> {
    let (id, req) = change::<RenameIn>(&state, &id, body).await?;
    state.app().rename_integration(&by, &id, req).await?;
    Ok(Json(state.app().integration_view(&id)?))
}

#[utoipa::path(post, path = "/api/v1/admin/integrations/{id}/keys", tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "The integration id.")),
    request_body = clef_pro_schema::wire::NewKeyIn,
    responses((status = 201, description = "The key is shown once; only its hash is stored.", body = KeyIssued), crate::openapi::WriteErrors))]
pub async fn create_key(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<String>,
    body: Body,
) -> Result<(StatusCode, Json<KeyIssued>), ApiError> {
    let (id, req) = change::<NewKeyIn>(&state, &id, body).await?;
    let (key_id, api_key) = state.app().issue_key(&by, &id, req).await?;
    Ok((
        StatusCode::CREATED,
        Json(KeyIssued {
            key_id: key_id.to_string(),
            api_key,
            integration_id: id.to_string(),
        }),
    ))
}

#[utoipa::path(delete, path = "/api/v1/admin/integrations/{id}/keys/{key}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "The integration id."), ("key" = String, Path, description = "The key id.")),
    responses((status = 200, description = "Revoked at once.", body = KeyRevoked), crate::openapi::WriteErrors))]
pub async fn revoke_key(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path((id, key)): Path<(String, String)>,
) -> Result<Json<KeyRevoked>, ApiError> {
    let id = state.app().existing_integration(&id)?;
    let key_id = state.app().revoke_key(&by, &id, &key).await?;
    Ok(Json(KeyRevoked {
        key_id: key_id.to_string(),
        revoked: true,
    }))
}

#[utoipa::path(get, path = "/api/v1/admin/integrations/{id}/keys", tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "The integration id.")),
    responses((status = 200, description = "The integration's keys, never a key or its hash.", body = KeyList), crate::openapi::ReadErrors))]
pub async fn list_keys(
    State(state): State<AppState>,
    _: Admin,
    Path(id): Path<String>,
) -> Result<Json<KeyList>, ApiError> {
    let id = state.app().existing_integration(&id)?;
    Ok(Json(KeyList {
        keys: state.app().keys(&id)?,
    }))
}

#[utoipa::path(put, path = "/api/v1/admin/integrations/{id}/policies", tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "The integration id.")),
    request_body = clef_pro_schema::wire::PoliciesIn,
    responses((status = 200, description = "The policies the CLI evaluates, replaced.", body = IntegrationView), crate::openapi::WriteErrors))]
pub async fn set_policies(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<IntegrationView>, ApiError> {
    let (id, req) = change::<PoliciesIn>(&state, &id, body).await?;
    state.app().set_policies(&by, &id, req).await?;
    Ok(Json(state.app().integration_view(&id)?))
}

#[utoipa::path(put, path = "/api/v1/admin/integrations/{id}/notifications", tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "The integration id.")),
    request_body = clef_pro_schema::wire::NotificationsIn,
    responses((status = 200, description = "The notification channels, replaced.", body = IntegrationView), crate::openapi::WriteErrors))]
pub async fn set_notifications(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<IntegrationView>, ApiError> {
    let (id, req) = change::<NotificationsIn>(&state, &id, body).await?;
    state.app().set_notifications(&by, &id, req).await?;
    Ok(Json(state.app().integration_view(&id)?))
}

#[utoipa::path(put, path = "/api/v1/admin/integrations/{id}/config", tag = "admin", security(("bearer" = [])), params(("id" = String, Path, description = "The integration id.")),
    request_body = clef_pro_schema::wire::ConfigIn,
    responses((status = 200, description = "Collection, tracked branches and the OTLP file pattern.", body = IntegrationView), crate::openapi::WriteErrors))]
pub async fn set_config(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(id): Path<String>,
    body: Body,
) -> Result<Json<IntegrationView>, ApiError> {
    let (id, req) = change::<ConfigIn>(&state, &id, body).await?;
    state.app().set_config(&by, &id, req).await?;
    Ok(Json(state.app().integration_view(&id)?))
}
