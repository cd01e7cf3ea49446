//! People's tokens: issue, list, revoke (docs/api.md). A token is shown once and
//! stored only as a hash; revoking one ends it and every dashboard session signed in
//! with it at once, on every instance (the registry checks revocation per request).

use crate::auth::Admin;
use crate::body;
use crate::error::ApiError;
use crate::extract::Path;
use crate::routes::admin::ADMIN_LIMIT;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use clef_pro_app::views::TokenList;
use clef_pro_schema::event::Role;
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

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenRevoked {
    pub id: String,
    pub revoked: bool,
}

#[utoipa::path(get, path = "/api/v1/admin/tokens", tag = "admin", security(("bearer" = [])),
    responses((status = 200, description = "Every token issued, oldest first.", body = TokenList), crate::openapi::ReadErrors))]
pub async fn list_tokens(
    State(state): State<AppState>,
    _: Admin,
) -> Result<Json<TokenList>, ApiError> {
    Ok(Json(TokenList {
        tokens: state.app().tokens()?,
    }))
}

#[utoipa::path(delete, path = "/api/v1/admin/tokens/{tokenId}", tag = "admin", security(("bearer" = [])),
    params(("tokenId" = String, Path, description = "The token id.")),
    responses((status = 200, description = "Revoked at once, with every session signed in with it.", body = TokenRevoked), crate::openapi::WriteErrors))]
pub async fn revoke_token(
    State(state): State<AppState>,
    Admin(by): Admin,
    Path(token_id): Path<String>,
) -> Result<Json<TokenRevoked>, ApiError> {
    let id = state.app().revoke_token(&by, &token_id).await?;
    Ok(Json(TokenRevoked {
        id: id.to_string(),
        revoked: true,
    }))
}

#[utoipa::path(post, path = "/api/v1/admin/tokens", tag = "admin", security(("bearer" = [])),
    request_body = clef_pro_schema::wire::NewTokenIn,
    responses((status = 201, description = "The token is shown once; only its hash is stored.", body = TokenIssued), crate::openapi::WriteErrors))]
pub async fn create_token(
    State(state): State<AppState>,
    Admin(by): Admin,
    body: axum::body::Body,
) -> Result<(StatusCode, Json<TokenIssued>), ApiError> {
    let req: NewTokenIn = body::json(state.app(), body, ADMIN_LIMIT).await?;
    let (token_id, token) = state
        .app()
        .issue_token(Some(&by), req.role, req.label)
        .await?;
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
