//! Rebuilding projections from the log: read the log once and apply each chunk to every
//! store. Intermediate chunks skip the fsync; the last one is durable.

use crate::runtime::{CHUNK, apply_chunk};
use crate::store::StoreError;
use crate::{Kind, Projections, alerts, matrix, outbox, registry};
use clef_pro_log::{Chunk, Log, LogError};

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
/// stores in parallel (they share nothing).
fn apply_all(p: &Projections, chunk: &Chunk, durable: bool) -> Result<(), StoreError> {
    let apply = |kind: Kind| -> Result<(), StoreError> {
        let store = p.store(kind);
        let cp = store.checkpoint()?;
        if cp >= chunk.through {
            return Ok(());
        }
        match kind {
            Kind::Registry => apply_chunk::<registry::Registry>(&store, cp, chunk, durable),
            Kind::Matrix => apply_chunk::<matrix::Matrix>(&store, cp, chunk, durable),
            Kind::Alerts => apply_chunk::<alerts::Alerts>(&store, cp, chunk, durable),
            Kind::Outbox => apply_chunk::<outbox::Outbox>(&store, cp, chunk, durable),
        }
    };
    std::thread::scope(|s| {
        let handles: Vec<_> = Kind::ALL.map(|kind| s.spawn(move || apply(kind))).into();
        handles
            .into_iter()
            .try_for_each(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
    })
}

/// Folds the log up to sequence `upto` into `p`, calling `progress(events, through)`
/// after each chunk. Returns the number of events applied.
pub async fn rebuild(
    p: &Projections,
    log: &Log,
    upto: u64,
    mut progress: impl FnMut(u64, u64),
) -> Result<u64, ReplayError> {
    let start = Kind::ALL
        .iter()
        .map(|&k| p.store(k).checkpoint())
        .collect::<Result<Vec<_>, _>>()?;
    let from = start.into_iter().min().unwrap_or(0);
    let mut events = 0;
    if from >= upto {
        return Ok(0);
    }
    let mut tail = log.tail(from + 1).await?;
    loop {
        // A reader may hand over a few events at a time; gather a full chunk first so
        // that each store commits once per REBUILD_CHUNK events, not once per read.
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
        events += chunk.entries.len() as u64;
        let done = chunk.through >= upto;
        // Blocking here is brief (one chunk) and replay has nothing else to serve.
        apply_all(p, &chunk, done)?;
        progress(events, chunk.through);
        if done {
            return Ok(events);
        }
    }
}
