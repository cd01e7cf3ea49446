//! Projectors fold the log into redb stores, one store and one checkpoint each:
//! `registry` (integrations, keys, tokens, sessions, the audit log), `matrix` (reports and history), `alerts`
//! (the lifecycle) and `outbox` (notification intents). Each can lag or be rebuilt
//! without the others; `replay` rebuilds all of them from the log into fresh stores.

pub mod access;
pub mod alerts;
pub mod lifecycle;
pub mod matrix;
pub mod outbox;
pub mod registry;
pub mod replay;
pub mod runtime;
pub mod store;

use clef_pro_log::Log;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use store::{Store, StoreError};
use tokio::sync::watch;

pub use alerts::AlertsView;
pub use matrix::MatrixView;
pub use outbox::OutboxView;
pub use registry::RegistryView;

/// The projections, in the order they are listed and digested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Registry,
    Matrix,
    Alerts,
    Outbox,
}

impl Kind {
    pub const ALL: [Kind; 4] = [Kind::Registry, Kind::Matrix, Kind::Alerts, Kind::Outbox];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Registry => <registry::Registry as runtime::Projector>::NAME,
            Kind::Matrix => <matrix::Matrix as runtime::Projector>::NAME,
            Kind::Alerts => <alerts::Alerts as runtime::Projector>::NAME,
            Kind::Outbox => <outbox::Outbox as runtime::Projector>::NAME,
        }
    }
}

/// The four stores of a data dir and each one's applied checkpoint.
pub struct Projections {
    stores: [Arc<Store>; 4],
    progress: [watch::Sender<u64>; 4],
}

impl Projections {
    /// Opens (or creates) the stores under `dir`, with the serving page cache.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_with_cache(dir, store::SERVING_CACHE)
    }

    /// Opens the stores with `cache` bytes of page cache each: a rebuild, which writes
    /// every page of a growing store, wants far more than a server reading a few.
    pub fn open_with_cache(dir: &Path, cache: usize) -> Result<Self, StoreError> {
        fn open<P: runtime::Projector>(dir: &Path, cache: usize) -> Result<Arc<Store>, StoreError> {
            let path = dir.join(format!("{}.redb", P::NAME));
            Ok(Arc::new(Store::open(&path, P::TABLES, P::VERSION, cache)?))
        }
        let stores = [
            open::<registry::Registry>(dir, cache)?,
            open::<matrix::Matrix>(dir, cache)?,
            open::<alerts::Alerts>(dir, cache)?,
            open::<outbox::Outbox>(dir, cache)?,
        ];
        let mut progress = Vec::new();
        for s in &stores {
            progress.push(watch::Sender::new(s.checkpoint()?));
        }
        let progress = progress
            .try_into()
            .unwrap_or_else(|_| unreachable!("four stores"));
        Ok(Self { stores, progress })
    }

    pub fn store(&self, kind: Kind) -> &Store {
        &self.stores[kind as usize]
    }

    /// Starts one task per projector that follows `log` until `shutdown` turns true.
    pub fn spawn(
        &self,
        log: &Log,
        shutdown: &watch::Receiver<bool>,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        use runtime::run;
        let args = |k: Kind| {
            (
                self.stores[k as usize].clone(),
                log.clone(),
                self.progress[k as usize].clone(),
                shutdown.clone(),
            )
        };
        vec![
            tokio::spawn({
                let (s, l, p, d) = args(Kind::Registry);
                run::<registry::Registry>(s, l, p, d)
            }),
            tokio::spawn({
                let (s, l, p, d) = args(Kind::Matrix);
                run::<matrix::Matrix>(s, l, p, d)
            }),
            tokio::spawn({
                let (s, l, p, d) = args(Kind::Alerts);
                run::<alerts::Alerts>(s, l, p, d)
            }),
            tokio::spawn({
                let (s, l, p, d) = args(Kind::Outbox);
                run::<outbox::Outbox>(s, l, p, d)
            }),
        ]
    }

    /// The last sequence a projection has applied.
    pub fn checkpoint(&self, kind: Kind) -> u64 {
        *self.progress[kind as usize].borrow()
    }

    /// A receiver that sees each new checkpoint of a projection.
    pub fn watch(&self, kind: Kind) -> watch::Receiver<u64> {
        self.progress[kind as usize].subscribe()
    }

    /// Waits until `kind` has applied `seq`; false on timeout.
    pub async fn wait_for(&self, kind: Kind, seq: u64, timeout: Duration) -> bool {
        let mut rx = self.watch(kind);
        tokio::time::timeout(timeout, rx.wait_for(|c| *c >= seq))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Replayed events the registry refused (every store refuses the same ones).
    pub fn replays(&self) -> Result<u64, StoreError> {
        let tx = self.store(Kind::Registry).begin_read()?;
        match tx.open_table(runtime::SEEN) {
            Ok(t) => Ok(store::get(&t, runtime::REPLAYS)?.unwrap_or(0)),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(0),
            Err(e) => Err(e.into()),
        }
    }

    pub fn registry<R>(
        &self,
        f: impl FnOnce(RegistryView<'_>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        f(RegistryView(&self.store(Kind::Registry).begin_read()?))
    }

    pub fn matrix<R>(
        &self,
        f: impl FnOnce(MatrixView<'_>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        f(MatrixView(&self.store(Kind::Matrix).begin_read()?))
    }

    pub fn alerts<R>(
        &self,
        f: impl FnOnce(AlertsView<'_>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        f(AlertsView(&self.store(Kind::Alerts).begin_read()?))
    }

    pub fn outbox<R>(
        &self,
        f: impl FnOnce(OutboxView<'_>) -> Result<R, StoreError>,
    ) -> Result<R, StoreError> {
        f(OutboxView(&self.store(Kind::Outbox).begin_read()?))
    }

    /// Each projection's name, checkpoint and content digest.
    pub fn digests(&self) -> Result<Vec<(&'static str, u64, String)>, StoreError> {
        Kind::ALL
            .iter()
            .map(|&k| {
                Ok((
                    k.name(),
                    self.store(k).checkpoint()?,
                    self.store(k).digest()?,
                ))
            })
            .collect()
    }
}
