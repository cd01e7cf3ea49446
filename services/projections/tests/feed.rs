//! A projector's source over a real embedded log: whether a chunk comes from its own
//! reader or from the shared feed, however far it falls behind the feed, and while it
//! gathers events for a spaced commit, it hands out every event after its checkpoint
//! once, in log order, and ends on the feed.

use clef_pro_log::Log;
use clef_pro_projections::feed::{Feed, Source};
use clef_pro_schema::event::Event;
use clef_pro_schema::ids::IntegrationId;
use clef_pro_schema::keys::DeploymentKey;
use clef_pro_schema::redact::Redactor;
use clef_pro_schema::sealed::seal;
use std::time::Duration;
use tokio::sync::watch;

/// Appends `n` events; returns the last sequence.
async fn add_events(log: &Log, redactor: &Redactor, n: usize) -> u64 {
    let mut last = 0;
    for _ in 0..n {
        let e = Event::IntegrationCreated {
            id: IntegrationId::random(),
            name: "feed".into(),
            collect_ci_context: false,
            tracked_branches: vec![],
            at: 1,
        };
        last = log.append(&seal(e, redactor)).await.expect("appended").seq;
    }
    last
}

/// An embedded log in a temporary dir (kept while the dir lives), its deployment key,
/// and a redactor to seal the events appended to it.
fn embedded_log() -> (tempfile::TempDir, DeploymentKey, Log, Redactor) {
    let dir = tempfile::tempdir().unwrap();
    let key = DeploymentKey::random();
    let log = Log::open_embedded(&dir.path().join("log"), true, key.events()).unwrap();
    let redactor = Redactor::new(key.fingerprints());
    (dir, key, log, redactor)
}

/// Takes chunks from `source` until `head`, as a projector at `checkpoint` would:
/// the sequences past the checkpoint, in the order handed out. What one `next` hands
/// out is one transaction's worth, so its events past the checkpoint must be
/// consecutive.
async fn take(source: &mut Source, checkpoint: &mut u64, head: u64) -> Vec<u64> {
    let mut seen = Vec::new();
    while *checkpoint < head {
        let chunks = tokio::time::timeout(Duration::from_secs(10), source.next(*checkpoint))
            .await
            .expect("a chunk within 10 s")
            .expect("read");
        let seqs: Vec<u64> = chunks
            .iter()
            .flat_map(|c| c.entries.iter().map(|e| e.seq))
            .filter(|&s| s > *checkpoint)
            .collect();
        assert!(
            seqs.windows(2).all(|w| w[1] == w[0] + 1),
            "one next, consecutive events: {seqs:?}"
        );
        seen.extend(seqs);
        *checkpoint = (*checkpoint).max(chunks.last().expect("a chunk").through);
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_event_once_in_order_across_catch_up_and_lag() {
    let (_dir, key, log, redactor) = embedded_log();
    let mut head = add_events(&log, &redactor, 7).await;

    // Chunks of at most 2 events, so that a burst outruns the feed's 16 chunks.
    let feed = Feed::new(2);
    let (stop, shutdown) = watch::channel(false);
    let follower = tokio::spawn(feed.clone().follow(log.clone(), shutdown));
    let mut checkpoint = 3;
    let mut source = feed.source(&log, checkpoint).await.expect("source");
    let mut seen = take(&mut source, &mut checkpoint, head).await;
    assert!(
        !source.on_feed(),
        "caught up with the log, not yet with the feed"
    );

    // New events one at a time: the source joins the feed.
    for _ in 0..20 {
        head = add_events(&log, &redactor, 1).await;
        seen.extend(take(&mut source, &mut checkpoint, head).await);
    }
    assert!(source.on_feed(), "caught up with the feed");

    // A burst of 60 events (30 chunks) while the projector is busy: it lags past what
    // the feed holds, reads the log itself, and joins the feed again.
    head = add_events(&log, &redactor, 60).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    seen.extend(take(&mut source, &mut checkpoint, head).await);
    for _ in 0..20 {
        head = add_events(&log, &redactor, 1).await;
        seen.extend(take(&mut source, &mut checkpoint, head).await);
    }
    assert!(source.on_feed(), "back on the feed after lagging");

    // A projection that lets events gather takes what arrives while it waits, up to
    // the feed's 2 events: here five events arrive, 20 ms apart, within 2 s.
    let writer = {
        let (log, redactor) = (log.clone(), Redactor::new(key.fingerprints()));
        tokio::spawn(async move {
            let mut last = 0;
            for _ in 0..5 {
                last = add_events(&log, &redactor, 1).await;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            last
        })
    };
    let mut chunks = source.next(checkpoint).await.expect("read");
    source
        .gather(&mut chunks, tokio::time::sleep(Duration::from_secs(2)))
        .await
        .expect("read");
    let gathered: Vec<u64> = chunks
        .iter()
        .flat_map(|c| c.entries.iter().map(|e| e.seq))
        .collect();
    assert_eq!(
        gathered,
        [checkpoint + 1, checkpoint + 2],
        "one commit's worth"
    );
    seen.extend(&gathered);
    checkpoint += 2;
    head = writer.await.unwrap();
    seen.extend(take(&mut source, &mut checkpoint, head).await);

    assert_eq!(
        seen,
        (4..=head).collect::<Vec<_>>(),
        "each event once, in order"
    );
    stop.send_replace(true);
    follower.await.expect("the feed stops");
}

/// The chunks one `next` hands out follow on from each other. A second reader sending
/// on the same feed (started on purpose here; otherwise only a bug in the sender)
/// puts a copy of every chunk beside the first: a copy does not follow on, so the
/// source reads the log itself rather than hand an event out twice in one transaction.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunk_that_does_not_follow_on_is_not_taken() {
    let (_dir, _, log, redactor) = embedded_log();
    let mut head = add_events(&log, &redactor, 2).await;
    let feed = Feed::new(8);
    let (stop, shutdown) = watch::channel(false);
    let first = tokio::spawn(feed.clone().follow(log.clone(), shutdown.clone()));
    let second = tokio::spawn(feed.clone().follow(log.clone(), shutdown));
    let mut checkpoint = 0;
    let mut source = feed.source(&log, checkpoint).await.expect("source");
    let mut seen = take(&mut source, &mut checkpoint, head).await;
    for _ in 0..20 {
        head = add_events(&log, &redactor, 3).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
        seen.extend(take(&mut source, &mut checkpoint, head).await);
    }
    assert_eq!(
        seen,
        (1..=head).collect::<Vec<_>>(),
        "each event once, in order"
    );
    stop.send_replace(true);
    first.await.expect("the first reader stops");
    second.await.expect("the second reader stops");
}
