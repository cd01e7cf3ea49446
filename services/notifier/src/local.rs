//! One process owns the log (the embedded backend): it sends every pending intent of
//! its own outbox, retrying each with backoff.

use crate::{Notifier, backoff};
use clef_pro_projections::Kind;
use clef_pro_projections::outbox::Intent;
use clef_pro_schema::event::Event;
use clef_pro_schema::ids::IntentId;
use clef_pro_schema::sealed::seal;
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// An intent this process sent that its outbox still shows pending.
enum Sent {
    /// The log has not taken the outcome yet: retry recording it, not sending.
    Unrecorded(Box<Event>),
    /// The outcome is in the log; the outbox has not applied it yet (it may lag, e.g.
    /// while its consumer reconnects): wait for it.
    Recorded,
}

/// Per intent: attempts so far and when the next one is due.
type Retries = HashMap<IntentId, (u32, Instant)>;

pub(crate) async fn run(n: &Notifier, mut shutdown: watch::Receiver<bool>) {
    let mut outbox = n.projections.watch(Kind::Outbox);
    let mut retry = Retries::new();
    let mut sent: HashMap<IntentId, Sent> = HashMap::new();
    loop {
        let Some(pending) = n.pending(&mut shutdown).await else {
            return;
        };
        let pending = pending.intents;
        let ids: HashSet<&IntentId> = pending.iter().map(|i| &i.id).collect();
        retry.retain(|id, _| ids.contains(id));
        sent.retain(|id, _| ids.contains(id));
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
            deliver(n, intent, &mut retry, &mut sent).await;
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

/// Sends an intent and records the outcome in the log. An outcome the log did not take
/// (it is unavailable) is kept in `sent` and only its recording is retried, and a
/// recorded one is not sent again while the outbox catches up, so a log outage resends
/// nothing; only a crash before the record can.
async fn deliver(
    n: &Notifier,
    intent: &Intent,
    retry: &mut Retries,
    sent: &mut HashMap<IntentId, Sent>,
) {
    let id = &intent.id;
    let attempt = retry.get(id).map_or(0, |(a, _)| a + 1);
    let event = match sent.remove(id) {
        Some(Sent::Unrecorded(event)) => *event,
        _ => match n.outcome_event(intent, n.send(intent).await, attempt) {
            Ok(event) => event,
            Err(wait) => {
                retry.insert(id.clone(), (attempt, Instant::now() + wait));
                return;
            }
        },
    };
    match n.log.append(&seal(event.clone(), &n.redactor)).await {
        Ok(a) => {
            sent.insert(id.clone(), Sent::Recorded);
            retry.remove(id);
            n.projections
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
