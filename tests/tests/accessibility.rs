//! Every dashboard page, error pages included, checked by axe-core inside the real
//! Chromium of the browser tests: no violation of serious or critical impact. And
//! signing in and acknowledging an alert work with the keyboard alone.

use clef_pro_tests::browser::Browser;
use clef_pro_tests::fixtures::{report, sha};
use clef_pro_tests::service::{Backend, Service};
use serde_json::json;

const FAILING: (&str, &str, bool, &str) = ("missing_keys", "oauth/production", false, "critical");

/// Runs axe-core on the page at `path` and collects what it finds, by page.
async fn check(b: &Browser, base: &str, path: &str, found: &mut Vec<String>) {
    b.goto(&format!("{base}{path}")).await;
    b.wait_for(
        "the page",
        "return document.readyState === 'complete';",
        json!([]),
    )
    .await;
    for v in b.axe().await {
        found.push(format!("{path}: {v}"));
    }
}

#[tokio::test]
async fn every_page_passes_axe_core() {
    let s = Service::start(Backend::Embedded, None).await;
    let c = s.client();
    let (id, key) = c.integration("payments", json!({})).await;
    let r = c.report(&key, &report(&sha("a"), "main", &[FAILING])).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let r = c.report(&key, &report(&sha("b"), "main", &[])).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    let b = Browser::start().await;
    let mut found = Vec::new();

    check(&b, &s.url, "/sign-in", &mut found).await;
    b.goto(&format!("{}/sign-in", s.url)).await;
    b.type_into("#token", "not a token").await;
    b.click("form[action='/sign-in'] button").await;
    b.wait_for_element("#sign-in-error").await;
    for v in b.axe().await {
        found.push(format!("/sign-in (refused): {v}"));
    }
    b.sign_in(&s.url, &s.admin).await;
    for path in [
        "/".to_owned(),
        format!("/integrations/{id}"),
        format!("/integrations/{id}?commit={}", sha("a")),
        format!("/integrations/{id}/settings"),
        "/audit".to_owned(),
        "/alerts".to_owned(),
        "/alerts?status=resolved".to_owned(),
        "/settings".to_owned(),
        "/integrations/int_0000000000000000".to_owned(),
    ] {
        check(&b, &s.url, &path, &mut found).await;
    }
    b.close().await;
    assert!(found.is_empty(), "axe-core:\n{}", found.join("\n"));
}

#[tokio::test]
async fn signing_in_and_acknowledging_work_with_the_keyboard_alone() {
    let s = Service::start(Backend::Embedded, None).await;
    let c = s.client();
    let (_, key) = c.integration("payments", json!({})).await;
    let r = c.report(&key, &report(&sha("a"), "main", &[FAILING])).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    c.settle().await;
    let b = Browser::start().await;
    b.goto(&format!("{}/sign-in", s.url)).await;

    // The token field has the focus on arrival; type, then Tab to the button and Enter.
    assert_eq!(b.focused().await, "token");
    b.keys(&s.admin).await;
    let mut focused = String::new();
    for _ in 0..5 {
        b.keys("\u{e004}").await;
        focused = b.focused().await;
        if focused == "sign-in-submit" {
            break;
        }
    }
    assert_eq!(focused, "sign-in-submit", "Tab reaches the sign-in button");
    b.keys("\u{e007}").await;

    b.wait_for(
        "the overview",
        "return location.pathname === '/';",
        json!([]),
    )
    .await;
    b.close().await;
}
