//! Events published straight into JetStream by a client without the deployment key
//! (altered, byte-flipped, unauthenticated, or an exact replay under a new
//! `Nats-Msg-Id`) grant nothing, are counted, and the service keeps serving.

use clef_pro_tests::client::Client;
use clef_pro_tests::fixtures::{report, sha};
use clef_pro_tests::nats::NatsServer;
use clef_pro_tests::service::{Backend, Service};
use serde_json::{Value, json};
use std::time::Duration;

/// The raw JetStream message that carries `needle`, from a client without the key.
async fn message_with(js: &async_nats::jetstream::Context, needle: &[u8]) -> Vec<u8> {
    let stream = js.get_stream("CLEF_PRO").await.unwrap();
    let last = stream.cached_info().state.last_sequence;
    for seq in 1..=last {
        let m = stream.get_raw_message(seq).await.unwrap();
        if m.payload.windows(needle.len()).any(|w| w == needle) {
            return m.payload.to_vec();
        }
    }
    panic!("no message carries the needle");
}

/// The subject of events that belong to no integration.
const EVENTS: &str = "clefpro.events._";

async fn publish(js: &async_nats::jetstream::Context, payload: Vec<u8>) -> u64 {
    publish_as(js, None, payload).await
}

/// Publishes `payload` under a fresh `Nats-Msg-Id`, marked as a batch's `kind` of
/// message (`part`, `commit`) when given.
async fn publish_as(
    js: &async_nats::jetstream::Context,
    kind: Option<&str>,
    payload: Vec<u8>,
) -> u64 {
    let id = format!("attacker-{}", rand_id());
    publish_raw(js, EVENTS, &id, kind, payload).await
}

/// Publishes `payload` to `subject` as a client without the key would: under the
/// `Nats-Msg-Id` `id`, marked as a batch's `kind` of message when given.
async fn publish_raw(
    js: &async_nats::jetstream::Context,
    subject: &str,
    id: &str,
    kind: Option<&str>,
    payload: Vec<u8>,
) -> u64 {
    let mut headers = async_nats::HeaderMap::new();
    headers.insert("Nats-Msg-Id", id);
    if let Some(kind) = kind {
        headers.insert("Clef-Pro-Kind", kind);
    }
    js.publish_with_headers(subject.to_owned(), headers, payload.into())
        .await
        .unwrap()
        .await
        .unwrap()
        .sequence
}

/// Waits until every projector has read past `seq`.
async fn read_past(c: &Client, seq: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let m = c.metrics().await;
        let behind = m
            .iter()
            .filter(|(k, _)| k.starts_with("clef_pro_projector_checkpoint"))
            .any(|(_, v)| (*v as u64) < seq);
        if !behind {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "projectors stalled");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn rand_id() -> String {
    sha(&format!("{:?}", std::time::Instant::now()))
}

#[tokio::test(flavor = "multi_thread")]
async fn events_published_without_the_key_grant_nothing() {
    let nats = NatsServer::start().await;
    let s = Service::start(Backend::Nats(nats.url()), None).await;
    let c = s.client();
    let (victim_id, victim) = c.issue_token("admin", "victim").await;
    let r = c
        .admin(
            "DELETE",
            &format!("/api/v1/admin/tokens/{victim_id}"),
            Value::Null,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        c.status_with_bearer(&victim, "/api/v1/integrations").await,
        401
    );

    let (id, key) = c.integration("acme", json!({})).await;
    let failing = ("missing_keys", "oauth/production", false, "critical");
    let r = c.report(&key, &report(&sha("r"), "main", &[failing])).await;
    assert_eq!(r.status, 201);

    let client = async_nats::connect(nats.url()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    let victim_hash = *blake3::hash(victim.as_bytes()).as_bytes();
    let issued = message_with(&js, &victim_hash).await;
    let reported = message_with(&js, sha("r").as_bytes()).await;
    let attacker = format!("cpt_{}", "A".repeat(40));
    let attacker_hash = *blake3::hash(attacker.as_bytes()).as_bytes();

    // An altered copy: the attacker's hash in place of the victim's.
    let at = issued.windows(32).position(|w| w == victim_hash).unwrap();
    let mut altered = issued.clone();
    altered[at..at + 32].copy_from_slice(&attacker_hash);
    // A byte flipped in the tag, and one in the body.
    let mut flipped = issued.clone();
    flipped[5] ^= 0x40;
    let mut flipped_body = issued.clone();
    let last = flipped_body.len() - 1;
    flipped_body[last] ^= 1;
    // The same event without authentication (the old envelope), for the attacker.
    let mut legacy = vec![1u8];
    legacy.extend_from_slice(&issued[33..]);
    let la = legacy.windows(32).position(|w| w == victim_hash).unwrap();
    legacy[la..la + 32].copy_from_slice(&attacker_hash);

    let refused_before = c.metrics().await["clef_pro_events_refused_total"];
    let mut last_seq = 0;
    for payload in [altered, flipped, flipped_body, legacy] {
        last_seq = publish(&js, payload).await;
    }
    // Exact replays, under new Nats-Msg-Ids: the revoked token's issue, and the report.
    let replayed_before = c.metrics().await["clef_pro_events_replayed_total"];
    last_seq = last_seq.max(publish(&js, issued.clone()).await);
    last_seq = last_seq.max(publish(&js, reported).await);

    read_past(&c, last_seq).await;
    assert_eq!(
        c.status_with_bearer(&attacker, "/api/v1/integrations")
            .await,
        401
    );
    assert_eq!(
        c.status_with_bearer(&victim, "/api/v1/integrations").await,
        401,
        "still revoked"
    );
    let m = c.metrics().await;
    assert_eq!(
        m["clef_pro_events_refused_total"] - refused_before,
        4.0,
        "{m:?}"
    );
    assert_eq!(
        m["clef_pro_events_replayed_total"] - replayed_before,
        2.0,
        "{m:?}"
    );
    assert_eq!(
        c.alerts(&id, "all").await.len(),
        1,
        "the copy opened nothing"
    );

    // The service keeps serving: reads, and writes that append after the forgeries.
    assert_eq!(c.send("GET", "/healthz", None, None).await.status, 200);
    let (_, key) = c.integration("after", json!({})).await;
    assert_eq!(
        c.report(&key, &report(&sha("z"), "main", &[])).await.status,
        201
    );
}

/// Batch commits published by a client without the key, naming parts no batch has (one
/// part a hundred thousand times, parts after the commit, parts of a few bytes), are
/// refused before their parts are gathered: the service counts them and keeps serving.
#[tokio::test(flavor = "multi_thread")]
async fn forged_batch_commits_are_refused_without_gathering_parts() {
    let nats = NatsServer::start().await;
    let s = Service::start(Backend::Nats(nats.url()), None).await;
    let c = s.client();
    let client = async_nats::connect(nats.url()).await.unwrap();
    let js = async_nats::jetstream::new(client);
    // A commit record: the parts' sequences and a hash.
    let commit = |parts: Vec<u64>| postcard::to_allocvec(&(parts, [0u8; 32])).unwrap();
    let big = publish_as(&js, Some("part"), vec![b'x'; 64 << 10]).await;
    let small = publish_as(&js, Some("part"), vec![b'x'; 10]).await;
    let refused_before = c.metrics().await["clef_pro_events_refused_total"];
    publish_as(&js, Some("commit"), commit(vec![big; 100_000])).await;
    publish_as(&js, Some("commit"), commit(vec![big, big + 1_000_000])).await;
    let last_seq = publish_as(&js, Some("commit"), commit(vec![small, small])).await;

    read_past(&c, last_seq).await;
    let m = c.metrics().await;
    assert_eq!(
        m["clef_pro_events_refused_total"] - refused_before,
        3.0,
        "{m:?}"
    );
    let (_, key) = c.integration("after", json!({})).await;
    assert_eq!(
        c.report(&key, &report(&sha("y"), "main", &[])).await.status,
        201
    );
}

/// The boundary up to which a stream's version-1 records are trusted is the first on
/// its subject that holds its tag: junk published there by a client without the key,
/// before the upgrade or after it, is refused and neither stands in for the boundary
/// nor moves it.
#[tokio::test(flavor = "multi_thread")]
async fn junk_on_the_legacy_subject_does_not_move_the_boundary() {
    use clef_pro_log::{Log, NatsOptions};
    use clef_pro_schema::keys::DeploymentKey;
    let nats = NatsServer::start().await;
    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    let junk = |payload: Vec<u8>| {
        let (js, id) = (js.clone(), format!("attacker-{}", rand_id()));
        async move { publish_raw(&js, "clefpro.events.meta.legacy", &id, None, payload).await }
    };
    // A stream written before events were authenticated: two records, and junk where
    // the boundary goes.
    js.create_stream(async_nats::jetstream::stream::Config {
        name: "CLEF_PRO".into(),
        subjects: vec!["clefpro.events.>".into()],
        deny_delete: true,
        deny_purge: true,
        ..Default::default()
    })
    .await
    .unwrap();
    for _ in 0..2 {
        publish(&js, vec![1, 0]).await;
    }
    junk(vec![1, 7]).await;
    let key = DeploymentKey::random().events();
    let open = || Log::connect_nats(NatsOptions::new(nats.url()), key.clone());
    let log = open().await.unwrap();
    assert_eq!(
        log.authenticity().legacy_through(),
        3,
        "the first upgrade records the head, as without the junk"
    );
    drop(log);
    junk(vec![1, 9, 9]).await;
    junk(vec![2; 40]).await;
    let log = open().await.unwrap();
    assert_eq!(log.authenticity().legacy_through(), 3);
}

/// An instance or command given another deployment's key writes nothing to its stream:
/// recording a legacy boundary there (which it would do when none verifies) would leave
/// a record the deployment's own instances refuse for good, as a false alarm of
/// tampering. It stops with an error naming the flag instead.
#[tokio::test(flavor = "multi_thread")]
async fn another_deployments_key_writes_nothing_to_its_stream() {
    use clef_pro_log::{Log, LogError, NatsOptions};
    use clef_pro_schema::keys::DeploymentKey;
    let nats = NatsServer::start().await;
    let open = |key: DeploymentKey| Log::connect_nats(NatsOptions::new(nats.url()), key.events());
    let ours = open(DeploymentKey::random()).await.unwrap();
    ours.append(&clef_pro_tests::events::token("ours"))
        .await
        .unwrap();
    let head = ours.head().await.unwrap();
    let e = match open(DeploymentKey::random()).await {
        Err(e) => e,
        Ok(_) => panic!("a stranger's key opened the stream"),
    };
    assert!(
        matches!(&e, LogError::Config(m) if m.contains("--deployment-key")),
        "{e}"
    );
    assert_eq!(ours.head().await.unwrap(), head, "nothing was written");
}

/// A client without the key that publishes first under an event's `Nats-Msg-Id` (or a
/// batch's, or a batch part's) cannot make the append a silent duplicate: the append
/// goes again under an id of the log's own, readers get the event, and a retry of it is
/// a duplicate of that, not of the stranger's message.
#[tokio::test(flavor = "multi_thread")]
async fn ids_taken_by_a_stranger_do_not_drop_appends() {
    use clef_pro_log::{Log, NatsOptions};
    use clef_pro_schema::keys::DeploymentKey;
    use clef_pro_tests::events::{big_batch, read_all, token};
    let nats = NatsServer::start().await;
    let log = Log::connect_nats(
        NatsOptions::new(nats.url()),
        DeploymentKey::random().events(),
    )
    .await
    .unwrap();
    let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap());
    let revoke = token("taken");
    let batch = big_batch(500);
    let hex = |key: [u8; 32]| blake3::Hash::from_bytes(key).to_hex().to_string();
    let batch_id = hex(batch.event().dedupe_key());
    for id in [
        hex(revoke.event().dedupe_key()),
        batch_id.clone(),
        format!("{batch_id}-p0"),
    ] {
        publish_raw(&js, EVENTS, &id, Some("part"), vec![1, 2, 3]).await;
    }
    let first = [
        log.append(&revoke).await.unwrap(),
        log.append(&batch).await.unwrap(),
    ];
    assert!(first.iter().all(|a| !a.duplicate), "{first:?}");
    let all = read_all(&log).await;
    assert_eq!(all.len(), 2, "both events are read back");
    assert_eq!(&all[0], &(first[0].seq, revoke.event().clone()));
    assert_eq!(&all[1], &(first[1].seq, batch.event().clone()));
    let again = [
        log.append(&revoke).await.unwrap(),
        log.append(&batch).await.unwrap(),
    ];
    assert_eq!(
        again.map(|a| (a.seq, a.duplicate)),
        first.map(|a| (a.seq, true))
    );
}
