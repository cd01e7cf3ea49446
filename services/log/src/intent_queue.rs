//! Notification intents shared by every instance on one JetStream: a work-queue stream
//! beside the log, from which one shared durable consumer hands each intent to one
//! instance at a time.
//!
//! - Subject per intent (`<prefix>.<intent id>`), at most one message per subject, new
//!   ones refused while it is there, and `Nats-Msg-Id` = intent id: however many
//!   instances enqueue an intent, it is in the queue at most once.
//! - The worker holding a claim keeps it alive with progress acks; a claim whose holder
//!   died is handed out again after [`ACK_WAIT`].
//! - A claim is acked (and the message removed) only after the outcome of its intent
//!   is in the log, so a later claim of the same intent, after the log has been read up
//!   to that point, sees it done.
//!
//! The queue holds intent ids only (hashes): no addresses, no content.

use crate::LogError;
use crate::nats::{NatsLog, STORE_FAILED, in_process, refused};
use crate::unavailable;
use async_nats::jetstream::{self, AckKind, consumer, stream};
use futures::StreamExt;
use std::sync::Arc;
use std::time::Duration;

/// How long a claim lasts without a progress ack before it is handed out again.
pub const ACK_WAIT: Duration = Duration::from_secs(30);
const DURABLE: &str = "notifier";

pub struct IntentQueue {
    log: Arc<NatsLog>,
    prefix: String,
    consumer: consumer::PullConsumer,
}

/// One intent handed to this instance; nobody else gets it while this is held and
/// [`Claim::progress`] is called more often than every [`ACK_WAIT`].
pub struct Claim {
    pub intent: String,
    /// How many times it has been handed out, this one included.
    pub delivered: u64,
    msg: jetstream::Message,
}

impl IntentQueue {
    pub(crate) async fn open(log: Arc<NatsLog>) -> Result<Self, LogError> {
        let opts = log.options();
        let prefix = opts.intents_subject_prefix.clone();
        let config = stream::Config {
            name: opts.intents_stream.clone(),
            subjects: vec![format!("{prefix}.>")],
            retention: stream::RetentionPolicy::WorkQueue,
            storage: stream::StorageType::File,
            num_replicas: opts.replicas,
            duplicate_window: opts.duplicate_window,
            max_messages_per_subject: 1,
            discard: stream::DiscardPolicy::New,
            discard_new_per_subject: true,
            ..Default::default()
        };
        let stream = log
            .jetstream()
            .get_or_create_stream(config)
            .await
            .map_err(unavailable)?;
        let consumer = stream
            .get_or_create_consumer(
                DURABLE,
                consumer::pull::Config {
                    durable_name: Some(DURABLE.into()),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: ACK_WAIT,
                    max_deliver: -1,
                    ..Default::default()
                },
            )
            .await
            .map_err(unavailable)?;
        Ok(Self {
            log,
            prefix,
            consumer,
        })
    }

    /// Puts an intent in the queue unless it is there already; `true` if this call
    /// added it.
    pub async fn enqueue(&self, intent: &str) -> Result<bool, LogError> {
        let subject = format!("{}.{intent}", self.prefix);
        let ack = self
            .log
            .publish(&subject, intent.to_owned(), None, bytes::Bytes::new())
            .await?
            .await;
        match ack {
            Ok(a) => Ok(!a.duplicate),
            // Refused because it is queued, or being queued by another instance just now
            // (whose sweep re-offers it should that fail).
            Err(e) if refused(&e, STORE_FAILED, "maximum messages per subject") => Ok(false),
            Err(e) if in_process(&e) => Ok(false),
            Err(e) => Err(unavailable(e)),
        }
    }

    /// Up to `max` intents to work on: waits up to `wait` for the first, then takes
    /// those that are waiting now. Empty if none came.
    pub async fn next_batch(&self, max: usize, wait: Duration) -> Result<Vec<Claim>, LogError> {
        let first = self
            .consumer
            .batch()
            .max_messages(1)
            .expires(wait)
            .messages()
            .await
            .map_err(unavailable)?;
        let mut claims = self.claims(first).await?;
        if !claims.is_empty() && max > 1 {
            let rest = self
                .consumer
                .fetch()
                .max_messages(max - 1)
                .messages()
                .await
                .map_err(unavailable)?;
            claims.extend(self.claims(rest).await?);
        }
        Ok(claims)
    }

    async fn claims(&self, mut batch: consumer::pull::Batch) -> Result<Vec<Claim>, LogError> {
        let mut out = Vec::new();
        while let Some(msg) = batch.next().await {
            // Claims already received are worked on; the error shows on the next call.
            let msg = match msg {
                Ok(m) => m,
                Err(_) if !out.is_empty() => break,
                Err(e) => return Err(unavailable(e)),
            };
            let delivered = msg.info().map_err(unavailable)?.delivered.max(1) as u64;
            let intent = msg
                .subject
                .as_str()
                .strip_prefix(&format!("{}.", self.prefix))
                .unwrap_or_default()
                .to_owned();
            out.push(Claim {
                intent,
                delivered,
                msg,
            });
        }
        Ok(out)
    }
}

impl Claim {
    /// Extends the claim by another [`ACK_WAIT`].
    pub async fn progress(&self) -> Result<(), LogError> {
        self.msg
            .ack_with(AckKind::Progress)
            .await
            .map_err(unavailable)
    }

    /// The intent's outcome is in the log: remove it from the queue.
    pub async fn done(self) -> Result<(), LogError> {
        self.msg.double_ack().await.map_err(unavailable)
    }

    /// Hands the intent back, to be handed out again after `delay`.
    pub async fn retry_after(self, delay: Duration) -> Result<(), LogError> {
        self.msg
            .ack_with(AckKind::Nak(Some(delay)))
            .await
            .map_err(unavailable)
    }
}
