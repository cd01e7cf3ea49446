//! The notifier drains the outbox: it sends each pending intent by email and appends a
//! *delivered* or *failed* event, which the outbox projection applies, so the intent
//! is not sent again, not even after a replay.
//!
//! Guarantee: at least once. A crash between a send and its *delivered* event resends
//! that one intent after restart, with the same `Message-ID`, so mail clients and
//! servers can recognise the duplicate.

pub mod email;

use clef_pro_log::Log;
use clef_pro_projections::outbox::Intent;
use clef_pro_projections::{Kind, Projections};
use clef_pro_schema::event::Event;
use clef_pro_schema::ids::IntentId;
use clef_pro_schema::sealed::seal;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// Where mail goes.
#[derive(Clone)]
pub enum Transport {
    /// `.eml` files named after the intent, in this directory (the default).
    Files(PathBuf),
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
}

impl Transport {
    /// `smtp://[user:pass@]host[:port][?tls=required|opportunistic]` (STARTTLS or plain)
    /// or `smtps://…` (implicit TLS).
    pub fn smtp(url: &str) -> Result<Self, String> {
        let b = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| format!("invalid --smtp URL: {e}"))?;
        Ok(Self::Smtp(b.timeout(Some(Duration::from_secs(20))).build()))
    }
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Stats {
    pub sent: AtomicU64,
    pub failed: AtomicU64,
    pub retried: AtomicU64,
}

impl Stats {
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (name, help, v) in [
            (
                "clef_pro_notifier_sent_total",
                "Emails this process sent.",
                &self.sent,
            ),
            (
                "clef_pro_notifier_failed_total",
                "Intents this process gave up on (permanent failures).",
                &self.failed,
            ),
            (
                "clef_pro_notifier_retried_total",
                "Transient send failures that will be retried.",
                &self.retried,
            ),
        ] {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
                v.load(Ordering::Relaxed)
            ));
        }
        out
    }
}

/// Backoff: 1 s doubling to at most 5 min, ±25 % jitter.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_secs(1)
        .saturating_mul(1u32 << attempt.min(9))
        .min(Duration::from_secs(300));
    base.mul_f64(0.75 + rand::random::<f64>() * 0.5)
}

/// An intent this process sent that its outbox still shows pending.
enum Sent {
    /// The log has not taken the outcome yet: retry recording it, not sending.
    Unrecorded(Box<Event>),
    /// The outcome is in the log; the outbox has not applied it yet (it may lag, e.g.
    /// while its consumer reconnects): wait for it.
    Recorded,
}

enum Outcome {
    Sent,
    Transient(String),
    Permanent(String),
}

pub struct Notifier {
    pub transport: Transport,
    pub log: Log,
    pub projections: Arc<Projections>,
    pub from: Mailbox,
    pub public_url: String,
    pub stats: Arc<Stats>,
}

impl Notifier {
    /// Sends pending intents until `shutdown` turns true.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        // Intents of a rebuilt outbox may be marked delivered further on in the log:
        // send nothing until the outbox has caught up with the log as it is now.
        let head = loop {
            match self.log.head().await {
                Ok(h) => break h,
                Err(e) => tracing::warn!(error = %e, "notifier waiting for the log"),
            }
            if sleep_or_stop(Duration::from_secs(1), &mut shutdown).await {
                return;
            }
        };
        let mut outbox = self.projections.watch(Kind::Outbox);
        tokio::select! {
            _ = outbox.wait_for(|c| *c >= head) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
        let mut retry: HashMap<IntentId, (u32, Instant)> = HashMap::new();
        let mut sent: HashMap<IntentId, Sent> = HashMap::new();
        loop {
            let pending = self
                .projections
                .outbox(|o| o.pending())
                .unwrap_or_else(|e| {
                    tracing::error!(error = %e, "cannot read the outbox");
                    Vec::new()
                });
            retry.retain(|id, _| pending.iter().any(|i| &i.id == id));
            sent.retain(|id, _| pending.iter().any(|i| &i.id == id));
            let now = Instant::now();
            let due: Vec<&Intent> = pending
                .iter()
                .filter(|i| retry.get(&i.id).is_none_or(|(_, at)| *at <= now))
                .filter(|i| !matches!(sent.get(&i.id), Some(Sent::Recorded)))
                .collect();
            for intent in due {
                if *shutdown.borrow() {
                    return;
                }
                self.deliver(intent, &mut retry, &mut sent).await;
            }
            let next_retry = retry.values().map(|(_, at)| *at).min();
            let wait = next_retry.map_or(Duration::from_secs(3600), |at| {
                at.saturating_duration_since(Instant::now())
            });
            tokio::select! {
                _ = outbox.changed() => {}
                _ = tokio::time::sleep(wait) => {}
                _ = shutdown.wait_for(|s| *s) => return,
            }
        }
    }

    /// Sends an intent and records the outcome in the log. An outcome the log did not
    /// take (it is unavailable) is kept in `sent` and only its recording is retried,
    /// and a recorded one is not sent again while the outbox catches up, so a log
    /// outage resends nothing; only a crash before the record can.
    async fn deliver(
        &self,
        intent: &Intent,
        retry: &mut HashMap<IntentId, (u32, Instant)>,
        sent: &mut HashMap<IntentId, Sent>,
    ) {
        let id = &intent.id;
        let attempt = retry.get(id).map_or(0, |(a, _)| a + 1);
        if let Some(Sent::Unrecorded(event)) = sent.remove(id) {
            return self.record(id, *event, attempt, retry, sent).await;
        }
        let event = match self.send(intent).await {
            Outcome::Sent => {
                self.stats.sent.fetch_add(1, Ordering::Relaxed);
                tracing::info!(intent = %id, "notification sent");
                Event::NotificationDelivered {
                    intent: intent.id.clone(),
                    message_id: intent.message_id(),
                    at: clef_pro_schema::now_ms(),
                }
            }
            Outcome::Permanent(reason) => {
                self.stats.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(intent = %id, %reason, "notification failed permanently");
                Event::NotificationFailed {
                    intent: intent.id.clone(),
                    reason,
                    at: clef_pro_schema::now_ms(),
                }
            }
            Outcome::Transient(reason) => {
                self.stats.retried.fetch_add(1, Ordering::Relaxed);
                let wait = backoff(attempt);
                tracing::warn!(intent = %id, %reason, attempt, retry_in_ms = wait.as_millis() as u64, "notification will be retried");
                retry.insert(intent.id.clone(), (attempt, Instant::now() + wait));
                return;
            }
        };
        self.record(id, event, attempt, retry, sent).await;
    }

    /// Appends the outcome of an intent; on failure keeps it to retry the append later.
    async fn record(
        &self,
        id: &IntentId,
        event: Event,
        attempt: u32,
        retry: &mut HashMap<IntentId, (u32, Instant)>,
        sent: &mut HashMap<IntentId, Sent>,
    ) {
        match self.log.append(&seal(event.clone())).await {
            Ok(a) => {
                sent.insert(id.clone(), Sent::Recorded);
                self.projections
                    .wait_for(Kind::Outbox, a.seq, Duration::from_secs(10))
                    .await;
            }
            Err(e) => {
                tracing::warn!(intent = %id, error = %e, "could not record the notification outcome; will retry recording it");
                sent.insert(id.clone(), Sent::Unrecorded(Box::new(event)));
                retry.insert(id.clone(), (attempt, Instant::now() + backoff(attempt)));
            }
        }
    }

    async fn send(&self, intent: &Intent) -> Outcome {
        let msg = match email::build(intent, &self.from, &self.public_url) {
            Ok(m) => m,
            Err(e) => return Outcome::Permanent(format!("cannot build the message: {e}")),
        };
        match &self.transport {
            Transport::Files(dir) => match write_eml(dir, &intent.id, &msg.formatted()).await {
                Ok(()) => Outcome::Sent,
                Err(e) => Outcome::Transient(format!("cannot write mail file: {e}")),
            },
            Transport::Smtp(t) => match t.send(msg).await {
                Ok(_) => Outcome::Sent,
                Err(e) if e.is_permanent() => Outcome::Permanent(format!("smtp: {e}")),
                Err(e) => Outcome::Transient(format!("smtp: {e}")),
            },
        }
    }
}

/// Writes `<dir>/<intent>.eml` atomically (temp file, fsync, rename).
async fn write_eml(dir: &std::path::Path, id: &IntentId, bytes: &[u8]) -> std::io::Result<()> {
    let dir = dir.to_owned();
    let name = format!("{id}.eml");
    let bytes = bytes.to_vec();
    tokio::task::spawn_blocking(move || {
        use std::io::Write;
        std::fs::create_dir_all(&dir)?;
        let tmp = dir.join(format!(".{name}.tmp"));
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(&bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, dir.join(&name))
    })
    .await
    .map_err(std::io::Error::other)?
}

async fn sleep_or_stop(d: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => false,
        _ = shutdown.wait_for(|s| *s) => true,
    }
}
