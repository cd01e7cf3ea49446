//! The intent queue that instances on one JetStream share, against a real nats-server:
//! an intent is in it at most once, however many instances offer it; a claim is held
//! by one instance; handed back, it comes round again; done, it is gone.

use clef_pro_log::{IntentQueue, Log, NatsOptions};
use clef_pro_tests::nats::NatsServer;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(2);
const BRIEF: Duration = Duration::from_millis(500);

/// A queue as one instance opens it.
async fn instance(opts: &NatsOptions) -> IntentQueue {
    let log = Log::connect_nats(opts.clone()).await.expect("connect");
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

    let first = a.next(WAIT).await.unwrap().expect("a claim");
    let second = b.next(WAIT).await.unwrap().expect("the other intent");
    let mut claimed = [first.intent.clone(), second.intent.clone()];
    claimed.sort();
    assert_eq!(
        claimed,
        ["ntf_00aa", "ntf_00bb"],
        "each goes to one instance"
    );
    assert!(
        a.next(BRIEF).await.unwrap().is_none() && b.next(BRIEF).await.unwrap().is_none(),
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
        .next(WAIT)
        .await
        .unwrap()
        .expect("handed back, it returns");
    assert_eq!(
        (again.intent.as_str(), again.delivered),
        (intent.as_str(), 2)
    );

    again.done().await.unwrap();
    second.done().await.unwrap();
    assert!(a.next(BRIEF).await.unwrap().is_none(), "done removes them");
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
    q.next(WAIT)
        .await
        .unwrap()
        .expect("one copy")
        .done()
        .await
        .unwrap();
    assert!(q.next(BRIEF).await.unwrap().is_none(), "and only one");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_embedded_log_has_no_queue() {
    let dir = tempfile::tempdir().unwrap();
    let log = Log::open_embedded(dir.path(), true).unwrap();
    assert!(log.intent_queue().await.unwrap().is_none());
}
