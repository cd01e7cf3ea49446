//! Replay and verify: the live stores equal a fresh rebuild from the log, after a mixed
//! workload and after `kill -9` in the middle of projecting; a damaged store fails
//! verification.

use clef_pro_log::{Log, NatsOptions};
use clef_pro_tests::fixtures::fill;
use clef_pro_tests::history::History;
use clef_pro_tests::nats::NatsServer;
use clef_pro_tests::service::{Backend, Service};
use std::time::Duration;

fn stdout(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Integrations, keys, alerts open, acknowledged and resolved, notifications.
async fn mixed_workload(s: &Service) {
    History::make(&s.client()).await;
}

async fn verify_after_mixed_workload(backend: Backend) {
    let mut s = Service::start(backend, None).await;
    mixed_workload(&s).await;
    s.stop().await;
    let ok = s.run("verify", &[]).await;
    assert!(ok.status.success(), "{}", stdout(&ok));
    assert!(
        stdout(&ok).contains("OK: every projection matches"),
        "{}",
        stdout(&ok)
    );

    // Damage the alerts store: flip a byte inside a value it holds.
    let path = s.data_dir().join("stores/alerts.redb");
    let mut bytes = std::fs::read(&path).unwrap();
    let needle = b"missing_keys";
    let mut flipped = 0;
    for i in 0..bytes.len().saturating_sub(needle.len()) {
        if &bytes[i..i + needle.len()] == needle {
            bytes[i] ^= 0x20;
            flipped += 1;
        }
    }
    assert!(flipped > 0);
    std::fs::write(&path, bytes).unwrap();
    let bad = s.run("verify", &[]).await;
    assert!(
        !bad.status.success(),
        "verify must fail on a damaged store: {}",
        stdout(&bad)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_embedded() {
    verify_after_mixed_workload(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn verify_nats() {
    let n = NatsServer::start().await;
    verify_after_mixed_workload(Backend::Nats(n.url())).await;
}

/// `clef-pro replay` rebuilds stores that equal the live ones, installs them, and the
/// service keeps working on them.
#[tokio::test(flavor = "multi_thread")]
async fn replay_rebuilds_identical_stores() {
    let mut s = Service::start(Backend::Embedded, None).await;
    mixed_workload(&s).await;
    s.stop().await;
    let before = s.run("verify", &[]).await;
    let live_digests: Vec<String> = stdout(&before)
        .lines()
        .filter(|l| l.contains("digest"))
        .map(str::to_owned)
        .collect();
    let out = s.run("replay", &[]).await;
    assert!(out.status.success(), "{}", stdout(&out));
    let text = stdout(&out);
    for line in &live_digests[..4] {
        assert!(
            text.contains(line.as_str()),
            "replay digest differs: {line}\n{text}"
        );
    }
    s.start_again().await;
    let c = s.client();
    let all = c.get("/api/v1/integrations").await;
    assert_eq!(all["integrations"].as_array().unwrap().len(), 2);
}

async fn kill_while_projecting(nats: Option<NatsServer>) {
    const N: usize = 10_000;
    let backend = match &nats {
        Some(n) => Backend::Nats(n.url()),
        None => Backend::Embedded,
    };
    let mut s = Service::start(backend, None).await;
    s.stop().await;
    let log = match &nats {
        Some(n) => Log::connect_nats(NatsOptions::new(n.url()), s.deployment_key().events())
            .await
            .unwrap(),
        None => Log::open_embedded(&s.data_dir().join("log"), true, s.deployment_key().events())
            .unwrap(),
    };
    let ints = fill(&log, N).await;
    let head = log.head().await.unwrap();
    drop(log);
    // Kill at growing delays until one kill lands mid-projection (a store's checkpoint
    // strictly between 0 and the head), which the stores on disk show.
    let mut interrupted = false;
    for round in 0..8u64 {
        s.start_again().await;
        tokio::time::sleep(Duration::from_millis(20 + 60 * round)).await;
        s.kill9().await;
        let p = clef_pro_projections::Projections::open(&s.data_dir().join("stores")).unwrap();
        let cps: Vec<u64> = p
            .digests()
            .unwrap()
            .into_iter()
            .map(|(_, cp, _)| cp)
            .collect();
        if cps.iter().any(|&cp| cp > 0 && cp < head) {
            interrupted = true;
            break;
        }
    }
    assert!(interrupted, "no kill landed while projecting");
    s.start_again().await;
    let c = s.client();
    c.settle().await;
    let mut total = 0;
    for id in &ints {
        total += c.get(&format!("/api/v1/integrations/{id}")).await["reportCount"]
            .as_u64()
            .unwrap();
    }
    assert_eq!(total, N as u64, "every event applied exactly once");
    s.stop().await;
    let v = s.run("verify", &[]).await;
    assert!(v.status.success(), "{}", stdout(&v));
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_while_projecting_embedded() {
    kill_while_projecting(None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_while_projecting_nats() {
    kill_while_projecting(Some(NatsServer::start().await)).await;
}
