//! Crash loop: rounds of `kill -9` of the service at a random moment of a mixed load
//! (single reports, batches, acknowledgements, notifications to a real SMTP server), on
//! each log backend. After each restart every report that got a 2xx is visible and no
//! batch is partly visible; at the end the stores equal a fresh replay (`verify`), and a
//! notification that arrived twice carried the same `Message-ID` and content both times.
//!
//! `CLEF_PRO_CRASH_ROUNDS` sets the rounds per backend (default 15, which fits the
//! `just test-faults` time budget on 2 cores).

use clef_pro_tests::load::{Ledger, Load, check_mail};
use clef_pro_tests::nats::NatsServer;
use clef_pro_tests::service::{Backend, Service};
use clef_pro_tests::smtp::SmtpServer;
use rand::Rng;
use std::time::{Duration, Instant};

fn rounds() -> usize {
    clef_pro_tests::env_number("CLEF_PRO_CRASH_ROUNDS", 15) as usize
}

async fn crash_loop(backend: Backend) {
    let started = Instant::now();
    let smtp = SmtpServer::start().await;
    let mut s = Service::start(backend.clone(), Some(smtp.url())).await;
    let load = Load::setup(&s.client(), "crash").await;
    let (_stop, running) = tokio::sync::watch::channel(false);
    let mut total = Ledger::default();
    let rounds = rounds();
    for round in 0..rounds {
        let (clients, tag) = ([s.client()], format!("r{round}"));
        // The fault is injected at a random moment; nothing waits on it.
        let after = Duration::from_millis(rand::rng().random_range(100..1500));
        let (ledger, ()) =
            tokio::join!(load.run(&clients, 4, &tag, running.clone(), true), async {
                tokio::time::sleep(after).await;
                s.kill9().await;
            });
        s.start_again().await;
        let c = s.client();
        c.caught_up().await;
        load.check(&c, &ledger).await;
        total.extend(ledger);
    }
    let c = s.client();
    // The notifier works through the notifications of every round.
    c.settle_within(Duration::from_secs(300)).await;
    let (acked, batches) = load.check(&c, &total).await;
    s.stop().await;
    let v = s.run("verify", &[]).await;
    let out = String::from_utf8_lossy(&v.stdout);
    assert!(v.status.success(), "{out}");
    let (notifications, resends) = check_mail(&smtp);
    // A kill interrupts at most the sends in flight: one on the embedded log, up to
    // CONCURRENT_SENDS on JetStream.
    let in_flight = match backend {
        Backend::Embedded => 1,
        Backend::Nats(_) => clef_pro_notifier::CONCURRENT_SENDS,
    };
    assert!(
        resends <= rounds * in_flight,
        "{resends} resends in {rounds} crashes"
    );
    eprintln!(
        "{backend:?}: {rounds} kill -9 rounds in {:?}; {} requests {:?}; {acked} reports \
         acknowledged and all present; {batches} batches, none partial; {notifications} \
         notifications, {resends} resent with the same Message-ID; verify OK",
        started.elapsed(),
        total.attempts.len(),
        total.statuses(),
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "long: run by `just test-faults`"]
async fn crash_loop_embedded() {
    crash_loop(Backend::Embedded).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "long: run by `just test-faults`"]
async fn crash_loop_nats() {
    let n = NatsServer::start().await;
    crash_loop(Backend::Nats(n.url())).await;
}
