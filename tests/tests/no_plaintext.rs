//! The load-bearing structural test of the redaction promise (CONTRACT section 6).
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
use clef_pro_tests::receiver::{Answer, Receiver};
use clef_pro_tests::service::{Backend, Service};
use clef_pro_tests::smtp::SmtpServer;
use rand::Rng;
use serde_json::{Value, json};
use std::path::Path;

const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
const HEX: &[u8] = b"0123456789abcdef";
const BECH32: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

fn pick(alphabet: &[u8], n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

/// A planted value: the text placed in requests and the plaintext that must never
/// appear anywhere (the secret part of it).
struct Plant {
    shape: &'static str,
    text: String,
    secret: String,
}

fn plant(shape: &'static str, text: String, secret: String) -> Plant {
    Plant {
        shape,
        text,
        secret,
    }
}

fn same(shape: &'static str, s: String) -> Plant {
    plant(shape, s.clone(), s)
}

/// One fresh sample of every shape the redactor knows.
fn plants() -> Vec<Plant> {
    let pem_body = (0..4).map(|_| pick(B64, 64)).collect::<Vec<_>>().join("\n");
    let aws_secret = pick(B64, 40);
    let password = format!("Pw{}", pick(ALNUM, 18));
    let query_token = pick(ALNUM, 32);
    vec![
        same("aws-access-key", format!("AKIA{}", pick(UPPER_DIGITS, 16))),
        plant(
            "aws-secret-key",
            format!("aws_secret_access_key={aws_secret}"),
            aws_secret,
        ),
        same("github-pat", format!("ghp_{}", pick(ALNUM, 36))),
        same("github-oauth", format!("gho_{}", pick(ALNUM, 36))),
        same("github-server", format!("ghs_{}", pick(ALNUM, 36))),
        same(
            "github-fine-grained",
            format!("github_pat_{}_{}", pick(ALNUM, 22), pick(ALNUM, 59)),
        ),
        same("gitlab", format!("glpat-{}", pick(ALNUM, 20))),
        same(
            "jwt",
            format!(
                "eyJ{}.eyJ{}.{}",
                pick(B64URL, 30),
                pick(B64URL, 60),
                pick(B64URL, 43)
            ),
        ),
        plant(
            "pem-rsa",
            format!("-----BEGIN RSA PRIVATE KEY-----\n{pem_body}\n-----END RSA PRIVATE KEY-----"),
            pem_body.lines().nth(1).unwrap_or_default().to_owned(),
        ),
        {
            let body = pick(B64, 70);
            plant(
                "pem-openssh",
                format!(
                    "-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n-----END OPENSSH PRIVATE KEY-----"
                ),
                body,
            )
        },
        {
            let body = pick(B64, 64);
            plant(
                "pgp-private",
                format!(
                    "-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{body}\n-----END PGP PRIVATE KEY BLOCK-----"
                ),
                body,
            )
        },
        same("npm", format!("npm_{}", pick(ALNUM, 36))),
        same("anthropic", format!("sk-ant-api03-{}AA", pick(B64URL, 93))),
        same("openai", format!("sk-proj-{}", pick(B64URL, 48))),
        same(
            "slack",
            format!(
                "xoxb-{}-{}-{}",
                pick(b"0123456789", 12),
                pick(b"0123456789", 13),
                pick(ALNUM, 24)
            ),
        ),
        same("stripe", format!("sk_live_{}", pick(ALNUM, 32))),
        same("google-api", format!("AIza{}", pick(B64URL, 35))),
        same(
            "age-secret",
            format!("AGE-SECRET-KEY-1{}", pick(BECH32, 58).to_uppercase()),
        ),
        same("age-recipient", format!("age1{}", pick(BECH32, 58))),
        {
            let fpr: Vec<String> = (0..10).map(|_| pick(HEX, 4).to_uppercase()).collect();
            same("pgp-fingerprint", fpr.join(" "))
        },
        same(
            "aws-kms-arn",
            format!(
                "arn:aws:kms:eu-west-1:{}:key/{}-{}-4{}-a{}-{}",
                pick(b"0123456789", 12),
                pick(HEX, 8),
                pick(HEX, 4),
                pick(HEX, 3),
                pick(HEX, 3),
                pick(HEX, 12)
            ),
        ),
        same(
            "gcp-kms",
            format!(
                "projects/acme-{}/locations/global/keyRings/sops/cryptoKeys/key-{}",
                pick(HEX, 6),
                pick(HEX, 6)
            ),
        ),
        same(
            "azure-key-vault",
            format!(
                "https://kv{}.vault.azure.net/keys/sops-key/{}",
                pick(HEX, 6),
                pick(HEX, 32)
            ),
        ),
        plant(
            "url-userinfo",
            format!("https://deploy:{password}@git.acme.com/repo.git"),
            password,
        ),
        plant(
            "url-token",
            format!("https://ci.acme.com/runs/1?access_token={query_token}"),
            query_token,
        ),
        same("vault", format!("hvs.{}", pick(ALNUM, 90))),
        same("high-entropy", pick(B64, 48)),
    ]
    .into_iter()
    .chain(audit_shapes())
    .collect()
}

const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// The shapes a black-box audit found stored in clear, each in its own context.
fn audit_shapes() -> Vec<Plant> {
    let around = |shape, before: &str, secret: String, after: &str| {
        plant(shape, format!("{before}{secret}{after}"), secret)
    };
    let uuid = format!(
        "{}-{}-4{}-a{}-{}",
        pick(HEX, 8),
        pick(HEX, 4),
        pick(HEX, 3),
        pick(HEX, 3),
        pick(HEX, 12)
    );
    vec![
        around("sops-pgp-fp", "fp: ", pick(HEX, 40).to_uppercase(), ""),
        around("letters-password", "DB_PASSWORD: ", pick(LETTERS, 14), ""),
        around("short-password", "password=", pick(ALNUM, 7), ""),
        around("datadog-key", "DD_API_KEY=", pick(HEX, 32), ""),
        around("heroku-key", "HEROKU_API_KEY=", uuid, ""),
        around("basic-auth", "Authorization: Basic ", pick(B64, 28), ""),
        around(
            "azure-ad-secret",
            "",
            format!(
                "{}{}Q~{}",
                pick(ALNUM, 3),
                pick(b"0123456789", 1),
                pick(ALNUM, 31)
            ),
            "",
        ),
        around("makefile", "API_TOKEN ?= ", pick(ALNUM, 22), ""),
        around("go-var", "var apiToken string = \"", pick(ALNUM, 22), "\""),
        around("php-append", "$token .= \"", pick(ALNUM, 22), "\";"),
        around(
            "java-property",
            "System.setProperty(\"API_TOKEN\", \"",
            pick(ALNUM, 22),
            "\")",
        ),
        around("xml-element", "<apiToken>", pick(ALNUM, 22), "</apiToken>"),
        around(
            "nuget",
            "<add key=\"Password\" value=\"",
            pick(ALNUM, 16),
            "\"/>",
        ),
        around(
            "curl-user",
            "curl -u deploy:",
            pick(ALNUM, 16),
            " https://api.acme.com",
        ),
        around(
            "k8s-secret-data",
            "kind: Secret\ndata:\n  password: ",
            pick(B64, 24),
            "\n",
        ),
    ]
}

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
        c.admin(
            "PUT",
            &format!("/api/v1/admin/integrations/{id}/config"),
            json!({"trackedBranches": ["main", p.text]}),
        )
        .await;
        // Structured names carrying the value.
        c.report(&key, &named_report(&sha(&format!("named-{i}")), &p.text))
            .await;
    }
    c.admin(
        "PUT",
        &format!("/api/v1/admin/integrations/{id}/config"),
        json!({"trackedBranches": ["main"]}),
    )
    .await;
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
