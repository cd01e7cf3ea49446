//! A projection store: one redb file whose tables map bytes to postcard values, plus a
//! `meta` table holding the checkpoint (the last log sequence applied). The checkpoint
//! is written in the same transaction as the view, so a crash never applies an event
//! twice or skips one.

use redb::{
    Database, Durability, ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition,
    TableHandle,
};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError, RwLock};

pub(crate) type Table = TableDefinition<'static, &'static [u8], &'static [u8]>;
/// A table opened for writing, kept open for a whole chunk of events.
pub type RwTable<'t> = redb::Table<'t, &'static [u8], &'static [u8]>;

const META: Table = TableDefinition::new("meta");
const CHECKPOINT: &[u8] = b"checkpoint";
/// The projector version that built the store (absent: 1).
const VERSION: &[u8] = b"version";
/// Page cache per store while serving. redb's default (1 GiB) would let four stores
/// hold most of the service's memory; serving touches few pages.
pub const SERVING_CACHE: usize = 2 << 20;
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
    #[error("store is closed after a failed write and could not be reopened yet")]
    Closed,
    #[error("store holds events up to {stored} only, not up to {from}: read on from there")]
    Behind { stored: u64, from: u64 },
    /// An index names a value its table does not hold.
    #[error("store misses {0}")]
    Missing(&'static str),
    /// The file format upgrade of a store written on redb 2 failed
    /// ([`crate::file_format`]).
    #[error("store file format upgrade: {0}")]
    Upgrade(Box<redb2::Error>),
}

impl From<crate::file_format::OpenError> for StoreError {
    fn from(e: crate::file_format::OpenError) -> Self {
        match e {
            crate::file_format::OpenError::Db(e) => e.into(),
            crate::file_format::OpenError::Upgrade(e) => Self::Upgrade(e),
        }
    }
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
    redb::CommitError,
    redb::SetDurabilityError,
    redb::CursorError
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

/// A table of rows that a chunk of events reads and rewrites again and again (one per
/// integration: heads, lifecycle state, counts). Inside one write transaction each row
/// is read once and written once, when the chunk closes ([`Rows::flush`]), instead of
/// decoded and encoded on every event. Rows are written in key order, so a table
/// with random keys (commits) takes a chunk's inserts in one sweep over its leaves.
/// Every read and write of the table in that transaction must go through it.
pub struct Rows<'t, V> {
    table: RwTable<'t>,
    /// The row as the chunk last left it (`None`: absent), and whether it changed.
    rows: BTreeMap<Vec<u8>, (Option<V>, bool)>,
}

impl<'t, V: Serialize + DeserializeOwned + Clone> Rows<'t, V> {
    pub(crate) fn open(tx: &'t redb::WriteTransaction, def: Table) -> Result<Self, StoreError> {
        Ok(Self {
            table: tx.open_table(def)?,
            rows: BTreeMap::new(),
        })
    }

    pub(crate) fn get(&mut self, key: &[u8]) -> Result<Option<V>, StoreError> {
        if let Some((v, _)) = self.rows.get(key) {
            return Ok(v.clone());
        }
        let v: Option<V> = get(&self.table, key)?;
        self.rows.insert(key.to_vec(), (v.clone(), false));
        Ok(v)
    }

    pub(crate) fn put(&mut self, key: &[u8], v: V) {
        self.rows.insert(key.to_vec(), (Some(v), true));
    }

    /// Reads the rows of `keys` that the chunk has not read yet, in key order, before
    /// its events look them up one by one: a sorted pass finds the next key's page
    /// where the last one was, where the events' order (random keys: commits) would
    /// reach for a cold page each time (docs/performance.md).
    pub(crate) fn prefetch(
        &mut self,
        keys: impl IntoIterator<Item = Vec<u8>>,
    ) -> Result<(), StoreError> {
        let mut keys: Vec<Vec<u8>> = keys
            .into_iter()
            .filter(|k| !self.rows.contains_key(k))
            .collect();
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            let v = get(&self.table, &key)?;
            self.rows.insert(key, (v, false));
        }
        Ok(())
    }

    /// Writes every changed row.
    pub(crate) fn flush(mut self) -> Result<(), StoreError> {
        for (key, (v, changed)) in std::mem::take(&mut self.rows) {
            if let (Some(v), true) = (v, changed) {
                self.table.insert(key.as_slice(), enc(&v).as_slice())?;
            }
        }
        Ok(())
    }
}

/// A table a chunk of events writes in runs of ascending keys (reports by position,
/// each integration's history, trend points), never removing: its rows are held until
/// the chunk closes ([`Staged::flush`]), then written in key order, each run of keys
/// that falls between the same two stored neighbours through one redb cursor. A cursor
/// takes such a run about three times faster than one `insert` per key
/// (docs/performance.md). Reads see the staged rows. Every write of the table in that
/// transaction must go through it.
pub struct Staged<'t> {
    table: RwTable<'t>,
    rows: BTreeMap<Vec<u8>, Vec<u8>>,
}

impl<'t> Staged<'t> {
    pub(crate) fn open(tx: &'t redb::WriteTransaction, def: Table) -> Result<Self, StoreError> {
        Ok(Self {
            table: tx.open_table(def)?,
            rows: BTreeMap::new(),
        })
    }

    /// Sets `key` to `value` (replacing a staged or stored value).
    pub(crate) fn insert(&mut self, key: Vec<u8>, value: Vec<u8>) {
        self.rows.insert(key, value);
    }

    /// The value of `key`, staged or stored.
    pub(crate) fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, StoreError> {
        match self.rows.get(key) {
            Some(v) => dec(v).map(Some),
            None => get(&self.table, key),
        }
    }

    /// The value of the greatest key that starts with `prefix`, staged or stored (the
    /// staged value where the chunk rewrote a stored key).
    pub(crate) fn last<T: DeserializeOwned>(&self, prefix: &[u8]) -> Result<Option<T>, StoreError> {
        let upper = prefix_end(prefix);
        let staged = self
            .rows
            .range::<[u8], _>((
                std::ops::Bound::Included(prefix),
                std::ops::Bound::Excluded(upper.as_slice()),
            ))
            .next_back();
        let stored = self
            .table
            .range(prefix..upper.as_slice())?
            .next_back()
            .transpose()?;
        match (staged, stored) {
            (Some((k, v)), Some((sk, _))) if k.as_slice() >= sk.value() => dec(v).map(Some),
            (_, Some((_, sv))) => dec(sv.value()).map(Some),
            (Some((_, v)), None) => dec(v).map(Some),
            (None, None) => Ok(None),
        }
    }

    /// The table as the chunk found it, without the staged rows: for reads of keys the
    /// chunk has not staged.
    pub(crate) fn stored(&self) -> &RwTable<'t> {
        &self.table
    }

    /// Writes the staged rows. A key already stored is replaced with a plain `insert`
    /// (a cursor never overwrites).
    pub(crate) fn flush(mut self) -> Result<(), StoreError> {
        let mut rows = std::mem::take(&mut self.rows).into_iter().peekable();
        while let Some((key, value)) = rows.next() {
            let mut cursor = self
                .table
                .lower_bound_mut(std::ops::Bound::Included(key.as_slice()))?;
            // The stored key after the gap bounds the run this cursor can take.
            let next = cursor.peek_next()?.map(|(k, _)| k.value().to_vec());
            if next.as_deref() == Some(key.as_slice()) {
                cursor.close()?;
                self.table.insert(key.as_slice(), value.as_slice())?;
                continue;
            }
            cursor.insert_before(key.as_slice(), value.as_slice())?;
            while let Some((key, value)) =
                rows.next_if(|(k, _)| next.as_deref().is_none_or(|n| k.as_slice() < n))
            {
                cursor.insert_before(key.as_slice(), value.as_slice())?;
            }
            cursor.close()?;
        }
        Ok(())
    }
}

/// The end (exclusive) of the keys that start with `prefix`: the byte after a prefix is
/// a text character or a position's first byte, below 0xff for any sequence a log
/// reaches.
pub(crate) fn prefix_end(prefix: &[u8]) -> Vec<u8> {
    [prefix, &[0xff]].concat()
}

/// Reads every value whose key starts with `prefix`, in key order.
pub(crate) fn scan<T: DeserializeOwned>(
    t: &impl ReadableTable<&'static [u8], &'static [u8]>,
    prefix: &[u8],
) -> Result<Vec<(Vec<u8>, T)>, StoreError> {
    let end = prefix_end(prefix);
    let mut out = Vec::new();
    for r in t.range(prefix..end.as_slice())? {
        let (k, v) = r?;
        out.push((k.value().to_vec(), dec(v.value())?));
    }
    Ok(out)
}

/// The count stored under `key` in `table` (0 where the store has no such table yet:
/// one an earlier version of its projector built).
pub(crate) fn count_in(
    tx: &redb::ReadTransaction,
    table: Table,
    key: &[u8],
) -> Result<u64, StoreError> {
    match tx.open_table(table) {
        Ok(t) => Ok(get(&t, key)?.unwrap_or(0)),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(0),
        Err(e) => Err(e.into()),
    }
}

/// The checkpoint as a read transaction sees it.
pub(crate) fn checkpoint_in(tx: &redb::ReadTransaction) -> Result<u64, StoreError> {
    Ok(get(&tx.open_table(META)?, CHECKPOINT)?.unwrap_or(0))
}

/// A projection's redb database.
///
/// redb refuses every write after one failed on I/O (a full disk, say) until the
/// database is reopened, so a failed write marks the store and its writer reopens it
/// ([`Store::recover`]) before it goes on: when space returns, the projector resumes
/// from its checkpoint without a restart.
pub struct Store {
    /// Where the file is; changes only when an aside build is moved into place.
    path: Mutex<PathBuf>,
    tables: &'static [Table],
    cache: usize,
    /// `None` while a reopen has not succeeded.
    db: RwLock<Option<Database>>,
    failed: AtomicBool,
}

impl Store {
    /// Opens or creates the store at `path` with the projector's `tables` and `cache`
    /// bytes of page cache. A store that another `version` of the projector built is
    /// emptied, so the projector folds the log into it afresh.
    pub fn open(
        path: &Path,
        tables: &'static [Table],
        version: u32,
        cache: usize,
    ) -> Result<Self, StoreError> {
        let io = |e| StoreError::from(redb::StorageError::Io(e));
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut db = Self::open_db(path, tables, cache)?;
        if let Some(found) = Self::other_version(&db, version)? {
            tracing::warn!(store = %path.display(), found, version, "the store was built by another version of its projector: rebuilding it from the log");
            drop(db);
            std::fs::remove_file(path).map_err(io)?;
            db = Self::open_db(path, tables, cache)?;
        }
        let tx = db.begin_write()?;
        tx.open_table(META)?
            .insert(VERSION, enc(&version).as_slice())?;
        tx.commit()?;
        Ok(Self::with_db_at(path, tables, cache, db))
    }

    fn with_db_at(path: &Path, tables: &'static [Table], cache: usize, db: Database) -> Self {
        Self {
            path: Mutex::new(path.to_owned()),
            tables,
            cache,
            db: RwLock::new(Some(db)),
            failed: AtomicBool::new(false),
        }
    }

    /// Opens the store at `path` as it is, whatever version built it (to serve it while
    /// its successor is built aside). Tables it lacks are created empty.
    pub fn open_as_built(
        path: &Path,
        tables: &'static [Table],
        cache: usize,
    ) -> Result<Self, StoreError> {
        let db = Self::open_db(path, tables, cache)?;
        Ok(Self::with_db_at(path, tables, cache, db))
    }

    /// The version of the projector that built the store at `path`, if the file exists
    /// and holds anything (opens and closes it).
    pub fn built_by(path: &Path) -> Result<Option<u32>, StoreError> {
        if !path.exists() {
            return Ok(None);
        }
        let db = crate::file_format::open(path, SERVING_CACHE)?;
        let tx = db.begin_read()?;
        let meta = match tx.open_table(META) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        let checkpoint: u64 = get(&meta, CHECKPOINT)?.unwrap_or(0);
        let found: u32 = get(&meta, VERSION)?.unwrap_or(1);
        Ok((checkpoint > 0).then_some(found))
    }

    pub fn path(&self) -> PathBuf {
        self.path
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Moves the store's file to `to` (replacing what is there: readers of that file
    /// keep their open handle), and goes on under the new name.
    pub fn move_to(&self, to: &Path) -> std::io::Result<()> {
        let mut path = self.path.lock().unwrap_or_else(PoisonError::into_inner);
        std::fs::rename(&*path, to)?;
        if let Some(dir) = to.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        *path = to.to_owned();
        Ok(())
    }

    fn open_db(path: &Path, tables: &[Table], cache: usize) -> Result<Database, StoreError> {
        let db = crate::file_format::open(path, cache)?;
        let tx = db.begin_write()?;
        tx.open_table(META)?;
        for t in tables {
            tx.open_table(*t)?;
        }
        tx.commit()?;
        Ok(db)
    }

    /// The version that built a non-empty store, if it is not `version`.
    fn other_version(db: &Database, version: u32) -> Result<Option<u32>, StoreError> {
        let tx = db.begin_read()?;
        let meta = tx.open_table(META)?;
        let checkpoint: u64 = get(&meta, CHECKPOINT)?.unwrap_or(0);
        let found: u32 = get(&meta, VERSION)?.unwrap_or(1);
        Ok((checkpoint > 0 && found != version).then_some(found))
    }

    /// After a failed write, closes and reopens the database (redb refuses everything
    /// after an I/O error until then). Only the store's writer calls this, so readers
    /// never race it; while readers hold transactions the file stays locked and the
    /// reopen fails, to be tried again.
    pub fn recover(&self) -> Result<(), StoreError> {
        if !self.failed.load(Ordering::Acquire) {
            return Ok(());
        }
        let mut db = self.db.write().unwrap_or_else(PoisonError::into_inner);
        // The old handle must be gone first: redb locks its file.
        drop(db.take());
        let path = self.path();
        *db = Some(Self::open_db(&path, self.tables, self.cache)?);
        self.failed.store(false, Ordering::Release);
        tracing::info!(store = %path.display(), "store reopened after a failed write");
        Ok(())
    }

    fn mark_failed(&self) {
        self.failed.store(true, Ordering::Release);
    }

    /// Runs `f` on the open database.
    fn with_db<R>(
        &self,
        f: impl FnOnce(&Database) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        let db = self.db.read().unwrap_or_else(PoisonError::into_inner);
        f(db.as_ref().ok_or(StoreError::Closed)?)
    }

    /// A read transaction on the current state.
    pub fn begin_read(&self) -> Result<redb::ReadTransaction, StoreError> {
        self.with_db(|db| Ok(db.begin_read()?))
    }

    /// The last log sequence applied, 0 for a fresh store.
    pub fn checkpoint(&self) -> Result<u64, StoreError> {
        checkpoint_in(&self.begin_read()?)
    }

    /// Runs `apply` and moves the checkpoint to `through` in one write transaction, for
    /// a chunk of events after `from`. `apply` gets the checkpoint the store holds
    /// (events up to it are in already: skip them); a store holding less than `from`
    /// (its last commits were lost with a failed write) refuses the chunk, as applying
    /// it would skip events. `durable: false` skips the fsync.
    pub fn commit<E>(
        &self,
        from: u64,
        through: u64,
        durable: bool,
        apply: impl FnOnce(&redb::WriteTransaction, u64) -> Result<(), E>,
    ) -> Result<(), E>
    where
        E: From<StoreError>,
    {
        self.recover()?;
        let mut tx = self
            .with_db(|db| Ok(db.begin_write()?))
            .inspect_err(|_| self.mark_failed())?;
        if !durable {
            tx.set_durability(Durability::None)
                .map_err(StoreError::from)?;
        }
        let mut meta = tx.open_table(META).map_err(StoreError::from)?;
        let stored: u64 = get(&meta, CHECKPOINT)?.unwrap_or(0);
        if stored < from {
            return Err(StoreError::Behind { stored, from }.into());
        }
        meta.insert(CHECKPOINT, enc(&through.max(stored)).as_slice())
            .map_err(StoreError::from)?;
        drop(meta);
        apply(&tx, stored)?;
        tx.commit().map_err(|e| {
            self.mark_failed();
            StoreError::from(e)
        })?;
        Ok(())
    }

    /// Makes every earlier commit durable (an empty commit with fsync).
    pub fn sync(&self) -> Result<(), StoreError> {
        self.with_db(|db| Ok(db.begin_write()?.commit()?))
    }

    /// BLAKE3 over every table but `meta`, in name and key order: equal for two stores
    /// that hold the same view, whatever order their pages are in.
    pub fn digest(&self) -> Result<String, StoreError> {
        let tx = self.begin_read()?;
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

#[cfg(test)]
mod tests {
    use super::*;

    const T: Table = TableDefinition::new("t");

    fn commit(s: &Store, from: u64, through: u64) -> Result<u64, StoreError> {
        let mut seen = 0;
        s.commit(from, through, false, |_, applied: u64| {
            seen = applied;
            Ok::<_, StoreError>(())
        })?;
        Ok(seen)
    }

    /// A chunk is applied on top of what the store holds: events it holds are skipped,
    /// and a chunk that starts past it is refused instead of skipping events.
    #[test]
    fn a_chunk_starting_past_the_store_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("s.redb"), &[T], 1, 1 << 20).unwrap();
        assert_eq!(commit(&s, 0, 5).unwrap(), 0);
        assert_eq!(
            commit(&s, 3, 8).unwrap(),
            5,
            "events up to 5 are in already"
        );
        assert_eq!(s.checkpoint().unwrap(), 8);
        let err = commit(&s, 10, 12).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::Behind {
                    stored: 8,
                    from: 10
                }
            ),
            "{err}"
        );
        assert_eq!(s.checkpoint().unwrap(), 8, "the refused chunk left nothing");
        assert_eq!(
            commit(&s, 8, 12).unwrap(),
            8,
            "a failed commit reopens the store"
        );
        assert_eq!(s.checkpoint().unwrap(), 12);
    }

    /// `Staged::last` finds the greatest key under a prefix whether the chunk staged it
    /// or an earlier one stored it, and never a key of a longer prefix's neighbour.
    #[test]
    fn the_last_row_under_a_prefix_is_staged_or_stored() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("s.redb"), &[T], 1, 1 << 20).unwrap();
        let last = |staged: &[(&[u8], u32)], prefix: &[u8]| {
            let mut found = None;
            s.commit(
                s.checkpoint().unwrap(),
                s.checkpoint().unwrap() + 1,
                false,
                |tx, _| {
                    let mut t = Staged::open(tx, T)?;
                    for (k, v) in staged {
                        t.insert(k.to_vec(), enc(v));
                    }
                    found = t.last::<u32>(prefix)?;
                    t.flush()
                },
            )
            .unwrap();
            found
        };
        assert_eq!(
            last(&[(b"a\0b\0\x01", 1), (b"a\0b\0\x03", 3)], b"a\0b\0"),
            Some(3)
        );
        assert_eq!(
            last(&[(b"a\0b\0\x02", 2)], b"a\0b\0"),
            Some(3),
            "stored is greater"
        );
        assert_eq!(
            last(&[(b"a\0b\0\x04", 4)], b"a\0b\0"),
            Some(4),
            "staged is greater"
        );
        assert_eq!(
            last(&[(b"a\0bc\0\x09", 9)], b"a\0b\0"),
            Some(4),
            "another branch"
        );
        assert_eq!(
            last(&[(b"a\0b\0\x04", 5)], b"a\0b\0"),
            Some(5),
            "rewritten in the chunk"
        );
        assert_eq!(last(&[], b"a\0c\0"), None);
    }

    /// A store another version of its projector built is emptied on open; one of the
    /// same version, or an empty one, is kept.
    #[test]
    fn a_store_of_another_version_is_rebuilt() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.redb");
        let s = Store::open(&path, &[T], 1, 1 << 20).unwrap();
        commit(&s, 0, 7).unwrap();
        drop(s);
        let s = Store::open(&path, &[T], 1, 1 << 20).unwrap();
        assert_eq!(s.checkpoint().unwrap(), 7, "same version: kept");
        drop(s);
        let s = Store::open(&path, &[T], 2, 1 << 20).unwrap();
        assert_eq!(s.checkpoint().unwrap(), 0, "another version: rebuilt");
        commit(&s, 0, 3).unwrap();
        drop(s);
        let s = Store::open(&path, &[T], 2, 1 << 20).unwrap();
        assert_eq!(s.checkpoint().unwrap(), 3, "the new version is recorded");
    }

    /// Keys from a four-letter alphabet, up to three long: stored and staged keys
    /// often fall into the same gaps, on either side of each other, or are equal.
    fn keys() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        proptest::collection::vec(0u8..4, 0..4)
    }

    proptest::proptest! {
        /// Whatever the table holds and a chunk stages (new keys before, between and
        /// after stored ones; stored keys again; one key twice), reads see the staged
        /// rows, and after the flush the table holds what one `insert` per staged row
        /// would have left.
        #[test]
        fn staged_rows_land_as_inserts_would(
            stored in proptest::collection::btree_map(keys(), proptest::prelude::any::<u32>(), 0..40),
            staged in proptest::collection::vec((keys(), proptest::prelude::any::<u32>()), 0..40),
        ) {
            let dir = tempfile::tempdir().unwrap();
            let db = Database::create(dir.path().join("t.redb")).unwrap();
            let tx = db.begin_write().unwrap();
            {
                let mut t = tx.open_table(T).unwrap();
                for (k, v) in &stored {
                    t.insert(k.as_slice(), enc(v).as_slice()).unwrap();
                }
            }
            tx.commit().unwrap();

            let mut model = stored.clone();
            let tx = db.begin_write().unwrap();
            {
                let mut rows = Staged::open(&tx, T).unwrap();
                for (k, v) in &staged {
                    rows.insert(k.clone(), enc(v));
                    model.insert(k.clone(), *v);
                    proptest::prop_assert_eq!(rows.get::<u32>(k).unwrap(), Some(*v));
                }
                for k in stored.keys() {
                    proptest::prop_assert_eq!(rows.get::<u32>(k).unwrap(), model.get(k).copied());
                }
                rows.flush().unwrap();
            }
            tx.commit().unwrap();

            let tx = db.begin_read().unwrap();
            let t = tx.open_table(T).unwrap();
            let got: BTreeMap<Vec<u8>, u32> = t
                .iter()
                .unwrap()
                .map(|r| {
                    let (k, v) = r.unwrap();
                    (k.value().to_vec(), dec(v.value()).unwrap())
                })
                .collect();
            proptest::prop_assert_eq!(got, model);
        }
    }
}
