//! The load-bearing structural test of the redaction promise (docs/api.md).
//!
//! Plants a fresh random sample of every supported credential and identity shape into
//! every string field of single reports, batches and admin requests; runs the whole
//! system (on the embedded log and on JetStream, with the SMTP notifier and Slack,
//! PagerDuty and webhook destinations on a real HTTP receiver), then `clef-pro replay`;
//! then searches every byte the system wrote, under the data dir, the NATS store dir,
//! the delivered mail (decoded), the bodies the receiver got and the service's own
//! output, for each planted plaintext, and for the destinations' planted credentials.
//! One occurrence fails the build.

use base64::Engine;
use clef_pro_tests::client::Client;
use clef_pro_tests::files_under;
use clef_pro_tests::fixtures::{report, sha};
use clef_pro_tests::nats::NatsServer;
use clef_pro_tests::plants::{ALNUM, B64, Plant, pick, plants, same};
use clef_pro_tests::receiver::{Answer, Receiver};
use clef_pro_tests::service::{Backend, Service};
use clef_pro_tests::smtp::SmtpServer;
use serde_json::{Value, json};
use std::path::Path;

/// Every planted text joined, for free-text fields (each is at most 4096 bytes).
fn all_text(plants: &[Plant]) -> String {
    plants
        .iter()
        .map(|p| p.text.as_str())
        .collect::<Vec<_>>()
        .join(" | ")
}

/// A report with every free-text field carrying every planted value.
fn planted_report(commit: &str, text: &str) -> Value {
    let mut r = report(
        commit,
        "main",
        &[("missing_keys", "oauth/production", false, "critical")],
    );
    r["cliVersion"] = json!(text);
    for cell in r["summary"]["cells"].as_array_mut().unwrap() {
        cell["description"] = json!(text);
    }
    r["drift"] = json!([{"namespace": "database", "isDrifted": true, "severity": "warning", "summary": text, "driftCount": 1}]);
    r["policyResults"][0]["ruleName"] = json!(text);
    r["policyResults"][0]["message"] = json!(text);
    r["ciContext"] = json!({"provider": text, "pipelineUrl": text, "trigger": text});
    r
}

/// A report whose structured names (branch, namespace, environment, rule id) are one
/// planted value; it is rejected when the value is not a valid name.
fn named_report(commit: &str, name: &str) -> Value {
    let mut r = report(commit, name, &[]);
    r["summary"]["namespaces"] = json!([name]);
    r["summary"]["environments"] = json!([name]);
    r["summary"]["cells"] = json!([{"namespace": name, "environment": name, "healthStatus": "warning", "description": "x"}]);
    r["drift"] = json!([{"namespace": name, "isDrifted": false}]);
    r["policyResults"] = json!([{"ruleId": name, "ruleName": "n", "passed": false, "severity": "error",
                                 "message": "m", "scope": {"namespace": name, "environment": name}}]);
    r
}

async fn drive(c: &Client, plants: &[Plant]) {
    let text = all_text(plants);
    let (id, key) = c
        .integration("planted", json!({"collectCIContext": true}))
        .await;
    let r = c
        .admin(
            "PUT",
            &format!("/api/v1/admin/integrations/{id}/notifications"),
            json!({"notifications": [
                {"channel": "email", "target": "security@acme.com", "minSeverity": "info"},
                {"channel": "slack", "target": "chat", "minSeverity": "info"},
                {"channel": "pagerduty", "target": "oncall", "minSeverity": "info", "sendResolved": true},
                {"channel": "webhook", "target": "siem", "minSeverity": "info", "sendResolved": true},
            ]}),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    let policies: Vec<Value> = plants
        .iter()
        .map(|p| {
            let name: String = p.text.chars().take(190).collect();
            json!({"ruleId": "missing_keys", "ruleName": name, "severity": "critical", "params": {"note": text}})
        })
        .collect();
    let r = c
        .admin(
            "PUT",
            &format!("/api/v1/admin/integrations/{id}/policies"),
            json!({ "policies": policies }),
        )
        .await;
    assert_eq!(r.status, 200, "{:?}", r.body);
    for (i, p) in plants.iter().enumerate() {
        // Admin free text: names and labels (at most 200 characters each).
        let short: String = p.text.chars().take(190).collect();
        let name = format!("team {short}");
        c.admin(
            "POST",
            "/api/v1/admin/integrations",
            json!({"name": name, "trackedBranches": [p.text]}),
        )
        .await;
        c.admin(
            "POST",
            &format!("/api/v1/admin/integrations/{id}/keys"),
            json!({"label": short}),
        )
        .await;
        c.admin(
            "POST",
            "/api/v1/admin/tokens",
            json!({"role": "viewer", "label": short}),
        )
        .await;
        c.configure(&id, json!({"trackedBranches": ["main", p.text]}))
            .await;
        // Structured names carrying the value.
        c.report(&key, &named_report(&sha(&format!("named-{i}")), &p.text))
            .await;
    }
    c.configure(&id, json!({"trackedBranches": ["main"]})).await;
    let r = c.report(&key, &planted_report(&sha("single"), &text)).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    assert!(
        r.body["secretsRedacted"].as_u64().unwrap() >= plants.len() as u64,
        "{:?}",
        r.body
    );
    let batch: Vec<Value> = (0..3)
        .map(|i| planted_report(&sha(&format!("batch-{i}")), &text))
        .collect();
    let r = c.batch(&key, &batch).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    // An acknowledgement by a person whose token label carries a value.
    let t = c
        .admin(
            "POST",
            "/api/v1/admin/tokens",
            json!({"role": "viewer", "label": plants[0].text}),
        )
        .await;
    let token = t.body["token"].as_str().unwrap().to_owned();
    let alert = c
        .alerts(&id, "open")
        .await
        .into_iter()
        .next()
        .expect("an open alert");
    let aid = alert["id"].as_str().unwrap();
    let bearer = format!("Bearer {token}");
    let ack = c
        .send(
            "POST",
            &format!("/api/v1/integrations/{id}/alerts/{aid}/acknowledge"),
            Some(("authorization", &bearer)),
            None,
        )
        .await;
    assert_eq!(ack.status, 200, "{:?}", ack.body);
    // Rejected requests must not leave or echo anything either.
    let mut bad = planted_report(&sha("rejected"), &text);
    bad[plants[1].text.as_str()] = json!(1);
    let r = c.report(&key, &bad).await;
    assert_eq!(r.status, 422);
    for p in plants {
        assert!(
            !r.body.to_string().contains(&p.secret),
            "a 422 echoed a {} value",
            p.shape
        );
    }
    c.settle().await;
}

/// Mail bodies may be quoted-printable or base64: search them decoded too.
fn decoded_mail(bytes: &[u8]) -> Vec<u8> {
    let raw = String::from_utf8_lossy(bytes);
    let text = raw.replace("=\r\n", "").replace("=\n", "");
    let mut out = bytes.to_vec();
    let mut qp = Vec::new();
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'='
            && i + 2 < b.len()
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
        {
            qp.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap_or(b'?'));
            i += 3;
        } else {
            qp.push(b[i]);
            i += 1;
        }
    }
    out.extend(qp);
    let mut block = String::new();
    for line in raw.lines().chain(std::iter::once("")) {
        let l = line.trim();
        if l.len() >= 16 && l.bytes().all(|c| B64.contains(&c) || c == b'=') {
            block.push_str(l);
        } else if !block.is_empty() {
            if let Ok(d) = base64::engine::general_purpose::STANDARD.decode(&block) {
                out.extend(d);
            }
            block.clear();
        }
    }
    out
}

fn search(dirs: &[&Path], extra: &[(&str, Vec<u8>)], plants: &[Plant]) {
    let mut leaks = Vec::new();
    let mut corpus: Vec<(String, Vec<u8>)> = extra
        .iter()
        .map(|(n, b)| (n.to_string(), b.clone()))
        .collect();
    for dir in dirs {
        for f in files_under(dir) {
            let Ok(bytes) = std::fs::read(&f) else {
                continue;
            };
            let bytes = if f.extension().is_some_and(|e| e == "eml") {
                decoded_mail(&bytes)
            } else {
                bytes
            };
            corpus.push((f.display().to_string(), bytes));
        }
    }
    assert!(corpus.len() > 5, "searched too little: {}", corpus.len());
    for p in plants {
        let needle = p.secret.as_bytes();
        for (name, bytes) in &corpus {
            if bytes.windows(needle.len()).any(|w| w == needle) {
                leaks.push(format!("{} in {name}", p.shape));
            }
        }
    }
    assert!(leaks.is_empty(), "plaintext found:\n{}", leaks.join("\n"));
}

/// A destinations file (outside every searched directory) whose credentials are fresh
/// random values; returns them as plants.
fn destinations(rx: &Receiver, dir: &Path) -> (std::path::PathBuf, Vec<Plant>) {
    let slack = pick(ALNUM, 32);
    let hook = pick(ALNUM, 24);
    let routing = pick(ALNUM, 32);
    let key = base64::engine::general_purpose::STANDARD.encode(pick(ALNUM, 32));
    let file = dir.join("destinations.toml");
    std::fs::write(
        &file,
        format!(
            "[destinations.chat]\nkind = \"slack\"\nurl = \"{}\"\n\
             [destinations.oncall]\nkind = \"pagerduty\"\nrouting_key = \"{routing}\"\nurl = \"{}\"\n\
             [destinations.siem]\nkind = \"webhook\"\nurl = \"{}\"\nsecret = \"whsec_{key}\"\n",
            rx.url(&format!("/services/{slack}")),
            rx.url("/pagerduty"),
            rx.url(&format!("/hook/{hook}")),
        ),
    )
    .expect("write destinations");
    let creds = vec![
        same("slack webhook URL token", slack),
        same("webhook URL token", hook),
        same("pagerduty routing key", routing),
        same("webhook signing secret", key),
    ];
    (file, creds)
}

async fn no_plaintext_anywhere(nats: Option<NatsServer>) {
    let plants = plants();
    let smtp = SmtpServer::start().await;
    let rx = Receiver::start(Answer::status(200, "ok")).await;
    let outside = tempfile::tempdir().expect("dir");
    let (file, creds) = destinations(&rx, outside.path());
    let backend = nats
        .as_ref()
        .map_or(Backend::Embedded, |n| Backend::Nats(n.url()));
    let mut s = Service::start_with(
        backend,
        Some(smtp.url()),
        &["--destinations", file.to_str().expect("path")],
        |_| {},
    )
    .await;
    drive(&s.client(), &plants).await;
    assert!(!smtp.messages().is_empty(), "the notifier sent mail");
    let bodies: Vec<u8> = rx.received().iter().flat_map(|r| r.body.to_vec()).collect();
    for path in ["/pagerduty", "/hook/", "/services/"] {
        assert!(
            rx.received().iter().any(|r| r.path.starts_with(path)),
            "the notifier sent to {path}"
        );
    }
    s.stop().await;
    let replay = s.run("replay", &[]).await;
    assert!(replay.status.success());
    let out = [replay.stdout, replay.stderr].concat();
    let mut dirs = vec![s.dir.path(), smtp.dir.path()];
    if let Some(n) = &nats {
        dirs.push(n.dir.path());
    }
    search(
        &dirs,
        &[
            ("replay output", out.clone()),
            ("notification bodies", bodies),
        ],
        &plants,
    );
    // PagerDuty's routing key is in the bodies sent to PagerDuty by design: the
    // credentials are searched for in what the service wrote.
    search(&dirs, &[("replay output", out)], &creds);
}

#[tokio::test(flavor = "multi_thread")]
async fn no_plaintext_anywhere_embedded() {
    no_plaintext_anywhere(None).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn no_plaintext_anywhere_nats() {
    no_plaintext_anywhere(Some(NatsServer::start().await)).await;
}

/// The search itself works: a planted value written in plain is found.
#[test]
fn the_search_finds_a_plain_value() {
    let plants = plants();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("x.eml"),
        format!(
            "Content-Transfer-Encoding: base64\n\n{}\n",
            base64::engine::general_purpose::STANDARD.encode(&plants[0].text)
        ),
    )
    .unwrap();
    let found = std::panic::catch_unwind(|| {
        search(
            &[dir.path()],
            &[
                ("a", vec![]),
                ("b", vec![]),
                ("c", vec![]),
                ("d", vec![]),
                ("e", vec![]),
            ],
            &plants,
        )
    });
    assert!(
        found.is_err(),
        "a base64-encoded plant in mail must be found"
    );
}
