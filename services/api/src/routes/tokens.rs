//! People's tokens: issue, list, revoke (CONTRACT section 5). A token is shown once and
//! stored only as a hash; revoking one ends it and every dashboard session signed in
//! with it at once, on every instance (the registry checks revocation per request).

use crate::auth::{Person, hash, new_secret};
use crate::body;
use crate::error::ApiError;
use crate::extract::Path;
use crate::routes::admin::{ADMIN_LIMIT, name};
use crate::state::AppState;
use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use clef_pro_projections::Kind;
use clef_pro_schema::event::{Event, Role};
use clef_pro_schema::ids::TokenId;
use clef_pro_schema::wire::NewTokenIn;
use serde::Serialize;
use utoipa::ToSchema;

/// A new viewer or admin token: the plaintext is in this answer only.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"token": "cpt_Zm9vYmFyYmF6cXV4cXV1eHF1dXhxdXV4cXV1eHF1", "id": "tok_7e21a0b1c2d3e4f5", "tokenId": "tok_7e21a0b1c2d3e4f5", "role": "viewer"}))]
pub struct TokenIssued {
    pub token: String,
    pub id: String,
    /// The same as `id`.
    pub token_id: String,
    pub role: Role,
}

/// A token as listed: never the token or its hash.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenView {
    pub id: String,
    pub role: Role,
    pub label: String,
    pub created_at: u64,
    pub revoked: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"tokens": [{"id": "tok_7e21a0b1c2d3e4f5", "role": "viewer", "label": "alice",
    "createdAt": 1700000000000u64, "revoked": false}]}))]
pub struct TokenList {
    pub tokens: Vec<TokenView>,
}

#[utoipa::path(get, path = "/api/v1/admin/tokens", tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "Every token issued, oldest first.", body = TokenList), crate::openapi::ReadErrors))]
pub async fn list_tokens(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<TokenList>, ApiError> {
    state.authenticate_admin(&headers)?;
    let tokens = state
        .projections()
        .registry(|r| r.access().tokens())?
        .into_iter()
        .map(|t| TokenView {
            id: t.token_id.to_string(),
            role: t.role,
            label: t.label,
            created_at: t.created_at,
            revoked: t.revoked,
        })
        .collect();
    Ok(Json(TokenList { tokens }))
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenRevoked {
    pub id: String,
    pub revoked: bool,
}

#[utoipa::path(delete, path = "/api/v1/admin/tokens/{tokenId}", tag = "admin", security(("bearer" = [])),
    params(("tokenId" = String, Path, description = "The token id.")),
    responses((status = 200, description = "Revoked at once, with every session signed in with it.", body = TokenRevoked), crate::openapi::WriteErrors))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Path(token_id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<TokenRevoked>, ApiError> {
    let by = state.authenticate_admin(&headers)?;
    let id = revoke(&state, &by, &token_id).await?;
    Ok(Json(TokenRevoked {
        id: id.to_string(),
        revoked: true,
    }))
}

/// Revokes a token (idempotent); 404 for an unknown id.
pub async fn revoke(state: &AppState, by: &Person, token_id: &str) -> Result<TokenId, ApiError> {
    let id = TokenId::parse(token_id).map_err(|_| ApiError::NotFound("token"))?;
    state
        .projections()
        .registry(|r| r.access().token_by_id(&id))?
        .ok_or(ApiError::NotFound("token"))?;
    let sealed = state.seal(by.did(Event::TokenRevoked {
        token_id: id.clone(),
        at: clef_pro_schema::now_ms(),
    }));
    state.append(&sealed, &[Kind::Registry]).await?;
    tracing::info!(token = %id, "token revoked");
    Ok(id)
}

#[utoipa::path(post, path = "/api/v1/admin/tokens", tag = "admin", security(("bearer" = [])),
    request_body = clef_pro_schema::wire::NewTokenIn,
    responses((status = 201, description = "The token is shown once; only its hash is stored.", body = TokenIssued), crate::openapi::WriteErrors))]
pub async fn create_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<TokenIssued>), ApiError> {
    let by = state.authenticate_admin(&headers)?;
    let req: NewTokenIn = body::json(body, ADMIN_LIMIT).await?;
    let label = name("label", req.label, false)?;
    let (token_id, token) = issue_token(&state, Some(&by), req.role, label).await?;
    Ok((
        StatusCode::CREATED,
        Json(TokenIssued {
            token,
            id: token_id.to_string(),
            token_id: token_id.to_string(),
            role: req.role,
        }),
    ))
}

/// Issues a token: appends its hash and returns the id and the plaintext, shown once.
/// `by` is `None` only for the first admin token, which the service issues itself.
pub async fn issue_token(
    state: &AppState,
    by: Option<&Person>,
    role: Role,
    label: String,
) -> Result<(TokenId, String), ApiError> {
    let token_id = TokenId::random();
    let token = new_secret("cpt_");
    let issued = Event::TokenIssued {
        token_id: token_id.clone(),
        role,
        label,
        hash: hash(&token),
        at: clef_pro_schema::now_ms(),
    };
    let sealed = state.seal(match by {
        Some(p) => p.did(issued),
        None => issued,
    });
    state.append(&sealed, &[Kind::Registry]).await?;
    tracing::info!(token = %token_id, ?role, "token issued");
    Ok((token_id, token))
}
