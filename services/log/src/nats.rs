//! The log on a NATS JetStream stream.
//!
//! - One subject per integration (`<prefix>.<integration id>`, `<prefix>._` for the rest).
//! - `Nats-Msg-Id` is the hex dedupe key, so retries within the stream's duplicate
//!   window store one message. A duplicate answer is checked against the message it
//!   names, since a stranger could have taken the id ([`NatsLog::confirm`]).
//! - An event whose encoding fits in the server's `max_payload` is one message. A larger
//!   one (a big batch) is split into *part* messages followed by one *commit* message
//!   that lists the parts' sequences and the BLAKE3 hash of the whole. Readers skip
//!   parts and rebuild the event when they reach its commit, so a batch whose commit was
//!   never stored (a crash or an error between parts) is invisible to every reader.

use crate::nats_auth;
use crate::nats_batch::{
    COMMIT, CommitRecord, KIND, MAX_ASSEMBLED, MIN_PART, MSG_ID, PART, part_id,
};
use crate::nats_options::{NatsOptions, RETRY_WINDOW};
use crate::nats_tail::{NatsTail, header, record, stored};
use crate::unavailable;
use crate::{Appended, Authenticity, LogError, Record, again_id};
use async_nats::HeaderMap;
use async_nats::jetstream::context::PublishError;
use async_nats::jetstream::publish::PublishAck as PubAck;
use async_nats::jetstream::{self, stream};
use bytes::Bytes;
use clef_pro_schema::event::Event;
use clef_pro_schema::sealed::{Sealed, seal_without_text};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How many ids one append tries before it gives up on a publisher taking them.
const TAKEN_IDS: usize = 3;

/// How many records on the meta subject are read for a boundary that holds its tag.
const BOUNDARY_SCAN: usize = 1000;

/// Room left in `max_payload` for headers and subject.
const OVERHEAD: usize = 4096;
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
        let log = Self {
            client,
            js,
            stream,
            opts,
            max_part: server.max_payload.saturating_sub(OVERHEAD).max(MIN_PART),
            warnings,
            auth,
        };
        log.settle_legacy_boundary(info.state.last_sequence).await?;
        Ok(log)
    }

    /// Reads the stream's legacy boundary ([`Event::LegacyTrusted`], on its own subject)
    /// or, the first time this release meets the stream, records one: every record
    /// stored so far was written before events were authenticated, or the stream is
    /// new. Records there without a valid tag are refused and passed over
    /// ([`NatsLog::legacy_boundary`]).
    async fn settle_legacy_boundary(&self, head: u64) -> Result<(), LogError> {
        let through = match self.legacy_boundary().await? {
            Boundary::At(through) => through,
            // A boundary is recorded once per stream, authenticated: one that does not
            // verify was recorded under another key. Recording another here would leave
            // a record the deployment's own instances refuse, for good (`deny_delete`).
            Boundary::UnderAnotherKey => {
                return Err(LogError::Config(format!(
                    "the stream's records on {} are authenticated under another deployment \
                     key: pass the --deployment-key of the deployment that wrote them \
                     (nothing was written)",
                    self.meta_subject()
                )));
            }
            Boundary::None => {
                let record = seal_without_text(Event::LegacyTrusted {
                    through: head,
                    at: clef_pro_schema::now_ms(),
                })
                .expect("the boundary has no text");
                self.append(&record, None).await?;
                // Another instance may have recorded one first: all take the first.
                match self.legacy_boundary().await? {
                    Boundary::At(through) => through,
                    _ => head,
                }
            }
        };
        self.auth.set_legacy_through(through);
        Ok(())
    }

    /// The first boundary on the meta subject whose tag holds, if one was recorded.
    /// Records there without one (published by someone without the key) are refused
    /// and passed over: junk cannot move the boundary, nor stand in for it. More than
    /// [`BOUNDARY_SCAN`] of them is an error for the operator, not a guess.
    async fn legacy_boundary(&self) -> Result<Boundary, LogError> {
        let mut another_key = false;
        let subject = self.meta_subject();
        let mut from = 1;
        for _ in 0..BOUNDARY_SCAN {
            let m = match self
                .stream
                .get_first_raw_message_by_subject(&subject, from)
                .await
            {
                Ok(m) => m,
                Err(e) if e.kind() == stream::RawMessageErrorKind::NoMessageFound => {
                    return Ok(if another_key {
                        Boundary::UnderAnotherKey
                    } else {
                        Boundary::None
                    });
                }
                Err(e) => return Err(unavailable(e)),
            };
            if let Some(Event::LegacyTrusted { through, .. }) =
                self.auth.open(m.sequence, &m.payload)
            {
                return Ok(Boundary::At(through));
            }
            another_key |= clef_pro_schema::event::is_authenticated_envelope(&m.payload);
            from = m.sequence + 1;
        }
        Err(LogError::Config(format!(
            "{BOUNDARY_SCAN} records on {subject} without a valid tag: someone without the \
             deployment key publishes there; restrict publishing (docs/security.md)"
        )))
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
        headers.insert(MSG_ID, id.as_str());
        if let Some(k) = kind {
            headers.insert(KIND, k);
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
    pub(crate) async fn append(
        &self,
        event: &Sealed,
        again: Option<u64>,
    ) -> Result<Appended, LogError> {
        let subject = self.subject(event.event());
        let (bytes, key) = event.encode_keyed(self.auth.key());
        let (bytes, id) = (Bytes::from(bytes), again_id(key, again));
        let deadline = tokio::time::Instant::now() + self.opts.append_wait;
        let mut pause = Duration::from_millis(100);
        loop {
            // While disconnected, wait rather than buffer a write we cannot confirm.
            let attempt =
                if self.client.connection_state() == async_nats::connection::State::Connected {
                    self.append_bytes(&subject, &id, event.event(), bytes.clone())
                        .await
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
            let bytes = Bytes::from(r.bytes.clone());
            if bytes.len() <= self.max_part {
                let ack = self
                    .publish(&subject, hex::encode(r.id), None, bytes.clone())
                    .await?;
                pending.push((subject, r, event, bytes, ack));
                continue;
            }
            for (subject, r, event, bytes, ack) in pending.drain(..) {
                let a = acked(ack.await.map_err(unavailable)?);
                out.push(self.confirm(&subject, &r.id, event, &bytes, a).await?);
            }
            out.push(self.append_bytes(&subject, &r.id, event, bytes).await?);
        }
        for (subject, r, event, bytes, ack) in pending {
            let a = acked(ack.await.map_err(unavailable)?);
            out.push(self.confirm(&subject, &r.id, event, &bytes, a).await?);
        }
        Ok(out)
    }

    /// Appends `bytes`, the encoding of `event`, under the id `id` (its hex), confirming
    /// a duplicate answer.
    async fn append_bytes(
        &self,
        subject: &str,
        id: &[u8; 32],
        event: &Event,
        bytes: Bytes,
    ) -> Result<Appended, LogError> {
        let a = self
            .store_bytes(subject, &hex::encode(id), bytes.clone())
            .await?;
        self.confirm(subject, id, event, &bytes, a).await
    }

    /// A duplicate answer names the message already stored under the append's `id`.
    /// That must be the same `event` (by its dedupe key) under this log's key: anyone who
    /// can publish could have taken the id first (an acknowledgement or a revocation
    /// would then be dropped unseen). If it is not, the bytes go again under an id of
    /// this log's own making ([`NatsLog::fresh_id`]), and readers key the record by its
    /// event.
    async fn confirm(
        &self,
        subject: &str,
        id: &[u8; 32],
        event: &Event,
        bytes: &Bytes,
        mut appended: Appended,
    ) -> Result<Appended, LogError> {
        for _ in 0..TAKEN_IDS {
            if !appended.duplicate || self.holds(appended.seq, &event.dedupe_key()).await? {
                return Ok(appended);
            }
            tracing::warn!(
                seq = appended.seq,
                "a message this log did not write holds an append's id: appending under another"
            );
            let fresh = self.fresh_id(&hex::encode(id), appended.seq);
            appended = self.store_bytes(subject, &fresh, bytes.clone()).await?;
        }
        Err(LogError::Unavailable(format!(
            "{TAKEN_IDS} ids for one append were taken by messages this log did not write"
        )))
    }

    /// Whether the record at `seq` is an event of this log whose dedupe key is `key`.
    async fn holds(&self, seq: u64, key: &[u8; 32]) -> Result<bool, LogError> {
        let Some(m) = stored(&self.stream, seq).await? else {
            return Ok(false);
        };
        // As readers read it: a part is never the event, whatever it holds.
        let Ok(Some(bytes)) = record(&self.stream, seq, Some(&m.headers), &m.payload).await? else {
            return Ok(false);
        };
        Ok(self
            .auth
            .open(seq, &bytes)
            .is_some_and(|e| e.dedupe_key() == *key))
    }

    /// Whether the record at `seq` is a part holding `part`.
    async fn is_part(&self, seq: u64, part: &[u8]) -> Result<bool, LogError> {
        Ok(stored(&self.stream, seq)
            .await?
            .is_some_and(|m| header(Some(&m.headers), KIND) == Some(PART) && m.payload == part))
    }

    /// An id in place of `id`, which a stranger took (at `taken`): `id`, `-` and a tag
    /// only this log can make, the same for a retry of the same append. The `-` tells
    /// readers it is not a dedupe key; a part's stays a part of its commit
    /// ([`crate::nats_batch::is_part_of`]).
    fn fresh_id(&self, id: &str, taken: u64) -> String {
        let tag = self
            .auth
            .key()
            .mac(&[id.as_bytes(), &taken.to_be_bytes()].concat());
        format!("{id}-{}", hex::encode(&tag[..8]))
    }

    /// Stores `bytes` under `id`: one message, or parts and a commit.
    async fn store_bytes(
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
        if bytes.len() > MAX_ASSEMBLED {
            return Err(LogError::Refused(format!(
                "an event of {} bytes: the log stores at most {MAX_ASSEMBLED}",
                bytes.len()
            )));
        }
        // Publish every part, then wait for all their acks, then the commit.
        let mut pending = Vec::new();
        for (i, start) in (0..bytes.len()).step_by(self.max_part).enumerate() {
            let part_id = part_id(&id, i);
            let part = bytes.slice(start..bytes.len().min(start + self.max_part));
            let ack = self
                .publish(&subject, part_id.clone(), Some(PART), part.clone())
                .await?;
            pending.push((part_id, part, ack));
        }
        let mut parts = Vec::with_capacity(pending.len());
        for (part_id, part, ack) in pending {
            let mut ack = match ack.await {
                Err(e) if in_process(&e) => {
                    self.publish_acked(&subject, &part_id, Some(PART), part.clone())
                        .await?
                }
                other => other.map_err(unavailable)?,
            };
            // A duplicate part must be this part: a stranger could have taken its id.
            if ack.duplicate && !self.is_part(ack.sequence, &part).await? {
                let taken = self.fresh_id(&part_id, ack.sequence);
                ack = self
                    .publish_acked(&subject, &taken, Some(PART), part)
                    .await?;
            }
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
        NatsTail::open(
            self.stream.clone(),
            self.auth.clone(),
            format!("{}.>", self.opts.subject_prefix),
            from,
        )
        .await
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

/// What the meta subject says of the legacy boundary.
enum Boundary {
    /// The first boundary whose tag holds.
    At(u64),
    /// None recorded (junk without the authenticated envelope passed over).
    None,
    /// None that holds, but one in the authenticated envelope: recorded under another
    /// deployment key.
    UnderAnotherKey,
}
