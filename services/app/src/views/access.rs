//! The views of who may do what: API keys, people's tokens, and the audit log. None
//! holds a key, a token or their hash.

use clef_pro_projections::access::{AuditEntry, Token};
use clef_pro_projections::registry::ApiKey;
use clef_pro_schema::event::Role;
use serde::Serialize;
use utoipa::ToSchema;

/// An API key as listed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct KeyView {
    pub key_id: String,
    pub label: String,
    pub revoked: bool,
    pub created_at: u64,
}

impl KeyView {
    pub fn of(k: &ApiKey) -> Self {
        Self {
            key_id: k.key_id.to_string(),
            label: k.label.clone(),
            revoked: k.revoked,
            created_at: k.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct KeyList {
    pub keys: Vec<KeyView>,
}

/// A token as listed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TokenView {
    pub id: String,
    pub role: Role,
    pub label: String,
    pub created_at: u64,
    pub revoked: bool,
}

impl TokenView {
    pub fn of(t: Token) -> Self {
        Self {
            id: t.token_id.to_string(),
            role: t.role,
            label: t.label,
            created_at: t.created_at,
            revoked: t.revoked,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"tokens": [{"id": "tok_7e21a0b1c2d3e4f5", "role": "viewer", "label": "alice",
    "createdAt": 1700000000000u64, "revoked": false}]}))]
pub struct TokenList {
    pub tokens: Vec<TokenView>,
}

/// One action of the audit log.
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
    /// `integration.create`, `integration.rename`, `integration.configure`, `policies.set`,
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
