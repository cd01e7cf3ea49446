//! The queries: each reads only the projection stores and returns typed view models
//! (`crate::views`) that the JSON API serves and the dashboard renders.

pub mod access;
pub mod alerts;
pub mod history;
pub mod integrations;
pub mod paging;
pub mod triage;

use crate::error::{Error, Result};
use clef_pro_schema::domain::Branch;

/// Default and largest page of history and of the audit log.
pub const DEFAULT_LIMIT: usize = 50;
pub const MAX_LIMIT: usize = 500;

/// The optional `branch` parameter; empty means none.
fn branch_param(b: Option<&str>) -> Result<Option<Branch>> {
    b.filter(|b| !b.is_empty())
        .map(|b| Branch::parse(b).map_err(|e| Error::invalid("branch", e.0)))
        .transpose()
}
