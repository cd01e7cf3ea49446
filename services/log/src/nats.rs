//! The log on a NATS JetStream stream.
//!
//! - One subject per integration (`<prefix>.<integration id>`, `<prefix>._` for the rest).
//! - `Nats-Msg-Id` is the hex dedupe key, so retries within the stream's duplicate
//!   window store one message.
//! - An event whose encoding fits in the server's `max_payload` is one message. A larger
//!   one (a big batch) is split into *part* messages followed by one *commit* message
//!   that lists the parts' sequences and the BLAKE3 hash of the whole. Readers skip
//!   parts and rebuild the event when they reach its commit, so a batch whose commit was
//!   never stored (a crash or an error between parts) is invisible to every reader.

use crate::nats_auth::{self, NatsAuth};
use crate::{Appended, Authenticity, Chunk, Entry, LogError, Record};
use async_nats::jetstream::context::PublishError;
use async_nats::jetstream::publish::PublishAck as PubAck;
use async_nats::jetstream::{self, consumer, stream};
use async_nats::{HeaderMap, HeaderValue};
use bytes::Bytes;
use clef_pro_schema::event::Event;
use clef_pro_schema::sealed::{Sealed, seal_without_text};
use futures::{FutureExt, StreamExt};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const KIND: &str = "Clef-Pro-Kind";
const PART: &str = "part";
const COMMIT: &str = "commit";
/// Room left in `max_payload` for headers and subject.
const OVERHEAD: usize = 4096;
/// How long a client may retry an append and still be deduplicated; a duplicate window
/// shorter than this is warned about.
pub const RETRY_WINDOW: Duration = Duration::from_secs(120);
/// The default [`NatsOptions::append_wait`]: longer than a JetStream leader election
/// (about 12 s measured in the 3-node cluster test).
pub const APPEND_WAIT: Duration = Duration::from_secs(15);

/// How to reach and shape the streams. Defaults: stream `CLEF_PRO`, subjects
/// `clefpro.events.>`, intents on `CLEF_PRO_INTENTS` (`clefpro.intents.>`), one
/// replica, a two-minute duplicate window, no credentials. Its `Debug` shows neither
/// the URL's user info nor any secret of `auth`.
#[derive(Clone)]
pub struct NatsOptions {
    /// One server URL, or several separated by commas (members of one cluster). A
    /// `user:password@` in it is used as credentials and never logged.
    pub url: String,
    /// Credentials and TLS settings.
    pub auth: NatsAuth,
    pub stream: String,
    pub subject_prefix: String,
    pub intents_stream: String,
    pub intents_subject_prefix: String,
    pub replicas: usize,
    pub duplicate_window: Duration,
    /// How long an append waits for the server's acknowledgement.
    pub ack_timeout: Duration,
    /// How long an append that fails for a reason that passes (no stream leader while
    /// JetStream elects one, a lost connection) is retried before it fails: a client
    /// that sees a node die sees a slower answer, not an error.
    pub append_wait: Duration,
}

impl std::fmt::Debug for NatsOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsOptions")
            .field("url", &nats_auth::redact_url(&self.url))
            .field("auth", &self.auth)
            .field("stream", &self.stream)
            .field("subject_prefix", &self.subject_prefix)
            .field("intents_stream", &self.intents_stream)
            .field("intents_subject_prefix", &self.intents_subject_prefix)
            .field("replicas", &self.replicas)
            .field("duplicate_window", &self.duplicate_window)
            .field("ack_timeout", &self.ack_timeout)
            .field("append_wait", &self.append_wait)
            .finish()
    }
}

impl NatsOptions {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            auth: NatsAuth::default(),
            stream: "CLEF_PRO".into(),
            subject_prefix: "clefpro.events".into(),
            intents_stream: "CLEF_PRO_INTENTS".into(),
            intents_subject_prefix: "clefpro.intents".into(),
            replicas: 1,
            duplicate_window: RETRY_WINDOW,
            ack_timeout: Duration::from_secs(5),
            append_wait: APPEND_WAIT,
        }
    }
}

#[derive(Clone)]
pub struct NatsLog {
    client: async_nats::Client,
    js: jetstream::Context,
    stream: stream::Stream,
    opts: NatsOptions,
    max_part: usize,
    warnings: Vec<String>,
    auth: Arc<Authenticity>,
}

pub(crate) fn unavailable(e: impl std::fmt::Display) -> LogError {
    LogError::Unavailable(e.to_string())
}

impl NatsLog {
    pub(crate) async fn connect(
        opts: NatsOptions,
        auth: Arc<Authenticity>,
    ) -> Result<Self, LogError> {
        // The client only ever sees URLs without user info, so none of its log lines
        // (which print server addresses) can hold a password.
        let (servers, access) = nats_auth::servers(&opts.url, &opts.auth)?;
        // The client retries the first connect in the background (NATS may start after
        // clef-pro); its last failure explains a stream call that then times out.
        let last_failure = Arc::new(Mutex::new(None::<String>));
        let record = last_failure.clone();
        let options = async_nats::ConnectOptions::new()
            .name("clef-pro")
            .retry_on_initial_connect()
            .event_callback(move |event| {
                let record = record.clone();
                async move {
                    if let async_nats::Event::ClientError(e) = event {
                        *record.lock().unwrap_or_else(|p| p.into_inner()) = Some(e.to_string());
                    }
                }
            });
        let client = access
            .apply(options)
            .await?
            .connect(servers.clone())
            .await
            .map_err(unavailable)?;
        let not_connected = |e: &dyn std::fmt::Display| {
            let last = last_failure
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            match last {
                Some(why)
                    if client.connection_state() != async_nats::connection::State::Connected =>
                {
                    unavailable(format!("cannot connect to NATS ({why}): {e}"))
                }
                _ => unavailable(e),
            }
        };
        let mut js = jetstream::new(client.clone());
        js.set_timeout(opts.ack_timeout);
        let wanted = stream::Config {
            name: opts.stream.clone(),
            subjects: vec![format!("{}.>", opts.subject_prefix)],
            storage: stream::StorageType::File,
            deny_delete: true,
            deny_purge: true,
            max_age: Duration::ZERO,
            duplicate_window: opts.duplicate_window,
            num_replicas: opts.replicas,
            allow_direct: true,
            ..Default::default()
        };
        let mut stream = js
            .get_or_create_stream(wanted)
            .await
            .map_err(|e| not_connected(&e))?;
        let info = stream.info().await.map_err(unavailable)?.clone();
        let c = &info.config;
        if c.storage != stream::StorageType::File
            || !c.deny_delete
            || !c.deny_purge
            || c.max_age != Duration::ZERO
        {
            return Err(LogError::Config(format!(
                "stream {} must use file storage, deny_delete, deny_purge and no max_age",
                c.name
            )));
        }
        let mut warnings = Vec::new();
        if c.num_replicas < 3 {
            warnings.push(format!(
                "stream {} has {} replica(s): acknowledged reports survive a power loss only if \
                 nats-server runs with `sync_interval: always` (see ops/nats/single.conf)",
                c.name, c.num_replicas
            ));
        }
        if c.duplicate_window < RETRY_WINDOW {
            warnings.push(format!(
                "stream {} deduplicates for {:?}, less than the {:?} a client may retry for",
                c.name, c.duplicate_window, RETRY_WINDOW
            ));
        }
        let server = client.server_info();
        if access.password_in_clear(&servers, server.tls_required) {
            warnings.push(
                "the NATS password goes over the network in clear: use a tls:// URL, \
                 --nats-tls-ca, or a server that requires TLS"
                    .into(),
            );
        }
        let max_payload = server.max_payload.max(OVERHEAD * 2);
        let log = Self {
            client,
            js,
            stream,
            opts,
            max_part: max_payload - OVERHEAD,
            warnings,
            auth,
        };
        log.settle_legacy_boundary(info.state.last_sequence).await?;
        Ok(log)
    }

    /// Reads the stream's legacy boundary ([`Event::LegacyTrusted`], on its own subject)
    /// or, the first time this release meets the stream, records one: every record
    /// stored so far was written before events were authenticated, or the stream is
    /// new. A boundary without a valid tag is refused and the stream trusts none.
    async fn settle_legacy_boundary(&self, head: u64) -> Result<(), LogError> {
        let subject = self.meta_subject();
        let last = match self.stream.get_last_raw_message_by_subject(&subject).await {
            Ok(m) => Some((m.sequence, m.payload)),
            Err(e) if e.kind() == stream::LastRawMessageErrorKind::NoMessageFound => None,
            Err(e) => return Err(unavailable(e)),
        };
        let through = match last {
            Some((seq, payload)) => match self.auth.open(seq, &payload) {
                Some(Event::LegacyTrusted { through, .. }) => through,
                _ => 0,
            },
            None => {
                let record = seal_without_text(Event::LegacyTrusted {
                    through: head,
                    at: clef_pro_schema::now_ms(),
                })
                .expect("the boundary has no text");
                self.append(&record).await?;
                head
            }
        };
        self.auth.set_legacy_through(through);
        Ok(())
    }

    fn meta_subject(&self) -> String {
        format!("{}.meta.legacy", self.opts.subject_prefix)
    }

    fn subject(&self, event: &Event) -> String {
        if matches!(event, Event::LegacyTrusted { .. }) {
            return self.meta_subject();
        }
        let suffix = event.integration().map_or("_", |i| i.as_str());
        format!("{}.{suffix}", self.opts.subject_prefix)
    }

    pub(crate) fn authenticity(&self) -> &Authenticity {
        &self.auth
    }

    pub(crate) fn options(&self) -> &NatsOptions {
        &self.opts
    }

    pub(crate) fn jetstream(&self) -> &jetstream::Context {
        &self.js
    }

    pub(crate) async fn publish(
        &self,
        subject: &str,
        id: String,
        kind: Option<&str>,
        payload: Bytes,
    ) -> Result<jetstream::context::PublishAckFuture, LogError> {
        let mut headers = HeaderMap::new();
        headers.insert("Nats-Msg-Id", HeaderValue::from(id.as_str()));
        if let Some(k) = kind {
            headers.insert(KIND, HeaderValue::from(k));
        }
        self.js
            .publish_with_headers(subject.to_owned(), headers, payload)
            .await
            .map_err(unavailable)
    }

    /// Publishes and waits for the acknowledgement. A message with the same id that
    /// another writer is storing right now (two instances acknowledging one alert,
    /// say) is waited for, and then reported as the duplicate it is.
    async fn publish_acked(
        &self,
        subject: &str,
        id: &str,
        kind: Option<&str>,
        payload: Bytes,
    ) -> Result<PubAck, LogError> {
        let deadline = tokio::time::Instant::now() + self.opts.ack_timeout;
        loop {
            let ack = self
                .publish(subject, id.to_owned(), kind, payload.clone())
                .await?
                .await;
            match ack {
                Err(e) if in_process(&e) && tokio::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                other => return other.map_err(unavailable),
            }
        }
    }

    /// Appends one event. A failure that passes is retried under the same message ids
    /// (so a retry of a write the server did store is a duplicate) for up to
    /// `append_wait`; past that the error is returned.
    pub(crate) async fn append(&self, event: &Sealed) -> Result<Appended, LogError> {
        let subject = self.subject(event.event());
        let id = hex::encode(event.dedupe_key());
        let bytes = Bytes::from(event.encode(self.auth.key()));
        let deadline = tokio::time::Instant::now() + self.opts.append_wait;
        let mut pause = Duration::from_millis(100);
        loop {
            // While disconnected, wait rather than buffer a write we cannot confirm.
            let attempt =
                if self.client.connection_state() == async_nats::connection::State::Connected {
                    self.append_bytes(&subject, &id, bytes.clone()).await
                } else {
                    Err(LogError::Unavailable("not connected to NATS".into()))
                };
            match attempt {
                Err(LogError::Unavailable(why))
                    if tokio::time::Instant::now() + pause < deadline =>
                {
                    tracing::debug!(%why, "append failed for now: retrying");
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(1));
                }
                other => return other,
            }
        }
    }

    /// Appends records in their order: the ones that fit in one message are published
    /// without waiting, and their acknowledgements awaited together; a larger one
    /// waits for those before it and goes as parts and a commit.
    pub(crate) async fn append_records(
        &self,
        records: &[Record],
        events: &[Event],
    ) -> Result<Vec<Appended>, LogError> {
        let mut out = Vec::with_capacity(records.len());
        let mut pending = Vec::new();
        for (r, event) in records.iter().zip(events) {
            let subject = self.subject(event);
            let id = hex::encode(r.id);
            let bytes = Bytes::from(r.bytes.clone());
            if bytes.len() <= self.max_part {
                pending.push(self.publish(&subject, id, None, bytes).await?);
                continue;
            }
            for ack in pending.drain(..) {
                out.push(acked(ack.await.map_err(unavailable)?));
            }
            out.push(self.append_bytes(&subject, &id, bytes).await?);
        }
        for ack in pending {
            out.push(acked(ack.await.map_err(unavailable)?));
        }
        Ok(out)
    }

    async fn append_bytes(
        &self,
        subject: &str,
        id: &str,
        bytes: Bytes,
    ) -> Result<Appended, LogError> {
        let (subject, id) = (subject.to_owned(), id.to_owned());
        if bytes.len() <= self.max_part {
            let ack = self.publish_acked(&subject, &id, None, bytes).await?;
            return Ok(Appended {
                seq: ack.sequence,
                duplicate: ack.duplicate,
            });
        }
        // Publish every part, then wait for all their acks, then the commit.
        let mut pending = Vec::new();
        for (i, start) in (0..bytes.len()).step_by(self.max_part).enumerate() {
            let part_id = format!("{id}-p{i}");
            let part = bytes.slice(start..bytes.len().min(start + self.max_part));
            let ack = self
                .publish(&subject, part_id.clone(), Some(PART), part.clone())
                .await?;
            pending.push((part_id, part, ack));
        }
        let mut parts = Vec::with_capacity(pending.len());
        for (part_id, part, ack) in pending {
            let ack = match ack.await {
                Err(e) if in_process(&e) => {
                    self.publish_acked(&subject, &part_id, Some(PART), part)
                        .await?
                }
                other => other.map_err(unavailable)?,
            };
            parts.push(ack.sequence);
        }
        let commit = CommitRecord {
            parts,
            hash: *blake3::hash(&bytes).as_bytes(),
        };
        let payload = Bytes::from(postcard::to_allocvec(&commit).map_err(unavailable)?);
        let ack = self
            .publish_acked(&subject, &id, Some(COMMIT), payload)
            .await?;
        Ok(Appended {
            seq: ack.sequence,
            duplicate: ack.duplicate,
        })
    }

    pub(crate) async fn head(&self) -> Result<u64, LogError> {
        let mut stream = self.stream.clone();
        Ok(stream
            .info()
            .await
            .map_err(unavailable)?
            .state
            .last_sequence)
    }

    pub(crate) async fn tail(&self, from: u64) -> Result<NatsTail, LogError> {
        let deliver_policy = if from <= 1 {
            consumer::DeliverPolicy::All
        } else {
            consumer::DeliverPolicy::ByStartSequence {
                start_sequence: from,
            }
        };
        let config = consumer::pull::OrderedConfig {
            filter_subject: format!("{}.>", self.opts.subject_prefix),
            deliver_policy,
            ..Default::default()
        };
        let messages = self
            .stream
            .create_consumer(config)
            .await
            .map_err(unavailable)?
            .messages()
            .await
            .map_err(unavailable)?;
        Ok(NatsTail {
            stream: self.stream.clone(),
            auth: self.auth.clone(),
            messages,
            through: from.saturating_sub(1),
            ahead: false,
        })
    }

    pub(crate) fn warnings(&self) -> &[String] {
        &self.warnings
    }

    pub(crate) fn describe(&self) -> String {
        format!("nats:{}", self.opts.stream)
    }
}

fn acked(ack: PubAck) -> Appended {
    Appended {
        seq: ack.sequence,
        duplicate: ack.duplicate,
    }
}

/// JetStream's error code for "a message with this id is being stored right now".
const DUPLICATE_IN_PROCESS: u64 = 10158;
/// JetStream's error code for a message the stream did not store because of one of its
/// limits (the description says which).
pub(crate) const STORE_FAILED: u64 = 10077;

/// JetStream refused a publish because a message with the same id is being stored
/// right now; once that one is stored, the same publish is a duplicate.
pub(crate) fn in_process(e: &PublishError) -> bool {
    refused(e, DUPLICATE_IN_PROCESS, "")
}

/// Whether the server refused a publish with JetStream error `code` and a description
/// containing `reason`.
pub(crate) fn refused(e: &PublishError, code: u64, reason: &str) -> bool {
    std::error::Error::source(e)
        .and_then(|s| s.downcast_ref::<async_nats::jetstream::Error>())
        .is_some_and(|api| {
            // `ErrorCode` has no accessor for its number; it serializes as the number.
            serde_json::to_value(api.error_code())
                .ok()
                .and_then(|v| v.as_u64())
                == Some(code)
                && api.to_string().contains(reason)
        })
}

#[derive(serde::Serialize, serde::Deserialize)]
struct CommitRecord {
    parts: Vec<u64>,
    hash: [u8; 32],
}

/// A live reader of the stream through an ordered consumer, which recreates itself
/// after a reconnect or a gap.
///
/// An ordered consumer lives on the stream's leader. When that node dies the consumer
/// can go quiet without an error, so a reader that has seen nothing for
/// [`STALL_CHECK`] looks at the stream's head; if it was ahead at two checks in a row,
/// with nothing delivered in between, the reader fails, and its owner reads on from
/// its checkpoint through a new consumer.
pub struct NatsTail {
    stream: stream::Stream,
    auth: Arc<Authenticity>,
    messages: consumer::pull::Ordered,
    /// The last sequence consumed.
    through: u64,
    /// Whether the head was ahead of `through` at the last check, with nothing since.
    ahead: bool,
}

const STALL_CHECK: Duration = Duration::from_secs(2);

impl NatsTail {
    pub(crate) async fn next_chunk(&mut self, max: usize) -> Result<Chunk, LogError> {
        let mut entries = Vec::new();
        let auth = self.auth.clone();
        let through = self
            .next_raw(max, |seq, _, bytes| {
                // The legacy boundary is the log's own record, not a fact for readers.
                match auth.open(seq, &bytes) {
                    Some(Event::LegacyTrusted { .. }) | None => false,
                    Some(event) => {
                        entries.push(Entry { seq, event });
                        true
                    }
                }
            })
            .await?;
        Ok(Chunk { entries, through })
    }

    /// Like `next_chunk`, but returns the records the log trusts as they are stored.
    pub(crate) async fn next_records(
        &mut self,
        max: usize,
    ) -> Result<(Vec<Record>, u64), LogError> {
        let mut records = Vec::new();
        let auth = self.auth.clone();
        let through = self
            .next_raw(max, |seq, id, bytes| match auth.open(seq, &bytes) {
                Some(Event::LegacyTrusted { .. }) | None => false,
                Some(event) => {
                    let id = id.unwrap_or_else(|| event.dedupe_key());
                    records.push(Record { seq, id, bytes });
                    true
                }
            })
            .await?;
        Ok((records, through))
    }

    /// Waits for the next message, then takes those already delivered, passing each
    /// whole record (a single message, or a batch rebuilt at its commit) to `keep`
    /// until it has kept `max`; returns the last sequence consumed.
    async fn next_raw(
        &mut self,
        max: usize,
        mut keep: impl FnMut(u64, Option<[u8; 32]>, Vec<u8>) -> bool,
    ) -> Result<u64, LogError> {
        let first = loop {
            match tokio::time::timeout(STALL_CHECK, self.messages.next()).await {
                Ok(m) => break m.ok_or_else(|| unavailable("the consumer ended"))?,
                Err(_) => self.check_not_stalled().await?,
            }
        };
        self.ahead = false;
        let mut kept = 0;
        let mut next = Some(first);
        while let Some(m) = next {
            let (seq, record) = take(&self.stream, &self.auth, m).await?;
            self.through = seq;
            if let Some((id, bytes)) = record {
                kept += usize::from(keep(seq, id, bytes));
            }
            if kept >= max {
                break;
            }
            next = match self.messages.next().now_or_never() {
                Some(Some(m)) => Some(m),
                Some(None) => return Err(unavailable("the consumer ended")),
                None => None,
            };
        }
        Ok(self.through)
    }

    async fn check_not_stalled(&mut self) -> Result<(), LogError> {
        let head = match self.stream.info().await {
            Ok(info) => info.state.last_sequence,
            // The consumer has its own recovery while the server is unreachable.
            Err(e) => {
                tracing::debug!(error = %e, "cannot check the stream's head");
                return Ok(());
            }
        };
        if self.ahead && head > self.through {
            return Err(unavailable(format!(
                "the consumer stalled at sequence {} with the stream at {head}",
                self.through
            )));
        }
        self.ahead = head > self.through;
        Ok(())
    }
}

/// One message's sequence and, unless it is a batch part or a commit that is not a
/// batch this log wrote, the whole record: its `Nats-Msg-Id` and its bytes.
async fn take(
    stream: &stream::Stream,
    auth: &Authenticity,
    msg: Result<jetstream::Message, consumer::pull::OrderedError>,
) -> Result<(u64, Option<(Option<[u8; 32]>, Vec<u8>)>), LogError> {
    let msg = msg.map_err(unavailable)?;
    let seq = msg.info().map_err(unavailable)?.stream_sequence;
    let header = |name: &str| {
        msg.headers
            .as_ref()
            .and_then(|h| h.get(name))
            .map(|v| v.as_str().to_owned())
    };
    let bytes = match header(KIND).as_deref() {
        Some(PART) => return Ok((seq, None)),
        Some(COMMIT) => match assemble(stream, &msg.payload).await? {
            Ok(bytes) => bytes,
            Err(why) => {
                auth.refuse(seq, why);
                return Ok((seq, None));
            }
        },
        _ => msg.payload.to_vec(),
    };
    let id = header("Nats-Msg-Id")
        .and_then(|h| hex::decode(h).ok())
        .and_then(|v| <[u8; 32]>::try_from(v).ok());
    Ok((seq, Some((id, bytes))))
}

/// Fetches a committed batch's parts by sequence and checks the whole. The outer error
/// is the server's; the inner says why the commit is not a batch this log wrote (a
/// forged commit can name any sequences, so it must never stop the reader).
async fn assemble(
    stream: &stream::Stream,
    commit: &[u8],
) -> Result<Result<Vec<u8>, &'static str>, LogError> {
    let Ok(commit) = postcard::from_bytes::<CommitRecord>(commit) else {
        return Ok(Err("a malformed batch commit"));
    };
    let mut bytes = Vec::new();
    for part in commit.parts {
        match stream.get_raw_message(part).await {
            Ok(m) => bytes.extend_from_slice(&m.payload),
            Err(e) if e.kind() == stream::RawMessageErrorKind::NoMessageFound => {
                return Ok(Err("a batch commit naming a missing part"));
            }
            Err(e) => return Err(unavailable(e)),
        }
    }
    if *blake3::hash(&bytes).as_bytes() != commit.hash {
        return Ok(Err("batch parts that do not match their commit"));
    }
    Ok(Ok(bytes))
}
