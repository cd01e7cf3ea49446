//! Compatible forever: every data dir an earlier release wrote (its log and deployment
//! key, and where committed the stores it built, under
//! `tests/fixtures/data-dirs/<release>/`) is served by this one,
//! with the answers that release gave (`answers.json`: each recorded field must be there
//! with the same value; later releases may add fields), its CI key and viewer token
//! still working, and nothing it sent sent again. Add a data dir for each release that
//! changes an event or the log format: `cargo test -p clef-pro-tests --test golden --
//! --ignored` writes one for today's release.

use clef_pro_tests::history::History;
use clef_pro_tests::service::{Backend, Service};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    clef_pro_tests::root().join("tests/fixtures/data-dirs")
}

/// Whether every field of `expected` is in `actual` with the same value.
fn holds(expected: &Value, actual: &Value, at: &str, faults: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, v) in e {
                match a.get(k) {
                    Some(got) => holds(v, got, &format!("{at}.{k}"), faults),
                    None => faults.push(format!("{at}.{k} is missing")),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (v, got)) in e.iter().zip(a).enumerate() {
                holds(v, got, &format!("{at}[{i}]"), faults);
            }
        }
        _ if expected == actual => {}
        _ => faults.push(format!("{at}: recorded {expected}, now {actual}")),
    }
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[tokio::test(flavor = "multi_thread")]
async fn every_committed_data_dir_is_served() {
    let mut releases: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .expect("tests/fixtures/data-dirs")
        .map(|e| e.unwrap().path())
        .collect();
    releases.sort();
    assert!(!releases.is_empty(), "no committed data dir");
    for release in releases {
        let mut s = Service::not_started(Backend::Embedded, None, &[]);
        let data = s.data_dir();
        std::fs::create_dir_all(data.join("log")).unwrap();
        std::fs::copy(
            release.join("log/events.clog"),
            data.join("log/events.clog"),
        )
        .unwrap();
        std::fs::copy(release.join("deployment.key"), data.join("deployment.key")).unwrap();
        // The stores as that release left them, where committed: this release must open
        // them (converting their file format where redb needs it).
        copy_dir(&release.join("stores"), &data.join("stores"));
        s.start_again().await;
        // Every store this release rebuilds aside is swapped in, and the notifier has
        // nothing left to send: what that release sent is not sent again.
        let c = s.client();
        let ready = tokio::time::Instant::now() + std::time::Duration::from_secs(60);
        while c.send("GET", "/readyz", None, None).await.status != 200 {
            assert!(tokio::time::Instant::now() < ready, "never ready");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        c.settle().await;
        let mailed = std::fs::read_dir(data.join("mail")).map_or(0, Iterator::count);
        assert_eq!(mailed, 0, "{}: mail sent again", release.display());
        let history: History = read_json(&release.join("history.json"));
        let recorded: BTreeMap<String, Value> = read_json(&release.join("answers.json"));
        let now = history.answers(&s.url).await;
        let mut faults = Vec::new();
        for (path, expected) in &recorded {
            holds(expected, &now[path], path, &mut faults);
        }
        assert!(
            faults.is_empty(),
            "{}: the data dir is not served as it was:\n{}",
            release.display(),
            faults.join("\n")
        );
        history.still_works(&s.url).await;
        s.stop().await;
        println!("{}: served as recorded", release.display());
    }
}

/// Writes today's release's data dir into the fixtures (run by hand, see above).
#[tokio::test(flavor = "multi_thread")]
#[ignore = "writes a fixture: run by hand when a release changes an event or the log"]
async fn write_this_releases_data_dir() {
    let mut s = Service::start(Backend::Embedded, None).await;
    let history = History::make(&s.client()).await;
    let answers = history.answers(&s.url).await;
    s.stop().await;
    let release = std::env::var("CLEF_PRO_RELEASE")
        .unwrap_or_else(|_| format!("v{}", env!("CARGO_PKG_VERSION")));
    let dir = fixtures().join(release);
    std::fs::create_dir_all(dir.join("log")).unwrap();
    std::fs::copy(
        s.data_dir().join("log/events.clog"),
        dir.join("log/events.clog"),
    )
    .unwrap();
    std::fs::copy(
        s.data_dir().join("deployment.key"),
        dir.join("deployment.key"),
    )
    .unwrap();
    copy_dir(&s.data_dir().join("stores"), &dir.join("stores"));
    std::fs::write(dir.join("history.json"), pretty(&history)).unwrap();
    std::fs::write(dir.join("answers.json"), pretty(&answers)).unwrap();
    println!("wrote {}", dir.display());
}

/// Copies the files of `from` (if it exists) into `to`.
fn copy_dir(from: &Path, to: &Path) {
    let Ok(files) = std::fs::read_dir(from) else {
        return;
    };
    std::fs::create_dir_all(to).unwrap();
    for f in files {
        let f = f.unwrap().path();
        std::fs::copy(&f, to.join(f.file_name().unwrap())).unwrap();
    }
}

fn pretty(v: &impl serde::Serialize) -> String {
    serde_json::to_string_pretty(v).expect("json") + "\n"
}
