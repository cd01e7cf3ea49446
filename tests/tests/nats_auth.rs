//! clef-pro against a nats-server that lets nobody in without credentials, one case per
//! way to authenticate: a user and password over TLS (with a client certificate), an
//! nkey, and a creds file (the server in operator/JWT mode). Each case stores a report
//! and reads its alert back through a real `serve`; the same setup with a credential
//! the server does not know makes `serve` exit at start, naming the authorization
//! violation. Every service runs with `RUST_LOG=trace,async_nats=trace`, and neither its
//! output nor its data dir ever holds the password or the seed.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use clef_pro_tests::fixtures::{report, sha};
use clef_pro_tests::nats::{NatsServer, random_password};
use clef_pro_tests::service::{Backend, Service};
use nkeys::KeyPair;
use serde_json::{Value, json};
use std::path::Path;

const TRACE: &[(&str, &str)] = &[("RUST_LOG", "trace,async_nats=trace")];
const FAIL: (&str, &str, bool, &str) = ("missing_keys", "oauth/production", false, "critical");

/// A server started with `auth` (what `auth(dir)` returns, after the listen and
/// JetStream lines; it may write files such as certificates into the server's dir).
async fn server(auth: impl Fn(&Path) -> String) -> NatsServer {
    NatsServer::start_with_config(|port, dir| {
        format!("{}{}", NatsServer::base_config(port, dir), auth(dir))
    })
    .await
}

fn args(a: &[&str]) -> Vec<String> {
    a.iter().map(|a| (*a).to_owned()).collect()
}

/// Writes `text` to `dir/name` and returns the path as a flag value.
fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write a test file");
    path.to_str().expect("a UTF-8 path").to_owned()
}

/// A service on `url` with `flags` stores a report and shows its alert; afterwards
/// none of `secrets` is in its output or data dir.
async fn round_trip(url: &str, flags: &[String], secrets: &[&str]) {
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let mut s = Service::start_with_env(Backend::Nats(url.into()), &flags, TRACE).await;
    let c = s.client();
    let (id, key) = c.integration("acme", json!({})).await;
    let r = c.report(&key, &report(&sha("a"), "main", &[FAIL])).await;
    assert_eq!(r.status, 201, "{:?}", r.body);
    c.caught_up().await;
    let open = c.alerts(&id, "open").await;
    assert_eq!(open.len(), 1, "{open:?}");
    s.stop().await;
    // The output is copied to its file by reader tasks: give them a moment.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_no_secret(&s, secrets);
}

/// A service on `url` with `flags` the server does not accept exits at start with an
/// error that names the authorization violation, and logs none of `secrets`.
async fn refused(url: &str, flags: &[String], secrets: &[&str]) {
    let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
    let (s, status, output) =
        Service::start_failing(Backend::Nats(url.into()), &flags, TRACE).await;
    assert!(!status.success(), "{output}");
    let last = output.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: cannot open the log") && last.contains("authorization violation"),
        "{output}"
    );
    assert_no_secret(&s, secrets);
}

fn assert_no_secret(s: &Service, secrets: &[&str]) {
    let output = std::fs::read_to_string(s.output_path()).expect("the service's output");
    // The client's own trace lines are there, so the check covers them.
    assert!(output.contains("TRACE async_nats"), "{output}");
    for secret in secrets {
        assert!(
            !output.contains(secret),
            "a secret in the output:\n{output}"
        );
        let files = clef_pro_tests::files_containing(&s.data_dir(), secret.as_bytes());
        assert!(files.is_empty(), "a secret in {files:?}");
    }
}

/// A CA, and a server and a client certificate it signed (PEM): (ca, [cert, key] of
/// the server for 127.0.0.1 and localhost, [cert, key] of the client).
fn certificates() -> (String, [String; 2], [String; 2]) {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    ca.distinguished_name
        .push(DnType::CommonName, "clef-pro test CA");
    let ca = ca.self_signed(&ca_key).unwrap();
    let leaf = |names: Vec<String>, usage| {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(names).unwrap();
        p.extended_key_usages = vec![usage];
        let cert = p.signed_by(&key, &ca, &ca_key).unwrap();
        [cert.pem(), key.serialize_pem()]
    };
    let server = leaf(
        vec!["127.0.0.1".into(), "localhost".into()],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let client = leaf(vec!["clef-pro".into()], ExtendedKeyUsagePurpose::ClientAuth);
    (ca.pem(), server, client)
}

/// The `authorization` block of one user (`identity` is `user: …, password: …` or
/// `nkey: …`) with the permissions ops/nats ships for clef-pro.
fn authorization(identity: &str) -> String {
    format!(
        "authorization {{ users = [ {{ {identity}, permissions: {{
            publish: [\"clefpro.events.>\", \"clefpro.intents.>\", \"$JS.API.>\",
                      \"$JS.ACK.CLEF_PRO_INTENTS.>\", \"_INBOX.>\"]
            subscribe: [\"_INBOX.>\"] }} }} ] }}\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn user_and_password_over_tls_with_a_client_certificate() {
    let password = random_password();
    let (ca, [cert, key], [client_cert, client_key]) = certificates();
    let nats = server(|dir| {
        let tls = format!(
            "tls {{ cert_file: {:?}, key_file: {:?}, ca_file: {:?}, verify: true }}\n",
            write(dir, "server.pem", &cert),
            write(dir, "server.key", &key),
            write(dir, "ca.pem", &ca),
        );
        tls + &authorization(&format!("user: clef-pro, password: {password:?}"))
    })
    .await;
    let files = nats.dir.path();
    let (ca, cert, key) = (
        write(files, "client-ca.pem", &ca),
        write(files, "client.pem", &client_cert),
        write(files, "client.key", &client_key),
    );
    let tls = [
        "--nats-tls-ca",
        &ca,
        "--nats-tls-cert",
        &cert,
        "--nats-tls-key",
        &key,
    ];
    let with = |password: &str| {
        args(
            &[
                &["--nats-user", "clef-pro", "--nats-password", password][..],
                &tls,
            ]
            .concat(),
        )
    };
    round_trip(&nats.url(), &with(&password), &[&password]).await;

    // The password in a tls:// URL works the same and is logged nowhere either.
    let url = format!("tls://clef-pro:{password}@127.0.0.1:{}", nats.port);
    round_trip(&url, &args(&tls), &[&password]).await;

    let wrong = random_password();
    refused(&nats.url(), &with(&wrong), &[&wrong, &password]).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn nkey() {
    let user = KeyPair::new_user();
    let seed = user.seed().unwrap();
    let nats = server(|_| authorization(&format!("nkey: {}", user.public_key()))).await;
    let seed_file = write(nats.dir.path(), "clef-pro.nk", &format!("{seed}\n"));
    round_trip(&nats.url(), &args(&["--nats-nkey", &seed_file]), &[&seed]).await;

    let stranger = KeyPair::new_user().seed().unwrap();
    let stranger_file = write(nats.dir.path(), "stranger.nk", &stranger);
    refused(
        &nats.url(),
        &args(&["--nats-nkey", &stranger_file]),
        &[&stranger],
    )
    .await;
}

/// A JWT of NATS JWT v2: `claims` (without `jti`, `iat`, `iss`) signed by `issuer`.
/// `jti` is meant to be a hash of the claims; the server does not check it.
fn jwt(issuer: &KeyPair, mut claims: Value) -> String {
    let c = claims.as_object_mut().unwrap();
    c.insert("iat".into(), json!(1_700_000_000));
    c.insert("iss".into(), json!(issuer.public_key()));
    let id = blake3::hash(serde_json::to_string(&claims).unwrap().as_bytes());
    claims["jti"] = json!(id.to_hex().to_uppercase());
    let header = URL_SAFE_NO_PAD.encode(r#"{"typ":"JWT","alg":"ed25519-nkey"}"#);
    let body = URL_SAFE_NO_PAD.encode(serde_json::to_string(&claims).unwrap());
    let signed = format!("{header}.{body}");
    let signature = URL_SAFE_NO_PAD.encode(issuer.sign(signed.as_bytes()).unwrap());
    format!("{signed}.{signature}")
}

/// An account's JWT, issued by `operator`, with no limits; with JetStream or without
/// (the system account may not have it).
fn account_jwt(operator: &KeyPair, account: &KeyPair, jetstream: bool) -> String {
    let mut unlimited = json!({
        "subs": -1, "data": -1, "payload": -1, "imports": -1, "exports": -1,
        "wildcards": true, "conn": -1, "leaf": -1,
    });
    if jetstream {
        let js = json!({"mem_storage": -1, "disk_storage": -1, "streams": -1, "consumer": -1});
        unlimited
            .as_object_mut()
            .unwrap()
            .extend(js.as_object().unwrap().clone());
    }
    jwt(
        operator,
        json!({"name": "clef", "sub": account.public_key(),
               "nats": {"limits": unlimited, "type": "account", "version": 2}}),
    )
}

/// A creds file for a new user of `account`: the user's JWT and seed, in the format
/// `nsc` writes (what the NATS clients parse).
fn creds(account: &KeyPair) -> (String, String) {
    let user = KeyPair::new_user();
    let token = jwt(
        account,
        json!({"name": "clef-pro", "sub": user.public_key(),
               "nats": {"pub": {}, "sub": {}, "subs": -1, "data": -1, "payload": -1,
                        "type": "user", "version": 2}}),
    );
    let seed = user.seed().unwrap();
    let file = format!(
        "-----BEGIN NATS USER JWT-----\n{token}\n------END NATS USER JWT------\n\n\
         ************************* IMPORTANT *************************\n\
         NKEY Seed printed below can be used to sign and prove identity.\n\
         NKEYs are sensitive and should be treated as secrets.\n\n\
         -----BEGIN USER NKEY SEED-----\n{seed}\n------END USER NKEY SEED------\n\n\
         *************************************************************\n"
    );
    (file, seed)
}

#[tokio::test(flavor = "multi_thread")]
async fn creds_file_on_a_server_in_operator_mode() {
    let operator = KeyPair::new_operator();
    let account = KeyPair::new_account();
    let operator_jwt = jwt(
        &operator,
        json!({"name": "clef-test", "sub": operator.public_key(),
               "nats": {"type": "operator", "version": 2}}),
    );
    // JetStream needs a system account; it holds no users here.
    let system = KeyPair::new_account();
    let nats = server(|_| {
        format!(
            "operator: {operator_jwt}\nsystem_account: {sys}\nresolver: MEMORY\n\
             resolver_preload: {{ {sys}: {}, {}: {} }}\n",
            account_jwt(&operator, &system, false),
            account.public_key(),
            account_jwt(&operator, &account, true),
            sys = system.public_key(),
        )
    })
    .await;
    let (file, seed) = creds(&account);
    let path = write(nats.dir.path(), "clef-pro.creds", &file);
    round_trip(&nats.url(), &args(&["--nats-creds", &path]), &[&seed]).await;

    // A user of an account the server does not know.
    let (file, seed) = creds(&KeyPair::new_account());
    let path = write(nats.dir.path(), "stranger.creds", &file);
    refused(&nats.url(), &args(&["--nats-creds", &path]), &[&seed]).await;
}
