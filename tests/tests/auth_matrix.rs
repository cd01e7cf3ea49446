//! Who may call what: every endpoint of docs/api.md (and the OTLP drop-in,
//! the inbox and insights, the dashboard's pages) × every kind of credential → the
//! expected status, in one table. (Repeated failures: `auth_rate_limit.rs`.)
//!
//! Each row is sent from its own loopback address (127.0.0.0/8 is all loopback), so the
//! failure limit of one address is never reached by the table itself.

use clef_pro_api::credential;
use clef_pro_tests::client::{Client, Resp, Session};
use clef_pro_tests::fixtures::{report, sha};
use clef_pro_tests::service::{Backend, Service};
use serde_json::{Value, json};
use std::net::{IpAddr, Ipv4Addr};

/// The credentials a request can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cred {
    None,
    /// `Authorization: Basic …`: a header that names no bearer credential.
    Malformed,
    WrongKey,
    RevokedKey,
    /// The key of the integration the path names (or of the report's integration).
    OwnKey,
    /// The key of another integration.
    OtherKey,
    Viewer,
    Admin,
    ViewerCookie,
    AdminCookie,
    /// A cookie value no sign-in issued.
    ForgedCookie,
    /// The cookie of a session that signed out.
    SignedOutCookie,
}

const CREDS: [Cred; 12] = [
    Cred::None,
    Cred::Malformed,
    Cred::WrongKey,
    Cred::RevokedKey,
    Cred::OwnKey,
    Cred::OtherKey,
    Cred::Viewer,
    Cred::Admin,
    Cred::ViewerCookie,
    Cred::AdminCookie,
    Cred::ForgedCookie,
    Cred::SignedOutCookie,
];

/// Who an endpoint is for.
#[derive(Debug, Clone, Copy)]
enum Access {
    /// Anyone.
    Public,
    /// CI: an API key, which selects the integration.
    Key,
    /// `GET /api/v1/integrations/{id}`: its own key, or a person.
    KeyOrPerson,
    /// A viewer or admin (token or session cookie).
    Person,
    /// An admin (token or session cookie); viewers get 403.
    Admin,
    /// A dashboard page: a session cookie, or a redirect to sign in.
    Page,
    /// A dashboard page for admins only.
    AdminPage,
}

/// The status `cred` gets from an endpoint of `access` whose success status is `ok`.
fn expected(access: Access, cred: Cred, ok: u16) -> u16 {
    use Cred::*;
    let key = matches!(cred, OwnKey | OtherKey);
    let viewer = matches!(cred, Viewer | ViewerCookie);
    let admin = matches!(cred, Admin | AdminCookie);
    let cookie = matches!(cred, ViewerCookie | AdminCookie);
    match access {
        Access::Public => ok,
        Access::Key if key => ok,
        Access::KeyOrPerson if cred == OwnKey || viewer || admin => ok,
        // Another integration's key learns nothing, not even that the id exists.
        Access::KeyOrPerson if cred == OtherKey => 404,
        Access::Person if viewer || admin => ok,
        Access::Admin if admin => ok,
        Access::Admin if viewer => 403,
        Access::Page | Access::AdminPage if !cookie => 303,
        Access::Page => ok,
        Access::AdminPage if admin => ok,
        Access::AdminPage => 403,
        _ => 401,
    }
}

struct Fixture {
    id: String,
    own: String,
    other: String,
    revoked: String,
    viewer: String,
    viewer_session: Session,
    admin_session: Session,
    signed_out: String,
    alert: String,
    victim_key: String,
    victim_token: String,
}

impl Fixture {
    async fn new(s: &Service) -> Fixture {
        let c = s.client();
        let (id, own) = c.integration("payments", json!({})).await;
        let (_, other) = c.integration("other", json!({})).await;
        let revoked = c.revoked_key(&id).await;
        let (victim_key, _) = c.issue_key(&id, "to revoke").await;
        let (_, viewer) = c.issue_token("viewer", "alice").await;
        let (victim_token, _) = c.issue_token("viewer", "to revoke").await;
        for (key, commit) in [(&own, "a1"), (&other, "b1")] {
            let r = c
                .report(
                    key,
                    &report(
                        &sha(commit),
                        "main",
                        &[("missing_keys", "oauth/production", false, "critical")],
                    ),
                )
                .await;
            assert_eq!(r.status, 201, "{:?}", r.body);
        }
        let alert = c.alerts(&id, "open").await[0]["id"]
            .as_str()
            .unwrap()
            .to_owned();
        // Sessions signed in through the form, as a browser does; one signed out again.
        let old = c.sign_in(&viewer).await;
        let out = c.sign_out(&old).await;
        assert!(out.status < 400, "sign-out: {} {:?}", out.status, out.body);
        Fixture {
            viewer_session: c.sign_in(&viewer).await,
            admin_session: c.sign_in(&s.admin).await,
            signed_out: old.cookie,
            victim_token,
            id,
            own,
            other,
            revoked,
            viewer,
            alert,
            victim_key,
        }
    }

    /// The headers a credential travels in. Keys use both accepted headers. A session
    /// cookie travels with its CSRF token, as the dashboard's scripts send it.
    fn headers(&self, cred: Cred, admin: &str) -> Vec<(&'static str, String)> {
        let session = |s: &Session| {
            vec![
                ("cookie", s.cookie.clone()),
                ("x-csrf-token", s.csrf.clone()),
            ]
        };
        let one = |h: &'static str, v: String| vec![(h, v)];
        match cred {
            Cred::None => Vec::new(),
            Cred::Malformed => one("authorization", "Basic Zm9vOmJhcg==".into()),
            Cred::WrongKey => one(
                "x-api-key",
                format!("clef_{}", "0123456789abcdefghij".repeat(2)),
            ),
            Cred::RevokedKey => one("x-api-key", self.revoked.clone()),
            Cred::OwnKey => one("authorization", format!("Bearer {}", self.own)),
            Cred::OtherKey => one("x-api-key", self.other.clone()),
            Cred::Viewer => one("authorization", format!("Bearer {}", self.viewer)),
            Cred::Admin => one("authorization", format!("Bearer {admin}")),
            Cred::ViewerCookie => session(&self.viewer_session),
            Cred::AdminCookie => session(&self.admin_session),
            Cred::ForgedCookie => one(
                "cookie",
                format!("{}=cps_{}", credential::COOKIE, "x".repeat(40)),
            ),
            Cred::SignedOutCookie => one("cookie", self.signed_out.clone()),
        }
    }
}

/// One endpoint: method, path, body, who it is for, and its success status.
type Row = (&'static str, String, Option<Value>, Access, u16);

fn rows(f: &Fixture) -> Vec<Row> {
    let id = &f.id;
    // On an untracked branch, so that it resolves none of the fixture's alerts.
    let good = report(&sha("matrix"), "feature", &[]);
    let i = |p: &str| format!("/api/v1/integrations/{id}{p}");
    let a = |p: &str| format!("/api/v1/admin/integrations/{id}{p}");
    vec![
        // docs/api.md and the OTLP drop-in.
        ("GET", i(""), None, Access::KeyOrPerson, 200),
        (
            "POST",
            "/api/v1/reports".into(),
            Some(good.clone()),
            Access::Key,
            201,
        ),
        (
            "POST",
            "/api/v1/reports/batch".into(),
            Some(json!({"reports": [good]})),
            Access::Key,
            201,
        ),
        // An OTLP request without a commit is refused (422) once the key is accepted.
        (
            "POST",
            "/otlp/v1/logs".into(),
            Some(json!({})),
            Access::Key,
            422,
        ),
        ("GET", "/otlp/v1/checkpoint".into(), None, Access::Key, 200),
        // docs/api.md: admin.
        (
            "POST",
            "/api/v1/admin/integrations".into(),
            Some(json!({"name": "new"})),
            Access::Admin,
            201,
        ),
        (
            "POST",
            a("/keys"),
            Some(json!({"label": "x"})),
            Access::Admin,
            201,
        ),
        ("GET", a("/keys"), None, Access::Admin, 200),
        (
            "DELETE",
            a(&format!("/keys/{}", f.victim_key)),
            None,
            Access::Admin,
            200,
        ),
        (
            "PUT",
            a("/policies"),
            Some(json!({"policies": []})),
            Access::Admin,
            200,
        ),
        (
            "PUT",
            a("/notifications"),
            Some(json!({"notifications": []})),
            Access::Admin,
            200,
        ),
        ("PUT", a("/config"), Some(json!({})), Access::Admin, 200),
        (
            "PATCH",
            a(""),
            Some(json!({"name": "payments-renamed"})),
            Access::Admin,
            200,
        ),
        (
            "POST",
            "/api/v1/admin/tokens".into(),
            Some(json!({"role": "viewer", "label": "x"})),
            Access::Admin,
            201,
        ),
        (
            "GET",
            "/api/v1/admin/tokens".into(),
            None,
            Access::Admin,
            200,
        ),
        (
            "DELETE",
            format!("/api/v1/admin/tokens/{}", f.victim_token),
            None,
            Access::Admin,
            200,
        ),
        (
            "GET",
            "/api/v1/admin/audit".into(),
            None,
            Access::Admin,
            200,
        ),
        // Read and acknowledge.
        (
            "GET",
            "/api/v1/integrations".into(),
            None,
            Access::Person,
            200,
        ),
        ("GET", i("/matrix"), None, Access::Person, 200),
        ("GET", i("/reports"), None, Access::Person, 200),
        ("GET", i("/alerts?status=all"), None, Access::Person, 200),
        ("GET", i("/insights"), None, Access::Person, 200),
        (
            "GET",
            "/api/v1/alerts?status=all".into(),
            None,
            Access::Person,
            200,
        ),
        ("GET", "/api/v1/insights".into(), None, Access::Person, 200),
        (
            "POST",
            i(&format!("/alerts/{}/acknowledge", f.alert)),
            Some(json!({})),
            Access::Person,
            200,
        ),
        ("GET", "/healthz".into(), None, Access::Public, 200),
        ("GET", "/metrics".into(), None, Access::Public, 200),
        // The dashboard.
        ("GET", "/sign-in".into(), None, Access::Public, 200),
        ("GET", "/".into(), None, Access::Page, 200),
        (
            "GET",
            format!("/integrations/{id}"),
            None,
            Access::Page,
            200,
        ),
        (
            "GET",
            format!("/integrations/{id}/settings"),
            None,
            Access::AdminPage,
            200,
        ),
        ("GET", "/audit".into(), None, Access::AdminPage, 200),
        ("GET", "/alerts".into(), None, Access::Page, 200),
        ("GET", "/settings".into(), None, Access::AdminPage, 200),
    ]
}

async fn call(c: &Client, f: &Fixture, admin: &str, row: &Row, cred: Cred) -> Resp {
    let (method, path, body, ..) = row;
    let headers = f.headers(cred, admin);
    let headers: Vec<(&str, &str)> = headers.iter().map(|(h, v)| (*h, v.as_str())).collect();
    c.send_headers(
        method,
        path,
        &headers,
        body.as_ref().map(|b| b.to_string().into_bytes()),
    )
    .await
    .expect("request")
}

fn loopback(a: u8, b: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(127, 0, a, b))
}

#[tokio::test(flavor = "multi_thread")]
async fn every_endpoint_by_every_credential() {
    let s = Service::start(Backend::Embedded, None).await;
    let f = Fixture::new(&s).await;
    let mut failures = Vec::new();
    let mut checked = 0;
    for (n, row) in rows(&f).iter().enumerate() {
        let c = s.client().from_address(loopback(1, n as u8 + 1));
        for cred in CREDS {
            let want = expected(row.3, cred, row.4);
            let got = call(&c, &f, &s.admin, row, cred).await;
            checked += 1;
            if got.status != want {
                failures.push(format!(
                    "{} {} with {cred:?}: {} (expected {want}) {:?}",
                    row.0, row.1, got.status, got.body
                ));
            }
            // API errors are JSON; dashboard pages answer theirs as HTML pages.
            let page = matches!(row.3, Access::Page | Access::AdminPage);
            if (400..500).contains(&got.status) && !page && !row.1.starts_with("/integrations") {
                assert!(
                    got.body["error"]["code"].is_string(),
                    "{} {}: {:?}",
                    row.0,
                    row.1,
                    got.body
                );
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} cells differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
