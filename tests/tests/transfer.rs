//! `clef-pro export` and `clef-pro import`: a deployment moves between logs (embedded to
//! JetStream, embedded to embedded) with the same answers, keys and tokens, without
//! mailing again; imports that would mix logs are refused and leave the log as it was.
//! The move into a 3-node cluster is in `faults_cluster`.

use clef_pro_log::Log;
use clef_pro_log::archive::ArchiveReader;
use clef_pro_schema::keys::DeploymentKey;
use clef_pro_tests::fixtures::fill;
use clef_pro_tests::history::History;
use clef_pro_tests::moving::{fails, move_under_load, succeeds};
use clef_pro_tests::nats::NatsServer;
use clef_pro_tests::process::Proc;
use clef_pro_tests::scratch_dir;
use clef_pro_tests::service::{Backend, Service};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread")]
async fn embedded_moves_to_jetstream_under_load() {
    let nats = NatsServer::start().await;
    let files = scratch_dir();
    let mut dst = move_under_load(Backend::Nats(nats.url()), &[], files.path()).await;
    dst.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn imports_into_embedded_and_refuses_what_would_mix_logs() {
    let files = scratch_dir();
    let out = files.path().join("acme.export");
    let out_arg = out.to_str().unwrap();
    let src = Service::start(Backend::Embedded, None).await;
    let history = History::make(&src.client()).await;
    succeeds(&src, "export", &["--out", out_arg]).await;
    let again = fails(&src, "export", &["--out", out_arg]).await;
    assert!(again.contains("exists already"), "{again}");

    // Into an empty embedded log: the same answers.
    let mut dst = Service::not_started(Backend::Embedded, None, &[]);
    dst.share_key(&src);
    succeeds(&dst, "import", &["--from", out_arg]).await;
    dst.start_again().await;
    dst.client().settle().await;
    assert_eq!(
        history.answers(&dst.url).await,
        history.answers(&src.url).await
    );
    history.still_works(&dst.url).await;

    // A log that holds other events, under the same key: refused, and left as it was.
    let mut other = Service::not_started(Backend::Embedded, None, &[]);
    other.share_key(&src);
    other.start_again().await;
    other
        .client()
        .integration("other", serde_json::json!({}))
        .await;
    other.stop().await;
    let log = other.data_dir().join("log/events.clog");
    let before = std::fs::read(&log).unwrap();
    let refused = fails(&other, "import", &["--from", out_arg]).await;
    assert!(refused.contains("is not this export's"), "{refused}");
    assert_eq!(std::fs::read(&log).unwrap(), before, "nothing was written");

    // A log that holds events written under another key, which every reader skips:
    // refused too, where importing behind them would leave stores that never match.
    // All of them: opening the log says so. Only some, after this key's own: import does.
    let mut foreign = Service::not_started(Backend::Embedded, None, &[]);
    foreign.start_again().await;
    foreign
        .client()
        .integration("foreign", serde_json::json!({}))
        .await;
    foreign.stop().await;
    foreign.share_key(&src);
    let refused = fails(&foreign, "import", &["--from", out_arg]).await;
    assert!(
        refused.contains("do not verify under this deployment key"),
        "{refused}"
    );
    let mixed = Service::not_started(Backend::Embedded, None, &[]);
    let dir = mixed.data_dir().join("log");
    for key in [src.deployment_key(), DeploymentKey::random()] {
        let log = Log::open_embedded(&dir, true, key.events()).unwrap();
        log.append(&clef_pro_tests::events::token("mixed"))
            .await
            .unwrap();
    }
    let mut mixed = mixed;
    mixed.share_key(&src);
    let before = std::fs::read(dir.join("events.clog")).unwrap();
    let refused = fails(&mixed, "import", &["--from", out_arg]).await;
    assert!(
        refused.contains("1 record(s) this deployment key does not verify"),
        "{refused}"
    );
    assert_eq!(
        std::fs::read(dir.join("events.clog")).unwrap(),
        before,
        "nothing was written"
    );

    // Another deployment's key, or a damaged file: refused before anything is read.
    let stranger = Service::not_started(Backend::Embedded, None, &[]);
    let e = fails(&stranger, "import", &["--from", out_arg]).await;
    assert!(e.contains("no deployment key"), "{e}");
    std::fs::create_dir_all(stranger.data_dir()).unwrap();
    std::fs::write(stranger.data_dir().join("deployment.key"), [7u8; 32]).unwrap();
    let e = fails(&stranger, "import", &["--from", out_arg]).await;
    assert!(e.contains("digest does not match"), "{e}");
    let mut bytes = std::fs::read(&out).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 1;
    let damaged = files.path().join("damaged.export");
    std::fs::write(&damaged, bytes).unwrap();
    let mut fresh = Service::not_started(Backend::Embedded, None, &[]);
    fresh.share_key(&src);
    let e = fails(&fresh, "import", &["--from", damaged.to_str().unwrap()]).await;
    assert!(e.contains("digest does not match"), "{e}");
    assert!(
        !fresh.data_dir().join("log/events.clog").exists()
            || std::fs::metadata(fresh.data_dir().join("log/events.clog"))
                .unwrap()
                .len()
                == 0,
        "a refused import writes no event"
    );
}

/// An import killed halfway (`kill -9`) is resumed by running it again, and the log
/// then holds exactly the export's records in order: exporting it again gives the same
/// digest (which covers every record's key and bytes).
#[tokio::test(flavor = "multi_thread")]
async fn an_import_killed_halfway_resumes() {
    const REPORTS: usize = 25_000;
    let nats = NatsServer::start().await;
    let mut src = Service::start(Backend::Embedded, None).await;
    src.stop().await;
    let log = Log::open_embedded(
        &src.data_dir().join("log"),
        true,
        src.deployment_key().events(),
    )
    .unwrap();
    fill(&log, REPORTS).await;
    drop(log);
    let files = scratch_dir();
    let (first, again) = (
        files.path().join("src.export"),
        files.path().join("dst.export"),
    );
    let (first_arg, again_arg) = (first.to_str().unwrap(), again.to_str().unwrap());
    succeeds(&src, "export", &["--out", first_arg]).await;

    let mut dst = Service::not_started(Backend::Nats(nats.url()), None, &[]);
    dst.share_key(&src);
    let mut import = Proc::spawn(
        dst.one_shot("import", &["--from", first_arg]),
        &files.path().join("import.log"),
    );
    import
        .wait_line(Duration::from_secs(300), |l| {
            l.contains("events so far").then_some(())
        })
        .await;
    import.kill9().await;
    let resumed = succeeds(&dst, "import", &["--from", first_arg]).await;
    assert!(resumed.contains("resumed after the "), "{resumed}");
    println!("after kill -9: {}", resumed.trim());

    succeeds(&dst, "export", &["--out", again_arg]).await;
    let header = |p: &std::path::Path| ArchiveReader::open(p).unwrap().header;
    let (a, b) = (header(&first), header(&again));
    assert_eq!(a.events, REPORTS as u64 + 10);
    assert_eq!(
        (a.events, a.digest),
        (b.events, b.digest),
        "the resumed import holds the export's records, in order, once each"
    );
    let out = succeeds(&dst, "verify", &[]).await;
    assert!(out.contains("OK: every projection matches"), "{out}");
}
