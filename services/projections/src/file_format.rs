//! Store files written before redb 3 (clef-pro releases up to 2026-12-06, on redb 2)
//! are in redb's file format v2, which redb 3 and later refuse to open. redb 2.6, kept
//! for this alone, upgrades such a file in place to format v3: it rewrites the header
//! and the allocator's state, not the tables, so the store keeps its views and its
//! checkpoint and serves at once.

use std::path::Path;

/// Why a store file did not open.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(transparent)]
    Db(#[from] redb::DatabaseError),
    #[error("store file format upgrade: {0}")]
    Upgrade(Box<redb2::Error>),
}

/// Opens (or creates) the database at `path` with `cache` bytes of page cache,
/// upgrading a format v2 file in place first.
pub(crate) fn open(path: &Path, cache: usize) -> Result<redb::Database, OpenError> {
    let open = || redb::Database::builder().set_cache_size(cache).create(path);
    match open() {
        Err(redb::DatabaseError::UpgradeRequired(found)) => {
            tracing::info!(store = %path.display(), found, "upgrading the store's file format to redb v3");
            upgrade(path)?;
            Ok(open()?)
        }
        opened => Ok(opened?),
    }
}

/// Upgrades the format v2 file at `path` to format v3 with redb 2.6. The stores never
/// make savepoints, the one thing that would stop it.
fn upgrade(path: &Path) -> Result<(), OpenError> {
    let failed = |e: redb2::Error| OpenError::Upgrade(Box::new(e));
    let mut db = redb2::Database::open(path).map_err(|e| failed(e.into()))?;
    db.upgrade().map_err(|e| failed(e.into()))?;
    Ok(())
}
