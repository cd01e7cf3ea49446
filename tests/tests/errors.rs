//! Every 4xx the HTTP layer itself can produce (query strings, path parameters, methods,
//! unknown routes, forms, body limits, content types) is the contract's JSON error
//! naming the field, exactly like the handlers' own. The handlers' errors (400, 401,
//! 404, 409, 413, 422, 429, 503, 408) are checked with the same `Resp::expect_error`
//! in `ingest.rs`, `lifecycle.rs`, `auth_matrix.rs` and `bad_input.rs`.

use clef_pro_tests::client::{Client, Resp};
use clef_pro_tests::fixtures::{report, sha};
use clef_pro_tests::service::{Backend, Service};
use serde_json::{Value, json};

/// A request with a raw body and Content-Type, as a browser or a script might send it.
async fn raw(c: &Client, method: &str, path: &str, content_type: &str, body: Vec<u8>) -> Resp {
    let r = reqwest::Client::new()
        .request(
            reqwest::Method::from_bytes(method.as_bytes()).unwrap(),
            c.url(path),
        )
        .header("authorization", c.admin_bearer())
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    let text = r.text().await.unwrap();
    Resp {
        status,
        body: serde_json::from_str(&text).unwrap_or(Value::String(text)),
        retry_after: None,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_rejection_is_the_contract_json_error() {
    let s = Service::start(Backend::Embedded, None).await;
    let c = s.client();
    let (id, key) = c.integration("acme", json!({})).await;
    assert_eq!(
        c.report(&key, &report(&sha("a"), "main", &[])).await.status,
        201
    );
    let admin = c.admin_bearer();
    let get = |path: String| {
        let c = c.clone();
        let admin = admin.clone();
        async move {
            c.send("GET", &path, Some(("authorization", &admin)), None)
                .await
        }
    };
    let reports = format!("/api/v1/integrations/{id}/reports");

    // Query strings: a parameter of the wrong type, or a value out of its set.
    let code = get(format!("{reports}?limit=abc"))
        .await
        .expect_error(422, Some("limit"));
    assert_eq!(code, "invalid");
    get(format!("{reports}?limit=-1"))
        .await
        .expect_error(422, Some("limit"));
    get(format!("/api/v1/integrations/{id}/alerts?status=closed"))
        .await
        .expect_error(422, Some("status"));
    get(format!("{reports}?before=yesterday"))
        .await
        .expect_error(422, Some("before"));
    get(format!("{reports}?branch=a..b"))
        .await
        .expect_error(422, Some("branch"));
    get(format!("/api/v1/integrations/{id}/matrix?commit=xyz"))
        .await
        .expect_error(422, Some("commit"));

    // Path parameters that are not UTF-8, and ids that do not exist.
    get("/api/v1/integrations/%FF%FE".into())
        .await
        .expect_error(422, Some("id"));
    assert_eq!(
        get("/api/v1/integrations/int_nope".into())
            .await
            .expect_error(404, None),
        "not_found"
    );

    // Unknown routes and methods a route does not take.
    assert_eq!(
        get("/api/v1/nothing-here".into())
            .await
            .expect_error(404, None),
        "not_found"
    );
    let r = c
        .send("DELETE", "/api/v1/reports", Some(("x-api-key", &key)), None)
        .await;
    assert_eq!(r.expect_error(405, None), "method_not_allowed");
    let r = c.send("PUT", "/sign-in", None, None).await;
    assert_eq!(r.expect_error(405, None), "method_not_allowed");

    // The sign-in form: too large, not a form, a missing field.
    let big = format!("token={}", "x".repeat(200 << 10)).into_bytes();
    let r = raw(
        &c,
        "POST",
        "/sign-in",
        "application/x-www-form-urlencoded",
        big,
    )
    .await;
    assert_eq!(r.expect_error(413, None), "payload_too_large");
    let r = raw(
        &c,
        "POST",
        "/sign-in",
        "application/json",
        br#"{"token":"x"}"#.to_vec(),
    )
    .await;
    assert_eq!(r.expect_error(415, None), "unsupported_media_type");
    let r = raw(
        &c,
        "POST",
        "/sign-in",
        "application/x-www-form-urlencoded",
        b"nothing=here".to_vec(),
    )
    .await;
    r.expect_error(422, Some("token"));

    // JSON bodies: not JSON, a field of the wrong type, an unknown field.
    let post = |body: &str| {
        raw(
            &c,
            "POST",
            "/api/v1/admin/integrations",
            "application/json",
            body.as_bytes().to_vec(),
        )
    };
    assert_eq!(post("{").await.expect_error(400, None), "invalid_json");
    post(r#"{"name": 5}"#).await.expect_error(422, Some("name"));
    post(r#"{"name": "x", "owner": "y"}"#)
        .await
        .expect_error(422, Some("owner"));

    // Credentials: none, and a viewer on an admin route.
    let r = c.send("GET", "/api/v1/integrations", None, None).await;
    assert_eq!(r.expect_error(401, None), "unauthorized");
    let (_, token) = c.issue_token("viewer", "v").await;
    let r = c
        .send(
            "POST",
            "/api/v1/admin/integrations",
            Some(("authorization", &format!("Bearer {token}"))),
            Some(br#"{"name":"x"}"#.to_vec()),
        )
        .await;
    assert_eq!(r.expect_error(403, None), "forbidden");
}
