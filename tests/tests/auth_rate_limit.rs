//! Repeated authentication failures from one address are answered 429 for a while,
//! and only for that address.

use clef_pro_tests::service::{Backend, Service};
use serde_json::Value;
use std::net::{IpAddr, Ipv4Addr};

fn loopback(a: u8, b: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, a, b))
}

/// After its budget of failed authentications, an address gets 429 with `Retry-After`
/// on everything (even with a valid token) while other addresses are unaffected.
#[tokio::test(flavor = "multi_thread")]
async fn repeated_failures_from_one_address_are_rate_limited() {
    let s = Service::start_with(
        Backend::Embedded,
        None,
        &["--auth-failures-per-minute", "20"],
        |_| {},
    )
    .await;
    let attacker = s.client().from_address(loopback(2, 1));
    let bystander = s.client().from_address(loopback(2, 2));
    let guess = |i: usize| format!("clef_{i:040}");
    for i in 0..20 {
        let r = attacker
            .send(
                "GET",
                "/api/v1/integrations",
                Some(("x-api-key", &guess(i))),
                None,
            )
            .await;
        assert_eq!(r.status, 401, "attempt {i}: {:?}", r.body);
    }
    let limited = attacker
        .send(
            "GET",
            "/api/v1/integrations",
            Some(("x-api-key", &guess(20))),
            None,
        )
        .await;
    assert_eq!(limited.expect_error(429, None), "rate_limited");
    assert!(limited.retry_after.is_some(), "429 carries Retry-After");
    // Even the right token from that address waits: the limit is checked first.
    let r = attacker
        .admin("GET", "/api/v1/integrations", Value::Null)
        .await;
    assert_eq!(r.status, 429);
    // Failed dashboard sign-ins from the address are refused the same way.
    let r = attacker.send("POST", "/sign-in", None, None).await;
    assert_eq!(r.status, 429);
    assert_eq!(
        attacker.send("GET", "/healthz", None, None).await.status,
        200,
        "liveness stays reachable"
    );
    let r = bystander
        .admin("GET", "/api/v1/integrations", Value::Null)
        .await;
    assert_eq!(r.status, 200, "another address is not affected");
}

/// A 401 for a request that presents no credential guesses nothing: a client probing
/// every route without one is never limited, while wrong keys from it still are.
#[tokio::test(flavor = "multi_thread")]
async fn requests_without_a_credential_are_not_counted() {
    let s = Service::start_with(
        Backend::Embedded,
        None,
        &["--auth-failures-per-minute", "5"],
        |_| {},
    )
    .await;
    let prober = s.client().from_address(loopback(3, 1));
    for i in 0..30 {
        let r = prober.send("GET", "/api/v1/integrations", None, None).await;
        assert_eq!(r.status, 401, "probe {i}: {:?}", r.body);
        let r = prober
            .send("POST", "/api/v1/reports", None, Some(b"{}".to_vec()))
            .await;
        assert_eq!(r.status, 401, "probe {i}: {:?}", r.body);
    }
    let r = prober
        .admin("GET", "/api/v1/integrations", Value::Null)
        .await;
    assert_eq!(r.status, 200, "60 probes without a credential lock nothing");
    for i in 0..5 {
        let r = prober
            .send(
                "GET",
                "/api/v1/integrations",
                Some(("x-api-key", "clef_wrong")),
                None,
            )
            .await;
        assert_eq!(r.status, 401, "guess {i}");
    }
    let r = prober
        .admin("GET", "/api/v1/integrations", Value::Null)
        .await;
    assert_eq!(r.status, 429, "wrong keys still count");
}
