//! The live projectors as `serve` runs them, over a real embedded log. The registry
//! ignores reports (a chunk of nothing else only moves its checkpoint in memory), the
//! outbox lets events gather, and small chunks are applied on the runtime: across a
//! restart, every store still holds what one rebuild from the log builds, byte for byte.

use clef_pro_log::Log;
use clef_pro_projections::{Kind, Projections};
use clef_pro_schema::domain::{Branch, CommitSha};
use clef_pro_schema::event::Event;
use clef_pro_schema::ids::{IntegrationId, KeyId};
use clef_pro_schema::keys::DeploymentKey;
use clef_pro_schema::redact::Redactor;
use clef_pro_schema::report::{Report, Summary};
use clef_pro_schema::sealed::{Sealed, seal};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Projectors following the log until stopped.
struct Running {
    projections: Arc<Projections>,
    stop: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

fn start(stores: &Path, log: &Log) -> Running {
    let projections = Arc::new(Projections::open(stores).expect("stores open"));
    let (stop, shutdown) = watch::channel(false);
    let tasks = projections.spawn(log, &shutdown);
    Running {
        projections,
        stop,
        tasks,
    }
}

impl Running {
    /// Waits until every projection has applied `seq`.
    async fn caught_up(&self, seq: u64) {
        for kind in Kind::ALL {
            assert!(
                self.projections
                    .wait_for(kind, seq, Duration::from_secs(10))
                    .await,
                "{} did not reach {seq}",
                kind.name()
            );
        }
    }

    async fn stop(self) {
        self.stop.send_replace(true);
        for t in self.tasks {
            t.await.expect("projector task");
        }
    }
}

fn report(n: usize) -> Report {
    Report {
        commit: CommitSha::parse(&format!("{n:040x}")).unwrap(),
        branch: Some(Branch::parse("main").unwrap()),
        commit_timestamp: None,
        cli_version: "1.0.0".into(),
        summary: Summary::default(),
        drift: vec![],
        policy_results: vec![],
        ci_context: None,
        secrets_redacted: 0,
    }
}

async fn logged(log: &Log, sealed: Sealed) -> u64 {
    log.append(&sealed).await.expect("appended").seq
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stores_followed_live_across_a_restart_equal_one_rebuild() {
    let dir = tempfile::tempdir().unwrap();
    let key = DeploymentKey::random();
    let log = Log::open_embedded(&dir.path().join("log"), true, key.events()).unwrap();
    let redactor = Redactor::new(key.fingerprints());
    let int = IntegrationId::random();
    let submitted = |n: usize| {
        seal(
            Event::ReportSubmitted {
                integration: int.clone(),
                report: report(n),
                at: 100 + n as u64,
            },
            &redactor,
        )
    };
    let key_issued = |n: u8| {
        seal(
            Event::KeyIssued {
                integration: int.clone(),
                key_id: KeyId::random(),
                label: format!("ci-{n}"),
                hash: [n; 32],
                at: 50,
            },
            &redactor,
        )
    };

    let live = start(&dir.path().join("stores"), &log);
    let created = seal(
        Event::IntegrationCreated {
            id: int.clone(),
            name: "payments".into(),
            collect_ci_context: false,
            tracked_branches: vec![],
            at: 1,
        },
        &redactor,
    );
    live.caught_up(logged(&log, created).await).await;
    // Reports only: the registry has nothing to fold and commits nothing (unless its
    // periodic durable commit falls due), then a key it must apply.
    let mut last = 0;
    for n in 0..40 {
        last = logged(&log, submitted(n)).await;
    }
    live.caught_up(last).await;
    live.caught_up(logged(&log, key_issued(1)).await).await;
    let registry = live.projections.store(Kind::Registry).checkpoint().unwrap();
    assert!(registry > last, "the key's chunk was committed: {registry}");
    for n in 40..60 {
        last = logged(&log, submitted(n)).await;
    }
    live.caught_up(last).await;
    live.stop().await;

    // Restarted: each projector reads on from the checkpoint its store holds.
    let live = start(&dir.path().join("stores"), &log);
    live.caught_up(last).await;
    last = logged(&log, key_issued(2)).await;
    live.caught_up(last).await;
    let found = live
        .projections
        .registry(|r| Ok((r.integration(&int)?, r.key(&[1; 32])?, r.key(&[2; 32])?)))
        .unwrap();
    assert!(found.0.is_some() && found.1.is_some() && found.2.is_some());

    // One rebuild from the log, in a store set of its own.
    let rebuilt = start(&dir.path().join("rebuilt"), &log);
    rebuilt.caught_up(last).await;
    for kind in Kind::ALL {
        let digest = |r: &Running| r.projections.store(kind).digest().unwrap();
        assert_eq!(
            digest(&live),
            digest(&rebuilt),
            "{} differs from a rebuild",
            kind.name()
        );
    }
    live.stop().await;
    rebuilt.stop().await;
}
