//! One conformance suite, run unchanged against both log backends: the embedded file
//! log and a real nats-server with JetStream.

use clef_pro_log::{Log, NatsOptions};
use clef_pro_schema::keys::DeploymentKey;
use clef_pro_schema::sealed::Sealed;
use clef_pro_tests::events::{big_batch, read_all, token};
use clef_pro_tests::nats::NatsServer;
use futures::TryStreamExt;
use std::time::Duration;
use tempfile::TempDir;

struct Harness {
    dir: TempDir,
    nats: Option<NatsServer>,
    key: DeploymentKey,
}

impl Harness {
    async fn embedded() -> Harness {
        Harness {
            dir: tempfile::tempdir().unwrap(),
            nats: None,
            key: DeploymentKey::random(),
        }
    }

    async fn nats() -> Harness {
        Harness {
            dir: tempfile::tempdir().unwrap(),
            nats: Some(NatsServer::start().await),
            key: DeploymentKey::random(),
        }
    }

    /// Opens the log afresh, as a restarted process would.
    async fn open(&self) -> Log {
        match &self.nats {
            None => Log::open_embedded(self.dir.path(), true, self.key.events()).unwrap(),
            Some(n) => Log::connect_nats(NatsOptions::new(n.url()), self.key.events())
                .await
                .unwrap(),
        }
    }
}

async fn append_and_read_back(h: &Harness) {
    let log = h.open().await;
    let events: Vec<Sealed> = (0..10).map(|i| token(&format!("t{i}"))).collect();
    let mut seqs = Vec::new();
    for e in &events {
        let a = log.append(e).await.unwrap();
        assert!(!a.duplicate);
        seqs.push(a.seq);
    }
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "sequences increase: {seqs:?}"
    );
    let all = read_all(&log).await;
    assert_eq!(all.iter().map(|(s, _)| *s).collect::<Vec<_>>(), seqs);
    assert_eq!(
        all.iter().map(|(_, e)| e.clone()).collect::<Vec<_>>(),
        events.iter().map(|e| e.event().clone()).collect::<Vec<_>>()
    );
    // Reading from a sequence in the middle starts there.
    let mut tail = log.tail(seqs[5]).await.unwrap();
    let c = tail.next_chunk(100).await.unwrap();
    assert_eq!(c.entries[0].seq, seqs[5]);
    assert_eq!(&c.entries[0].event, events[5].event());
}

async fn live_tail(h: &Harness) {
    let log = h.open().await;
    log.append(&token("before")).await.unwrap();
    let head = log.head().await.unwrap();
    let mut tail = log.tail(head + 1).await.unwrap();
    let waiter = tokio::spawn(async move { tail.next_chunk(10).await.unwrap() });
    let later = token("later");
    let a = log.append(&later).await.unwrap();
    let c = tokio::time::timeout(Duration::from_secs(20), waiter)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.entries.len(), 1);
    assert_eq!(c.entries[0].seq, a.seq);
    assert_eq!(&c.entries[0].event, later.event());
}

async fn dedupe(h: &Harness) {
    let log = h.open().await;
    let e = token("once");
    let a = log.append(&e).await.unwrap();
    let b = log.append(&e).await.unwrap();
    assert!(!a.duplicate && b.duplicate);
    assert_eq!(a.seq, b.seq);
    assert_eq!(read_all(&log).await.len(), 1);
}

async fn reopen_after_restart(h: &Harness) {
    let events: Vec<Sealed> = (0..5).map(|i| token(&format!("r{i}"))).collect();
    {
        let log = h.open().await;
        for e in &events {
            log.append(e).await.unwrap();
        }
    }
    let log = h.open().await;
    let all = read_all(&log).await;
    assert_eq!(all.len(), 5);
    // Dedupe survives the restart.
    assert!(log.append(&events[0]).await.unwrap().duplicate);
    assert_eq!(read_all(&log).await.len(), 5);
}

async fn batch_larger_than_a_message(h: &Harness) {
    let log = h.open().await;
    let batch = big_batch(500);
    assert!(
        batch.encode(&DeploymentKey::random().events()).len() > 1 << 20,
        "the batch must exceed NATS's default max_payload"
    );
    let a = log.append(&batch).await.unwrap();
    let again = log.append(&batch).await.unwrap();
    assert!(again.duplicate);
    assert_eq!(again.seq, a.seq);
    let all = read_all(&log).await;
    assert_eq!(all.len(), 1, "one logical event");
    assert_eq!(all[0].0, a.seq);
    assert_eq!(&all[0].1, batch.event());
}

macro_rules! on_both {
    ($($check:ident),*) => {$(
        mod $check {
            #[tokio::test(flavor = "multi_thread")]
            async fn embedded() {
                super::$check(&super::Harness::embedded().await).await
            }
            #[tokio::test(flavor = "multi_thread")]
            async fn nats() {
                super::$check(&super::Harness::nats().await).await
            }
        }
    )*};
}

on_both!(
    append_and_read_back,
    live_tail,
    dedupe,
    reopen_after_restart,
    batch_larger_than_a_message
);

/// A record cut short by a crash is cut off on open, and nothing after it is lost.
#[tokio::test(flavor = "multi_thread")]
async fn embedded_torn_tail_is_cut_off() {
    let h = Harness::embedded().await;
    {
        let log = h.open().await;
        log.append(&token("whole")).await.unwrap();
    }
    let path = h.dir.path().join("events.clog");
    let whole = std::fs::metadata(&path).unwrap().len();
    let torn = big_batch(3).encode(&h.key.events());
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(&(torn.len() as u32 + 32).to_le_bytes());
    bytes.extend_from_slice(&[0; 4]);
    bytes.extend_from_slice(&torn[..torn.len() / 2]);
    std::fs::write(&path, bytes).unwrap();
    let log = h.open().await;
    assert_eq!(std::fs::metadata(&path).unwrap().len(), whole);
    assert_eq!(read_all(&log).await.len(), 1);
    log.append(&token("after")).await.unwrap();
    assert_eq!(read_all(&log).await.len(), 2);
}

/// A tail started at the head of an idle stream reads on from there after the server
/// lost its consumer (deleted, or gone with a restart). The client recreates a lost
/// ordered consumer, and one that had delivered nothing from the stream's first
/// message: records that lie before the tail's start (a projectors' feed would hand
/// the whole log round again).
#[tokio::test(flavor = "multi_thread")]
async fn a_tail_reads_on_from_its_start_after_its_consumer_is_lost() {
    let h = Harness::nats().await;
    let log = h.open().await;
    for i in 0..3 {
        log.append(&token(&format!("before{i}"))).await.unwrap();
    }
    let from = log.head().await.unwrap() + 1;
    let mut tail = log.tail(from).await.unwrap();
    let reader = tokio::spawn(async move { tail.next_chunk(10).await });
    let url = h.nats.as_ref().unwrap().url();
    let js = async_nats::jetstream::new(async_nats::connect(url).await.unwrap());
    let stream = js.get_stream("CLEF_PRO").await.unwrap();
    let names: Vec<String> = stream.consumer_names().try_collect().await.unwrap();
    assert_eq!(names.len(), 1, "the tail's consumer");
    stream.delete_consumer(&names[0]).await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = token("after");
    let a = log.append(&after).await.unwrap();
    let chunk = tokio::time::timeout(Duration::from_secs(60), reader)
        .await
        .expect("the tail reads on")
        .unwrap()
        .expect("a chunk");
    let seqs: Vec<u64> = chunk.entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [a.seq], "only what follows where the tail started");
}
