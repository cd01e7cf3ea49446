//! People's access, part of the registry store: tokens (by hash and by id, revocable),
//! dashboard sessions (by the hash of the cookie's secret), and the audit log of every
//! human and admin action. Only hashes are kept: never a token or a cookie.

use crate::store::{RwTable, StoreError, Table, dec, enc, get};
use clef_pro_schema::event::{Actor, Event, Role};
use clef_pro_schema::ids::TokenId;
use redb::{ReadTransaction, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

/// token hash → [`Token`]
pub(crate) const TOKENS: Table = TableDefinition::new("tokens");
/// token id → token hash
pub(crate) const TOKEN_IDS: Table = TableDefinition::new("token_ids");
/// session hash → [`Session`]
pub(crate) const SESSIONS: Table = TableDefinition::new("sessions");
/// log sequence (8 bytes, big-endian) → [`AuditEntry`]
pub(crate) const AUDIT: Table = TableDefinition::new("audit");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Token {
    pub token_id: TokenId,
    pub role: Role,
    pub label: String,
    pub created_at: u64,
    pub revoked: bool,
}

/// A dashboard session. It works until it expires or ends, and only while what signed
/// it in still works (the token is not revoked; the operator's token is unchanged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// `None` for the operator's admin token.
    pub token: Option<TokenId>,
    /// The token's hash keyed with the deployment's session key.
    pub credential: [u8; 32],
    pub role: Role,
    pub label: String,
    pub expires_at: u64,
    pub ended: bool,
}

/// One line of the audit log: when, who, what, on which target. Never a secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: u64,
    pub actor: Actor,
    /// e.g. `token.revoke`, `integration.create`, `sign-in.failed`.
    pub action: String,
    /// The id the action was on (`int_…`, `int_…/key_…`, `tok_…`, `alr_…`), or empty.
    pub target: String,
}

/// The access tables, open for one chunk.
pub struct AccessTables<'t> {
    tokens: RwTable<'t>,
    token_ids: RwTable<'t>,
    sessions: RwTable<'t>,
    audit: RwTable<'t>,
}

impl<'t> AccessTables<'t> {
    pub(crate) fn open(tx: &'t redb::WriteTransaction) -> Result<Self, StoreError> {
        Ok(Self {
            tokens: tx.open_table(TOKENS)?,
            token_ids: tx.open_table(TOKEN_IDS)?,
            sessions: tx.open_table(SESSIONS)?,
            audit: tx.open_table(AUDIT)?,
        })
    }

    /// Folds the access facts of `event` (a fact, never an `Audited` wrapper).
    pub(crate) fn apply(&mut self, seq: u64, event: &Event) -> Result<(), StoreError> {
        match event {
            Event::TokenIssued {
                token_id,
                role,
                label,
                hash,
                at,
            } => {
                // A token id or hash is issued once: a copy of the event changes nothing.
                if self.token_ids.get(token_id.as_str().as_bytes())?.is_some()
                    || self.tokens.get(hash.as_slice())?.is_some()
                {
                    return Ok(());
                }
                let token = Token {
                    token_id: token_id.clone(),
                    role: *role,
                    label: label.clone(),
                    created_at: *at,
                    revoked: false,
                };
                self.tokens
                    .insert(hash.as_slice(), enc(&token).as_slice())?;
                self.token_ids
                    .insert(token_id.as_str().as_bytes(), hash.as_slice())?;
            }
            Event::TokenRevoked { token_id, .. } => {
                let hash = self
                    .token_ids
                    .get(token_id.as_str().as_bytes())?
                    .map(|h| h.value().to_vec());
                if let Some(hash) = hash
                    && let Some(mut t) = get::<Token>(&self.tokens, &hash)?
                {
                    t.revoked = true;
                    self.tokens.insert(hash.as_slice(), enc(&t).as_slice())?;
                }
            }
            Event::SessionStarted {
                session,
                token,
                credential,
                role,
                label,
                expires_at,
                at,
            } => {
                if self.sessions.get(session.as_slice())?.is_some() {
                    return Ok(());
                }
                let s = Session {
                    token: token.clone(),
                    credential: *credential,
                    role: *role,
                    label: label.clone(),
                    expires_at: *expires_at,
                    ended: false,
                };
                self.sessions
                    .insert(session.as_slice(), enc(&s).as_slice())?;
                let actor = Actor {
                    token: token.clone(),
                    label: label.clone(),
                };
                self.record(seq, *at, actor, "sign-in", "")?;
            }
            Event::SessionEnded { session, at } => {
                if let Some(mut s) = get::<Session>(&self.sessions, session)? {
                    s.ended = true;
                    self.sessions
                        .insert(session.as_slice(), enc(&s).as_slice())?;
                    let actor = Actor {
                        token: s.token,
                        label: s.label,
                    };
                    self.record(seq, *at, actor, "sign-out", "")?;
                }
            }
            Event::SignInFailed { at } => {
                let nobody = Actor {
                    token: None,
                    label: "unknown".into(),
                };
                self.record(seq, *at, nobody, "sign-in.failed", "")?;
            }
            _ => {}
        }
        Ok(())
    }

    /// Records what `actor` did with `fact`, for the facts people cause.
    pub(crate) fn audit(
        &mut self,
        seq: u64,
        actor: &Actor,
        fact: &Event,
    ) -> Result<(), StoreError> {
        let (action, target, at) = match fact {
            Event::IntegrationCreated { id, at, .. } => ("integration.create", id.to_string(), at),
            Event::IntegrationConfiguredV2 { id, at, .. } => {
                ("integration.configure", id.to_string(), at)
            }
            Event::IntegrationRenamed { id, at, .. } => ("integration.rename", id.to_string(), at),
            Event::PoliciesSet {
                integration, at, ..
            } => ("policies.set", integration.to_string(), at),
            Event::NotificationsSetV2 {
                integration, at, ..
            } => ("notifications.set", integration.to_string(), at),
            Event::KeyIssued {
                integration,
                key_id,
                at,
                ..
            } => ("key.issue", format!("{integration}/{key_id}"), at),
            Event::KeyRevoked {
                integration,
                key_id,
                at,
            } => ("key.revoke", format!("{integration}/{key_id}"), at),
            Event::TokenIssued { token_id, at, .. } => ("token.issue", token_id.to_string(), at),
            Event::TokenRevoked { token_id, at } => ("token.revoke", token_id.to_string(), at),
            Event::AlertAcknowledged { alert, at, .. } => {
                ("alert.acknowledge", alert.to_string(), at)
            }
            _ => return Ok(()),
        };
        self.record(seq, *at, actor.clone(), action, &target)
    }

    fn record(
        &mut self,
        seq: u64,
        at: u64,
        actor: Actor,
        action: &str,
        target: &str,
    ) -> Result<(), StoreError> {
        let entry = AuditEntry {
            seq,
            at,
            actor,
            action: action.to_owned(),
            target: target.to_owned(),
        };
        self.audit
            .insert(seq.to_be_bytes().as_slice(), enc(&entry).as_slice())?;
        Ok(())
    }
}

/// Reads of people's access.
pub struct AccessView<'a>(pub(crate) &'a ReadTransaction);

impl AccessView<'_> {
    /// The token with this hash, revoked or not.
    pub fn token(&self, hash: &[u8; 32]) -> Result<Option<Token>, StoreError> {
        get(&self.0.open_table(TOKENS)?, hash)
    }

    pub fn token_by_id(&self, id: &TokenId) -> Result<Option<Token>, StoreError> {
        let ids = self.0.open_table(TOKEN_IDS)?;
        match ids.get(id.as_str().as_bytes())? {
            Some(hash) => get(&self.0.open_table(TOKENS)?, hash.value()),
            None => Ok(None),
        }
    }

    /// Every token, oldest first.
    pub fn tokens(&self) -> Result<Vec<Token>, StoreError> {
        let t = self.0.open_table(TOKENS)?;
        let mut all = t
            .iter()?
            .map(|r| {
                r.map_err(StoreError::from)
                    .and_then(|(_, v)| dec(v.value()))
            })
            .collect::<Result<Vec<Token>, _>>()?;
        all.sort_by(|a, b| {
            a.created_at
                .cmp(&b.created_at)
                .then(a.token_id.cmp(&b.token_id))
        });
        Ok(all)
    }

    pub fn session(&self, hash: &[u8; 32]) -> Result<Option<Session>, StoreError> {
        get(&self.0.open_table(SESSIONS)?, hash)
    }

    /// Up to `limit` audit entries, newest first, strictly before sequence `before`.
    pub fn audit(&self, before: Option<u64>, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        let t = self.0.open_table(AUDIT)?;
        let upper = before.unwrap_or(u64::MAX).to_be_bytes();
        let mut out = Vec::new();
        for r in t.range(..upper.as_slice())?.rev().take(limit) {
            out.push(dec(r?.1.value())?);
        }
        Ok(out)
    }
}
