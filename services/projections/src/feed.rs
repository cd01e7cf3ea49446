//! One reader of the log for all live projectors: each new chunk is read from the log
//! and decoded once, then handed to every projector. Before the four projectors each
//! followed the log with a consumer of their own: four deliveries of every event by
//! the broker, and four decodes and tag checks by the service.
//!
//! A projector reads the log itself ([`Source`]) until it has caught up with the feed:
//! at start, after a failed chunk, and when it fell so far behind that the feed's
//! buffer no longer holds the chunks it needs. Its own reader and the feed hand out
//! the same events in the same order, so where it takes a chunk from changes nothing
//! it stores. A projector that lets events gather before it commits keeps reading the
//! feed while it waits ([`Source::gather`]), so that the wait does not make it lag.

use crate::retry::Backoff;
use clef_pro_log::{Chunk, Log, LogError, Tail};
use std::convert::Infallible;
use std::sync::Arc;
use tokio::sync::{broadcast, watch};

/// Chunks the feed holds for a projector that has not taken them yet. One that falls
/// further behind reads the log itself until it catches up.
const BUFFERED: usize = 16;

/// A chunk of the feed: the log's events after sequence `after`, through
/// `chunk.through`.
#[derive(Debug)]
pub struct Fed {
    after: u64,
    chunk: Arc<Chunk>,
}

/// The sending end of the feed, and where new projectors subscribe.
#[derive(Clone)]
pub struct Feed {
    chunks: broadcast::Sender<Arc<Fed>>,
    /// The most events one read takes, and one [`Source::next`] returns.
    max: usize,
}

impl Feed {
    /// A feed of chunks of up to `max` events, which sends nothing until
    /// [`Feed::follow`] runs.
    pub fn new(max: usize) -> Self {
        Self {
            chunks: broadcast::channel(BUFFERED).0,
            max,
        }
    }

    /// A reader for one projector whose store holds the log through `checkpoint`.
    pub async fn source(&self, log: &Log, checkpoint: u64) -> Result<Source, LogError> {
        // Subscribed before the own reader starts, so nothing the feed sends after
        // that point can fall between the two.
        let feed = self.chunks.subscribe();
        Ok(Source {
            own: Some(log.tail(checkpoint + 1).await?),
            log: log.clone(),
            feed,
            max: self.max,
        })
    }

    /// Reads the log from its head on (what it holds up to then, each projector reads
    /// itself) and sends every chunk to the projectors, until `shutdown` turns true.
    /// After a failed read it starts again after the last chunk it sent.
    pub async fn follow(self, log: Log, mut shutdown: watch::Receiver<bool>) {
        let mut backoff = Backoff::default();
        let mut sent = None;
        loop {
            let before = sent;
            tokio::select! {
                Err(e) = self.send(&log, &mut sent) => {
                    tracing::warn!(error = %e, "the projectors' feed cannot read the log; retrying");
                }
                _ = shutdown.wait_for(|s| *s) => return,
            }
            if sent != before {
                backoff.reset();
            }
            if !backoff.wait(&mut shutdown).await {
                return;
            }
        }
    }

    /// Sends the log's chunks after `sent` (after its head when `None`), keeping
    /// `sent` at the last one sent, until a read fails.
    async fn send(&self, log: &Log, sent: &mut Option<u64>) -> Result<Infallible, LogError> {
        let mut after = match *sent {
            Some(after) => after,
            None => *sent.insert(log.head().await?),
        };
        let mut tail = log.tail(after + 1).await?;
        loop {
            let chunk = Arc::new(tail.next_chunk(self.max).await?);
            let through = chunk.through;
            // No projector listening (yet) is not an error: each reads the log itself
            // until it has caught up.
            let _ = self.chunks.send(Arc::new(Fed { after, chunk }));
            after = through;
            *sent = Some(after);
        }
    }
}

/// Where one projector reads its chunks: its own reader of the log until it has caught
/// up with the feed, then the feed.
pub struct Source {
    log: Log,
    feed: broadcast::Receiver<Arc<Fed>>,
    own: Option<Tail>,
    max: usize,
}

impl Source {
    /// Reads the log itself from after sequence `after` until caught up with the feed.
    async fn read_own(&mut self, after: u64) -> Result<(), LogError> {
        self.own = Some(self.log.tail(after + 1).await?);
        Ok(())
    }

    /// Whether the next chunk comes from the feed (true once caught up with it).
    pub fn on_feed(&self) -> bool {
        self.own.is_none()
    }

    /// The next chunk after sequence `after` (the projector's checkpoint), and any more
    /// that are already waiting, up to the feed's `max` events in all. They may start at or
    /// before `after`: events up to it were applied and are skipped.
    pub async fn next(&mut self, after: u64) -> Result<Vec<Arc<Chunk>>, LogError> {
        let mut chunks = vec![self.first(after).await?];
        let mut events = chunks[0].entries.len();
        while self.own.is_none() && events < self.max {
            let fed = match self.feed.try_recv() {
                Ok(fed) => Some(fed),
                Err(broadcast::error::TryRecvError::Lagged(_)) => None,
                Err(_) => break,
            };
            events += self.join(&mut chunks, fed).await?;
        }
        Ok(chunks)
    }

    /// Adds to `chunks` those the feed hands over until `until` completes (a
    /// projection that lets events gather, [`crate::runtime::Projector::SPACING`]), up
    /// to the feed's `max` events in all. Reading the feed while waiting keeps the
    /// projection from lagging past what the feed holds.
    pub async fn gather(
        &mut self,
        chunks: &mut Vec<Arc<Chunk>>,
        until: impl Future<Output = ()>,
    ) -> Result<(), LogError> {
        tokio::pin!(until);
        let mut events: usize = chunks.iter().map(|c| c.entries.len()).sum();
        while self.own.is_none() && events < self.max {
            let fed = tokio::select! {
                biased;
                () = &mut until => return Ok(()),
                fed = self.feed.recv() => fed.ok(),
            };
            events += self.join(chunks, fed).await?;
        }
        until.await;
        Ok(())
    }

    /// Adds `fed` to `chunks` when it is the next chunk, and returns its events. When
    /// it is not (`None`: the feed lagged past this projector; or it does not follow
    /// on, which one sender never does), reads the log itself from the end of `chunks`
    /// on: one transaction never gets an event twice or skips one.
    async fn join(
        &mut self,
        chunks: &mut Vec<Arc<Chunk>>,
        fed: Option<Arc<Fed>>,
    ) -> Result<usize, LogError> {
        let through = through(chunks);
        match fed {
            Some(fed) if fed.after == through => {
                chunks.push(fed.chunk.clone());
                Ok(fed.chunk.entries.len())
            }
            _ => self.read_own(through).await.map(|()| 0),
        }
    }

    async fn first(&mut self, after: u64) -> Result<Arc<Chunk>, LogError> {
        loop {
            let Some(own) = self.own.as_mut() else {
                match self.feed.recv().await {
                    Ok(fed) if fed.chunk.through <= after => continue,
                    Ok(fed) if fed.after <= after => return Ok(fed.chunk.clone()),
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        self.read_own(after).await?;
                        continue;
                    }
                    Err(broadcast::error::RecvError::Closed) => {
                        return Err(LogError::Unavailable("the feed has stopped".into()));
                    }
                }
            };
            // Catching up: take what the feed holds now. A chunk that starts at or
            // before `after` continues without a gap; once the last one the feed sent
            // ends at or before `after`, its next one will.
            let mut caught_up = false;
            loop {
                match self.feed.try_recv() {
                    Ok(fed) if fed.chunk.through <= after => caught_up = true,
                    Ok(fed) if fed.after <= after => {
                        self.own = None;
                        return Ok(fed.chunk.clone());
                    }
                    Ok(_) | Err(broadcast::error::TryRecvError::Lagged(_)) => caught_up = false,
                    Err(_) => break,
                }
            }
            if caught_up {
                self.own = None;
                continue;
            }
            return own.next_chunk(self.max).await.map(Arc::new);
        }
    }
}

/// Where consecutive chunks end.
pub(crate) fn through(chunks: &[Arc<Chunk>]) -> u64 {
    chunks.last().map_or(0, |c| c.through)
}
