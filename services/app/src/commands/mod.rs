//! The commands: each takes domain types (or a wire body it validates into them) and
//! the caller, seals one event through the redaction chokepoint, appends it, and waits
//! until the projections the caller reads next show it.

pub mod alerts;
pub mod integrations;
pub mod keys;
pub mod reports;
pub mod sessions;
pub mod tokens;

use crate::error::{Error, Result};
use clef_pro_projections::Kind;
use clef_pro_schema::report::text;

/// Every projection: what changes an integration changes every view of it.
pub(crate) const EVERYWHERE: &[Kind] = &[Kind::Registry, Kind::Matrix, Kind::Alerts, Kind::Outbox];

/// Most policies, channels or tracked branches per integration.
pub(crate) const MAX_ITEMS: usize = 200;

/// A name or label: trimmed, at most 200 characters, not empty when `required`.
pub fn name(field: &str, s: String, required: bool) -> Result<String> {
    let s = text(|| field.to_owned(), s.trim().to_owned())?;
    if required && s.is_empty() {
        return Err(Error::invalid(field, "must not be empty"));
    }
    if s.chars().count() > 200 {
        return Err(Error::invalid(field, "at most 200 characters"));
    }
    Ok(s)
}
