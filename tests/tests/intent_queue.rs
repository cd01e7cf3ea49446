//! The intent queue that instances on one JetStream share, against a real nats-server:
//! an intent is in it at most once, however many instances offer it; a claim is held
//! by one instance; handed back, it comes round again; done, it is gone.

use clef_pro_log::{Claim, IntentQueue, Log, NatsOptions};
use clef_pro_tests::nats::NatsServer;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(2);
const BRIEF: Duration = Duration::from_millis(500);

/// The next claim, if one comes within `wait`.
trait NextOne {
    async fn next_one(&self, wait: Duration) -> Result<Option<Claim>, clef_pro_log::LogError>;
}

impl NextOne for IntentQueue {
    async fn next_one(&self, wait: Duration) -> Result<Option<Claim>, clef_pro_log::LogError> {
        Ok(self.next_batch(1, wait).await?.pop())
    }
}

/// A queue as one instance opens it.
async fn instance(opts: &NatsOptions) -> IntentQueue {
    let key = clef_pro_schema::keys::DeploymentKey::from_bytes([5; 32]);
    let log = Log::connect_nats(opts.clone(), key.events())
        .await
        .expect("connect");
    log.intent_queue()
        .await
        .expect("open the queue")
        .expect("JetStream has a queue")
}

#[tokio::test(flavor = "multi_thread")]
async fn each_intent_is_queued_once_and_claimed_by_one_instance() {
    let nats = NatsServer::start().await;
    let opts = NatsOptions::new(nats.url());
    let (a, b) = (instance(&opts).await, instance(&opts).await);

    assert!(
        a.enqueue("ntf_00aa").await.unwrap(),
        "first offer queues it"
    );
    assert!(
        !b.enqueue("ntf_00aa").await.unwrap(),
        "a second offer does not"
    );
    assert!(a.enqueue("ntf_00bb").await.unwrap());

    let first = a.next_one(WAIT).await.unwrap().expect("a claim");
    let second = b.next_one(WAIT).await.unwrap().expect("the other intent");
    let mut claimed = [first.intent.clone(), second.intent.clone()];
    claimed.sort();
    assert_eq!(
        claimed,
        ["ntf_00aa", "ntf_00bb"],
        "each goes to one instance"
    );
    assert!(
        a.next_one(BRIEF).await.unwrap().is_none() && b.next_one(BRIEF).await.unwrap().is_none(),
        "a claimed intent is handed to nobody else"
    );
    assert!(
        !b.enqueue(&first.intent).await.unwrap(),
        "a claimed intent is still in the queue: offering it again adds nothing"
    );

    assert_eq!(first.delivered, 1);
    let intent = first.intent.clone();
    first.retry_after(Duration::ZERO).await.unwrap();
    let again = b
        .next_one(WAIT)
        .await
        .unwrap()
        .expect("handed back, it returns");
    assert_eq!(
        (again.intent.as_str(), again.delivered),
        (intent.as_str(), 2)
    );

    again.done().await.unwrap();
    second.done().await.unwrap();
    assert!(
        a.next_one(BRIEF).await.unwrap().is_none(),
        "done removes them"
    );
}

/// Past the duplicate window `Nats-Msg-Id` no longer dedupes; the one-message-per-intent
/// limit still refuses a second copy while the first is queued.
#[tokio::test(flavor = "multi_thread")]
async fn a_queued_intent_is_refused_after_the_duplicate_window() {
    let nats = NatsServer::start().await;
    let mut opts = NatsOptions::new(nats.url());
    opts.duplicate_window = Duration::from_secs(1);
    let q = instance(&opts).await;
    assert!(q.enqueue("ntf_00cc").await.unwrap());
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        !q.enqueue("ntf_00cc").await.unwrap(),
        "still queued: refused"
    );
    q.next_one(WAIT)
        .await
        .unwrap()
        .expect("one copy")
        .done()
        .await
        .unwrap();
    assert!(q.next_one(BRIEF).await.unwrap().is_none(), "and only one");
}

/// A worker takes what is waiting in one go, and waits on an empty queue instead of
/// polling it.
#[tokio::test(flavor = "multi_thread")]
async fn a_batch_takes_what_is_waiting_and_an_empty_queue_is_waited_on() {
    let nats = NatsServer::start().await;
    let q = instance(&NatsOptions::new(nats.url())).await;
    for id in ["ntf_01", "ntf_02", "ntf_03"] {
        assert!(q.enqueue(id).await.unwrap());
    }
    let batch = q.next_batch(8, WAIT).await.unwrap();
    let mut ids: Vec<&str> = batch.iter().map(|c| c.intent.as_str()).collect();
    ids.sort();
    assert_eq!(ids, ["ntf_01", "ntf_02", "ntf_03"]);
    for c in batch {
        c.done().await.unwrap();
    }
    let asked = std::time::Instant::now();
    assert!(q.next_batch(8, BRIEF).await.unwrap().is_empty());
    assert!(
        asked.elapsed() >= BRIEF / 2,
        "an empty queue answered at once ({:?}): the worker would spin",
        asked.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_embedded_log_has_no_queue() {
    let dir = tempfile::tempdir().unwrap();
    let key = clef_pro_schema::keys::DeploymentKey::random();
    let log = Log::open_embedded(dir.path(), true, key.events()).unwrap();
    assert!(log.intent_queue().await.unwrap().is_none());
}
