//! A 3-node JetStream cluster (the `ops/nats/cluster-*.conf` configs on free loopback
//! ports), the log stream at R3, and two `clef-pro serve` instances against it, each
//! with its own data dir. Under a mixed load spread over both instances, the node that
//! leads the log stream is killed (SIGKILL). Then: both instances kept acknowledging
//! writes, every acknowledged report is visible on both, no batch is partial, the two
//! instances' stores have identical digests, and every notification was sent once
//! across the two (they share intents through the JetStream work queue).
//!
//! `CLEF_PRO_CLUSTER_SECS` sets how long the load runs after the kill (default 15; longer
//! if an instance has not acknowledged a write since the kill by then).

use clef_pro_tests::client::Client;
use clef_pro_tests::load::{Load, check_mail};
use clef_pro_tests::moving::move_under_load;
use clef_pro_tests::nats::NatsCluster;
use clef_pro_tests::scratch_dir;
use clef_pro_tests::service::{Backend, Service};
use clef_pro_tests::smtp::SmtpServer;
use std::time::{Duration, Instant};

const ACCEPTED: &str = "clef_pro_reports_accepted_total";

#[tokio::test(flavor = "multi_thread")]
#[ignore = "long: run by `just test-faults`"]
async fn node_loss_under_load_with_two_instances() {
    let after_kill = Duration::from_secs(clef_pro_tests::env_number("CLEF_PRO_CLUSTER_SECS", 15));
    let mut cluster = NatsCluster::start().await;
    let smtp = SmtpServer::start().await;
    let flags = [&["--nats-replicas", "3"][..], &cluster.service_args()].concat();
    let backend = Backend::Nats(cluster.urls());
    let mut a = Service::start_with(backend.clone(), Some(smtp.url()), &flags, |_| {}).await;
    let mut b = Service::start_with(backend, Some(smtp.url()), &flags, |_| {}).await;
    let (ca, cb) = (a.client(), b.client());
    let load = Load::setup(&ca, "cluster").await;
    cb.caught_up().await;

    let leader = cluster.leader_of("CLEF_PRO").await;
    let (stop, running) = tokio::sync::watch::channel(false);
    let clients = [ca.clone(), cb.clone()];
    let (ledger, cli, (killed, at_kill, at_end)) = tokio::join!(
        load.run(&clients, 4, "k", running.clone(), false),
        load.cli_like(&ca, running),
        async {
            tokio::time::sleep(Duration::from_secs(5)).await;
            cluster.nodes[leader].stop().await;
            let killed = Instant::now();
            let at_kill = accepted(&clients).await;
            tokio::time::sleep(after_kill).await;
            // Keep the load on until both instances acknowledge writes again (the
            // election takes its time), and 3 s more.
            let mut at_end = accepted(&clients).await;
            while at_end.iter().zip(&at_kill).any(|(now, then)| now <= then)
                && killed.elapsed() < Duration::from_secs(120)
            {
                tokio::time::sleep(Duration::from_millis(250)).await;
                at_end = accepted(&clients).await;
            }
            tokio::time::sleep(Duration::from_secs(3)).await;
            let _ = stop.send(true);
            (killed, at_kill, at_end)
        }
    );

    for (i, (before, after)) in at_kill.iter().zip(&at_end).enumerate() {
        assert!(
            after > before,
            "instance {i} acknowledged no write after the node was killed ({before} → {after})"
        );
    }
    // The longest stretch around the kill in which no write was acknowledged.
    let mut acked: Vec<Instant> = ledger
        .attempts
        .iter()
        .filter(|x| x.acked() && !x.commits.is_empty())
        .map(|x| x.ended)
        .collect();
    acked.sort();
    let stall = acked
        .windows(2)
        .filter(|w| w[1] >= killed)
        .map(|w| w[1] - w[0])
        .max()
        .unwrap_or_default();

    println!(
        "cluster: a Clef-CLI-like client (one retry after 1 s) sent {} reports across the \
         node loss: {} failed, {} needed their retry, the longest took {:?}",
        cli.reports, cli.failed, cli.retried, cli.longest
    );
    assert_eq!(
        cli.failed, 0,
        "appends are held through the election: no CI job fails ({cli:?})"
    );
    let mut checked = Vec::new();
    for c in [&ca, &cb] {
        c.settle_within(clef_pro_log::ACK_WAIT + Duration::from_secs(120))
            .await;
        checked.push(load.check(c, &ledger).await);
    }
    assert_eq!(checked[0], checked[1]);
    let (reports, batches) = checked[0];
    assert!(reports > 0, "the load was acknowledged");

    let (notifications, resends) = check_mail(&smtp);
    assert_eq!(
        resends, 0,
        "each notification is sent once across the two instances"
    );
    let mut by_instance = Vec::new();
    for c in [&ca, &cb] {
        let m = c.metrics().await;
        assert_eq!(
            m["clef_pro_notifications{status=\"sent\"}"], notifications as f64,
            "each instance's outbox shows every sent notification"
        );
        by_instance.push(m["clef_pro_notifier_sent_total"]);
    }
    assert_eq!(
        by_instance.iter().sum::<f64>(),
        notifications as f64,
        "the instances' sends add up to the mail received"
    );

    a.stop().await;
    b.stop().await;
    let auth = cluster.service_args();
    let (da, db) = (live_digests(&a, &auth).await, live_digests(&b, &auth).await);
    assert_eq!(da, db, "both instances hold identical stores");
    println!(
        "cluster: killed stream leader clef-nats-{}; {reports} acknowledged reports ({batches} batches), \
         statuses {:?}; longest wait for an acknowledged write after the kill {stall:?}; \
         {notifications} notifications, sent {by_instance:?} by the two instances, 0 resent; \
         digests equal:\n{da}",
        leader + 1,
        ledger.statuses(),
    );
}

/// Reports each instance has accepted so far.
async fn accepted(clients: &[Client]) -> Vec<f64> {
    let mut out = Vec::new();
    for c in clients {
        out.push(c.metrics().await[ACCEPTED]);
    }
    out
}

/// `clef-pro verify` on a stopped instance (with the NATS credentials `auth`): it must
/// pass, and its live digests are returned.
async fn live_digests(s: &Service, auth: &[&str]) -> String {
    let v = s.run("verify", auth).await;
    let out = String::from_utf8_lossy(&v.stdout).into_owned();
    assert!(
        v.status.success(),
        "verify failed: {out}{}",
        String::from_utf8_lossy(&v.stderr)
    );
    out.split("live:")
        .nth(1)
        .and_then(|r| r.split("rebuilt:").next())
        .expect("verify prints the live digests")
        .trim()
        .to_owned()
}

/// An embedded deployment, exported under load, moves into the cluster (R3) with the
/// same answers, keys and tokens, and mails nothing again.
#[tokio::test(flavor = "multi_thread")]
#[ignore = "long: run by `just test-faults`"]
async fn an_embedded_deployment_moves_into_the_cluster() {
    let cluster = NatsCluster::start().await;
    let files = scratch_dir();
    let flags = [&["--nats-replicas", "3"][..], &cluster.service_args()].concat();
    let mut dst = move_under_load(Backend::Nats(cluster.urls()), &flags, files.path()).await;
    dst.stop().await;
}
