//! `GET /api/v1/openapi.json`: a valid OpenAPI 3.1 document (checked by
//! `openapi-spec-validator` from PyPI, installed by `just deps`) that describes every
//! route of the router, and whose documented routes all exist.

use clef_pro_tests::service::{Backend, Service};
use clef_pro_tests::{root, tool};
use serde_json::{Value, json};
use std::collections::BTreeSet;

async fn document() -> (Service, Value) {
    let s = Service::start(Backend::Embedded, None).await;
    let r = s
        .client()
        .send("GET", "/api/v1/openapi.json", None, None)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let doc = r.body;
    (s, doc)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_document_is_valid_openapi_3_1() {
    let (_s, doc) = document().await;
    assert!(
        doc["openapi"]
            .as_str()
            .is_some_and(|v| v.starts_with("3.1")),
        "{}",
        doc["openapi"]
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(&doc).unwrap()).unwrap();
    let out = std::process::Command::new(tool("openapi-spec-validator"))
        .arg(&file)
        .output()
        .expect("openapi-spec-validator runs (installed by `just deps`)");
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Every operation has a description of its answers, the JSON ones a schema, and every
/// request body a schema; the main request and answer types carry examples.
#[tokio::test(flavor = "multi_thread")]
async fn every_operation_has_schemas_and_the_main_types_examples() {
    let (_s, doc) = document().await;
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            operations += 1;
            let responses = op["responses"].as_object().unwrap();
            assert!(!responses.is_empty(), "{method} {path}: no responses");
            for (status, r) in responses {
                assert!(
                    r["description"].is_string(),
                    "{method} {path} {status}: no description"
                );
                if let Some(json) = r["content"].get("application/json")
                    && path.starts_with("/api/v1/")
                    && path != "/api/v1/openapi.json"
                {
                    assert!(
                        json.get("schema").is_some(),
                        "{method} {path} {status}: no schema"
                    );
                }
            }
            if let Some(body) = op.get("requestBody") {
                let content = body["content"].as_object().unwrap();
                assert!(
                    content.values().all(|c| c.get("schema").is_some())
                        || !path.starts_with("/api/"),
                    "{method} {path}: request body without a schema"
                );
            }
        }
    }
    assert!(operations >= 37, "{operations} operations");
    let schemas = &doc["components"]["schemas"];
    for name in [
        "ReportIn",
        "IntegrationView",
        "ReportPage",
        "AlertView",
        "ErrorBody",
        "ReportAccepted",
        "BatchAccepted",
        "KeyIssued",
        "TokenIssued",
    ] {
        assert!(
            schemas[name].get("example").is_some() || schemas[name].get("examples").is_some(),
            "{name} has no example"
        );
    }
}

/// The path of a route with its parameters filled by values that exist nowhere.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "x0" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

/// `method` on the documented `path`, its parameters filled, with an empty JSON body.
async fn call(
    c: &clef_pro_tests::client::Client,
    method: &str,
    path: &str,
) -> clef_pro_tests::client::Resp {
    c.send(
        &method.to_uppercase(),
        &concrete(path),
        None,
        Some(b"{}".to_vec()),
    )
    .await
}

/// Each documented route exists: the router answers it with something other than its
/// "no such route" or "wrong method" error.
#[tokio::test(flavor = "multi_thread")]
async fn every_documented_route_exists() {
    let (s, doc) = document().await;
    let c = s.client();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let r = call(&c, method, path).await;
            let routed = !(r.status == 405
                || r.status == 404 && r.body["error"]["message"] == json!("route not found"));
            assert!(routed, "{method} {path}: {} {:?}", r.status, r.body);
        }
    }
}

/// No method is served on a documented path but those documented for it: every other
/// one is 405 (two handlers given to one `routes!` would serve each other's methods).
#[tokio::test(flavor = "multi_thread")]
async fn no_undocumented_method_is_served() {
    let (s, doc) = document().await;
    let c = s.client();
    let mut served = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        let documented = item.as_object().unwrap();
        for method in ["get", "post", "put", "patch", "delete"] {
            if documented.contains_key(method) {
                continue;
            }
            let r = call(&c, method, path).await;
            if r.status != 405 {
                served.push(format!("{method} {path}: {}", r.status));
            }
        }
    }
    assert!(served.is_empty(), "{served:#?}");
}

/// The other direction: no route can be added without a description. The router and
/// the dashboard are built with `utoipa_axum::routes!`, which takes each handler's
/// `#[utoipa::path]`; this fails if any other way of adding a route appears in the
/// HTTP crates' sources.
#[test]
fn no_route_is_added_around_the_document() {
    let forbidden = [
        ".route(",
        ".route_service(",
        ".nest_service(",
        "axum::routing::",
        "routing::{",
    ];
    let mut files = Vec::new();
    collect_rs(&root().join("services/api/src"), &mut files);
    collect_rs(&root().join("services/dashboard/src"), &mut files);
    assert!(files.len() > 10, "found the sources");
    let mut found = BTreeSet::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for needle in forbidden {
            if text.contains(needle) {
                found.insert(format!("{} uses {needle}", f.display()));
            }
        }
    }
    assert!(found.is_empty(), "{found:#?}");
}

fn collect_rs(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            collect_rs(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}
