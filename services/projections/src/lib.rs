//! Projectors fold the log into redb stores, one store and one checkpoint each:
//! `registry` (integrations, keys, tokens, sessions, the audit log), `matrix` (reports and history), `alerts`
//! (the lifecycle) and `outbox` (notification intents). Each can lag or be rebuilt
//! without the others; `replay` rebuilds all of them from the log into fresh stores.

pub mod access;
pub mod alerts;
pub mod counts;
pub mod feed;
mod file_format;
pub mod lifecycle;
pub mod matrix;
pub mod outbox;
pub mod registry;
pub mod replay;
mod retry;
pub mod runtime;
pub mod store;
pub mod triage;

use clef_pro_log::Log;
use std::path::Path;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
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
///
/// A store built by an older version of its projector that this release can still read
/// (`READS_SINCE`) keeps serving, frozen, while the current version is built aside from
/// the log (`<name>.next.redb`); once that has caught up with the log's head it is
/// moved into place and serves instead, with no request failing or waiting on it.
pub struct Projections {
    stores: [RwLock<Arc<Store>>; 4],
    progress: [watch::Sender<u64>; 4],
    /// Wakes a projector that lets events gather ([`runtime::Projector::SPACING`])
    /// when a request waits for it.
    hurry: [Arc<tokio::sync::Notify>; 4],
    /// The stores being built aside, until `spawn` takes them.
    aside: Mutex<[Option<Arc<Store>>; 4]>,
    /// Aside builds not swapped in yet.
    building: AtomicUsize,
    /// The log's head when the service started (see [`Projections::ready`]).
    ready_at: AtomicU64,
}

impl Projections {
    /// Opens (or creates) the stores under `dir` to serve them, with the serving page
    /// cache; a store of an older but readable version is kept and its successor built
    /// aside.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_with(dir, store::SERVING_CACHE, true)
    }

    /// Opens the stores with `cache` bytes of page cache each: a rebuild, which writes
    /// every page of a growing store, wants far more than a server reading a few. A
    /// store of another version is emptied and rebuilt in place.
    pub fn open_with_cache(dir: &Path, cache: usize) -> Result<Self, StoreError> {
        Self::open_with(dir, cache, false)
    }

    fn open_with(dir: &Path, cache: usize, aside: bool) -> Result<Self, StoreError> {
        type Opened = (Arc<Store>, Option<Arc<Store>>);
        fn open<P: runtime::Projector>(
            dir: &Path,
            cache: usize,
            aside: bool,
        ) -> Result<Opened, StoreError> {
            let path = dir.join(format!("{}.redb", P::NAME));
            let next = dir.join(format!("{}.next.redb", P::NAME));
            match Store::built_by(&path)? {
                Some(v) if aside && v != P::VERSION && v >= P::READS_SINCE => {
                    tracing::warn!(
                        store = P::NAME,
                        found = v,
                        version = P::VERSION,
                        "the store was built by an earlier version of its projector: it serves as it is while the new one is built aside"
                    );
                    Ok((
                        Arc::new(Store::open_as_built(&path, P::TABLES, cache)?),
                        Some(Arc::new(Store::open(&next, P::TABLES, P::VERSION, cache)?)),
                    ))
                }
                _ => {
                    if next.exists() {
                        std::fs::remove_file(&next)
                            .map_err(|e| StoreError::from(redb::StorageError::Io(e)))?;
                    }
                    Ok((
                        Arc::new(Store::open(&path, P::TABLES, P::VERSION, cache)?),
                        None,
                    ))
                }
            }
        }
        let opened = [
            open::<registry::Registry>(dir, cache, aside)?,
            open::<matrix::Matrix>(dir, cache, aside)?,
            open::<alerts::Alerts>(dir, cache, aside)?,
            open::<outbox::Outbox>(dir, cache, aside)?,
        ];
        let building = opened.iter().filter(|(_, a)| a.is_some()).count();
        let mut progress = Vec::new();
        for (s, _) in &opened {
            progress.push(watch::Sender::new(s.checkpoint()?));
        }
        let progress = progress
            .try_into()
            .unwrap_or_else(|_| unreachable!("four stores"));
        let [a, b, c, d] = opened;
        Ok(Self {
            stores: [a.0, b.0, c.0, d.0].map(RwLock::new),
            progress,
            hurry: Default::default(),
            aside: Mutex::new([a.1, b.1, c.1, d.1]),
            building: AtomicUsize::new(building),
            ready_at: AtomicU64::new(0),
        })
    }

    /// The store that serves `kind` now.
    pub fn store(&self, kind: Kind) -> Arc<Store> {
        self.stores[kind as usize]
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// How many stores are being built aside and not yet swapped in: the service is
    /// ready when none is.
    pub fn building(&self) -> usize {
        self.building.load(Ordering::Acquire)
    }

    /// Ready means: no store is being built aside, and every projection has applied
    /// the log up to `head`, its head when the service started.
    pub fn set_ready_at(&self, head: u64) {
        self.ready_at.store(head, Ordering::Release);
    }

    /// Whether every projection serves its current version, caught up with the log as
    /// it was at the start: what a load balancer should wait for.
    pub fn ready(&self) -> bool {
        let at = self.ready_at.load(Ordering::Acquire);
        self.building() == 0 && Kind::ALL.iter().all(|&k| self.checkpoint(k) >= at)
    }

    /// Starts one task per projector that follows `log` until `shutdown` turns true,
    /// and the feed they share; for a store being built aside, that task builds it, and
    /// another swaps it in.
    pub fn spawn(
        self: &Arc<Self>,
        log: &Log,
        shutdown: &watch::Receiver<bool>,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        use runtime::run;
        let mut aside =
            std::mem::take(&mut *self.aside.lock().unwrap_or_else(PoisonError::into_inner));
        let feed = feed::Feed::new(runtime::CHUNK);
        let mut tasks = vec![tokio::spawn(
            feed.clone().follow(log.clone(), shutdown.clone()),
        )];
        for kind in Kind::ALL {
            let i = kind as usize;
            let (store, progress) = match aside[i].take() {
                Some(next) => {
                    let (built, rx) = watch::channel(0);
                    tasks.push(tokio::spawn(self.clone().swap_in(
                        kind,
                        next.clone(),
                        rx,
                        log.clone(),
                        shutdown.clone(),
                    )));
                    (next, built)
                }
                None => (self.store(kind), self.progress[i].clone()),
            };
            let (f, l) = (feed.clone(), log.clone());
            let (h, d) = (self.hurry[i].clone(), shutdown.clone());
            tasks.push(match kind {
                Kind::Registry => {
                    tokio::spawn(run::<registry::Registry>(store, f, l, progress, h, d))
                }
                Kind::Matrix => tokio::spawn(run::<matrix::Matrix>(store, f, l, progress, h, d)),
                Kind::Alerts => tokio::spawn(run::<alerts::Alerts>(store, f, l, progress, h, d)),
                Kind::Outbox => tokio::spawn(run::<outbox::Outbox>(store, f, l, progress, h, d)),
            });
        }
        tasks
    }

    /// Waits until the store built aside has applied the log up to the head it had
    /// when the build started, moves it into the serving store's place and serves it;
    /// from then on its progress is the projection's.
    async fn swap_in(
        self: Arc<Self>,
        kind: Kind,
        next: Arc<Store>,
        mut built: watch::Receiver<u64>,
        log: Log,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let target = loop {
            match log.head().await {
                Ok(head) => break head,
                Err(e) => {
                    tracing::warn!(store = kind.name(), error = %e, "cannot read the log's head; retrying")
                }
            }
            tokio::select! {
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
                _ = shutdown.wait_for(|s| *s) => return,
            }
        };
        tokio::select! {
            r = built.wait_for(|c| *c >= target) => if r.is_err() { return },
            _ = shutdown.wait_for(|s| *s) => return,
        }
        let place = self.store(kind).path();
        let moved = next.clone();
        match tokio::task::spawn_blocking(move || moved.move_to(&place)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                tracing::error!(store = kind.name(), error = %e, "cannot move the rebuilt store into place; the earlier one keeps serving");
                return;
            }
            Err(e) => {
                tracing::error!(store = kind.name(), error = %e, "the move of the rebuilt store failed");
                return;
            }
        }
        *self.stores[kind as usize]
            .write()
            .unwrap_or_else(PoisonError::into_inner) = next;
        self.building.fetch_sub(1, Ordering::AcqRel);
        tracing::info!(
            store = kind.name(),
            checkpoint = *built.borrow(),
            "the store built aside serves now"
        );
        let progress = &self.progress[kind as usize];
        loop {
            progress.send_replace(*built.borrow_and_update());
            tokio::select! {
                r = built.changed() => if r.is_err() { return },
                _ = shutdown.wait_for(|s| *s) => return,
            }
        }
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
        if *rx.borrow() < seq {
            self.hurry[kind as usize].notify_one();
        }
        tokio::time::timeout(timeout, rx.wait_for(|c| *c >= seq))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Replayed events refused: those the registry refused (every store refuses the same
    /// ones), and the report events the matrix found copied.
    pub fn replays(&self) -> Result<u64, StoreError> {
        let tx = self.store(Kind::Registry).begin_read()?;
        let others = store::count_in(&tx, runtime::SEEN, runtime::REPLAYS)?;
        Ok(others + self.matrix(|m| m.replayed_reports())?)
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
