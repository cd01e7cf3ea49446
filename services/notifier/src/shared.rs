//! Every instance on one JetStream log shares the sending: each puts the pending
//! intents of its own outbox on the intent queue (which holds each at most once), and
//! each takes intents from it, so one instance at a time works on an intent.
//!
//! Before sending, the holder of a claim reads the log up to its current head and
//! checks that the intent is still pending there: an earlier holder records the outcome
//! in the log before it lets go of the claim, so a re-enqueued intent that was already
//! sent is dropped, not sent again.
//!
//! An instance also keeps the outcome of each intent it sent until its outbox shows the
//! intent done ([`Sent`]). A claim of such an intent records that outcome again instead
//! of sending, so a live instance never sends an intent twice, whatever the queue hands
//! out (it hands an intent out again when a claim expired while the broker was away).
//! Only a crash, or another instance taking over a claim that expired while its holder
//! could not reach the broker, can send an intent again: the at-least-once window.

use crate::{CONCURRENT_SENDS, Notifier, backoff, sleep_or_stop};
use clef_pro_log::{ACK_WAIT, Claim, IntentQueue};
use clef_pro_projections::Kind;
use clef_pro_projections::outbox::{Intent, IntentStatus};
use clef_pro_schema::ids::IntentId;
use clef_pro_schema::sealed::Sealed;
use clef_pro_schema::sealed::seal;
use futures::StreamExt;
use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How often every pending intent is offered to the queue again, which heals a queue
/// that lost messages (it refuses the ones it still holds).
const SWEEP: Duration = Duration::from_secs(60);
/// How often a held claim is extended; well inside [`ACK_WAIT`].
const PROGRESS: Duration = Duration::from_secs(ACK_WAIT.as_secs() / 3);
/// How long a worker waits for its outbox to reach the log's head before it hands a
/// claim back.
const CATCH_UP: Duration = Duration::from_secs(20);

/// The outcomes of the intents this instance sent that its outbox does not yet show
/// done, sealed as they were first recorded (recording one again stores nothing new),
/// each with the log's head at which the outbox showed it pending before the send.
#[derive(Default)]
struct Sent(Mutex<HashMap<IntentId, (u64, Sealed)>>);

impl Sent {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<IntentId, (u64, Sealed)>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn outcome(&self, id: &IntentId) -> Option<Sealed> {
        self.lock().get(id).map(|(_, outcome)| outcome.clone())
    }

    fn keep(&self, id: &IntentId, head: u64, outcome: &Sealed) {
        self.lock().insert(id.clone(), (head, outcome.clone()));
    }

    /// Forgets the intents that the outbox, through sequence `through`, shows done: not
    /// `pending`, in a view that includes the head at which they were pending (an older
    /// view, or one that fell back with a reopened store, may not hold them yet).
    fn retain_pending(&self, through: u64, pending: &HashSet<&IntentId>) {
        self.lock()
            .retain(|id, (head, _)| through < *head || pending.contains(id));
    }
}

pub(crate) async fn run(n: &Notifier, q: &IntentQueue, shutdown: watch::Receiver<bool>) {
    let sent = Sent::default();
    tokio::join!(
        enqueue(n, q, &sent, shutdown.clone()),
        work(n, q, &sent, shutdown)
    );
}

async fn enqueue(n: &Notifier, q: &IntentQueue, sent: &Sent, mut shutdown: watch::Receiver<bool>) {
    let mut outbox = n.projections.watch(Kind::Outbox);
    let mut offered: HashSet<IntentId> = HashSet::new();
    let mut sweep = Instant::now() + SWEEP;
    loop {
        if Instant::now() >= sweep {
            offered.clear();
            sweep = Instant::now() + SWEEP;
        }
        let Some(pending) = n.pending(&mut shutdown).await else {
            return;
        };
        let ids: HashSet<&IntentId> = pending.intents.iter().map(|i| &i.id).collect();
        offered.retain(|id| ids.contains(id));
        sent.retain_pending(pending.through, &ids);
        let mut wait = sweep.saturating_duration_since(Instant::now());
        for intent in &pending.intents {
            if offered.contains(&intent.id) {
                continue;
            }
            match q.enqueue(intent.id.as_str()).await {
                Ok(_) => {
                    offered.insert(intent.id.clone());
                }
                Err(e) => {
                    tracing::warn!(error = %e, "cannot enqueue notifications; will retry");
                    wait = Duration::from_secs(1);
                    break;
                }
            }
        }
        tokio::select! {
            _ = outbox.changed() => {}
            _ = tokio::time::sleep(wait) => {}
            _ = shutdown.wait_for(|s| *s) => return,
        }
    }
}

async fn work(n: &Notifier, q: &IntentQueue, sent: &Sent, mut shutdown: watch::Receiver<bool>) {
    loop {
        let next = tokio::select! {
            c = q.next_batch(CONCURRENT_SENDS, Duration::from_secs(5)) => c,
            _ = shutdown.wait_for(|s| *s) => return,
        };
        let claims = match next {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "cannot take notifications from the queue; will retry");
                if sleep_or_stop(Duration::from_secs(1), &mut shutdown).await {
                    return;
                }
                continue;
            }
        };
        if claims.is_empty() {
            continue;
        }
        // Every claim was handed to us before this read, so the log up to this head
        // holds the outcome of any earlier claim of the same intents. No more claims are
        // taken than are worked on at once: a claim is kept alive only while worked on.
        let head = match n.log.head().await {
            Ok(h) => h,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the log's head; handing notifications back");
                for c in claims {
                    let _ = c.retry_after(Duration::from_secs(1)).await;
                }
                continue;
            }
        };
        futures::stream::iter(claims)
            .for_each_concurrent(CONCURRENT_SENDS, |c| {
                handle(n, sent, c, head, shutdown.clone())
            })
            .await;
    }
}

/// Sends a claimed intent if the log up to `head` says it is still pending, records
/// the outcome, then lets the claim go. An intent this instance sent before is not sent
/// again: its kept outcome is recorded again. A claim this process dies holding is
/// handed out again: the documented at-least-once window, with the same `Message-ID`.
async fn handle(
    n: &Notifier,
    sent: &Sent,
    claim: Claim,
    head: u64,
    mut shutdown: watch::Receiver<bool>,
) {
    let attempt = u32::try_from(claim.delivered.saturating_sub(1)).unwrap_or(u32::MAX);
    let Ok(id) = IntentId::parse(&claim.intent) else {
        tracing::warn!("dropping a queued notification that is not an intent id");
        return finish(claim).await;
    };
    let intent = match holding(&claim, current(n, &id, head)).await {
        Ok(Some(i)) if i.status == IntentStatus::Pending => i,
        Ok(_) => return finish(claim).await,
        Err(e) => {
            tracing::warn!(intent = %id, error = %e, "cannot check the notification; handing it back");
            let _ = claim.retry_after(Duration::from_secs(1)).await;
            return;
        }
    };
    let event = match sent.outcome(&id) {
        Some(event) => {
            tracing::warn!(intent = %id, "the queue handed out a notification this instance sent, whose outcome the log does not show yet: recording it again, not sending it");
            event
        }
        None => {
            let outcome = holding(&claim, n.send(&intent)).await;
            match n.outcome_event(&intent, outcome, attempt) {
                Ok(event) => {
                    let event = seal(event, &n.redactor);
                    sent.keep(&id, head, &event);
                    event
                }
                Err(wait) => {
                    if let Err(e) = claim.retry_after(wait).await {
                        tracing::warn!(intent = %id, error = %e, "cannot hand the notification back; it returns after its claim expires");
                    }
                    return;
                }
            }
        }
    };
    // Sent (or failed for good): hold the claim until the log has the outcome. Whoever
    // gets this intent next reads the log past it and drops the intent.
    for tries in 0u32.. {
        match holding(&claim, n.log.append(&event)).await {
            Ok(_) => return finish(claim).await,
            Err(e) => {
                tracing::warn!(intent = %id, error = %e, "could not record the notification outcome; will retry recording it");
                if holding(&claim, sleep_or_stop(backoff(tries), &mut shutdown)).await {
                    return;
                }
            }
        }
    }
}

/// The intent as the log up to `head` says it is.
async fn current(n: &Notifier, id: &IntentId, head: u64) -> Result<Option<Intent>, String> {
    let behind = || format!("the outbox did not reach the log's head ({head})");
    if !n.projections.wait_for(Kind::Outbox, head, CATCH_UP).await {
        return Err(behind());
    }
    // Read the checkpoint with the intent: a store that lost unsynced commits to a
    // failed write can fall back behind `head` after the wait above.
    let (checkpoint, intent) = n
        .projections
        .outbox(|o| Ok((o.checkpoint()?, o.intent(id)?)))
        .map_err(|e| e.to_string())?;
    if checkpoint < head {
        return Err(behind());
    }
    Ok(intent)
}

/// Removes a claim whose intent the log shows done.
async fn finish(claim: Claim) {
    if let Err(e) = claim.done().await {
        tracing::warn!(error = %e, "cannot remove a finished notification from the queue; whoever gets it next finds it done");
    }
}

/// Runs `f` while keeping the claim alive.
async fn holding<F: Future>(claim: &Claim, f: F) -> F::Output {
    tokio::pin!(f);
    loop {
        tokio::select! {
            out = &mut f => return out,
            _ = tokio::time::sleep(PROGRESS) => {
                if let Err(e) = claim.progress().await {
                    tracing::warn!(error = %e, "cannot extend a notification claim");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clef_pro_schema::event::Event;
    use clef_pro_schema::keys::DeploymentKey;
    use clef_pro_schema::redact::Redactor;

    fn delivered(id: &IntentId) -> Sealed {
        let redactor = Redactor::new(DeploymentKey::from_bytes([3; 32]).fingerprints());
        let event = Event::NotificationDelivered {
            intent: id.clone(),
            message_id: format!("<{id}@clef-pro>"),
            at: 1,
        };
        seal(event, &redactor)
    }

    #[test]
    fn a_sent_outcome_is_kept_until_the_outbox_shows_the_intent_done() {
        let (a, b) = (IntentId::derive(&[b"a"]), IntentId::derive(&[b"b"]));
        let sent = Sent::default();
        assert!(sent.outcome(&a).is_none(), "nothing sent yet");
        sent.keep(&a, 10, &delivered(&a));
        sent.keep(&b, 10, &delivered(&b));
        let kept = sent.outcome(&a).expect("a was sent");
        assert_eq!(
            kept.event(),
            delivered(&a).event(),
            "the outcome first sealed"
        );
        // A view older than the head at which they were pending lists neither.
        sent.retain_pending(9, &HashSet::new());
        assert!(sent.outcome(&b).is_some(), "an older view proves nothing");
        // The outbox shows `a` pending still and `b` done.
        sent.retain_pending(10, &HashSet::from([&a]));
        assert!(
            sent.outcome(&a).is_some(),
            "a pending intent keeps its outcome"
        );
        assert!(sent.outcome(&b).is_none(), "a done intent is forgotten");
    }
}
