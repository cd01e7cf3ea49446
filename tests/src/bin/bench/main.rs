//! `just bench`: clef-pro against the raw engines it is built on, measured in the same
//! run on the same machine, because absolute figures drift on shared machines. Prints a
//! table and writes `target/bench/results.json`. See docs/performance.md.

mod alerts;
mod dashboard;
mod engines;
mod inbox;
mod load;
mod results;
mod upgrade;

use clef_pro_log::{Log, NatsOptions};
use clef_pro_schema::event::Event;
use clef_pro_schema::ids::IntegrationId;
use clef_pro_schema::keys::DeploymentKey;
use clef_pro_schema::report::Report;
use clef_pro_schema::wire::ReportIn;
use clef_pro_tests::fixtures::seal;
use clef_pro_tests::fixtures::{big_report, sha};
use clef_pro_tests::nats::NatsServer;
use clef_pro_tests::service::{Backend, Service};
use futures::future::join_all;
use load::{MakeRequest, closed, open, peak_rss_mb};
use results::{Row, record};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Seconds per closed-loop load run.
const RUN: Duration = Duration::from_secs(3);

/// A realistic report: 3 × 3 cells and a dozen policy results, about 4 KB of JSON, the
/// size the Clef CLI sends for such a repository.
fn realistic(commit: &str) -> Value {
    let mut r = big_report(commit, 3, 3);
    let results: Vec<Value> = (0..12)
        .map(|i| {
            let severity = ["critical", "error", "warning", "info"][i % 4];
            json!({"ruleId": format!("rule_{i}"), "ruleName": "Key rotation max age", "passed": i % 3 != 0,
                   "severity": severity,
                   "message": format!("Rotation overdue for ns{}/env{} (94 days); last rotated by the platform team, see the runbook", i % 3, i % 3),
                   "scope": format!("ns{}/env{}", i % 3, i % 3)})
        })
        .collect();
    r["policyResults"] = json!(results);
    r
}

fn event_bytes(body: &Value) -> Vec<u8> {
    let wire: ReportIn = serde_json::from_value(body.clone()).expect("fixture parses");
    let report = Report::from_wire(wire, "", true).expect("fixture is valid");
    seal(Event::ReportSubmitted {
        integration: IntegrationId::random(),
        report,
        at: 1,
    })
    .encode(&DeploymentKey::random().events())
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(60))
        .build()
        .expect("client")
}

/// Report bodies for one size: `(label, make(i) -> body)`.
type Body = (&'static str, fn(usize) -> Value);

const SIZES: [Body; 2] = [
    ("4KB 3x3", |i| {
        realistic(&sha(&format!("r{i}-{}", std::process::id())))
    }),
    ("50x10", |i| {
        big_report(&sha(&format!("b{i}-{}", std::process::id())), 50, 10)
    }),
];

fn post_reports(url: &str, key: &str, body: fn(usize) -> Value, salt: usize) -> MakeRequest {
    let (c, url, key) = (client(), format!("{url}/api/v1/reports"), key.to_owned());
    Arc::new(move |i| c.post(&url).header("x-api-key", &key).json(&body(i + salt)))
}

/// The HTTP limit: an axum server in this process whose handler only parses the JSON.
async fn parse_only_server() -> String {
    let app = axum::Router::new().route(
        "/parse",
        axum::routing::post(|body: axum::body::Bytes| async move {
            match clef_pro_api::body::parse::<ReportIn>(&body) {
                Ok(_) => axum::http::StatusCode::CREATED,
                Err(_) => axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}/parse")
}

/// The log's limit: raw JetStream publishes of the encoded event, acked, at `workers`.
async fn raw_publish(nats_url: &str, workers: usize, bytes: Vec<u8>) -> f64 {
    let client = async_nats::connect(nats_url).await.expect("nats");
    let js = async_nats::jetstream::new(client);
    let _ = js
        .get_or_create_stream(async_nats::jetstream::stream::Config {
            name: "RAW".into(),
            subjects: vec!["raw.>".into()],
            storage: async_nats::jetstream::stream::StorageType::File,
            ..Default::default()
        })
        .await
        .expect("stream");
    let start = Instant::now();
    let count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let bytes = bytes::Bytes::from(bytes);
    let tasks: Vec<_> = (0..workers)
        .map(|w| {
            let (js, bytes, count) = (js.clone(), bytes.clone(), count.clone());
            tokio::spawn(async move {
                let mut n = 0usize;
                while start.elapsed() < RUN {
                    let mut h = async_nats::HeaderMap::new();
                    h.insert("Nats-Msg-Id", format!("{w}-{n}").as_str());
                    if let Ok(ack) = js.publish_with_headers("raw.x", h, bytes.clone()).await
                        && ack.await.is_ok()
                    {
                        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    n += 1;
                }
            })
        })
        .collect();
    join_all(tasks).await;
    count.load(std::sync::atomic::Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64()
}

async fn ingest(rows: &mut Vec<Row>) {
    let parse_url = parse_only_server().await;
    let default_nats = NatsServer::start_with_sync(false).await;
    let always_nats = NatsServer::start_with_sync(true).await;
    let backends: [(&str, Backend); 3] = [
        ("embedded", Backend::Embedded),
        ("jetstream default sync", Backend::Nats(default_nats.url())),
        ("jetstream sync always", Backend::Nats(always_nats.url())),
    ];
    let mut baselines = std::collections::HashMap::new();
    for (size, body) in SIZES {
        let bytes = event_bytes(&body(0));
        let json_len = body(0).to_string().len();
        println!(
            "-- ingest {size}: {json_len} bytes of JSON, {} bytes encoded",
            bytes.len()
        );
        for conc in [1, 16, 64] {
            let nats = raw_publish(&default_nats.url(), conc, bytes.clone()).await;
            let (c, url) = (client(), parse_url.clone());
            let parse = closed(conc, RUN, Arc::new(move |i| c.post(&url).json(&body(i))))
                .await
                .per_sec();
            baselines.insert((size, conc), (nats, parse));
        }
    }
    for (name, backend) in backends {
        let s = Service::start(backend, None).await;
        let (_, key) = s.client().integration("bench", json!({})).await;
        for (size, body) in SIZES {
            for conc in [1, 16, 64] {
                let run = closed(
                    conc,
                    RUN,
                    post_reports(&s.url, &key, body, conc * 1_000_000),
                )
                .await;
                let (nats, parse) = baselines[&(size, conc)];
                let (base_name, base) = if nats < parse {
                    ("raw JetStream publish/s", nats)
                } else {
                    ("parse-only axum/s", parse)
                };
                let mut row = Row::new(
                    format!(
                        "ingest {name} {size} c{conc} (p50 {:.2} ms, p99 {:.1} ms; raw publish {nats:.0}/s, parse-only {parse:.0}/s)",
                        run.ms(0.5),
                        run.ms(0.99)
                    ),
                    "req/s",
                    run.per_sec(),
                )
                .vs(base_name, base);
                // Performance II's targets (docs/performance.md).
                if name == "jetstream default sync" && size == SIZES[0].0 {
                    row = match conc {
                        64 => {
                            let met = row.ratio().unwrap_or(0.0) >= 0.5;
                            row.target("ratio >= 0.5 of the lower baseline", met)
                        }
                        1 => row.target("p50 <= 1 ms", run.ms(0.5) <= 1.0),
                        _ => row,
                    };
                }
                record(rows, row);
                if run.failed > 0 {
                    println!("   ({} requests failed)", run.failed);
                }
            }
        }
        // A 500-report backfill, ten times.
        let c = client();
        let mut lat = Vec::new();
        for b in 0..10 {
            let reports: Vec<Value> = (0..500)
                .map(|i| realistic(&sha(&format!("batch-{name}-{b}-{i}"))))
                .collect();
            let t = Instant::now();
            let r = c
                .post(format!("{}/api/v1/reports/batch", s.url))
                .header("x-api-key", &key)
                .json(&json!({"reports": reports}))
                .send()
                .await;
            if matches!(r, Ok(r) if r.status().is_success()) {
                lat.push(t.elapsed());
            }
        }
        lat.sort();
        let q = |p: f64| {
            lat.get(((lat.len().max(1) - 1) as f64 * p) as usize)
                .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
        };
        let row = Row::new(
            format!("batch of 500 on {name}: p50 (p99 {:.0} ms)", q(0.99)),
            "ms",
            q(0.5),
        );
        record(rows, row);
        let rss = peak_rss_mb(s.pid());
        let row = Row::new(format!("peak RSS under ingest, {name}"), "MB", rss)
            .target("<= 100 MB", rss <= 100.0);
        record(rows, row);
    }
}

/// `n` report events for `ints` integrations, appended concurrently (group commit).
async fn fill(log: &Log, ints: &[IntegrationId], n: usize, failing: bool) {
    for id in ints {
        let e = Event::IntegrationCreated {
            id: id.clone(),
            name: "bench".into(),
            collect_ci_context: false,
            tracked_branches: clef_pro_projections::lifecycle::default_tracked(),
            at: 1,
        };
        log.append(&seal(e)).await.expect("append");
    }
    let results: &[(&str, &str, bool, &str)] = if failing {
        &[("missing_keys", "oauth/production", false, "critical")]
    } else {
        &[]
    };
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        join_all(chunk.iter().map(|&i| {
            let wire: ReportIn = serde_json::from_value(clef_pro_tests::fixtures::report(
                &sha(&format!("f{i}")),
                "main",
                results,
            ))
            .expect("fixture");
            let e = Event::ReportSubmitted {
                integration: ints[i % ints.len()].clone(),
                report: Report::from_wire(wire, "", false).expect("valid"),
                at: 2,
            };
            let sealed = seal(e);
            async move { log.append(&sealed).await.expect("append") }
        }))
        .await;
    }
}

/// Replay events/s from `clef-pro replay`'s own report line, which it also shows (with
/// each store's folding time).
fn replay_rate(out: &std::process::Output) -> f64 {
    let text = String::from_utf8_lossy(&out.stderr);
    let line = text
        .lines()
        .find(|l| l.starts_with("replay: "))
        .unwrap_or("");
    println!("-- {line}");
    let rate = line
        .split('(')
        .nth(1)
        .and_then(|r| r.split_whitespace().next());
    rate.and_then(|r| r.parse().ok()).unwrap_or(f64::NAN)
}

async fn replay(rows: &mut Vec<Row>, n: usize) {
    let nats = NatsServer::start_with_sync(false).await;
    let mut s = Service::start(Backend::Nats(nats.url()), None).await;
    s.stop().await;
    let log = Log::connect_nats(NatsOptions::new(nats.url()), s.deployment_key().events())
        .await
        .expect("nats");
    let ints: Vec<IntegrationId> = (0..100).map(|_| IntegrationId::random()).collect();
    let t = Instant::now();
    fill(&log, &ints, n, false).await;
    println!(
        "-- replay: filled {n} events in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    // Baseline: an ordered consumer reading the same stream, nothing else.
    let head = log.head().await.expect("head");
    let t = Instant::now();
    let mut tail = log.tail(1).await.expect("tail");
    let mut through = 0;
    while through < head {
        through = tail.next_chunk(4096).await.expect("read").through;
    }
    let raw = n as f64 / t.elapsed().as_secs_f64();
    let out = s.run("replay", &[]).await;
    let ours = replay_rate(&out);
    let row = Row::new(
        format!("replay {n} events from JetStream"),
        "events/s",
        ours,
    )
    .vs("ordered-consumer read + decode/s", raw)
    .target(
        ">= 0.5x raw and >= 50,000/s",
        ours >= 0.5 * raw && ours >= 50_000.0,
    );
    record(rows, row);
}

async fn reads(rows: &mut Vec<Row>) {
    const INTS: usize = 1000;
    const REPORTS: usize = 100_000;
    let mut s = Service::start(Backend::Embedded, None).await;
    s.stop().await;
    let ints: Vec<IntegrationId> = (0..INTS).map(|_| IntegrationId::random()).collect();
    {
        let log = Log::open_embedded(&s.data_dir().join("log"), true, s.deployment_key().events())
            .expect("log");
        fill(&log, &ints, REPORTS, true).await;
    }
    let t = Instant::now();
    s.start_again().await;
    s.client().caught_up().await;
    println!(
        "-- reads: {REPORTS} reports over {INTS} integrations projected in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    let ints = Arc::new(ints);
    let endpoint = |path: &'static str| -> MakeRequest {
        let (c, url, admin, ints) = (
            client(),
            s.url.clone(),
            format!("Bearer {}", s.admin),
            ints.clone(),
        );
        Arc::new(move |i| {
            let id = &ints[(i * 7919) % ints.len()];
            c.get(format!("{url}/api/v1/integrations/{id}/{path}"))
                .header("authorization", &admin)
        })
    };
    let (c, url) = (client(), s.url.clone());
    let health = open(
        2000,
        Duration::from_secs(5),
        Arc::new(move |_| c.get(format!("{url}/healthz"))),
    )
    .await;
    for path in ["matrix", "reports", "alerts"] {
        let run = open(2000, Duration::from_secs(5), endpoint(path)).await;
        let row = Row::new(
            format!(
                "GET {path} at 2000/s: p99 (p50 {:.2} ms, {} failed)",
                run.ms(0.5),
                run.failed
            ),
            "ms",
            run.ms(0.99),
        )
        .vs("/healthz p99 ms", health.ms(0.99))
        .target("p99 <= 5 ms", run.ms(0.99) <= 5.0);
        record(rows, row);
    }
    let row = Row::new(
        "peak RSS serving reads (100k reports)",
        "MB",
        peak_rss_mb(s.pid()),
    );
    record(rows, row);
}

#[tokio::main]
async fn main() {
    let started = Instant::now();
    let mut rows = Vec::new();
    println!(
        "{:<58} {:>10} {:<7} {:>7}  {:<44} target",
        "benchmark", "value", "unit", "ratio", "baseline"
    );
    // `bench [name…]` runs only the named groups (e.g. `just bench ingest`).
    let only: Vec<String> = std::env::args().skip(1).collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    if wanted("redactor") {
        engines::redactor(&mut rows);
    }
    if wanted("group-commit") {
        engines::group_commit(&mut rows).await;
    }
    if wanted("ingest") {
        ingest(&mut rows).await;
    }
    if wanted("replay") {
        replay(&mut rows, 200_000).await;
    }
    // Not in a run of every group: it takes a few minutes on its own.
    if only.iter().any(|g| g == "replay-million") {
        replay(&mut rows, 1_000_000).await;
    }
    if wanted("reads") {
        reads(&mut rows).await;
    }
    if wanted("dashboard") {
        dashboard::dashboard(&mut rows).await;
    }
    if wanted("alerts") {
        alerts::alerts(&mut rows).await;
    }
    if wanted("inbox") {
        inbox::inbox(&mut rows).await;
    }
    if wanted("upgrade") {
        upgrade::upgrade(&mut rows).await;
    }
    match results::write(&rows) {
        Ok(p) => println!(
            "\nwrote {} ({} benchmarks) in {:.0}s",
            p.display(),
            rows.len(),
            started.elapsed().as_secs_f64()
        ),
        Err(e) => eprintln!("cannot write results: {e}"),
    }
}
