//! `bench group-commit` and `bench redactor`: the embedded log's group commit against
//! one fsync per append, and the redactor against a one-pattern regex scan.

use crate::RUN;
use crate::results::{Row, record};
use clef_pro_log::Log;
use clef_pro_schema::event::Event;
use clef_pro_schema::ids::IntegrationId;
use clef_pro_schema::keys::DeploymentKey;
use clef_pro_tests::fixtures::seal;
use futures::future::join_all;
use std::sync::Arc;
use std::time::Instant;

pub async fn group_commit(rows: &mut Vec<Row>) {
    let mut rates = Vec::new();
    for group in [true, false] {
        let dir = tempfile::tempdir().expect("tempdir");
        let log =
            Log::open_embedded(dir.path(), group, DeploymentKey::random().events()).expect("log");
        let start = Instant::now();
        let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..64)
            .map(|w| {
                let (log, count) = (log.clone(), count.clone());
                tokio::spawn(async move {
                    let mut n = 0;
                    while start.elapsed() < RUN {
                        let e = Event::AlertAcknowledged {
                            integration: IntegrationId::parse("int_0123456789abcdef").expect("id"),
                            alert: clef_pro_schema::ids::AlertId::derive(&[
                                &[w],
                                &u64::to_le_bytes(n),
                            ]),
                            by: "bench".into(),
                            at: n,
                        };
                        if log.append(&seal(e)).await.is_ok() {
                            count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        }
                        n += 1;
                    }
                })
            })
            .collect();
        join_all(tasks).await;
        rates.push(
            count.load(std::sync::atomic::Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64(),
        );
    }
    let row = Row::new(
        "durable appends, embedded log, group commit, 64 writers",
        "appends/s",
        rates[0],
    )
    .vs("one fsync per append/s", rates[1])
    .target(">= 5x one fsync per append", rates[0] >= 5.0 * rates[1]);
    record(rows, row);
}

pub fn redactor(rows: &mut Vec<Row>) {
    let realistic_text = (0..20_000)
        .map(|i| format!("{i} keys, 3 recipients, rotated 12d ago; 1 key in [development, staging] missing from production. Rotation overdue for api-keys/production (94 days). https://github.com/acme/repo/actions/runs/{i} "))
        .collect::<String>();
    let mut adversarial = String::new();
    while adversarial.len() < realistic_text.len() {
        adversarial.push_str(&format!(
            "AKIA{} ghp_{} eyJhbGciOi.{} sk-ant- -----BEGIN ",
            "A".repeat(15),
            "x".repeat(35),
            "QUJD".repeat(200)
        ));
    }
    let single = regex::Regex::new(r"AKIA[0-9A-Z]{16}").expect("regex");
    for (name, text) in [
        ("realistic", &realistic_text),
        ("adversarial", &adversarial),
    ] {
        let mb = text.len() as f64 / 1e6;
        // The median of three runs, after a first (untimed) run has compiled the
        // pattern set and warmed the lazy DFAs of both engines.
        let median = |f: &dyn Fn()| {
            f();
            let mut t: Vec<f64> = (0..3)
                .map(|_| {
                    let start = Instant::now();
                    f();
                    start.elapsed().as_secs_f64()
                })
                .collect();
            t.sort_by(f64::total_cmp);
            mb / t[1]
        };
        let ours = median(&|| {
            let _ = clef_pro_tests::fixtures::redactor().redact(text, &mut Vec::new());
        });
        let raw = median(&|| {
            let _ = single.find_iter(text).count();
        });
        let mut row = Row::new(
            format!("redactor over {:.0} MB of {name} text", mb),
            "MB/s",
            ours,
        )
        .vs("one-pattern regex scan MB/s", raw);
        if name == "realistic" {
            row = row.target(">= 240 MB/s", ours >= 240.0);
        }
        record(rows, row);
    }
    // Linear: twice the adversarial input takes about twice the time.
    let double = adversarial.repeat(2);
    let time = |s: &str| {
        let t = Instant::now();
        let _ = clef_pro_tests::fixtures::redactor().redact(s, &mut Vec::new());
        t.elapsed().as_secs_f64()
    };
    let ratio = time(&double) / time(&adversarial);
    let row = Row::new(
        "redactor time ratio, 2x vs 1x adversarial input",
        "x",
        ratio,
    )
    .target("about 2 (linear)", ratio < 3.0);
    record(rows, row);
}
