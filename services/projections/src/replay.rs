//! Rebuilding projections from the log: read the log once and apply each chunk to every
//! store. Intermediate chunks skip the fsync; the last one is durable.

use crate::runtime::{CHUNK, apply_chunk};
use crate::store::StoreError;
use crate::{Kind, Projections, alerts, matrix, outbox, registry};
use clef_pro_log::{Chunk, Log, LogError, Tail};
use std::time::{Duration, Instant};

/// Events a rebuild applies per commit: each commit rewrites every B-tree page its
/// events touched, so fewer, larger commits write far less (`bench replay`: 2,048 a
/// commit gave 12,600 events/s, 32,768 gives 32,000; docs/performance.md). Like
/// [`CHUNK`] it counts events, not bytes: the chunk is held decoded in memory.
pub const REBUILD_CHUNK: usize = 16 * CHUNK;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReplayError {
    #[error(transparent)]
    Log(#[from] LogError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Applies a chunk to every projection whose checkpoint is below its end, the four
/// stores in parallel (they share nothing). Returns the time each took.
fn apply_all(p: &Projections, chunk: &Chunk, durable: bool) -> Result<[Duration; 4], StoreError> {
    let apply = |kind: Kind| -> Result<Duration, StoreError> {
        let started = Instant::now();
        let store = p.store(kind);
        let cp = store.checkpoint()?;
        if cp >= chunk.through {
            return Ok(started.elapsed());
        }
        match kind {
            Kind::Registry => apply_chunk::<registry::Registry>(&store, cp, &[chunk], durable),
            Kind::Matrix => apply_chunk::<matrix::Matrix>(&store, cp, &[chunk], durable),
            Kind::Alerts => apply_chunk::<alerts::Alerts>(&store, cp, &[chunk], durable),
            Kind::Outbox => apply_chunk::<outbox::Outbox>(&store, cp, &[chunk], durable),
        }?;
        Ok(started.elapsed())
    };
    std::thread::scope(|s| {
        let handles: Vec<_> = Kind::ALL.map(|kind| s.spawn(move || apply(kind))).into();
        let mut took = [Duration::ZERO; 4];
        for (t, h) in took.iter_mut().zip(handles) {
            *t = h.join().unwrap_or_else(|p| std::panic::resume_unwind(p))?;
        }
        Ok(took)
    })
}

/// What a rebuild did and where its time went.
#[derive(Debug, Clone, Default)]
pub struct Rebuilt {
    pub events: u64,
    /// Time each store spent folding, in [`Kind::ALL`]'s order. They fold at once,
    /// so the slowest bounds the rebuild.
    pub folding: [Duration; 4],
    /// Time the fold waited for the log's next chunk (reading overlaps folding).
    pub waiting: Duration,
}

/// Folds the log up to sequence `upto` into `p`, calling `progress(events, through)`
/// after each chunk. The next chunk is read while the stores fold the current one.
///
/// Must run on a multi-threaded runtime: the folds block its thread
/// ([`tokio::task::block_in_place`]).
pub async fn rebuild(
    p: &Projections,
    log: &Log,
    upto: u64,
    mut progress: impl FnMut(u64, u64),
) -> Result<Rebuilt, ReplayError> {
    let start = Kind::ALL
        .iter()
        .map(|&k| p.store(k).checkpoint())
        .collect::<Result<Vec<_>, _>>()?;
    let from = start.into_iter().min().unwrap_or(0);
    let mut done = Rebuilt::default();
    if from >= upto {
        return Ok(done);
    }
    let tail = log.tail(from + 1).await?;
    // Reading runs ahead of folding by at most two chunks (one waiting in the channel,
    // one being gathered), which bounds the memory a rebuild holds.
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let reader = tokio::spawn(read_chunks(tail, upto, tx));
    loop {
        let waited = Instant::now();
        let Some(chunk) = rx.recv().await else {
            // The reader stopped early: its error says why.
            match reader.await {
                Ok(read) => read?,
                Err(e) => std::panic::resume_unwind(e.into_panic()),
            }
            return Ok(done);
        };
        done.waiting += waited.elapsed();
        done.events += chunk.entries.len() as u64;
        let last = chunk.through >= upto;
        let took = tokio::task::block_in_place(|| apply_all(p, &chunk, last))?;
        for (sum, t) in done.folding.iter_mut().zip(took) {
            *sum += t;
        }
        progress(done.events, chunk.through);
        if last {
            return Ok(done);
        }
    }
}

/// Reads the log from `tail` up to `upto` in chunks of [`REBUILD_CHUNK`] events. A
/// reader may hand over a few events at a time; a full chunk is gathered first so that
/// each store commits once per `REBUILD_CHUNK` events, not once per read.
async fn read_chunks(
    mut tail: Tail,
    upto: u64,
    chunks: tokio::sync::mpsc::Sender<Chunk>,
) -> Result<(), LogError> {
    loop {
        let mut chunk = Chunk::default();
        while chunk.entries.len() < REBUILD_CHUNK && chunk.through < upto {
            let more = tail
                .next_chunk(CHUNK.min(REBUILD_CHUNK - chunk.entries.len()))
                .await?;
            chunk
                .entries
                .extend(more.entries.into_iter().filter(|e| e.seq <= upto));
            chunk.through = more.through.min(upto);
        }
        let last = chunk.through >= upto;
        if chunks.send(chunk).await.is_err() || last {
            return Ok(());
        }
    }
}
