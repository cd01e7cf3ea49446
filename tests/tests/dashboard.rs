//! The dashboard in a real headless Chromium (issue 6): signing in, the matrix of a
//! report submitted through the API, an older commit from the history, acknowledging an
//! alert, a report appearing without a reload, settings for admins only, the sign-in
//! redirect, and CSRF refusal. Each page visited is saved under `target/screenshots/`.

use clef_pro_tests::browser::Browser;
use clef_pro_tests::client::Client;
use clef_pro_tests::fixtures::{report, sha};
use clef_pro_tests::service::{Backend, Service};
use serde_json::{Value, json};

/// A service with one integration; returns it, its client, the id and the API key.
async fn setup() -> (Service, Client, String, String) {
    let s = Service::start(Backend::Embedded, None).await;
    let c = s.client();
    let (id, key) = c.integration("payments", json!({})).await;
    (s, c, id, key)
}

/// A viewer token.
async fn viewer(c: &Client) -> String {
    let r = c
        .admin(
            "POST",
            "/api/v1/admin/tokens",
            json!({"role": "viewer", "label": "alice"}),
        )
        .await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    r.body["token"].as_str().expect("token").to_owned()
}

/// A failing critical result: opens an alert.
const FAILING: (&str, &str, bool, &str) = ("missing_keys", "oauth/production", false, "critical");

async fn submit(c: &Client, key: &str, body: &Value) {
    let r = c.report(key, body).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
}

/// The text of the matrix cell of `ns` × `env`.
async fn cell(b: &Browser, ns: &str, env: &str) -> String {
    let v = b
        .js(
            r#"const t = document.querySelector('#matrix-table');
               const envs = [...t.querySelectorAll('thead th')].map(th => th.innerText);
               const row = [...t.querySelectorAll('tbody tr')].find(r => r.querySelector('th').innerText === arguments[0]);
               return row.children[envs.indexOf(arguments[1])].innerText;"#,
            json!([ns, env]),
        )
        .await;
    v.as_str().expect("cell text").to_owned()
}

#[tokio::test]
async fn signing_in_shows_the_matrix_of_a_report_submitted_through_the_api() {
    let (s, c, id, key) = setup().await;
    let b = Browser::start().await;
    b.sign_in(&s.url, &s.admin).await;
    submit(&c, &key, &report(&sha("head"), "main", &[FAILING])).await;
    b.goto(&format!("{}/", s.url)).await;
    b.wait_for_element(&format!("a[href='/integrations/{id}']"))
        .await;
    let row = b.text("table.overview tbody tr").await.expect("row");
    assert!(
        row.contains("payments") && row.contains("Critical"),
        "{row}"
    );
    b.screenshot("overview").await;

    b.click(&format!("a[href='/integrations/{id}']")).await;
    b.wait_for_element("#matrix-table").await;
    let critical = cell(&b, "oauth", "production").await;
    assert!(
        critical.contains("Critical") && critical.contains("4 keys, 3 recipients"),
        "{critical}"
    );
    assert!(
        cell(&b, "database", "development")
            .await
            .contains("Healthy")
    );
    assert!(cell(&b, "database", "Drift").await.contains("Drifted: 2"));
    let results = b.text("table.results").await.expect("results");
    assert!(results.contains("missing_keys") && results.contains("Failed"));
    assert!(b.text("#not-latest").await.is_none());
    b.screenshot("integration").await;
    b.screenshot_at("integration-phone", 390).await;
    b.close().await;
}

#[tokio::test]
async fn an_older_commit_from_the_history_shows_its_matrix_marked_not_latest() {
    let (s, c, id, key) = setup().await;
    let passing = [("missing_keys", "oauth/production", true, "critical")];
    submit(&c, &key, &report(&sha("old"), "main", &[FAILING])).await;
    submit(&c, &key, &report(&sha("new"), "main", &passing)).await;
    let b = Browser::start().await;
    b.sign_in(&s.url, &s.admin).await;
    b.goto(&format!("{}/integrations/{id}", s.url)).await;
    b.wait_for_element("#history-list").await;
    assert!(cell(&b, "oauth", "production").await.contains("Healthy"));

    b.click(&format!("#history-list a[data-commit='{}']", sha("old")))
        .await;
    b.wait_for_element("#not-latest").await;
    let shown = b
        .js(
            "return document.querySelector('#shown-report').dataset.commit;",
            json!([]),
        )
        .await;
    assert_eq!(shown, json!(sha("old")));
    assert!(cell(&b, "oauth", "production").await.contains("Critical"));
    let marker = b.text("#not-latest").await.expect("marker");
    assert!(marker.contains("Not the latest report"), "{marker}");
    b.screenshot("integration-older-commit").await;

    b.click("#not-latest a").await;
    b.wait_for(
        "the latest report again",
        "return document.querySelector('#not-latest') === null && document.querySelector('#shown-report').dataset.commit === arguments[0];",
        json!([sha("new")]),
    )
    .await;
    b.close().await;
}

#[tokio::test]
async fn acknowledging_an_alert_keeps_it_open_and_marks_who_acknowledged() {
    let (s, c, id, key) = setup().await;
    submit(&c, &key, &report(&sha("a"), "main", &[FAILING])).await;
    let token = viewer(&c).await;
    let b = Browser::start().await;
    b.sign_in(&s.url, &token).await;
    b.goto(&format!("{}/integrations/{id}", s.url)).await;
    b.wait_for_element("#alert-list button.ack").await;
    b.click("#alert-list button.ack").await;
    b.wait_for(
        "the alert marked acknowledged",
        "const a = document.querySelector('#alert-list article.alert'); return a && a.dataset.acknowledged === 'true';",
        json!([]),
    )
    .await;
    let alert = b.text("#alert-list article.alert").await.expect("alert");
    assert!(
        alert.contains("Open") && alert.contains("Acknowledged"),
        "{alert}"
    );
    let by = b.text("#alert-list .ack-by").await.expect("ack-by");
    assert!(by.contains("alice"), "{by}");
    assert!(b.text("#alert-list button.ack").await.is_none());
    b.screenshot("integration-alert-acknowledged").await;

    let open = c.alerts(&id, "open").await;
    assert_eq!(open.len(), 1);
    assert_eq!(open[0]["acknowledged"], true);
    b.close().await;
}

#[tokio::test]
async fn a_new_report_appears_without_a_reload() {
    let (s, c, id, key) = setup().await;
    let b = Browser::start().await;
    b.sign_in(&s.url, &s.admin).await;
    b.goto(&format!("{}/integrations/{id}", s.url)).await;
    b.wait_for_element("#no-report").await;
    // A reload would drop this property: its survival proves the page was updated in place.
    b.js("window.clefProSamePage = true;", json!([])).await;

    submit(&c, &key, &report(&sha("first"), "main", &[])).await;
    let same = "const r = document.querySelector('#shown-report'); return window.clefProSamePage === true && r !== null && r.dataset.commit === arguments[0];";
    b.wait_for("the first report", same, json!([sha("first")]))
        .await;
    submit(&c, &key, &report(&sha("second"), "main", &[FAILING])).await;
    b.wait_for("the second report", same, json!([sha("second")]))
        .await;
    b.wait_for_element("#alert-list button.ack").await;
    assert!(cell(&b, "oauth", "production").await.contains("Critical"));
    b.close().await;
}

#[tokio::test]
async fn settings_are_for_admins_and_a_new_key_is_shown_once_and_works() {
    let (s, c, id, key) = setup().await;
    submit(&c, &key, &report(&sha("x"), "main", &[])).await;

    let admin = Browser::start().await;
    admin.sign_in(&s.url, &s.admin).await;
    admin.goto(&format!("{}/integrations/{id}", s.url)).await;
    admin
        .click(&format!("a[href='/integrations/{id}/settings']"))
        .await;
    admin.wait_for_element("#key-label").await;
    admin.type_into("#key-label", "deploy").await;
    admin.click("#keys form.inline button").await;
    admin.wait_for_element("#new-key").await;
    let new_key = admin.text("#new-key").await.expect("new key");
    assert!(new_key.starts_with("clef_"), "{new_key}");
    admin.screenshot("settings").await;
    submit(&c, &new_key, &report(&sha("y"), "main", &[])).await;

    // A reload shows it no more.
    admin
        .goto(&format!("{}/integrations/{id}/settings", s.url))
        .await;
    admin.wait_for_element("#keys").await;
    assert!(admin.text("#new-key").await.is_none());
    admin.close().await;

    let token = viewer(&c).await;
    let b = Browser::start().await;
    b.sign_in(&s.url, &token).await;
    b.goto(&format!("{}/integrations/{id}", s.url)).await;
    b.wait_for_element("#report").await;
    assert!(
        b.text(&format!("a[href='/integrations/{id}/settings']"))
            .await
            .is_none()
    );
    b.goto(&format!("{}/integrations/{id}/settings", s.url))
        .await;
    b.wait_for_element("main h1").await;
    assert_eq!(b.text("main h1").await.as_deref(), Some("403"));
    assert!(b.text("#keys").await.is_none());
    b.screenshot("settings-viewer-forbidden").await;

    b.goto(&format!("{}/", s.url)).await;
    b.click(".sign-out button").await;
    b.wait_for_element("#token").await;
    b.goto(&format!("{}/", s.url)).await;
    b.wait_for_element("#token").await;
    assert!(b.url().await.ends_with("/sign-in"));
    b.close().await;
}

#[tokio::test]
async fn a_signed_out_visitor_is_sent_to_sign_in() {
    let (s, _c, id, _key) = setup().await;
    let b = Browser::start().await;
    for path in [
        "/",
        &format!("/integrations/{id}"),
        &format!("/integrations/{id}/settings"),
    ] {
        b.goto(&format!("{}{path}", s.url)).await;
        b.wait_for_element("#token").await;
        assert!(b.url().await.ends_with("/sign-in"), "{path}");
    }
    b.type_into("#token", "not-a-token").await;
    b.click("form[action='/sign-in'] button").await;
    b.wait_for_element("#sign-in-error").await;
    b.screenshot("sign-in").await;
    b.close().await;
}

#[tokio::test]
async fn a_forged_form_post_without_the_csrf_token_is_refused() {
    let (s, c, id, key) = setup().await;
    submit(&c, &key, &report(&sha("a"), "main", &[FAILING])).await;
    let alert = c.alerts(&id, "open").await[0]["id"]
        .as_str()
        .expect("alert id")
        .to_owned();
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let session = c.sign_in(&s.admin).await;
    let cookie = session.cookie.clone();
    let ack = format!("{}/integrations/{id}/alerts/{alert}/acknowledge", s.url);
    let post = |form: Vec<(&'static str, String)>| {
        http.post(&ack).header("cookie", &cookie).form(&form).send()
    };

    let missing = post(vec![("status", "open".into())]).await.expect("post");
    assert_eq!(missing.status(), 403);
    let wrong = post(vec![("csrf", "0".repeat(64))]).await.expect("post");
    assert_eq!(wrong.status(), 403);
    let config = http
        .post(format!("{}/integrations/{id}/settings/config", s.url))
        .header("cookie", &cookie)
        .form(&[("trackedBranches", "evil")])
        .send()
        .await
        .expect("post");
    assert_eq!(config.status(), 403);
    // Every other form of the pages, without its token.
    let (token, _) = c.issue_token("viewer", "bob").await;
    for (path, form) in [
        (
            format!("/alerts/{id}/{alert}/acknowledge"),
            vec![("status", "open")],
        ),
        ("/integrations".to_owned(), vec![("name", "evil")]),
        (format!("/integrations/{id}/rename"), vec![("name", "evil")]),
        (
            "/settings/tokens".to_owned(),
            vec![("label", "evil"), ("role", "admin")],
        ),
        (format!("/settings/tokens/{token}/revoke"), vec![]),
    ] {
        let r = http
            .post(format!("{}{path}", s.url))
            .header("cookie", &cookie)
            .form(&form)
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), 403, "{path}");
    }
    assert_eq!(c.alerts(&id, "open").await[0]["acknowledged"], false);
    let tracked = c.get(&format!("/api/v1/integrations/{id}")).await;
    assert_eq!(tracked["trackedBranches"], json!(["main", "master"]));
    assert_eq!(tracked["name"], "payments");
    let list = c.get("/api/v1/integrations").await;
    assert_eq!(list["integrations"].as_array().expect("list").len(), 1);
    let tokens = c.get("/api/v1/admin/tokens").await;
    assert!(
        tokens["tokens"]
            .as_array()
            .expect("tokens")
            .iter()
            .all(|t| t["revoked"] == false && t["label"] != "evil")
    );

    // The token of the session's pages is accepted: the refusal is the token's doing.
    let ok = post(vec![("csrf", session.csrf.clone())])
        .await
        .expect("post");
    assert_eq!(ok.status(), 303);
    assert_eq!(c.alerts(&id, "open").await[0]["acknowledged"], true);
}

/// The version a page polls changes when a report arrives or an alert is acknowledged,
/// and only then; it is read from counters, whatever the number of alerts.
#[tokio::test]
async fn the_live_version_changes_with_reports_and_acknowledgements_only() {
    let (s, c, id, key) = setup().await;
    let session = c.sign_in(&s.admin).await;
    let live = || async {
        let r = c
            .send_headers(
                "GET",
                &format!("/integrations/{id}/live"),
                &[("cookie", &session.cookie)],
                None,
            )
            .await
            .expect("live");
        assert_eq!(r.status, 200, "{:?}", r.body);
        r.body["version"].as_str().expect("version").to_owned()
    };
    let empty = live().await;
    assert_eq!(live().await, empty, "nothing changed");
    submit(&c, &key, &report(&sha("a"), "main", &[FAILING])).await;
    let reported = live().await;
    assert_ne!(reported, empty, "a report arrived");
    assert_eq!(live().await, reported, "nothing changed");
    let alert = c.alerts(&id, "open").await[0]["id"]
        .as_str()
        .expect("alert id")
        .to_owned();
    assert_eq!(c.acknowledge(&id, &alert).await.status, 200);
    assert_ne!(live().await, reported, "an alert was acknowledged");
}

/// Asserts the security headers on the answer to `what`.
fn secured(h: &reqwest::header::HeaderMap, what: &str) {
    assert_eq!(h["cache-control"], "no-store", "{what}");
    assert_eq!(
        h["content-security-policy"],
        "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        "{what}"
    );
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["referrer-policy"], "same-origin", "{what}");
}

/// Every answer carries the security headers (set by the outermost layers of the HTTP
/// surface, not by each page): pages, the sign-in form, error pages, the sign-in
/// redirect, a form refused for its origin (an HTML page, like every dashboard failure)
/// and the JSON API. The static assets keep their own cache lifetime.
#[tokio::test]
async fn pages_and_error_pages_carry_the_security_headers() {
    let (s, c, id, _key) = setup().await;
    let session = c.sign_in(&s.admin).await;
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let get = |path: String, cookie: Option<&str>| {
        let mut req = http.get(format!("{}{path}", s.url));
        if let Some(cookie) = cookie {
            req = req.header("cookie", cookie);
        }
        req.send()
    };
    let cookie = Some(session.cookie.as_str());
    for (path, cookie, status) in [
        ("/sign-in".to_owned(), None, 200),
        ("/".to_owned(), None, 303),
        ("/".to_owned(), cookie, 200),
        (format!("/integrations/{id}"), cookie, 200),
        ("/integrations/int_0000000000000000".to_owned(), cookie, 404),
    ] {
        let r = get(path.clone(), cookie).await.expect("answer");
        assert_eq!(r.status(), status, "{path}");
        secured(r.headers(), &path);
    }
    let foreign = http
        .post(format!("{}/integrations/{id}/rename", s.url))
        .header("cookie", &session.cookie)
        .header("origin", "https://evil.example")
        .form(&[("name", "evil"), ("csrf", session.csrf.as_str())])
        .send()
        .await
        .expect("post");
    assert_eq!(foreign.status(), 403);
    secured(foreign.headers(), "a foreign origin's form");
    assert!(
        foreign.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let json = http
        .get(format!("{}/api/v1/integrations", s.url))
        .bearer_auth(&s.admin)
        .send()
        .await
        .expect("answer");
    assert_eq!(json.status(), 200);
    secured(json.headers(), "the JSON API");
    let css = get("/assets/app.css".to_owned(), None).await.expect("css");
    assert_eq!(css.headers()["cache-control"], "public, max-age=300");
}
