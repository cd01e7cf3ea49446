//! Runs projectors: each reads the log from its checkpoint + 1 and applies every chunk
//! of events, with the new checkpoint, in one write transaction; then it follows the
//! log live, from the shared [`Feed`]. A failed chunk is not committed and is read
//! again after a pause.

use crate::feed::{Feed, through};
use crate::retry::Backoff;
use crate::store::{Store, StoreError, Table};
use clef_pro_log::{Chunk, Entry, Log};
use clef_pro_schema::domain::CommitSha;
use clef_pro_schema::event::Event;
use clef_pro_schema::ids::IntegrationId;
use redb::{ReadableTable, WriteTransaction};
use std::borrow::Borrow;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, watch};

/// How many events one transaction applies at most.
pub const CHUNK: usize = 2048;

/// The largest chunk (encoded bytes) a live projector applies on the async runtime:
/// a few reports, well under a millisecond of work. Larger ones, and every chunk
/// committed with an fsync, go to a blocking thread.
const INLINE_APPLY: usize = 16 << 10;

/// How often a live projector makes its commits durable. Commits in between skip the
/// fsync: a store is a cache of the log, and its view and checkpoint are committed
/// together, so a crash only rolls both back to the last durable commit, from where the
/// projector applies the log again. Nothing is applied twice or skipped.
pub const SYNC_EVERY: Duration = Duration::from_millis(250);

/// A projection: a fold of events into the tables of its own store. The tables are
/// opened once per chunk (`open`), then each event is applied to them.
pub trait Projector: Send + Sync + 'static {
    const NAME: &'static str;
    const TABLES: &'static [Table];
    /// What the projector stores, as a number: bump it when tables or their values
    /// change meaning, and a store built by another version is rebuilt from the log
    /// when it is opened.
    const VERSION: u32 = 1;
    /// The oldest store version this release's readers can still read. A store that
    /// old (but not current) keeps serving, frozen, while the current version is built
    /// aside from the log and swapped in; an older one is emptied and rebuilt in place.
    const READS_SINCE: u32 = Self::VERSION;
    /// Whether reports change the store. A projector that ignores them commits a
    /// chunk of nothing but reports only when its periodic durable commit is due, and
    /// otherwise just moves its checkpoint in memory (a restart reads those reports
    /// again from the stored checkpoint, and skips them again).
    const FOLDS_REPORTS: bool = true;
    /// The least time between two live commits, unless a request waits for this
    /// projection. Zero for the projections a report's request waits for; one that no
    /// report waits for lets events gather instead, so that it commits in fewer,
    /// larger chunks, and seldom at the moment the others apply a report whose client
    /// is waiting. An event after a quiet moment is applied at once.
    const SPACING: Duration = Duration::ZERO;
    type Tables<'t>;
    fn open(tx: &WriteTransaction) -> Result<Self::Tables<'_>, StoreError>;
    /// Reads ahead, in key order, the rows the chunk's events will look up at random
    /// ([`crate::store::Rows::prefetch`]).
    fn prefetch(_t: &mut Self::Tables<'_>, _events: &[Entry]) -> Result<(), StoreError> {
        Ok(())
    }
    fn apply(t: &mut Self::Tables<'_>, seq: u64, event: &Event) -> Result<(), StoreError>;
    /// Ends a chunk: writes what the tables held back ([`crate::store::Rows`]).
    fn close(t: Self::Tables<'_>) -> Result<(), StoreError> {
        drop(t);
        Ok(())
    }
}

/// Applies consecutive chunks and moves the checkpoint to the end of the last, all in
/// one transaction. Entries at or below the stored checkpoint were applied before and
/// are skipped, and so are replays ([`ReplayGuard`]).
pub fn apply_chunk<P: Projector>(
    store: &Store,
    checkpoint: u64,
    chunks: &[impl Borrow<Chunk>],
    durable: bool,
) -> Result<(), StoreError> {
    let Some(last) = chunks.last() else {
        return Ok(());
    };
    store.commit(checkpoint, last.borrow().through, durable, |tx, applied| {
        let mut t = P::open(tx)?;
        let mut guard = ReplayGuard::open(tx)?;
        for chunk in chunks.iter().map(Borrow::borrow) {
            P::prefetch(&mut t, &chunk.entries)?;
            for e in chunk.entries.iter().filter(|e| e.seq > applied) {
                if guard.first_time(&e.event)? {
                    P::apply(&mut t, e.seq, &e.event)?;
                }
            }
        }
        P::close(t)?;
        guard.close()
    })
}

/// The integration and commit of every report in `events`: what a fold looks up
/// ([`Projector::prefetch`]).
pub(crate) fn reported_commits(
    events: &[Entry],
) -> impl Iterator<Item = (&IntegrationId, &CommitSha)> {
    events
        .iter()
        .filter_map(|e| e.event.reports())
        .flat_map(|(int, reports, _)| reports.iter().map(move |r| (int, &r.commit)))
}

/// Waits out [`Projector::SPACING`] since the last commit, unless a request waits for
/// the projection (`hurry`).
async fn spaced<P: Projector>(last_commit: tokio::time::Instant, hurry: &Notify) {
    if P::SPACING.is_zero() {
        return;
    }
    tokio::select! {
        _ = tokio::time::sleep_until(last_commit + P::SPACING) => {}
        _ = hurry.notified() => {}
    }
}

/// Whether every event of `chunks` is a report (a projector that ignores reports has
/// nothing to apply). The event itself, not its fact: an audited one is the registry's.
fn only_reports(chunks: &[Arc<Chunk>]) -> bool {
    chunks.iter().flat_map(|c| &c.entries).all(|e| {
        matches!(
            e.event,
            Event::ReportSubmitted { .. } | Event::BatchSubmitted { .. }
        )
    })
}

/// Someone who can publish to the log can copy a genuine event and store it again
/// (under a new `Nats-Msg-Id`): its tag still holds. Such a replay is refused here, once
/// for every projector: every event but a report is remembered by the hash of its
/// encoding, which includes its time, so two genuine events never share it. Reports,
/// the bulk of the log, are left to the folds: a known commit never changes alerts,
/// the matrix keeps the newest content of a commit, and it counts a report event whose
/// every report it holds with the same content and arrival time.
struct ReplayGuard<'t> {
    seen: crate::store::RwTable<'t>,
    refused: u64,
}

impl<'t> ReplayGuard<'t> {
    fn open(tx: &'t redb::WriteTransaction) -> Result<Self, StoreError> {
        Ok(Self {
            seen: tx.open_table(SEEN)?,
            refused: 0,
        })
    }

    /// True when `event` is new; false (and counted) for a replay.
    fn first_time(&mut self, event: &Event) -> Result<bool, StoreError> {
        if event.reports().is_some() {
            return Ok(true);
        }
        let hash = blake3::hash(&crate::store::enc(event));
        let id = &hash.as_bytes()[..16];
        if self.seen.get(id)?.is_some() {
            tracing::warn!("refused a replayed event");
            self.refused += 1;
            return Ok(false);
        }
        self.seen.insert(id, [].as_slice())?;
        Ok(true)
    }

    fn close(mut self) -> Result<(), StoreError> {
        if self.refused > 0 {
            let before: u64 = crate::store::get(&self.seen, REPLAYS)?.unwrap_or(0);
            self.seen.insert(
                REPLAYS,
                crate::store::enc(&(before + self.refused)).as_slice(),
            )?;
        }
        Ok(())
    }
}

/// event hash (16 bytes) → (), and [`REPLAYS`]; in every store
pub(crate) const SEEN: Table = redb::TableDefinition::new("seen");
/// How many replays were refused: a key no 16-byte hash can equal.
pub(crate) const REPLAYS: &[u8] = b"replays";

/// Follows the log into `store` until `shutdown` turns true, publishing each new
/// checkpoint on `progress`; `hurry` ends a [`Projector::SPACING`] wait early. It reads
/// the log itself until it has caught up with `feed`.
pub async fn run<P: Projector>(
    store: Arc<Store>,
    feed: Feed,
    log: Log,
    progress: watch::Sender<u64>,
    hurry: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut backoff = Backoff::default();
    // The first chunk after a start is durable, so progress survives an early crash.
    let mut last_sync = std::time::Instant::now()
        .checked_sub(SYNC_EVERY)
        .unwrap_or_else(std::time::Instant::now);
    let mut last_commit = tokio::time::Instant::now();
    'follow: loop {
        let reopened = store.clone();
        let checkpoint = tokio::task::spawn_blocking(move || {
            reopened.recover()?;
            reopened.checkpoint()
        })
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()));
        match checkpoint {
            Err(e) => tracing::error!(projector = P::NAME, error = %e, "cannot read checkpoint"),
            Ok(mut checkpoint) => {
                // What the store holds; `checkpoint` may be ahead of it, past events
                // this projector ignores ([`Projector::FOLDS_REPORTS`]).
                let mut committed = checkpoint;
                progress.send_replace(checkpoint);
                match feed.source(&log, checkpoint).await {
                    Ok(mut source) => loop {
                        let chunks = tokio::select! {
                            c = async {
                                let mut chunks = source.next(checkpoint).await?;
                                source.gather(&mut chunks, spaced::<P>(last_commit, &hurry)).await?;
                                Ok::<_, clef_pro_log::LogError>(chunks)
                            } => c,
                            _ = shutdown.wait_for(|s| *s) => break 'follow,
                        };
                        let durable = last_sync.elapsed() >= SYNC_EVERY;
                        let result = match chunks {
                            Ok(c) if !durable && !P::FOLDS_REPORTS && only_reports(&c) => {
                                Ok((through(&c), false))
                            }
                            // A small chunk without an fsync is applied right here:
                            // the hop to a blocking thread and back took about as
                            // long as the commit (`bench ingest`, one client).
                            Ok(c)
                                if !durable
                                    && c.iter().map(|c| c.bytes).sum::<usize>() <= INLINE_APPLY =>
                            {
                                apply_chunk::<P>(&store, committed, &c, durable)
                                    .map(|()| (through(&c), true))
                                    .map_err(|e| e.to_string())
                            }
                            Ok(c) => {
                                let store = store.clone();
                                tokio::task::spawn_blocking(move || {
                                    apply_chunk::<P>(&store, committed, &c, durable)
                                        .map(|()| (through(&c), true))
                                })
                                .await
                                .map_err(|e| e.to_string())
                                .and_then(|r| r.map_err(|e| e.to_string()))
                            }
                            Err(e) => Err(e.to_string()),
                        };
                        match result {
                            Ok((through, applied)) => {
                                if applied {
                                    committed = committed.max(through);
                                    last_commit = tokio::time::Instant::now();
                                    if durable {
                                        last_sync = std::time::Instant::now();
                                    }
                                }
                                checkpoint = checkpoint.max(through);
                                progress.send_replace(checkpoint);
                                backoff.reset();
                            }
                            Err(e) => {
                                tracing::warn!(projector = P::NAME, error = %e, "projector paused; will resume from its checkpoint");
                                break;
                            }
                        }
                    },
                    Err(e) => {
                        tracing::warn!(projector = P::NAME, error = %e, "cannot read the log")
                    }
                }
            }
        }
        if !backoff.wait(&mut shutdown).await {
            break 'follow;
        }
    }
    if let Err(e) = tokio::task::spawn_blocking(move || store.sync())
        .await
        .map_err(|e| e.to_string())
        .and_then(|r| r.map_err(|e| e.to_string()))
    {
        tracing::warn!(projector = P::NAME, error = %e, "final sync failed; the projector will re-apply from its last durable checkpoint");
    }
}
