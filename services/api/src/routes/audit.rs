//! `GET /api/v1/admin/audit`: who did what, newest first, paginated like history. Every
//! human and admin action is in it (tokens, keys, integrations, settings,
//! acknowledgements, sign-ins and failed sign-ins), never a token, key or secret.

use crate::error::ApiError;
use crate::extract::Query;
use crate::routes::paging;
use crate::routes::read::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::HeaderMap;
use clef_pro_projections::access::AuditEntry;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    pub limit: Option<usize>,
    pub before: Option<String>,
}

/// One action.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditView {
    /// Milliseconds since the Unix epoch.
    pub at: u64,
    /// Who: `label (tok_…)`, `operator`, or `unknown` for a failed sign-in.
    pub actor: String,
    /// The actor's token id; `null` for the operator and failed sign-ins.
    pub actor_token_id: Option<String>,
    pub actor_label: String,
    /// `integration.create`, `integration.configure`, `policies.set`,
    /// `notifications.set`, `key.issue`, `key.revoke`, `token.issue`, `token.revoke`,
    /// `alert.acknowledge`, `sign-in`, `sign-out` or `sign-in.failed`.
    pub action: String,
    /// The id acted on (`int_…`, `int_…/key_…`, `tok_…`, `alr_…`), or `""`.
    pub target: String,
}

impl AuditView {
    pub fn of(e: AuditEntry) -> Self {
        let actor = match &e.actor.token {
            Some(id) => format!("{} ({id})", e.actor.label),
            None => e.actor.label.clone(),
        };
        Self {
            at: e.at,
            actor,
            actor_token_id: e.actor.token.map(|t| t.to_string()),
            actor_label: e.actor.label,
            action: e.action,
            target: e.target,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"entries": [{"at": 1700000000000u64, "actor": "alice (tok_7e21a0b1c2d3e4f5)",
    "actorTokenId": "tok_7e21a0b1c2d3e4f5", "actorLabel": "alice", "action": "key.revoke",
    "target": "int_4f7c2a19d03e5b86/key_3c9d0e1f2a3b4c5d"}], "next": "118"}))]
pub struct AuditPage {
    pub entries: Vec<AuditView>,
    /// Pass as `before` for the next page; `null` on the last page.
    pub next: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/admin/audit", tag = "admin", security(("bearer" = [])),
    params(("limit" = Option<usize>, Query, description = "Page size: default 50, at most 500."),
        ("before" = Option<String>, Query, description = "The `next` cursor of the previous page.")),
    responses((status = 200, description = "Newest first.", body = AuditPage), crate::openapi::ReadErrors))]
pub async fn audit(
    State(state): State<AppState>,
    Query(q): Query<AuditQuery>,
    headers: HeaderMap,
) -> Result<Json<AuditPage>, ApiError> {
    state.authenticate_admin(&headers)?;
    Ok(Json(page(&state, &q)?))
}

/// A page of the audit log and the cursor of the next one.
pub fn page(state: &AppState, q: &AuditQuery) -> Result<AuditPage, ApiError> {
    let before = paging::cursor(q.before.as_deref(), |b| b.parse::<u64>().ok())?;
    let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let entries = state
        .projections()
        .registry(|r| r.access().audit(before, limit + 1))?;
    let (entries, next) = paging::cut(entries, limit, |e| e.seq.to_string());
    Ok(AuditPage {
        entries: entries.into_iter().map(AuditView::of).collect(),
        next,
    })
}
