//! The append-only log, clef-pro's only source of truth: one contract, two backends.
//!
//! - [`Log::open_embedded`]: a file in the data dir; an append returns once it is
//!   fsynced, and concurrent appends share one fsync (group commit).
//! - [`Log::connect_nats`]: a NATS JetStream stream; an append returns once the server
//!   has acknowledged it.
//!
//! Both only accept [`Sealed`] events (the output of the redaction chokepoint), both
//! deduplicate appends by the event's dedupe key, and both append a batch all or
//! nothing. Sequences increase but need not be contiguous.

pub mod archive;
mod embedded;
mod intent_queue;
mod nats;
mod nats_auth;
mod nats_batch;
mod nats_options;
mod nats_tail;

use clef_pro_schema::event::{DecodeError, Event, Provenance};
use clef_pro_schema::keys::PurposeKey;
use clef_pro_schema::sealed::Sealed;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

pub use intent_queue::{ACK_WAIT, Claim, IntentQueue};
pub use nats_auth::{NatsAuth, NatsCredentials, NatsTls, Secret, carries_nats_secret, redact_url};
pub use nats_options::{APPEND_WAIT, NatsOptions, RETRY_WINDOW};

/// One event read back from the log with its sequence number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub seq: u64,
    pub event: Event,
}

/// One record as the log stores it: the dedupe key it was appended under and the
/// event's authenticated encoding, byte for byte. Export and import move these, so a
/// moved log holds the very events (and tags) the original held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub seq: u64,
    pub id: [u8; 32],
    pub bytes: Vec<u8>,
}

/// The id a record is appended under: the event's dedupe key, or for an append again
/// ([`Log::append_again`]) that key and what it replaces, hashed.
pub(crate) fn again_id(key: [u8; 32], replacing: Option<u64>) -> [u8; 32] {
    match replacing {
        None => key,
        Some(version) => clef_pro_schema::event::dedupe_hash(
            "again",
            &[&key[..], &version.to_be_bytes()].concat(),
        ),
    }
}

/// The result of an append: where the event is, and whether an earlier append with the
/// same dedupe key already put it there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Appended {
    pub seq: u64,
    pub duplicate: bool,
}

/// What a tail read returns: the events found, and the last sequence consumed (which
/// may be past the last event when the log holds records that are not events, such as
/// the parts of a multi-message batch).
#[derive(Debug, Default)]
pub struct Chunk {
    pub entries: Vec<Entry>,
    pub through: u64,
    /// The entries' encoded size, in bytes: how much work applying them is.
    pub bytes: usize,
}

/// Errors of log operations. `Unavailable` is temporary (retry later); the others mean
/// the log or its configuration needs an operator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LogError {
    #[error("the log is unavailable: {0}")]
    Unavailable(String),
    #[error("the log is corrupt at sequence {seq}: {reason}")]
    Corrupt { seq: u64, reason: String },
    #[error("the log's configuration is unsafe: {0}")]
    Config(String),
    /// An operation this log refuses: a write to a read-only view, a record not
    /// authenticated under its key, an export file that does not read as one.
    #[error("{0}")]
    Refused(String),
    #[error("log i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// A failure that passes: the backend did not answer (retry later).
pub(crate) fn unavailable(e: impl std::fmt::Display) -> LogError {
    LogError::Unavailable(e.to_string())
}

/// What a log trusts when it reads, and what it refused. Every record the service
/// appends carries a tag under the deployment's event key; a reader passes on only
/// records whose tag holds, plus the version-1 records written before events were
/// authenticated, up to [`Authenticity::legacy_through`]. Anything else (forged,
/// altered, malformed, or a version-1 record published later by someone without the
/// key) is refused: logged, counted once per sequence, and skipped, so the projectors
/// carry on. Replays of genuine events are the projectors' to ignore (their folds
/// are idempotent per entity).
pub struct Authenticity {
    key: PurposeKey,
    legacy_through: AtomicU64,
    refused: Mutex<Refused>,
}

/// The records refused so far: a count, and the latest sequences, so that each is
/// counted once however many readers meet it. Only the latest [`Refused::KEPT`] are
/// kept, so a flood of junk costs no memory; a record older than all of them is taken
/// as counted. So the count is exact up to [`Refused::KEPT`] refusals, and beyond that
/// may miss old ones a reader far behind the others meets for the first time.
#[derive(Default)]
struct Refused {
    count: u64,
    latest: BTreeSet<u64>,
}

impl Refused {
    const KEPT: usize = 4096;

    /// Counts `seq` unless it was counted before; true when it is new.
    fn count(&mut self, seq: u64) -> bool {
        let older = self.latest.len() >= Self::KEPT
            && self.latest.first().is_some_and(|&first| seq < first);
        if older || !self.latest.insert(seq) {
            return false;
        }
        if self.latest.len() > Self::KEPT {
            self.latest.pop_first();
        }
        self.count += 1;
        true
    }
}

impl Authenticity {
    /// Trusts version-1 records at or below `legacy_through`.
    pub fn new(key: PurposeKey, legacy_through: u64) -> Arc<Self> {
        Arc::new(Self {
            key,
            legacy_through: AtomicU64::new(legacy_through),
            refused: Mutex::new(Refused::default()),
        })
    }

    pub(crate) fn key(&self) -> &PurposeKey {
        &self.key
    }

    pub(crate) fn set_legacy_through(&self, seq: u64) {
        self.legacy_through.store(seq, Ordering::Relaxed);
    }

    /// The last sequence at which a version-1 record is trusted.
    pub fn legacy_through(&self) -> u64 {
        self.legacy_through.load(Ordering::Relaxed)
    }

    /// The event in the record at `seq`, if the log trusts it.
    pub(crate) fn open(&self, seq: u64, bytes: &[u8]) -> Option<Event> {
        let why = match clef_pro_schema::event::open(bytes, &self.key) {
            Ok((event, Provenance::Authenticated)) => return Some(event),
            Ok((event, Provenance::Legacy)) if seq <= self.legacy_through() => {
                return Some(event);
            }
            Ok((_, Provenance::Legacy)) => "an unauthenticated record after the legacy boundary",
            Err(DecodeError::Forged) => "its authentication tag does not match",
            Err(_) => "it is not an event",
        };
        self.refuse(seq, why);
        None
    }

    /// Records a refused record once per sequence (each reader of the log sees it).
    pub(crate) fn refuse(&self, seq: u64, why: &str) {
        let fresh = self
            .refused
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .count(seq);
        if fresh {
            tracing::warn!(seq, why, "refused a record of the log");
        }
    }

    /// How many distinct records were refused since the process started.
    pub fn refused(&self) -> u64 {
        self.refused.lock().unwrap_or_else(|e| e.into_inner()).count
    }
}

/// The log, on one of its backends.
#[derive(Clone)]
pub enum Log {
    Embedded(embedded::EmbeddedLog),
    Nats(std::sync::Arc<nats::NatsLog>),
}

impl Log {
    /// Opens (or creates) the embedded log under `dir`, cutting off a torn last record.
    /// `group_commit: false` syncs once per append (the benchmark's baseline).
    /// Only this process writes the file, so every version-1 record in it was written
    /// by an earlier release of the service and is trusted.
    pub fn open_embedded(
        dir: &Path,
        group_commit: bool,
        key: PurposeKey,
    ) -> Result<Self, LogError> {
        Ok(Self::Embedded(embedded::EmbeddedLog::open(
            dir,
            group_commit,
            Authenticity::new(key, u64::MAX),
        )?))
    }

    /// Opens the embedded log under `dir` for reading only, while `serve` may keep
    /// writing it: the view holds the records whole at this moment (a fixed cut), and
    /// appends to it fail.
    pub fn open_embedded_read_only(dir: &Path, key: PurposeKey) -> Result<Self, LogError> {
        Ok(Self::Embedded(embedded::EmbeddedLog::open_read_only(
            dir,
            Authenticity::new(key, u64::MAX),
        )?))
    }

    /// Connects to NATS and creates or checks the stream. Version-1 records are trusted
    /// up to the boundary recorded on the stream the first time this release met it.
    pub async fn connect_nats(opts: NatsOptions, key: PurposeKey) -> Result<Self, LogError> {
        Ok(Self::Nats(std::sync::Arc::new(
            nats::NatsLog::connect(opts, Authenticity::new(key, 0)).await?,
        )))
    }

    /// What this log trusts and has refused.
    pub fn authenticity(&self) -> &Authenticity {
        match self {
            Self::Embedded(l) => l.authenticity(),
            Self::Nats(l) => l.authenticity(),
        }
    }

    /// Appends one sealed event; returns after it is durable.
    pub async fn append(&self, event: &Sealed) -> Result<Appended, LogError> {
        match self {
            Self::Embedded(l) => l.append(event, None).await,
            Self::Nats(l) => l.append(event, None).await,
        }
    }

    /// Appends `event` again, though the log took the same content before: a
    /// resubmission of older content that must replace what came since. `replacing`
    /// names what it replaces (a version only the caller knows), and the record's id is
    /// the event's dedupe key and `replacing` hashed together: a retry is still one
    /// record, and a later resubmission, replacing something else, is another.
    pub async fn append_again(&self, event: &Sealed, replacing: u64) -> Result<Appended, LogError> {
        match self {
            Self::Embedded(l) => l.append(event, Some(replacing)).await,
            Self::Nats(l) => l.append(event, Some(replacing)).await,
        }
    }

    /// Appends records read from another log (an import), in their order, each under
    /// its own dedupe key. Only records whose tag this deployment's key verifies are
    /// taken, so nothing reaches the log that did not pass a redaction chokepoint of
    /// this deployment; the first that does not verify fails the whole call before
    /// anything is written.
    pub async fn append_records(&self, records: &[Record]) -> Result<Vec<Appended>, LogError> {
        let mut events = Vec::with_capacity(records.len());
        for r in records {
            match clef_pro_schema::event::open(&r.bytes, self.authenticity().key()) {
                Ok((event, Provenance::Authenticated)) => events.push(event),
                _ => {
                    return Err(LogError::Refused(format!(
                        "record {} is not authenticated under this deployment's key",
                        r.seq
                    )));
                }
            }
        }
        match self {
            Self::Embedded(l) => l.append_records(records).await,
            Self::Nats(l) => l.append_records(records, &events).await,
        }
    }

    /// The sequence of the last record, 0 when the log is empty.
    pub async fn head(&self) -> Result<u64, LogError> {
        match self {
            Self::Embedded(l) => Ok(l.head()),
            Self::Nats(l) => l.head().await,
        }
    }

    /// Reads from `from` (inclusive) on, then follows new appends.
    pub async fn tail(&self, from: u64) -> Result<Tail, LogError> {
        Ok(match self {
            Self::Embedded(l) => Tail::Embedded(l.tail(from)),
            Self::Nats(l) => Tail::Nats(Box::new(l.tail(from).await?)),
        })
    }

    /// The queue that shares notification intents among instances on one JetStream
    /// (created on first use); `None` on the embedded log, which one process owns.
    pub async fn intent_queue(&self) -> Result<Option<IntentQueue>, LogError> {
        match self {
            Self::Embedded(_) => Ok(None),
            Self::Nats(l) => Ok(Some(IntentQueue::open(l.clone()).await?)),
        }
    }

    /// Warnings about settings that put acknowledged writes at risk.
    pub fn warnings(&self) -> Vec<String> {
        match self {
            Self::Embedded(_) => Vec::new(),
            Self::Nats(l) => l.warnings().to_vec(),
        }
    }

    /// A short description for logs: `embedded:<path>` or `nats:<stream>`.
    /// `embedded` or `nats`: which backend, without its location.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Embedded(_) => "embedded",
            Self::Nats(_) => "nats",
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Self::Embedded(l) => l.describe(),
            Self::Nats(l) => l.describe(),
        }
    }
}

/// A live reader of the log.
pub enum Tail {
    Embedded(embedded::EmbeddedTail),
    Nats(Box<nats_tail::NatsTail>),
}

impl Tail {
    /// Waits until at least one record past the last one consumed exists, then returns
    /// up to `max` of them.
    pub async fn next_chunk(&mut self, max: usize) -> Result<Chunk, LogError> {
        match self {
            Self::Embedded(t) => t.next_chunk(max).await,
            Self::Nats(t) => t.next_chunk(max).await,
        }
    }

    /// Like [`Tail::next_chunk`], but returns up to `max` of the records the log
    /// trusts as they are stored, and the last sequence consumed.
    pub async fn next_records(&mut self, max: usize) -> Result<(Vec<Record>, u64), LogError> {
        match self {
            Self::Embedded(t) => t.next_records(max).await,
            Self::Nats(t) => t.next_records(max).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Refused;

    #[test]
    fn each_refused_record_counts_once_in_bounded_memory() {
        let mut r = Refused::default();
        assert!(r.count(5) && !r.count(5), "a second reader meets it");
        let junk = 3 * Refused::KEPT as u64;
        for seq in 10..10 + junk {
            assert!(r.count(seq));
        }
        assert_eq!(r.count, junk + 1);
        assert_eq!(r.latest.len(), Refused::KEPT);
        assert!(
            !r.count(5) && !r.count(10),
            "older than the kept ones: counted before"
        );
        assert!(!r.count(9 + junk), "the latest is kept");
        assert!(r.count(10 + junk));
        assert_eq!(r.count, junk + 2);
    }
}
