//! A projection store: one redb file whose tables map bytes to postcard values, plus a
//! `meta` table holding the checkpoint (the last log sequence applied). The checkpoint
//! is written in the same transaction as the view, so a crash never applies an event
//! twice or skips one.

use redb::{
    Database, Durability, ReadableTable, ReadableTableMetadata, TableDefinition, TableHandle,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::path::Path;

pub(crate) type Table = TableDefinition<'static, &'static [u8], &'static [u8]>;
/// A table opened for writing, kept open for a whole chunk of events.
pub type RwTable<'t> = redb::Table<'t, &'static [u8], &'static [u8]>;

const META: Table = TableDefinition::new("meta");
const CHECKPOINT: &[u8] = b"checkpoint";
/// Page cache per store while serving. redb's default (1 GiB) would let four stores
/// hold most of the service's memory; serving touches few pages.
pub const SERVING_CACHE: usize = 8 << 20;
/// Page cache per store while rebuilding (`replay`, `verify`).
pub const REBUILD_CACHE: usize = 256 << 20;

/// Errors of a projection store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("store: {0}")]
    Db(Box<redb::Error>),
    #[error("store value does not decode: {0}")]
    Decode(#[from] postcard::Error),
}

macro_rules! from_redb {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                Self::Db(Box::new(e.into()))
            }
        }
    )*};
}
from_redb!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError
);

pub(crate) fn enc<T: Serialize>(v: &T) -> Vec<u8> {
    postcard::to_allocvec(v).expect("postcard encodes every in-memory value")
}

pub(crate) fn dec<T: DeserializeOwned>(b: &[u8]) -> Result<T, StoreError> {
    Ok(postcard::from_bytes(b)?)
}

/// Reads one value.
pub(crate) fn get<T: DeserializeOwned>(
    t: &impl ReadableTable<&'static [u8], &'static [u8]>,
    key: &[u8],
) -> Result<Option<T>, StoreError> {
    t.get(key)?.map(|v| dec(v.value())).transpose()
}

/// Reads every value whose key starts with `prefix`, in key order.
pub(crate) fn scan<T: DeserializeOwned>(
    t: &impl ReadableTable<&'static [u8], &'static [u8]>,
    prefix: &[u8],
) -> Result<Vec<(Vec<u8>, T)>, StoreError> {
    let mut end = prefix.to_vec();
    end.push(0xff);
    let mut out = Vec::new();
    for r in t.range::<&[u8]>(prefix..end.as_slice())? {
        let (k, v) = r?;
        out.push((k.value().to_vec(), dec(v.value())?));
    }
    Ok(out)
}

/// A projection's redb database.
pub struct Store {
    db: Database,
    tables: &'static [Table],
}

impl Store {
    /// Opens or creates the store at `path` with the projector's `tables` and `cache`
    /// bytes of page cache.
    pub fn open(path: &Path, tables: &'static [Table], cache: usize) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .map_err(|e| StoreError::from(redb::StorageError::Io(e)))?;
        }
        let db = Database::builder().set_cache_size(cache).create(path)?;
        let tx = db.begin_write()?;
        tx.open_table(META)?;
        for t in tables {
            tx.open_table(*t)?;
        }
        tx.commit()?;
        Ok(Self { db, tables })
    }

    pub fn db(&self) -> &Database {
        &self.db
    }

    /// The last log sequence applied, 0 for a fresh store.
    pub fn checkpoint(&self) -> Result<u64, StoreError> {
        let tx = self.db.begin_read()?;
        Ok(get(&tx.open_table(META)?, CHECKPOINT)?.unwrap_or(0))
    }

    /// Runs `apply` and moves the checkpoint to `through` in one write transaction.
    /// `durable: false` lets a long replay skip the fsync of all but its last chunk.
    pub fn commit<E>(
        &self,
        through: u64,
        durable: bool,
        apply: impl FnOnce(&redb::WriteTransaction) -> Result<(), E>,
    ) -> Result<(), E>
    where
        E: From<StoreError>,
    {
        let mut tx = self.db.begin_write().map_err(StoreError::from)?;
        if !durable {
            tx.set_durability(Durability::None);
        }
        apply(&tx)?;
        tx.open_table(META)
            .map_err(StoreError::from)?
            .insert(CHECKPOINT, enc(&through).as_slice())
            .map_err(StoreError::from)?;
        tx.commit().map_err(StoreError::from)?;
        Ok(())
    }

    /// Makes every earlier commit durable (an empty commit with fsync).
    pub fn sync(&self) -> Result<(), StoreError> {
        self.db.begin_write()?.commit()?;
        Ok(())
    }

    /// BLAKE3 over every table but `meta`, in name and key order: equal for two stores
    /// that hold the same view, whatever order their pages are in.
    pub fn digest(&self) -> Result<String, StoreError> {
        let tx = self.db.begin_read()?;
        let mut h = blake3::Hasher::new();
        let mut names: Vec<String> = tx.list_tables()?.map(|t| t.name().to_owned()).collect();
        names.sort();
        for name in names.iter().filter(|n| *n != "meta") {
            let table = tx.open_table(TableDefinition::<&[u8], &[u8]>::new(name.as_str()))?;
            h.update(&(name.len() as u64).to_le_bytes());
            h.update(name.as_bytes());
            h.update(&table.len()?.to_le_bytes());
            for r in table.iter()? {
                let (k, v) = r?;
                for part in [k.value(), v.value()] {
                    h.update(&(part.len() as u64).to_le_bytes());
                    h.update(part);
                }
            }
        }
        debug_assert!(
            self.tables
                .iter()
                .all(|t| names.iter().any(|n| n == t.name()))
        );
        Ok(h.finalize().to_hex().to_string())
    }
}
