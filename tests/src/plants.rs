//! Fresh random samples of every credential and identity shape the redactor knows,
//! and of the shapes a black-box audit found stored in clear: what the no-plaintext
//! test plants.

use clef_pro_schema::redact::{MIN_BITS_PER_CHAR, shannon_bits_per_char};
use rand::Rng;

pub const UPPER_DIGITS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
pub const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
pub const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
pub const B64URL: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
pub const HEX: &[u8] = b"0123456789abcdef";
pub const BECH32: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";

pub fn pick(alphabet: &[u8], n: usize) -> String {
    let mut rng = rand::rng();
    (0..n)
        .map(|_| alphabet[rng.random_range(0..alphabet.len())] as char)
        .collect()
}

/// A planted value: the text placed in requests and the plaintext that must never
/// appear anywhere (the secret part of it).
pub struct Plant {
    pub shape: &'static str,
    pub text: String,
    pub secret: String,
}

pub fn plant(shape: &'static str, text: String, secret: String) -> Plant {
    Plant {
        shape,
        text,
        secret,
    }
}

pub fn same(shape: &'static str, s: String) -> Plant {
    plant(shape, s.clone(), s)
}

/// One fresh sample of every shape the redactor knows.
pub fn plants() -> Vec<Plant> {
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
        same("high-entropy", high_entropy()),
    ]
    .into_iter()
    .chain(audit_shapes())
    .collect()
}

/// 48 base64 characters at or above the entropy fallback's threshold (4.5 bits a
/// character, the design record's; docs/redaction.md). About 1 draw in 1,000 falls just
/// under it; such a value is not what the fallback promises to catch, so it is drawn
/// again, and no end-to-end test plants a token just under the threshold.
fn high_entropy() -> String {
    loop {
        let s = pick(B64, 48);
        if shannon_bits_per_char(&s) >= MIN_BITS_PER_CHAR {
            return s;
        }
    }
}

pub const LETTERS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

/// The shapes a black-box audit found stored in clear, each in its own context.
pub fn audit_shapes() -> Vec<Plant> {
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
