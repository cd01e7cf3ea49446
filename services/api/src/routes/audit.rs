//! `GET /api/v1/admin/audit`: who did what, newest first, paginated like history. Every
//! human and admin action is in it (tokens, keys, integrations, settings,
//! acknowledgements, sign-ins and failed sign-ins), never a token, key or secret.

use crate::auth::Admin;
use crate::error::ApiError;
use crate::extract::Query;
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use clef_pro_app::queries::access::AuditQuery;
use clef_pro_app::views::AuditPage;

#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin", security(("bearer" = [])),
    params(("limit" = Option<usize>, Query, description = "Page size: default 50, at most 500."),
        ("before" = Option<String>, Query, description = "The `next` cursor of the previous page.")),
    responses((status = 200, description = "Newest first.", body = AuditPage), crate::openapi::ReadErrors))]
pub async fn audit(
    State(state): State<AppState>,
    _: Admin,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditPage>, ApiError> {
    Ok(Json(state.app().audit_page(&q)?))
}
