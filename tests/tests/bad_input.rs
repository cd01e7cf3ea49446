//! Bad input at the two boundaries where bytes from outside are decoded:
//! - the JSON ingest boundary (`body::parse` then `Report::from_wire`): for random and
//!   mutated requests it never panics, every rejection is 400 (not JSON) or 422 (invalid),
//!   and what it accepts seals into an event that encodes and decodes to itself;
//! - event decoding (`event::decode`), which reads log records: random or damaged bytes
//!   are an error, never a panic.
//!
//! And against the real service: deeply nested JSON, huge strings, invalid UTF-8,
//! numbers out of range and 10 MB bodies are each a 4xx JSON error that leaves nothing
//! in the log; a client that sends its header or body slowly is cut off in bounded time
//! while others are served.

use clef_pro_api::error::ApiError;
use clef_pro_schema::event::{Event, decode, encode};
use clef_pro_schema::ids::IntegrationId;
use clef_pro_schema::report::Report;
use clef_pro_schema::wire::ReportIn;
use clef_pro_tests::client::Client;
use clef_pro_tests::fixtures::seal;
use clef_pro_tests::fixtures::{report, sha};
use clef_pro_tests::service::{Backend, Service};
use proptest::prelude::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Any JSON value, a few levels deep, with the strings the schema cares about mixed in.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::from),
        prop_oneof![
            Just("main"),
            Just("critical"),
            Just("oauth/production"),
            Just("3f786850e387550fdab836ed7e6dc881de23001b"),
            Just("AKIAIOSFODNN7EXAMPLE"),
        ]
        .prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-zA-Z]{1,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Every path (object keys and array indices) inside `v`.
fn paths(v: &Value, at: Vec<String>, out: &mut Vec<Vec<String>>) {
    out.push(at.clone());
    let children: Vec<(String, &Value)> = match v {
        Value::Object(m) => m.iter().map(|(k, c)| (k.clone(), c)).collect(),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .map(|(i, c)| (i.to_string(), c))
            .collect(),
        _ => return,
    };
    for (k, c) in children {
        let mut p = at.clone();
        p.push(k);
        paths(c, p, out);
    }
}

fn at_path<'a>(v: &'a mut Value, path: &[String]) -> &'a mut Value {
    path.iter().fold(v, |v, k| match v {
        Value::Array(a) => &mut a[k.parse::<usize>().expect("index")],
        _ => &mut v[k.as_str()],
    })
}

/// The contract's example report with the value at one of its paths replaced.
fn mutated_report() -> impl Strategy<Value = Value> {
    let base = report(
        &sha("base"),
        "main",
        &[("missing_keys", "oauth/production", false, "critical")],
    );
    let mut all = Vec::new();
    paths(&base, Vec::new(), &mut all);
    (0..all.len(), any_json(), any::<bool>()).prop_map(move |(i, with, rename)| {
        let mut v = base.clone();
        let path = &all[i];
        match path.split_last() {
            // Renaming a key tests unknown and missing fields.
            Some((last, parent)) if rename => {
                if let Value::Object(m) = at_path(&mut v, parent)
                    && let Some(old) = m.remove(last)
                {
                    m.insert(format!("{last}X"), old);
                }
            }
            _ => *at_path(&mut v, path) = with,
        }
        v
    })
}

/// What the ingest path does with `bytes`: `Err` is the status it answers with.
fn ingest(bytes: &[u8]) -> Result<Report, u16> {
    let wire = clef_pro_api::body::parse::<ReportIn>(bytes).map_err(|e| -> u16 {
        match e {
            ApiError::BadJson(_) => 400,
            ApiError::Invalid(_) => 422,
            other => panic!("parse answered {other:?}"),
        }
    })?;
    Report::from_wire(wire, "", true).map_err(|_| 422)
}

/// An accepted report seals into an event whose encoding decodes to the same event.
fn round_trips(report: Report) {
    let sealed = seal(Event::ReportSubmitted {
        integration: IntegrationId::random(),
        report,
        at: 1,
    });
    assert_eq!(&decode(&encode(sealed.event())).unwrap(), sealed.event());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_reports_are_accepted_or_rejected_with_4xx(v in mutated_report()) {
        if let Ok(r) = ingest(v.to_string().as_bytes()) {
            round_trips(r);
        }
    }

    #[test]
    fn arbitrary_json_is_rejected_with_4xx(v in any_json()) {
        if let Ok(r) = ingest(v.to_string().as_bytes()) {
            round_trips(r);
        }
    }

    #[test]
    fn arbitrary_bytes_are_rejected_with_4xx(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let _ = ingest(&bytes);
    }

    #[test]
    fn damaged_json_is_rejected_with_4xx(cut in 0usize..2000, at in 0usize..2000, b in any::<u8>()) {
        let mut bytes = report(&sha("x"), "main", &[]).to_string().into_bytes();
        let i = at % bytes.len();
        bytes[i] = b;
        bytes.truncate(bytes.len() - cut % bytes.len());
        let _ = ingest(&bytes);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 5000, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic_the_event_decoder(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode(&bytes);
    }

    #[test]
    fn damaged_events_never_panic_the_event_decoder(at in any::<usize>(), b in any::<u8>(), cut in any::<usize>()) {
        let wire: ReportIn = serde_json::from_value(report(
            &sha("e"), "main", &[("missing_keys", "oauth/production", false, "critical")],
        )).unwrap();
        let event = Event::ReportSubmitted {
            integration: IntegrationId::random(),
            report: Report::from_wire(wire, "", true).unwrap(),
            at: 7,
        };
        let mut bytes = encode(&event);
        let i = at % bytes.len();
        bytes[i] ^= b | 1;
        let _ = decode(&bytes);
        bytes.truncate(cut % bytes.len());
        let _ = decode(&bytes);
    }
}

async fn head(c: &Client) -> f64 {
    c.metrics().await["clef_pro_log_head"]
}

/// Each hostile body is a 4xx JSON error, and none of them reaches the log.
#[tokio::test(flavor = "multi_thread")]
async fn hostile_bodies_are_4xx_json_errors() {
    let s = Service::start(Backend::Embedded, None).await;
    let c = s.client();
    let (_, key) = c.integration("payments", json!({})).await;
    let good = report(&sha("ok"), "main", &[]).to_string();
    let with = |field: &str, raw: &str| {
        good.replacen(
            &format!("\"{field}\":"),
            &format!("\"{field}\":{raw},\"_\":"),
            1,
        )
    };
    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let deep_in_field = good.replacen(
        "\"drift\":",
        &format!("\"drift\":{}0{},\"_\":", "[".repeat(5000), "]".repeat(5000)),
        1,
    );
    let huge_string = good.replacen(
        "\"4 keys, 3 recipients, rotated 12d ago\"",
        &format!("\"{}\"", "x".repeat(1_500_000)),
        1,
    );
    let mut invalid_utf8 = good.clone().into_bytes();
    let i = good.find("rotated").unwrap();
    invalid_utf8[i..i + 3].copy_from_slice(&[0xff, 0xfe, 0xc0]);
    let ten_mb = format!("{{\"commitSha\":\"{}\"}}", "a".repeat(10 << 20));
    let cases: Vec<(&str, Vec<u8>, &[u16])> = vec![
        // A struct may be read from an array, and a field meets the nesting where it
        // expects a string: 422 there, 400 at the parser's recursion limit.
        ("deeply nested array", nested.into_bytes(), &[400, 422]),
        (
            "deeply nested field",
            deep_in_field.into_bytes(),
            &[400, 422],
        ),
        ("1.5 MB string", huge_string.into_bytes(), &[422]),
        ("invalid UTF-8", invalid_utf8, &[400]),
        (
            "timestamp 1e400",
            with("commitTimestamp", "1e400").into_bytes(),
            &[400, 422],
        ),
        (
            "timestamp 2^64",
            with("commitTimestamp", "18446744073709551616").into_bytes(),
            &[422],
        ),
        (
            "negative timestamp",
            with("commitTimestamp", "-1").into_bytes(),
            &[422],
        ),
        (
            "fractional count",
            good.replacen("\"filesScanned\":9", "\"filesScanned\":9.5", 1)
                .into_bytes(),
            &[422],
        ),
        (
            "count past u32",
            good.replacen("\"filesScanned\":9", "\"filesScanned\":4294967296", 1)
                .into_bytes(),
            &[422],
        ),
        ("10 MB body", ten_mb.clone().into_bytes(), &[413]),
        ("NUL bytes", vec![0u8; 1000], &[400]),
        ("empty body", Vec::new(), &[400]),
    ];
    let before = head(&c).await;
    for (what, body, want) in cases {
        let r = c
            .send(
                "POST",
                "/api/v1/reports",
                Some(("x-api-key", &key)),
                Some(body),
            )
            .await;
        assert!(
            want.contains(&r.status),
            "{what}: {} {:?}",
            r.status,
            r.body
        );
        assert!(
            r.body["error"]["code"].is_string(),
            "{what}: JSON error {:?}",
            r.body
        );
    }
    // The admin API has its own, smaller limit.
    let r = c
        .send(
            "POST",
            "/api/v1/admin/integrations",
            Some(("authorization", &format!("Bearer {}", s.admin))),
            Some(ten_mb.into_bytes()),
        )
        .await;
    assert_eq!(r.status, 413, "{:?}", r.body);
    assert_eq!(
        head(&c).await,
        before,
        "no rejected request reached the log"
    );
    assert_eq!(
        c.report(&key, &report(&sha("after"), "main", &[]))
            .await
            .status,
        201
    );
}

fn addr(s: &Service) -> String {
    s.url.trim_start_matches("http://").to_owned()
}

/// Sends `head` then one more header byte every 200 ms until the server closes the
/// connection; returns how long that took.
async fn trickle_header(addr: &str, head: &str) -> Duration {
    let started = Instant::now();
    let mut conn = TcpStream::connect(addr).await.unwrap();
    conn.write_all(head.as_bytes()).await.unwrap();
    let mut buf = [0u8; 1024];
    loop {
        tokio::select! {
            r = conn.read(&mut buf) => {
                // EOF, a reset, or a response: either way the server is done with us.
                let _ = r;
                return started.elapsed();
            }
            () = tokio::time::sleep(Duration::from_millis(200)) => {
                if conn.write_all(b"a").await.is_err() {
                    return started.elapsed();
                }
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "never cut off"
        );
    }
}

/// Slow-loris: clients that never finish their header are disconnected within the
/// header timeout, and meanwhile the service answers everyone else.
#[tokio::test(flavor = "multi_thread")]
async fn slow_headers_are_cut_off_and_others_are_served() {
    let s = Service::start(Backend::Embedded, None).await;
    let a = addr(&s);
    let loris: Vec<_> = (0..50)
        .map(|_| {
            let a = a.clone();
            tokio::spawn(async move {
                trickle_header(&a, "POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nX-Slow: ").await
            })
        })
        .collect();
    // While they trickle, others are served promptly.
    let c = s.client();
    for _ in 0..20 {
        let t = Instant::now();
        assert_eq!(c.send("GET", "/healthz", None, None).await.status, 200);
        assert!(
            t.elapsed() < Duration::from_secs(2),
            "healthz took {:?}",
            t.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let bound = clef_pro_api::HEADER_TIMEOUT + Duration::from_secs(5);
    let mut longest = Duration::ZERO;
    for l in loris {
        longest = longest.max(l.await.unwrap());
    }
    eprintln!("50 slow-header clients cut off after at most {longest:?}");
    assert!(
        longest <= bound,
        "a slow header held its connection for {longest:?}"
    );
}

/// A client that stops sending its body gets 408 within the body idle timeout.
#[tokio::test(flavor = "multi_thread")]
async fn a_stalled_body_gets_408() {
    let s = Service::start(Backend::Embedded, None).await;
    let (_, key) = s.client().integration("payments", json!({})).await;
    let started = Instant::now();
    let mut conn = TcpStream::connect(addr(&s)).await.unwrap();
    let head = format!(
        "POST /api/v1/reports HTTP/1.1\r\nHost: x\r\nx-api-key: {key}\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{{\"commitSha\""
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let mut resp = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(60), conn.read_to_end(&mut resp)).await;
    assert!(read.is_ok(), "the server kept a stalled body open");
    let text = String::from_utf8_lossy(&resp);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    let err: serde_json::Value = serde_json::from_str(body).expect("a JSON body");
    assert_eq!(err["error"]["code"], "request_timeout", "{text}");
    eprintln!("stalled body answered 408 after {:?}", started.elapsed());
    assert!(started.elapsed() <= clef_pro_api::BODY_IDLE_TIMEOUT + Duration::from_secs(5));
}
