//! Durability settings: the shipped NATS configs fsync every write, and the service
//! warns at start about a stream that can lose acknowledged reports (one replica) or
//! forget retries too early (a duplicate window shorter than a client retries for).

use async_nats::jetstream::stream;
use clef_pro_tests::nats::NatsServer;
use clef_pro_tests::service::{Backend, Service};
use std::time::Duration;

/// Waits until the service's output contains `needle` (it is written as it is printed).
async fn printed(s: &Service, needle: &str) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let out = std::fs::read_to_string(s.output_path()).unwrap_or_default();
        if out.contains(needle) {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            eprintln!("{out}");
            return false;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[test]
fn shipped_nats_configs_sync_every_write() {
    for conf in ["single", "cluster-1", "cluster-2", "cluster-3"] {
        let text =
            std::fs::read_to_string(clef_pro_tests::root().join(format!("ops/nats/{conf}.conf")))
                .unwrap();
        assert!(text.contains("sync_interval: always"), "{conf}.conf");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_default_single_replica_stream_is_warned_about() {
    let n = NatsServer::start().await;
    let s = Service::start(Backend::Nats(n.url()), None).await;
    assert!(printed(&s, "has 1 replica(s)").await);
    assert!(printed(&s, "sync_interval: always").await);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_short_duplicate_window_is_warned_about() {
    let n = NatsServer::start().await;
    // An operator-made stream that is safe in every other way.
    let js = async_nats::jetstream::new(async_nats::connect(n.url()).await.unwrap());
    js.create_stream(stream::Config {
        name: "CLEF_PRO".into(),
        subjects: vec!["clefpro.events.>".into()],
        storage: stream::StorageType::File,
        deny_delete: true,
        deny_purge: true,
        duplicate_window: Duration::from_secs(10),
        ..Default::default()
    })
    .await
    .unwrap();
    let s = Service::start(Backend::Nats(n.url()), None).await;
    assert!(printed(&s, "deduplicates for 10s").await);
}
