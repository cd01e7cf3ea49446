//! The live projectors share one reader of the log once they have caught up with it
//! (`services/projections/src/feed.rs`): against a real nats-server, the stream then
//! serves one consumer for all four, not one each, and reports still land.

use clef_pro_tests::fixtures::sha;
use clef_pro_tests::nats::NatsServer;
use clef_pro_tests::service::{Backend, Service};
use serde_json::json;
use std::time::{Duration, Instant};

/// The consumers the service's stream has now.
async fn consumers(nats: &NatsServer) -> usize {
    let client = async_nats::connect(nats.url()).await.expect("connect");
    let mut stream = async_nats::jetstream::new(client)
        .get_stream("CLEF_PRO")
        .await
        .expect("the service's stream");
    stream
        .info()
        .await
        .expect("stream info")
        .state
        .consumer_count
}

#[tokio::test(flavor = "multi_thread")]
async fn caught_up_projectors_share_one_consumer_of_the_stream() {
    let nats = NatsServer::start().await;
    let s = Service::start(Backend::Nats(nats.url()), None).await;
    let c = s.client();
    let (id, key) = c.integration("feed", json!({})).await;
    for n in 0..10 {
        c.submit(&key, &format!("feed{n}"), &[]).await;
    }
    // Each projector read the log itself until it had caught up with the feed; its own
    // consumer stops pulling then, and the server removes it once it has been idle for
    // its inactive threshold (30 s for an ordered consumer).
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut now = consumers(&nats).await;
    while now != 1 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(250)).await;
        now = consumers(&nats).await;
    }
    assert_eq!(now, 1, "one consumer serves the four projectors");

    // Reports that come now reach every projection through the feed alone.
    for n in 10..20 {
        c.submit(
            &key,
            &format!("feed{n}"),
            &[("missing_keys", "oauth/production", false, "critical")],
        )
        .await;
    }
    let latest = c.get(&format!("/api/v1/integrations/{id}")).await;
    assert_eq!(latest["lastCommitSha"], sha("feed19"), "{latest}");
    assert_eq!(
        c.alerts(&id, "open").await.len(),
        1,
        "the failing policy opened an alert"
    );
    assert_eq!(consumers(&nats).await, 1);
}
