//! The audit's shapes and defects, and the structural guarantees: whole tokens, exact
//! markers, merged spans, linear time.

use super::redact;
use super::{fp, leaked, redactor, test_key};
use crate::redact::patterns::{Span, replace};
use crate::redact::{Finding, marker};
use std::borrow::Cow;

/// Each audit shape with the secret inside it; all must be redacted whole.
pub(super) const AUDIT: &[(&str, &str)] = &[
    ("DB_PASSWORD: hunterhunter", "hunterhunter"),
    ("password=s3cr3t!", "s3cr3t!"),
    (
        "DD_API_KEY=0123456789abcdef0123456789abcdef",
        "0123456789abcdef0123456789abcdef",
    ),
    (
        "HEROKU_API_KEY=01234567-89ab-cdef-0123-456789abcdef",
        "01234567-89ab-cdef-0123-456789abcdef",
    ),
    (
        "Authorization: Basic dXNlcjpwYXNzd29yZA==",
        "dXNlcjpwYXNzd29yZA==",
    ),
    (
        "AZURE_CLIENT_SECRET=abc8Q~Zq3Xv8Lm2Pw9Rt5Yk1Hd7Jc4Nb6Gf0Sa2U",
        "abc8Q~Zq3Xv8Lm2Pw9Rt5Yk1Hd7Jc4Nb6Gf0Sa2U",
    ),
    (
        "client secret abc8Q~Zq3Xv8Lm2Pw9Rt5Yk1Hd7Jc4Nb6Gf0Sa2U leaked",
        "abc8Q~Zq3Xv8Lm2Pw9Rt5Yk1Hd7Jc4Nb6Gf0Sa2U",
    ),
    ("DB_PASSWORD ?= hunter2hunter2", "hunter2hunter2"),
    ("DB_PASSWORD ::= hunter2hunter2", "hunter2hunter2"),
    ("DB_PASSWORD :::= hunter2hunter2", "hunter2hunter2"),
    ("DB_PASSWORD += hunter2hunter2", "hunter2hunter2"),
    ("var apiToken string = \"hunter2hunter2\"", "hunter2hunter2"),
    ("apiToken := \"hunter2hunter2\"", "hunter2hunter2"),
    ("$token .= \"hunter2hunter2\";", "hunter2hunter2"),
    ("'password' => 'hunter2hunter2',", "hunter2hunter2"),
    (
        "System.setProperty(\"API_TOKEN\", \"hunter2hunter2\");",
        "hunter2hunter2",
    ),
    ("<apiToken>hunter2hunter2</apiToken>", "hunter2hunter2"),
    ("<password>hunter2hunter2</password>", "hunter2hunter2"),
    (
        "<add key=\"Password\" value=\"hunter2hunter2\"/>",
        "hunter2hunter2",
    ),
    (
        "curl -u deploy:hunter2hunter2 https://api.example.com",
        "deploy:hunter2hunter2",
    ),
    (
        "apiVersion: v1\nkind: Secret\ndata:\n  password: aHVudGVyMg==\n  username: YWRtaW4=\n",
        "aHVudGVyMg==",
    ),
    (
        "apiVersion: v1\nkind: Secret\ndata:\n  password: aHVudGVyMg==\n  username: YWRtaW4=\n",
        "YWRtaW4=",
    ),
];

#[test]
fn audit_shapes_are_redacted_whole() {
    for (text, secret) in AUDIT {
        let out = redact(text);
        assert!(!out.contains(secret), "{text:?} became {out:?}");
        assert!(
            out.contains(&marker(&fp(secret))),
            "{text:?} became {out:?}"
        );
    }
}

#[test]
fn kubernetes_secret_keeps_names_and_lines() {
    let text = "apiVersion: v1\nkind: Secret\ndata:\n  password: aHVudGVyMg==\n  username: YWRtaW4=\ntype: Opaque\n";
    let out = redact(text);
    let [p, u] = ["aHVudGVyMg==", "YWRtaW4="].map(|s| marker(&fp(s)));
    assert_eq!(
        out,
        format!(
            "apiVersion: v1\nkind: Secret\ndata:\n  password: {p}\n  username: {u}\ntype: Opaque\n"
        )
    );
}

#[test]
fn an_empty_assignment_keeps_the_next_line() {
    for text in [
        "GITHUB_API_KEY=\nDYNATRACE_API_KEY=",
        "PASSWORD=\nTOKEN=\n",
        "password:\n  - item",
    ] {
        assert_eq!(redact(text), text);
    }
}

#[test]
fn an_equals_sign_inside_a_token_does_not_split_it() {
    let token = "Zq3Xv8Lm2Pw9Rt5Yk1Hd7Jc4Nb6Gf0Sa2Ue==p8X2kQ9vR4mN7bL1zT6yH3cJ5wF0dS8g";
    let out = redact(&format!("blob {token} end"));
    assert_eq!(out, format!("blob {} end", marker(&fp(token))));
}

#[test]
fn a_url_path_around_an_id_stays_readable() {
    for text in [
        "https://ci.example.com/job/deploy/12345/console",
        "see https://ci.example.com/job/deploy-production-eu-west/12345/console for details",
    ] {
        assert_eq!(redact(text), text);
    }
    let id = "Zq3Xv8Lm2Pw9Rt5Yk1Hd7Jc4Nb6Gf0Sa2Ue8Ix3";
    let out = redact(&format!("https://ci.example.com/job/deploy/{id}/console"));
    assert_eq!(
        out,
        format!(
            "https://ci.example.com/job/deploy/{}/console",
            marker(&fp(id))
        )
    );
}

#[test]
fn only_an_exact_marker_is_exempt() {
    let text = "password: \"<REDACTED:fingerprint=0123abcd>hunter2hunter2\"";
    assert!(!redact(text).contains("hunter2"));
}

#[test]
fn marker_is_the_keyed_blake3_prefix_of_the_match() {
    let secret = "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";
    let keyed = blake3::keyed_hash(test_key().bytes(), secret.as_bytes()).to_hex();
    let unkeyed = blake3::hash(secret.as_bytes()).to_hex();
    let mut findings = Vec::new();
    let text = format!("key {secret} here");
    let out = redactor().redact(&text, &mut findings);
    assert_eq!(
        out,
        format!("key <REDACTED:fingerprint={}> here", &keyed[..8])
    );
    // Without the key, the fingerprint of a guess is something else entirely.
    assert!(!out.contains(&unkeyed[..8]));
    assert_eq!(
        findings,
        [Finding {
            class: "github-token",
            fingerprint: fp(secret)
        }]
    );
    let other = crate::redact::Redactor::new(
        crate::keys::DeploymentKey::from_bytes([1; 32]).fingerprints(),
    );
    assert_ne!(
        other.redact(&text, &mut Vec::new()),
        out,
        "another deployment, another fingerprint"
    );
}

#[test]
fn overlapping_spans_merge_into_one_marker() {
    let span = |start, end, rank| Span {
        start,
        end,
        rank,
        class: if rank == 0 { "first" } else { "second" },
    };
    let mut findings = Vec::new();
    let out = replace(
        "abcdefghij",
        vec![span(4, 9, 1), span(2, 6, 0)],
        &test_key(),
        &mut findings,
    );
    assert_eq!(out, format!("ab{}j", marker(&fp("cdefghi"))));
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].class, "first");
}

#[test]
fn a_key_glued_to_other_text_is_redacted_whole() {
    // The `\b` in the AWS rule refuses the glued key; the entropy fallback takes the run.
    let text = "id=xAKIAIOSFODNN7ABCDEFwJalrXUtnFEMIK7MDENGbPxRfiCY";
    assert_eq!(leaked(&redact(text), "AKIAIOSFODNN7ABCDEF", "id="), None);
}

#[test]
fn truncated_private_key_block_is_redacted_to_the_end() {
    let text = "config: -----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8Pb";
    let secret = &text["config: ".len()..];
    assert_eq!(redact(text), format!("config: {}", marker(&fp(secret))));
}

#[test]
fn non_ascii_text_around_secrets_is_preserved() {
    let text = "Schlüssel für Produktion: 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 — geändert ✓";
    let fp = fp("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");
    assert_eq!(
        redact(text),
        format!("Schlüssel für Produktion: {} — geändert ✓", marker(&fp))
    );
}

#[test]
fn adversarial_inputs_finish_and_redact_consistently() {
    // Inputs that make backtracking engines explode; the regex crate stays linear.
    for unit in [
        "-----BEGIN RSA PRIVATE KEY-----",
        "https://a:",
        "password=",
        "AAAAAAAA",
        "eyJaaaaaaaaaa.",
        "0123 ",
        "age1qpzry9x8gf",
        "s://a:b@c",
        "fingerprint: 0x",
        "data:\n",
        "kind: Secret\n",
        "a=",
        "<password>",
        "-u a:",
        "Authorization: ",
    ] {
        let text = unit.repeat(64 * 1024 / unit.len());
        let once = redactor().redact(&text, &mut Vec::new());
        let twice = redactor().redact(&once, &mut Vec::new());
        assert!(matches!(twice, Cow::Borrowed(_)), "{unit:?}");
    }
}

/// Code quoted inside a JSON string (a policy's params, say) has escaped quotes; the
/// value between them is still a value (found by the structural no-plaintext test).
#[test]
fn assignments_inside_json_strings_are_redacted() {
    for text in [
        r#"{"hint": "var apiToken string = \"S3cr3tT0k3nValue99\""}"#,
        r#"{"hint": "$token .= \"S3cr3tT0k3nValue99\";"}"#,
        r#"{"hint": "password = \"S3cr3tT0k3nValue99\""}"#,
        r#"{"hint": "api_key: 'S3cr3tT0k3nValue99'"}"#,
        r#"{"hint": "System.setProperty(\"API_TOKEN\", \"S3cr3tT0k3nValue99\")"}"#,
    ] {
        let out = redact(text);
        assert!(!out.contains("S3cr3t"), "{out}");
        assert!(out.ends_with('}'), "{out}");
    }
}

/// Every one-line audit shape, also as it reads inside a JSON string (escaped quotes),
/// is redacted whole. (JSON the service stores itself, a policy's params, is redacted
/// string by string as it decodes: `sealed::tests`.)
#[test]
fn audit_shapes_inside_json_strings_are_redacted() {
    for (text, secret) in AUDIT.iter().filter(|(t, _)| !t.contains('\n')) {
        let json = serde_json::to_string(&serde_json::json!({"hint": text})).unwrap();
        let out = redact(&json);
        assert!(leaked(&out, secret, "").is_none(), "{json} -> {out}");
    }
}
