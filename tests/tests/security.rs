//! Sessions, revocation, CSRF, the audit log and authenticated events, against the
//! real service (docs/api.md):
//! - sign-out ends a session everywhere; revoking a token ends it and its sessions at
//!   once; a changed operator token ends the old one's sessions;
//! - a cookie-authenticated write without the CSRF token, or from another origin, is
//!   refused and changes nothing; a cross-site sign-in makes no session;
//! - the audit log lists every action with its actor and never a secret
//!   (forged events published into JetStream: `forged_events.rs`).

use clef_pro_tests::client::{Client, Resp, Session};
use clef_pro_tests::fixtures::{report, sha};
use clef_pro_tests::service::{Backend, Service};
use serde_json::{Value, json};

const FAIL: (&str, &str, bool, &str) = ("missing_keys", "oauth/production", false, "critical");

async fn with_cookie(
    c: &Client,
    s: &Session,
    method: &str,
    path: &str,
    extra: &[(&str, &str)],
) -> Resp {
    let mut headers = vec![("cookie", s.cookie.as_str())];
    headers.extend_from_slice(extra);
    let body = (method != "GET").then(|| b"{}".to_vec());
    c.send_headers(method, path, &headers, body)
        .await
        .expect("request")
}

/// Reports a failing HEAD commit; the id of the alert it opens.
async fn failing_alert(c: &Client, key: &str, id: &str) -> String {
    let r = c.report(key, &report(&sha("a"), "main", &[FAIL])).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    c.alerts(id, "open").await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_out_revocation_and_a_new_operator_token_end_sessions() {
    let mut s = Service::start(Backend::Embedded, None).await;
    let c = s.client();
    let (id, viewer) = c.issue_token("viewer", "alice").await;

    // Sign-out: the old cookie no longer works, on the API or the pages.
    let first = c.sign_in(&viewer).await;
    assert_eq!(
        with_cookie(&c, &first, "GET", "/api/v1/integrations", &[])
            .await
            .status,
        200
    );
    assert!(c.sign_out(&first).await.status < 400);
    with_cookie(&c, &first, "GET", "/api/v1/integrations", &[])
        .await
        .expect_error(401, None);

    // Revocation: the token and every session signed in with it stop at once.
    let second = c.sign_in(&viewer).await;
    assert_eq!(
        c.status_with_bearer(&viewer, "/api/v1/integrations").await,
        200
    );
    let r = c
        .admin("DELETE", &format!("/api/v1/admin/tokens/{id}"), Value::Null)
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    assert_eq!(
        c.status_with_bearer(&viewer, "/api/v1/integrations").await,
        401
    );
    with_cookie(&c, &second, "GET", "/api/v1/integrations", &[])
        .await
        .expect_error(401, None);
    let listed = c.get("/api/v1/admin/tokens").await;
    let alice = listed["tokens"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == id.as_str())
        .expect("listed")
        .clone();
    assert_eq!(alice["revoked"], true);
    assert!(
        !listed.to_string().contains(&viewer),
        "a listing shows no token"
    );

    // The operator's token changes: sessions signed in with the old one end.
    let operator = c.sign_in(&s.admin).await;
    assert_eq!(
        with_cookie(&c, &operator, "GET", "/api/v1/integrations", &[])
            .await
            .status,
        200
    );
    s.stop().await;
    s.admin = format!("{}-rotated", s.admin);
    s.start_again().await;
    let c = s.client();
    with_cookie(&c, &operator, "GET", "/api/v1/integrations", &[])
        .await
        .expect_error(401, None);
    assert_eq!(
        c.status_with_bearer(&s.admin, "/api/v1/integrations").await,
        200
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn cookie_writes_need_the_csrf_token_and_this_origin() {
    let s = Service::start(Backend::Embedded, None).await;
    let c = s.client();
    let (id, key) = c.integration("acme", json!({})).await;
    let alert = failing_alert(&c, &key, &id).await;
    let admin = c.sign_in(&s.admin).await;
    let ack = format!("/api/v1/integrations/{id}/alerts/{alert}/acknowledge");
    let tokens_before = c.get("/api/v1/admin/tokens").await["tokens"]
        .as_array()
        .unwrap()
        .len();
    let evil = "http://127.0.0.1:1";
    let csrf = admin.csrf.clone();
    for extra in [
        vec![],
        vec![("x-csrf-token", "0".repeat(64))],
        vec![("x-csrf-token", csrf.clone()), ("origin", evil.to_owned())],
        vec![
            ("x-csrf-token", csrf.clone()),
            ("sec-fetch-site", "same-site".to_owned()),
        ],
        vec![
            ("x-csrf-token", csrf.clone()),
            ("sec-fetch-site", "cross-site".to_owned()),
        ],
    ] {
        let extra: Vec<(&str, &str)> = extra.iter().map(|(h, v)| (*h, v.as_str())).collect();
        let code = with_cookie(&c, &admin, "POST", &ack, &extra)
            .await
            .expect_error(403, None);
        assert_eq!(code, "forbidden");
        // A form post from another page: text/plain, the classic CSRF vector.
        let mut headers = vec![
            ("cookie", admin.cookie.as_str()),
            ("content-type", "text/plain"),
        ];
        headers.extend_from_slice(&extra);
        let r = c
            .send_headers(
                "POST",
                "/api/v1/admin/tokens",
                &headers,
                Some(br#"{"role":"admin","label":"evil"}"#.to_vec()),
            )
            .await
            .unwrap();
        r.expect_error(403, None);
    }
    assert_eq!(
        c.alerts(&id, "open").await[0]["acknowledged"],
        false,
        "nothing changed"
    );
    let tokens_after = c.get("/api/v1/admin/tokens").await["tokens"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(tokens_after, tokens_before, "no token was minted");

    // The page's own token from the service's own origin works; Bearer needs none.
    let own = c.url("");
    let ok = with_cookie(
        &c,
        &admin,
        "POST",
        &ack,
        &[
            ("x-csrf-token", &csrf),
            ("origin", &own),
            ("sec-fetch-site", "same-origin"),
        ],
    )
    .await;
    assert_eq!(ok.status, 200, "{:?}", ok.body);
    assert_eq!(c.alerts(&id, "open").await[0]["acknowledged"], true);
    let r = c
        .admin(
            "POST",
            "/api/v1/admin/tokens",
            json!({"role": "viewer", "label": "script"}),
        )
        .await;
    assert_eq!(r.status, 201);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cross_site_sign_in_makes_no_session() {
    let s = Service::start(Backend::Embedded, None).await;
    let c = s.client();
    let form = |extra: Vec<(&'static str, String)>| {
        let c = c.clone();
        let admin = s.admin.clone();
        async move {
            let mut headers: Vec<(&str, &str)> =
                vec![("content-type", "application/x-www-form-urlencoded")];
            headers.extend(extra.iter().map(|(h, v)| (*h, v.as_str())));
            let r = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap();
            let mut req = r
                .post(c.url("/sign-in"))
                .body(format!("token={admin}&csrf=x"));
            for (h, v) in headers {
                req = req.header(h, v);
            }
            req.send().await.unwrap()
        }
    };
    // No form nonce (another site cannot read it), then a foreign origin.
    for extra in [
        vec![],
        vec![("origin", "http://evil.example".to_owned())],
        vec![("sec-fetch-site", "cross-site".to_owned())],
    ] {
        let r = form(extra).await;
        assert_eq!(r.status(), 403);
        let cookies: Vec<_> = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter(|v| v.starts_with("clef_pro_session="))
            .collect();
        assert!(cookies.is_empty(), "{cookies:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_audit_log_names_each_action_and_its_actor() {
    let s = Service::start(Backend::Embedded, None).await;
    let c = s.client();
    let (id, key) = c.integration("acme", json!({})).await;
    let (key_id, _) = c.issue_key(&id, "ci-2").await;
    c.admin(
        "DELETE",
        &format!("/api/v1/admin/integrations/{id}/keys/{key_id}"),
        Value::Null,
    )
    .await;
    c.admin(
        "PUT",
        &format!("/api/v1/admin/integrations/{id}/config"),
        json!({"trackedBranches": ["main"]}),
    )
    .await;
    let (tok_id, viewer) = c.issue_token("viewer", "bob").await;
    let alert = failing_alert(&c, &key, &id).await;
    let bob = c.sign_in(&viewer).await;
    let ack = format!("/api/v1/integrations/{id}/alerts/{alert}/acknowledge");
    assert_eq!(
        with_cookie(&c, &bob, "POST", &ack, &[("x-csrf-token", &bob.csrf)])
            .await
            .status,
        200
    );
    c.sign_out(&bob).await;
    c.admin(
        "DELETE",
        &format!("/api/v1/admin/tokens/{tok_id}"),
        Value::Null,
    )
    .await;
    // A failed sign-in through the form.
    let bad = c.sign_in_attempt("cpt_not-a-token").await;
    assert_eq!(bad, 401);

    let page = c.get("/api/v1/admin/audit?limit=500").await;
    let entries = page["entries"].as_array().unwrap();
    let find = |action: &str, actor: &str| {
        entries
            .iter()
            .any(|e| e["action"] == action && e["actor"].as_str().unwrap().starts_with(actor))
    };
    for (action, actor) in [
        ("integration.create", "operator"),
        ("key.issue", "operator"),
        ("key.revoke", "operator"),
        ("integration.configure", "operator"),
        ("token.issue", "operator"),
        ("sign-in", "bob"),
        ("alert.acknowledge", "bob"),
        ("sign-out", "bob"),
        ("token.revoke", "operator"),
        ("sign-in.failed", "unknown"),
    ] {
        assert!(
            find(action, actor),
            "no {action} by {actor} in {entries:#?}"
        );
    }
    let revoke = entries
        .iter()
        .find(|e| e["action"] == "key.revoke")
        .unwrap();
    assert_eq!(revoke["target"], format!("{id}/{key_id}"));
    let bob_entry = entries
        .iter()
        .find(|e| e["action"] == "alert.acknowledge")
        .unwrap();
    assert_eq!(bob_entry["actorTokenId"], tok_id.as_str());
    assert_eq!(bob_entry["target"], alert.as_str());
    let at: Vec<u64> = entries.iter().map(|e| e["at"].as_u64().unwrap()).collect();
    assert!(at.windows(2).all(|w| w[0] >= w[1]), "newest first");
    let text = page.to_string();
    for secret in [&viewer, &key, &s.admin] {
        assert!(
            !text.contains(secret.as_str()),
            "the audit log shows a secret"
        );
    }
    // Pagination walks it.
    let p1 = c.get("/api/v1/admin/audit?limit=3").await;
    let next = p1["next"].as_str().unwrap();
    let p2 = c
        .get(&format!("/api/v1/admin/audit?limit=3&before={next}"))
        .await;
    assert_eq!(p2["entries"][0], entries[3]);
    // The dashboard shows the same log to admins, and to nobody else.
    let admin = c.sign_in(&s.admin).await;
    let page = with_cookie(&c, &admin, "GET", "/audit", &[]).await;
    let html = page.body.as_str().unwrap();
    assert!(
        html.contains("token.revoke") && html.contains("bob ("),
        "{html}"
    );
    let (_, other) = c.issue_token("viewer", "carol").await;
    let carol = c.sign_in(&other).await;
    assert_eq!(
        with_cookie(&c, &carol, "GET", "/audit", &[]).await.status,
        403
    );
}

/// Everything under the data dir is owner-only from its creation (the process runs
/// with umask 077): directories 0700, files 0600.
#[tokio::test(flavor = "multi_thread")]
async fn the_data_dir_is_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let mut s = Service::start(Backend::Embedded, None).await;
    let c = s.client();
    let (id, key) = c.integration("acme", json!({})).await;
    c.channels(&id, &[("security@acme.com", "info")]).await;
    assert_eq!(
        c.report(&key, &report(&sha("a"), "main", &[FAIL]))
            .await
            .status,
        201
    );
    c.settle().await;
    s.stop().await;
    let mut seen = 0;
    let mut stack = vec![s.data_dir()];
    while let Some(p) = stack.pop() {
        let mode = std::fs::metadata(&p).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "{} is {:o}", p.display(), mode & 0o777);
        seen += 1;
        if p.is_dir() {
            stack.extend(std::fs::read_dir(&p).unwrap().map(|e| e.unwrap().path()));
        }
    }
    assert!(seen > 5, "checked {seen} paths");
}

/// A CI key reads what the CLI needs of its integration (`lastCommitSha`, config,
/// policies), never who is notified: addresses and destination names are for people.
#[tokio::test(flavor = "multi_thread")]
async fn a_ci_key_does_not_read_who_is_notified() {
    let s = Service::start(Backend::Embedded, None).await;
    let c = s.client();
    let (id, key) = c.integration("payments", json!({})).await;
    let r = c
        .admin(
            "PUT",
            &format!("/api/v1/admin/integrations/{id}/notifications"),
            json!({"notifications": [
                {"channel": "email", "target": "oncall@acme.example", "minSeverity": "info"}]}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let path = format!("/api/v1/integrations/{id}");
    let by_key = c.with_key(&key, "GET", &path, &Value::Null).await;
    assert_eq!(by_key.status, 200, "{:?}", by_key.body);
    assert_eq!(by_key.body["notifications"], json!([]));
    assert!(by_key.body.get("lastCommitSha").is_some() && by_key.body["config"].is_object());
    assert!(!by_key.body.to_string().contains("oncall@"));
    let by_admin = c.admin("GET", &path, Value::Null).await;
    assert_eq!(
        by_admin.body["notifications"][0]["target"],
        "oncall@acme.example"
    );
}

/// A data dir served with another deployment's key: `serve` refuses to start and names
/// the flag to fix, where it used to serve as if the deployment were empty (every event
/// skipped, its keys and tokens refused); `export`, `verify` and `replay` refuse too.
#[tokio::test(flavor = "multi_thread")]
async fn a_log_written_under_another_key_is_not_served() {
    let mut s = Service::start(Backend::Embedded, None).await;
    s.client().integration("acme", json!({})).await;
    s.stop().await;
    let other = Service::not_started(Backend::Embedded, None, &[]);
    std::fs::create_dir_all(other.data_dir()).unwrap();
    std::fs::write(other.data_dir().join("deployment.key"), [7u8; 32]).unwrap();
    s.share_key(&other);
    let (status, output) = s.start_again_failing().await;
    assert!(!status.success());
    assert!(
        output.contains("do not verify under this deployment key")
            && output.contains("--deployment-key"),
        "{output}"
    );
    // Nor do the commands: an export of nothing, or a verify of empty stores, would
    // pass for a backup or a check.
    let out = s.data_dir().join("wrong-key.export");
    for (command, extra) in [
        ("export", vec!["--out", out.to_str().unwrap()]),
        ("verify", vec![]),
        ("replay", vec![]),
    ] {
        let done = s.run(command, &extra).await;
        let text = String::from_utf8_lossy(&done.stderr);
        assert!(!done.status.success(), "{command}: {text}");
        assert!(
            text.contains("do not verify under this deployment key"),
            "{command}: {text}"
        );
    }
    assert!(!out.exists(), "no export was written");
}
