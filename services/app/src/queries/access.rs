//! Keys, tokens and the audit log, for admins.

use super::{DEFAULT_LIMIT, MAX_LIMIT, paging};
use crate::App;
use crate::error::Result;
use crate::views::{AuditPage, AuditView, KeyView, TokenView};
use clef_pro_schema::ids::IntegrationId;
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct AuditQuery {
    pub limit: Option<usize>,
    pub before: Option<String>,
}

impl App {
    /// The integration's API keys, oldest first.
    pub fn keys(&self, id: &IntegrationId) -> Result<Vec<KeyView>> {
        let keys = self.projections().registry(|r| r.keys(id))?;
        Ok(keys.iter().map(KeyView::of).collect())
    }

    /// Every token issued, oldest first.
    pub fn tokens(&self) -> Result<Vec<TokenView>> {
        let tokens = self.projections().registry(|r| r.access().tokens())?;
        Ok(tokens.into_iter().map(TokenView::of).collect())
    }

    /// A page of the audit log, newest first, and the cursor of the next one.
    pub fn audit_page(&self, q: &AuditQuery) -> Result<AuditPage> {
        let before = paging::cursor(q.before.as_deref(), |b| b.parse::<u64>().ok())?;
        let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
        let entries = self
            .projections()
            .registry(|r| r.access().audit(before, limit + 1))?;
        let (entries, next) = paging::cut(entries, limit, |e| e.seq.to_string());
        Ok(AuditPage {
            entries: entries.into_iter().map(AuditView::of).collect(),
            next,
        })
    }
}
