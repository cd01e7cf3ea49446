//! The notifier drains the outbox: it sends each pending intent (by email, or to a
//! Slack, Teams, PagerDuty or webhook destination of the operator's file) and appends
//! a *delivered* or *failed* event, which the outbox projection applies, so the intent
//! is not sent again, not even after a replay.
//!
//! Guarantee: at least once. A crash between a send and its *delivered* event resends
//! that one intent after restart (or, on JetStream, by another instance once the dead
//! one's claim expires, or once the claim of one that cannot reach the broker does),
//! with the same `Message-ID` or `webhook-id` (PagerDuty folds a
//! resend into the same incident by its `dedup_key`), so receivers can recognise it.

mod channels;
pub mod destinations;

pub use channels::client as http_client;
pub mod email;
mod local;
mod shared;

/// Emails one instance sends at once on JetStream (on the embedded log, one at a time):
/// also how many a crash can catch between send and record, and so resend.
pub const CONCURRENT_SENDS: usize = 8;

use clef_pro_log::Log;
use clef_pro_projections::outbox::Intent;
use clef_pro_projections::{Kind, Projections};
use clef_pro_schema::domain::ChannelKind;
use clef_pro_schema::event::{Event, Target};
use clef_pro_schema::ids::IntentId;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
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

/// What the notifier counts, registered in the service's one metrics registry
/// ([`Stats::register`]): totals, and send attempts by channel kind and outcome.
#[derive(Debug, Default)]
pub struct Stats {
    pub sent: Counter,
    pub failed: Counter,
    pub retried: Counter,
    deliveries: Family<Delivery, Counter>,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Delivery {
    kind: &'static str,
    outcome: &'static str,
}

const OUTCOMES: [&str; 3] = ["sent", "failed", "retried"];

impl Stats {
    fn count(&self, kind: ChannelKind, outcome: usize) {
        [&self.sent, &self.failed, &self.retried][outcome].inc();
        self.deliveries
            .get_or_create(&Delivery {
                kind: kind.as_str(),
                outcome: OUTCOMES[outcome],
            })
            .inc();
    }

    /// Adds these counters to `registry` (they stay shared with this value). Every
    /// kind and outcome is there from the start, at 0.
    pub fn register(&self, registry: &mut Registry) {
        for kind in ChannelKind::ALL {
            for outcome in OUTCOMES {
                let _ = self.deliveries.get_or_create(&Delivery {
                    kind: kind.as_str(),
                    outcome,
                });
            }
        }
        for (name, help, counter) in [
            (
                "clef_pro_notifier_sent",
                "Notifications this process sent",
                &self.sent,
            ),
            (
                "clef_pro_notifier_failed",
                "Intents this process gave up on (permanent failures)",
                &self.failed,
            ),
            (
                "clef_pro_notifier_retried",
                "Transient send failures that will be retried",
                &self.retried,
            ),
        ] {
            registry.register(name, help, counter.clone());
        }
        registry.register(
            "clef_pro_notifier_deliveries",
            "Send attempts of this process by channel kind and outcome: sent, failed for good, or to be retried",
            self.deliveries.clone(),
        );
    }
}

/// Backoff: 1 s doubling to at most 5 min, ±25 % jitter.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_secs(1)
        .saturating_mul(1u32 << attempt.min(9))
        .min(Duration::from_secs(300));
    base.mul_f64(0.75 + rand::random::<f64>() * 0.5)
}

enum Outcome {
    Sent,
    /// Worth retrying: after `retry_after` when the receiver said so, else with backoff.
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
    Permanent(String),
    /// A webhook receiver answered `410 Gone`: the destination is disabled until its
    /// entry in the destinations file changes.
    Gone(String),
}

/// The pending intents of the outbox as it includes the log through sequence `through`.
struct Pending {
    through: u64,
    intents: Vec<Intent>,
}

pub struct Notifier {
    /// Where email goes.
    pub transport: Transport,
    /// The other kinds' destinations, as the operator's file says now.
    pub destinations: destinations::Shared,
    /// Destinations that answered `410 Gone`, by [`destinations::Destination::fingerprint`].
    pub gone: Mutex<HashSet<[u8; 32]>>,
    pub http: reqwest::Client,
    pub log: Log,
    pub projections: Arc<Projections>,
    pub from: Mailbox,
    pub public_url: String,
    pub stats: Arc<Stats>,
    /// Seals the outcome events (their reasons are free text).
    pub redactor: clef_pro_schema::redact::Redactor,
}

impl Notifier {
    /// Sends pending intents until `shutdown` turns true: alone on the embedded log, or
    /// sharing the work with every instance on a JetStream log through its intent queue.
    pub async fn run(self, mut shutdown: watch::Receiver<bool>) {
        // Intents of a rebuilt outbox may be marked delivered further on in the log:
        // send nothing until the outbox has caught up with the log as it is now.
        let Some(head) = retrying("the log", &mut shutdown, || self.log.head()).await else {
            return;
        };
        let mut outbox = self.projections.watch(Kind::Outbox);
        tokio::select! {
            _ = outbox.wait_for(|c| *c >= head) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
        let queue = retrying("the intent queue", &mut shutdown, || {
            self.log.intent_queue()
        });
        let Some(queue) = queue.await else {
            return;
        };
        match queue {
            None => local::run(&self, shutdown).await,
            Some(q) => shared::run(&self, &q, shutdown).await,
        }
    }

    /// The event that records a final outcome, counted; for a transient failure
    /// (counted as a retry), which leaves the intent pending, how long to wait before
    /// the next attempt instead.
    fn outcome_event(
        &self,
        intent: &Intent,
        outcome: Outcome,
        attempt: u32,
    ) -> Result<Event, Duration> {
        let id = &intent.id;
        let kind = intent.target.kind();
        match outcome {
            Outcome::Sent => {
                self.stats.count(kind, 0);
                tracing::info!(intent = %id, %kind, "notification sent");
                Ok(Event::NotificationDelivered {
                    intent: id.clone(),
                    message_id: intent.message_id(),
                    at: clef_pro_schema::now_ms(),
                })
            }
            Outcome::Permanent(reason) | Outcome::Gone(reason) => {
                self.stats.count(kind, 1);
                tracing::warn!(intent = %id, %kind, %reason, "notification failed permanently");
                Ok(Event::NotificationFailed {
                    intent: id.clone(),
                    reason,
                    at: clef_pro_schema::now_ms(),
                })
            }
            Outcome::Transient {
                reason,
                retry_after,
            } => {
                self.stats.count(kind, 2);
                let wait = retry_after.unwrap_or_else(|| backoff(attempt));
                tracing::warn!(intent = %id, %kind, %reason, attempt, wait_ms = wait.as_millis() as u64, "notification will be retried");
                Err(wait)
            }
        }
    }

    /// The pending intents of this instance's outbox, read again each second while it
    /// cannot be read (a failed read says nothing about what is pending); `None` if
    /// `shutdown` comes first.
    async fn pending(&self, shutdown: &mut watch::Receiver<bool>) -> Option<Pending> {
        retrying("the outbox", shutdown, || {
            std::future::ready(self.projections.outbox(|o| {
                Ok(Pending {
                    through: o.checkpoint()?,
                    intents: o.pending()?,
                })
            }))
        })
        .await
    }

    async fn send(&self, intent: &Intent) -> Outcome {
        match &intent.target {
            Target::Email(_) => self.send_email(intent).await,
            Target::Destination { kind, name } => {
                let Some(dest) = self.destinations.borrow().get(name).cloned() else {
                    return Outcome::Permanent(format!(
                        "no destination named {name} in the destinations file"
                    ));
                };
                if dest.kind != *kind {
                    return Outcome::Permanent(format!(
                        "destination {name} is a {} destination now, not {kind}",
                        dest.kind
                    ));
                }
                let print = dest.fingerprint();
                if self.gone.lock().expect("not poisoned").contains(&print) {
                    return Outcome::Permanent(format!(
                        "destination {name} is disabled: it answered 410 Gone; change its entry in the destinations file to enable it again"
                    ));
                }
                let outcome = channels::send(&self.http, &dest, intent, &self.public_url).await;
                if let Outcome::Gone(_) = outcome {
                    tracing::warn!(destination = %name, "destination answered 410 Gone: disabled until its entry changes");
                    self.gone.lock().expect("not poisoned").insert(print);
                }
                outcome
            }
        }
    }

    async fn send_email(&self, intent: &Intent) -> Outcome {
        let msg = match email::build(intent, &self.from, &self.public_url) {
            Ok(m) => m,
            Err(e) => return Outcome::Permanent(format!("cannot build the message: {e}")),
        };
        match &self.transport {
            Transport::Files(dir) => match write_eml(dir, &intent.id, &msg.formatted()).await {
                Ok(()) => Outcome::Sent,
                Err(e) => Outcome::Transient {
                    reason: format!("cannot write mail file: {e}"),
                    retry_after: None,
                },
            },
            Transport::Smtp(t) => match t.send(msg).await {
                Ok(_) => Outcome::Sent,
                Err(e) if e.is_permanent() => Outcome::Permanent(format!("smtp: {e}")),
                Err(e) => Outcome::Transient {
                    reason: format!("smtp: {e}"),
                    retry_after: None,
                },
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

/// Calls `f` each second until it succeeds; `None` if `shutdown` comes first.
async fn retrying<T, E: std::fmt::Display, F: Future<Output = Result<T, E>>>(
    what: &str,
    shutdown: &mut watch::Receiver<bool>,
    mut f: impl FnMut() -> F,
) -> Option<T> {
    loop {
        match f().await {
            Ok(v) => return Some(v),
            Err(e) => tracing::warn!(error = %e, "notifier waiting for {what}"),
        }
        if sleep_or_stop(Duration::from_secs(1), shutdown).await {
            return None;
        }
    }
}

async fn sleep_or_stop(d: Duration, shutdown: &mut watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = tokio::time::sleep(d) => false,
        _ = shutdown.wait_for(|s| *s) => true,
    }
}
