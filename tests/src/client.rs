//! An HTTP client for the service's API, returning status and JSON.

use serde_json::{Value, json};
use std::time::Duration;

#[derive(Clone)]
pub struct Client {
    base: String,
    admin: String,
    http: reqwest::Client,
}

/// A response: status and body (JSON, or the raw text as a string).
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub retry_after: Option<String>,
}

/// A dashboard session, signed in through the form as a browser does.
#[derive(Debug, Clone)]
pub struct Session {
    /// `clef_pro_session=<value>`, for a `Cookie` header.
    pub cookie: String,
    /// The session's CSRF token, as its pages carry it.
    pub csrf: String,
}

/// The value of `name="…" value="…"`-style attribute `attr` after `marker` in `html`.
fn attribute_after(html: &str, marker: &str, attr: &str) -> Option<String> {
    let rest = html.split(marker).nth(1)?;
    let rest = rest.split(&format!(r#"{attr}=""#)).nth(1)?;
    Some(rest.split('"').next()?.to_owned())
}

impl Resp {
    /// Asserts the contract's error answer: `status`, and a body that is exactly
    /// `{"error": {"code", "message", "field"}}` (`field` as given, else any string or
    /// null). Returns the code.
    pub fn expect_error(&self, status: u16, field: Option<&str>) -> String {
        assert_eq!(self.status, status, "{:?}", self.body);
        let outer = self.body.as_object().expect("a JSON object");
        assert_eq!(outer.len(), 1, "only `error`: {:?}", self.body);
        let e = outer["error"].as_object().expect("`error` is an object");
        let mut keys: Vec<&str> = e.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(keys, ["code", "field", "message"], "{e:?}");
        assert!(e["message"].is_string(), "{e:?}");
        assert!(e["field"].is_string() || e["field"].is_null(), "{e:?}");
        if let Some(f) = field {
            assert_eq!(e.get("field").and_then(Value::as_str), Some(f), "{e:?}");
        }
        e["code"].as_str().expect("`code` is a string").to_owned()
    }
}

impl Client {
    pub fn new(base: &str, admin: &str) -> Client {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("client");
        Client {
            base: base.trim_end_matches('/').to_owned(),
            admin: admin.to_owned(),
            http,
        }
    }

    /// A client that connects from `ip` (any address of 127.0.0.0/8 works on loopback,
    /// so tests can act as distinct clients) and returns redirects instead of following.
    pub fn from_address(&self, ip: std::net::IpAddr) -> Client {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .local_address(ip)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Client {
            http,
            ..self.clone()
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub async fn send(
        &self,
        method: &str,
        path: &str,
        auth: Option<(&str, &str)>,
        body: Option<Vec<u8>>,
    ) -> Resp {
        self.try_send(method, path, auth, body)
            .await
            .expect("request")
    }

    /// Like [`Client::send`], but a failed connection (the service was killed) is an
    /// error instead of a panic.
    pub async fn try_send(
        &self,
        method: &str,
        path: &str,
        auth: Option<(&str, &str)>,
        body: Option<Vec<u8>>,
    ) -> Result<Resp, reqwest::Error> {
        self.send_headers(method, path, auth.as_slice(), body).await
    }

    /// A request with any number of headers.
    pub async fn send_headers(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: Option<Vec<u8>>,
    ) -> Result<Resp, reqwest::Error> {
        let m = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut req = self.http.request(m, self.url(path));
        for (h, v) in headers {
            req = req.header(*h, *v);
        }
        if let Some(b) = body {
            if !headers
                .iter()
                .any(|(h, _)| h.eq_ignore_ascii_case("content-type"))
            {
                req = req.header("content-type", "application/json");
            }
            req = req.body(b);
        }
        let r = req.send().await?;
        let status = r.status().as_u16();
        let retry_after = r
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = r.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Resp {
            status,
            body,
            retry_after,
        })
    }

    /// Signs in with `token` through the sign-in form (its nonce cookie and hidden
    /// field, as a browser sends them), and reads the session's CSRF token off a page.
    pub async fn sign_in(&self, token: &str) -> Session {
        let (http, r) = self.sign_in_form(token).await;
        assert_eq!(r.status(), 303, "sign-in refused");
        let set = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with("clef_pro_session="))
            .expect("a session cookie")
            .to_owned();
        for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
            assert!(set.contains(attr), "{set}");
        }
        let cookie = set.split(';').next().expect("pair").to_owned();
        let page = http
            .get(self.url("/"))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("html");
        let csrf = attribute_after(&page, r#"name="csrf-token""#, "content").expect("csrf meta");
        Session { cookie, csrf }
    }

    /// The status of a sign-in through the form with `token`.
    pub async fn sign_in_attempt(&self, token: &str) -> u16 {
        self.sign_in_form(token).await.1.status().as_u16()
    }

    /// Fetches the sign-in form and posts it with `token`, as a browser does.
    async fn sign_in_form(&self, token: &str) -> (reqwest::Client, reqwest::Response) {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        let form = http.get(self.url("/sign-in")).send().await.expect("form");
        let nonce = form.headers()["set-cookie"]
            .to_str()
            .expect("cookie")
            .split(';')
            .next()
            .expect("pair")
            .to_owned();
        let html = form.text().await.expect("html");
        let field = attribute_after(&html, r#"name="csrf""#, "value").expect("csrf field");
        let r = http
            .post(self.url("/sign-in"))
            .header("cookie", &nonce)
            .form(&[("token", token), ("csrf", &field)])
            .send()
            .await
            .expect("sign in");
        (http, r)
    }

    /// Signs a session out through the dashboard's form.
    pub async fn sign_out(&self, s: &Session) -> Resp {
        self.send_headers(
            "POST",
            "/sign-out",
            &[
                ("cookie", &s.cookie),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            Some(format!("csrf={}", s.csrf).into_bytes()),
        )
        .await
        .expect("sign out")
    }

    /// The `Authorization` value of the admin token.
    pub fn admin_bearer(&self) -> String {
        format!("Bearer {}", self.admin)
    }

    pub async fn admin(&self, method: &str, path: &str, body: Value) -> Resp {
        let bearer = self.admin_bearer();
        let b = if method == "GET" || method == "DELETE" {
            None
        } else {
            Some(body.to_string().into_bytes())
        };
        self.send(method, path, Some(("authorization", &bearer)), b)
            .await
    }

    /// The status of `GET path` with `Authorization: Bearer <token>`.
    pub async fn status_with_bearer(&self, token: &str, path: &str) -> u16 {
        let auth = format!("Bearer {token}");
        self.send("GET", path, Some(("authorization", &auth)), None)
            .await
            .status
    }

    pub async fn get(&self, path: &str) -> Value {
        let r = self.admin("GET", path, Value::Null).await;
        assert_eq!(r.status, 200, "GET {path}: {:?}", r.body);
        r.body
    }

    pub async fn with_key(&self, key: &str, method: &str, path: &str, body: &Value) -> Resp {
        self.send(
            method,
            path,
            Some(("x-api-key", key)),
            Some(body.to_string().into_bytes()),
        )
        .await
    }

    /// Creates an integration with an API key; returns (id, key).
    pub async fn integration(&self, name: &str, extra: Value) -> (String, String) {
        let mut body = json!({ "name": name });
        if let (Some(b), Value::Object(e)) = (body.as_object_mut(), extra) {
            b.extend(e);
        }
        let r = self.admin("POST", "/api/v1/admin/integrations", body).await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        let id = r.body["id"].as_str().expect("id").to_owned();
        let (_, key) = self.issue_key(&id, "ci").await;
        (id, key)
    }

    /// `PUT …/config` of an integration (collection, tracked branches, file pattern).
    pub async fn configure(&self, id: &str, config: Value) -> Resp {
        self.admin(
            "PUT",
            &format!("/api/v1/admin/integrations/{id}/config"),
            config,
        )
        .await
    }

    /// Issues an API key for an integration; returns (key id, key).
    pub async fn issue_key(&self, id: &str, label: &str) -> (String, String) {
        let k = self
            .admin(
                "POST",
                &format!("/api/v1/admin/integrations/{id}/keys"),
                json!({ "label": label }),
            )
            .await;
        assert_eq!(k.status, 201, "{:?}", k.body);
        let field = |f: &str| k.body[f].as_str().expect(f).to_owned();
        (field("keyId"), field("apiKey"))
    }

    /// Issues a viewer or admin token; returns its id and the token.
    pub async fn issue_token(&self, role: &str, label: &str) -> (String, String) {
        let r = self
            .admin(
                "POST",
                "/api/v1/admin/tokens",
                json!({"role": role, "label": label}),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        let field = |f: &str| r.body[f].as_str().expect(f).to_owned();
        (field("id"), field("token"))
    }

    /// Issues an API key and revokes it; returns the (now refused) key.
    pub async fn revoked_key(&self, id: &str) -> String {
        let (kid, key) = self.issue_key(id, "old").await;
        let r = self
            .admin(
                "DELETE",
                &format!("/api/v1/admin/integrations/{id}/keys/{kid}"),
                Value::Null,
            )
            .await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        key
    }

    /// Sets an integration's email channels, as `(target, minSeverity)` pairs.
    pub async fn channels(&self, id: &str, channels: &[(&str, &str)]) -> Resp {
        let list: Vec<Value> = channels
            .iter()
            .map(|(target, min)| json!({"channel": "email", "target": target, "minSeverity": min}))
            .collect();
        self.admin(
            "PUT",
            &format!("/api/v1/admin/integrations/{id}/notifications"),
            json!({ "notifications": list }),
        )
        .await
    }

    /// Submits the example report of `commit` (a label, see [`crate::fixtures::sha`]) on `main` with
    /// `results`, expects 201, and waits until everything it causes is settled.
    pub async fn submit(&self, key: &str, commit: &str, results: &[crate::fixtures::Result_]) {
        let r = self
            .report(
                key,
                &crate::fixtures::report(&crate::fixtures::sha(commit), "main", results),
            )
            .await;
        assert_eq!(r.status, 201, "{:?}", r.body);
        self.settle().await;
    }

    pub async fn report(&self, key: &str, report: &Value) -> Resp {
        self.with_key(key, "POST", "/api/v1/reports", report).await
    }

    pub async fn batch(&self, key: &str, reports: &[Value]) -> Resp {
        self.with_key(
            key,
            "POST",
            "/api/v1/reports/batch",
            &json!({ "reports": reports }),
        )
        .await
    }

    /// Acknowledges an alert with the admin token.
    pub async fn acknowledge(&self, id: &str, alert: &str) -> Resp {
        self.admin(
            "POST",
            &format!("/api/v1/integrations/{id}/alerts/{alert}/acknowledge"),
            json!({}),
        )
        .await
    }

    pub async fn alerts(&self, id: &str, status: &str) -> Vec<Value> {
        let v = self
            .get(&format!("/api/v1/integrations/{id}/alerts?status={status}"))
            .await;
        v["alerts"].as_array().cloned().unwrap_or_default()
    }

    /// Reads `/metrics` into (name with labels → value).
    pub async fn metrics(&self) -> std::collections::HashMap<String, f64> {
        let r = self
            .http
            .get(self.url("/metrics"))
            .send()
            .await
            .expect("metrics");
        let text = r.text().await.unwrap_or_default();
        crate::metrics::parse(&text)
    }

    /// Waits until every projector has caught up with the log and no notification is
    /// pending: the point after which nothing more will be sent for what was submitted.
    pub async fn settle(&self) {
        self.settle_within(Duration::from_secs(60)).await;
    }

    /// [`Client::settle`] with room for a long backlog of notifications.
    pub async fn settle_within(&self, timeout: Duration) {
        self.wait_metrics(timeout, |lag, pending| lag == 0.0 && pending == 0.0)
            .await;
    }

    /// Waits until every projector has caught up with the log.
    pub async fn caught_up(&self) {
        self.wait_metrics(Duration::from_secs(60), |lag, _| lag == 0.0)
            .await;
    }

    /// Polls `/metrics` until `done(total projector lag, pending notifications)`.
    async fn wait_metrics(&self, timeout: Duration, done: impl Fn(f64, f64) -> bool) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let m = self.metrics().await;
            let lag: f64 = m
                .iter()
                .filter(|(k, _)| k.starts_with("clef_pro_projector_lag"))
                .map(|(_, v)| v)
                .sum();
            let pending = m
                .get("clef_pro_notifications{status=\"pending\"}")
                .copied()
                .unwrap_or(0.0);
            if m.get("clef_pro_log_up") == Some(&1.0) && done(lag, pending) {
                return;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "service did not settle: {m:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
