//! Tests of the detector.
//!
//! Every rule has one [`Case`]: realistic samples, near misses, a generator of valid
//! tokens, and a weakened copy of its pattern. [`verify`] checks, with one shared
//! property ([`redacts_exactly`]), that the real rule replaces every generated token
//! exactly, and that the weakened copy fails the same property on some generated token,
//! which proves the property test would catch that weakening.

use super::patterns::{Compiled, RULES, Span, replace};
use super::{Finding, Fingerprint, Redactor, marker};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::borrow::Cow;
use std::collections::BTreeSet;

/// How many generated tokens the real property and the weakened copy are run on.
const SAMPLES: u32 = 256;

struct Case {
    class: &'static str,
    /// Generates valid tokens of the rule's format (the secret only, no context).
    token: fn() -> BoxedStrategy<String>,
    /// `(before, after)` texts the token is embedded in; every one is checked.
    contexts: &'static [(&'static str, &'static str)],
    /// Realistic secrets, checked like generated ones.
    samples: &'static [&'static str],
    /// Texts on which the rule must not fire.
    near_misses: &'static [&'static str],
    /// `(from, to)`: the weakened copy replaces the first `from` in the pattern.
    weaken: (&'static str, &'static str),
}

/// A generator from a regex of valid tokens.
fn re(pattern: &'static str) -> BoxedStrategy<String> {
    proptest::string::string_regex(pattern)
        .expect("generator regex parses")
        .boxed()
}

/// Tokens that are random by construction: uppercase, digit and lowercase characters
/// interleaved, each letter used once, so every token has entropy above 4.9 bits/char,
/// no separator and no word-like run.
fn random_token() -> BoxedStrategy<String> {
    let shuffled = |s: &str| Just(s.chars().collect::<Vec<char>>()).prop_shuffle();
    (
        11usize..=20,
        shuffled("ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
        shuffled("0123456789"),
        shuffled("abcdefghijklmnopqrstuvwxyz"),
    )
        .prop_map(|(n, upper, digits, lower)| {
            (0..n)
                .flat_map(|i| [upper[i], digits[i % 10], lower[i]])
                .collect()
        })
        .boxed()
}

const STANDALONE: &[(&str, &str)] = &[
    ("", ""),
    ("leaked ", " in the log."),
    ("(\"", "\")"),
    ("x: ", "\n"),
];

fn compiled(class: &'static str, pattern: &str) -> Compiled {
    let rule = RULES
        .iter()
        .find(|r| r.class == class)
        .unwrap_or_else(|| panic!("no rule {class}"));
    Compiled::new(class, pattern, rule.accept)
}

fn pattern_of(class: &str) -> &'static str {
    RULES
        .iter()
        .find(|r| r.class == class)
        .map(|r| r.pattern)
        .unwrap_or_else(|| panic!("no rule {class}"))
}

/// Redacts with one rule, through the production span and merge code.
fn redact_with(rule: &Compiled, text: &str) -> String {
    let mut spans = Vec::new();
    rule.collect(0, text, &mut spans);
    replace(text, spans, &mut Vec::new()).into_owned()
}

/// The shared property: in every context, the token is replaced by exactly its marker
/// and nothing else changes.
fn redacts_exactly(rule: &Compiled, token: &str, contexts: &[(&str, &str)]) -> Result<(), String> {
    let replacement = marker(&Fingerprint::of(token));
    for (before, after) in contexts {
        let text = format!("{before}{token}{after}");
        let got = redact_with(rule, &text);
        if got != format!("{before}{replacement}{after}") {
            return Err(format!("{text:?} was redacted to {got:?}"));
        }
    }
    Ok(())
}

/// An 8-byte window of `secret` that survives in `output`, if any. Windows that also
/// occur in the text around the secret (`context`, e.g. a shared `https://`) prove
/// nothing and are skipped.
fn leaked<'s>(output: &str, secret: &'s str, context: &str) -> Option<&'s str> {
    (0..secret.len().saturating_sub(7))
        .filter(|&i| secret.is_char_boundary(i) && secret.is_char_boundary(i + 8))
        .map(|i| &secret[i..i + 8])
        .find(|w| output.contains(w) && !context.contains(w))
}

/// The whole redactor may widen a span by merging, so it is held to "no 8-byte window
/// of the secret survives" rather than to an exact output.
fn global_does_not_leak(token: &str, contexts: &[(&str, &str)]) -> Result<(), String> {
    for (before, after) in contexts {
        let text = format!("{before}{token}{after}");
        let out = Redactor::global().redact(&text, &mut Vec::new());
        if let Some(w) = leaked(&out, token, &format!("{before}{after}")) {
            return Err(format!("{w:?} survived in {out:?}"));
        }
    }
    Ok(())
}

fn verify(case: Case) {
    let real = compiled(case.class, pattern_of(case.class));
    for sample in case.samples {
        redacts_exactly(&real, sample, case.contexts).unwrap();
        global_does_not_leak(sample, case.contexts).unwrap();
    }
    for text in case.near_misses {
        assert_eq!(redact_with(&real, text), *text, "{} fired", case.class);
    }

    let strategy = (case.token)();
    let config = Config {
        cases: SAMPLES,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new(config)
        .run(&strategy, |token| {
            redacts_exactly(&real, &token, case.contexts)
                .and_then(|()| global_does_not_leak(&token, case.contexts))
                .map_err(TestCaseError::fail)
        })
        .unwrap();

    let (from, to) = case.weaken;
    let pattern = pattern_of(case.class);
    assert!(
        pattern.contains(from),
        "{}: {from:?} not in pattern",
        case.class
    );
    let weak = compiled(case.class, &pattern.replacen(from, to, 1));
    let mut runner = TestRunner::deterministic();
    let caught = (0..SAMPLES).any(|_| {
        let token = strategy.new_tree(&mut runner).unwrap().current();
        redacts_exactly(&weak, &token, case.contexts).is_err()
    });
    assert!(
        caught,
        "{}: weakened pattern passed the property",
        case.class
    );
}

/// Declares the cases once: `cases()` lists them and each gets its own `#[test]`.
macro_rules! rule_cases {
    ($($test:ident: $case:expr;)*) => {
        fn cases() -> Vec<Case> {
            vec![$($case),*]
        }
        $(
            #[test]
            fn $test() {
                verify($case);
            }
        )*
    };
}

rule_cases! {
    rule_aws_access_key: Case {
        class: "aws-access-key",
        token: || re("(AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[0-9A-Z]{16}"),
        contexts: STANDALONE,
        samples: &["AKIAIOSFODNN7EXAMPLE", "ASIAY34FZKBOKMUTVV7A"],
        near_misses: &["AKIAIOSFODNN7EXAMPL", "AKIAIOSFODNN7EXAMPLE1", "akiaiosfodnn7example", "XAKIAIOSFODNN7EXAMPLE"],
        weaken: ("{16}", "{15}"),
    };
    rule_aws_secret_key: Case {
        class: "aws-secret-key",
        token: || re("[A-Za-z0-9/+]{40}"),
        contexts: &[
            ("aws_secret_access_key = ", "\n"),
            ("AWS_SECRET_ACCESS_KEY=", ""),
            ("{\"aws_secret_access_key\": \"", "\"}"),
            ("aws-secret-key: ", " # prod"),
        ],
        samples: &["wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"],
        near_misses: &[
            "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKE",
            "aws_secret_access_key = ${AWS_SECRET_ACCESS_KEY}",
            "aws_region = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ],
        weaken: ("{40}", "{39}"),
    };
    rule_github_token: Case {
        class: "github-token",
        token: || re("gh[pousr]_[A-Za-z0-9]{36}"),
        contexts: STANDALONE,
        samples: &["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"],
        near_misses: &[
            "ghp_wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO0pINU",
            "ghx_wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO0pINUx",
            "ghp-wWPw5k4aXcaT4fNP0UcnZwJUVFk6LO0pINUx",
        ],
        weaken: ("gh[pousr]", "gh[pous]"),
    };
    rule_github_fine_grained_pat: Case {
        class: "github-fine-grained-pat",
        token: || re("github_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}"),
        contexts: STANDALONE,
        samples: &["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"],
        near_misses: &["github_pat_11UJZDE8GXD6NCF10EPF91_d0Kh8oOOL8dKLzdocJ2isAjIhKtJ0RlgLKOmxgJTeKdNnFRIBXuDL7Dxtp"],
        weaken: ("{82}", "{81}"),
    };
    rule_gitlab_token: Case {
        class: "gitlab-token",
        token: || re("(glpat|gldt|glrt)-[A-Za-z0-9_-]{20,40}"),
        contexts: STANDALONE,
        samples: &["glpat-ddfrfifiUziXnFAAoeel"],
        near_misses: &["glpat-ddfrfifiUziXnFAAoee", "glpat_ddfrfifiUziXnFAAoeel"],
        weaken: ("|glrt|", "|"),
    };
    rule_jwt: Case {
        class: "jwt",
        token: || re(r"eyJ[A-Za-z0-9_-]{10,40}\.ey[A-Za-z0-9_-]{10,80}\.[A-Za-z0-9_-]{0,86}"),
        contexts: &[
            ("", ""),
            ("leaked ", " in the log."),
            ("(\"", "\")"),
            ("Authorization: Bearer ", "\n"),
        ],
        samples: &["eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"],
        near_misses: &["eyJhbGciOiJIUzI1NiJ9", "eyJhbGciOiJIUzI1NiJ9.notjson.sig", "eyJ.eyJ.x"],
        weaken: ("eyJ[A-Za-z0-9_-]", "eyJ[A-Za-z0-9]"),
    };
    rule_private_key_block: Case {
        class: "private-key-block",
        token: || re(concat!(
            "-----BEGIN (RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY( BLOCK)?-----\n",
            "[A-Za-z0-9+/]{64}(\n[A-Za-z0-9+/=]{1,64}){1,6}\n",
            "-----END (RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY( BLOCK)?-----",
        )),
        contexts: &[("", ""), ("key:\n", "\nnext line"), ("(\"", "\")")],
        samples: &[
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8PbnGy0AHB7MhgHcTz6sE2I2yPB\naFDrBz9vFqU4yFmm3+gGxVj1F0ZrQ8z8Zb3u\n-----END RSA PRIVATE KEY-----",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n-----END OPENSSH PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIBuG8k3s0JhV2mYzSmBn5Wv0lZgR3oQF2e3c4PZxg1yA\n-----END PRIVATE KEY-----",
            "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIBkg4LVWM9nuwNSk3yByxZpYRTBnVJk5oWj0Q5VxN8hVoAoGCCqGSM49\n-----END EC PRIVATE KEY-----",
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\nlQOYBGRt3sIBCADQ1a2b3c4d5e6f7g8h9i0j\n=Xq2k\n-----END PGP PRIVATE KEY BLOCK-----",
            "---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----\nP2/56wAAAi4AAAA3aWYtbW9kbntzaWdue3JzYS1wa2NzMS1zaGExfSxlbmNyeXB0\n---- END SSH2 ENCRYPTED PRIVATE KEY ----",
        ],
        near_misses: &[
            "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=\n-----END PUBLIC KEY-----",
            "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUQ\n-----END CERTIFICATE-----",
            "the private key is stored in vault",
        ],
        weaken: ("PRIVATE KEY(?: BLOCK)? ?-{4,5}(?:", "PRIVATE KEY ?-{4,5}(?:"),
    };
    rule_npm_token: Case {
        class: "npm-token",
        token: || re("npm_[A-Za-z0-9]{36}"),
        contexts: STANDALONE,
        samples: &["npm_dmenCkhvMdgaKjIg8xNbe3nNyjOq9wMxEhh2"],
        near_misses: &["npm_dmenCkhvMdgaKjIg8xNbe3nNyjOq9wMxEhh", "npm_install_dependencies_for_the_workspace"],
        weaken: ("{36}", "{35}"),
    };
    rule_anthropic_key: Case {
        class: "anthropic-key",
        token: || re("sk-ant-(api03|admin01)-[A-Za-z0-9_-]{93}AA"),
        contexts: STANDALONE,
        samples: &["sk-ant-api03-_799NksnRH9ucAUsdMlHUvTCQCyEZDz-TddJ8HyS5SUkCnD8zRA9a9SkpXz9w3QlY7Zkuvqdt7s8Stqcbnr3yBdGBLEPHAA"],
        near_misses: &["sk-ant-api03-short", "task-ant-api03-x"],
        weaken: ("_-]{20,}", "_-]{20,64}"),
    };
    rule_openai_key: Case {
        class: "openai-key",
        token: || re("sk-((proj|svcacct|admin)-[A-Za-z0-9_-]{40,160}|[A-Za-z0-9]{48})"),
        contexts: STANDALONE,
        samples: &[
            "sk-proj-1qhT61qtc4xatws8phP9nhFyJfm5di4PzJ59FHz5r1pY4OjE2jBMptUsGr7CmY_uCu3ZR1zTOlUcR64cXQLioDnkHIfxIq2HZt-PlJhx2jIclHkCiHp6bR1I",
            "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",
        ],
        near_misses: &["sk-NicHTp8hkqdlm7tOtHWnT3BlbkFJsCGRlrwZbqcabUGJmGE", "sk-proj-short", "risk-free"],
        weaken: ("proj|svcacct|admin", "proj|admin"),
    };
    rule_slack_token: Case {
        class: "slack-token",
        token: || re("xox[bpas]-[0-9]{10,13}-[0-9]{10,13}-[A-Za-z0-9]{24,32}"),
        contexts: STANDALONE,
        samples: &["xoxb-716786843353-2650201462016-3GQsMpSscDlkrCaqx9vJupc9"],
        near_misses: &["xoxb-123", "xoxq-716786843353-2650201462016-3GQsMpSscDlkrCaqx9vJupc9"],
        weaken: ("xox[abeoprs]", "xox[abeors]"),
    };
    rule_slack_webhook: Case {
        class: "slack-webhook",
        token: || re(r"https://hooks\.slack\.com/services/T[A-Z0-9]{8,10}/B[A-Z0-9]{8,10}/[A-Za-z0-9]{24}"),
        contexts: STANDALONE,
        samples: &["https://hooks.slack.com/services/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"],
        near_misses: &["https://hooks.slack.com/services/", "https://api.slack.com/messaging/webhooks"],
        weaken: ("/_-]{20,}", "/_-]{20,40}"),
    };
    rule_stripe_key: Case {
        class: "stripe-key",
        token: || re("(sk|rk)_(live|test)_[A-Za-z0-9]{24,99}|whsec_[A-Za-z0-9]{32}"),
        contexts: STANDALONE,
        samples: &[
            "sk_live_WuUFjsUNPjc01T5GOBUSZGi6",
            "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",
        ],
        near_misses: &["sk_live_short", "pk_live_WuUFjsUNPjc01T5GOBUSZGi6"],
        weaken: ("(?:sk|rk)", "(?:sk)"),
    };
    rule_google_api_key: Case {
        class: "google-api-key",
        token: || re("AIza[0-9A-Za-z_-]{35}"),
        contexts: STANDALONE,
        samples: &["AIzaImB_LK777pzNk8cL6j5IXAAjlsHUqJoUD-_", "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe"],
        near_misses: &["AIzaImB_LK777pzNk8cL6j5IXAAjlsHUqJoUD-", "AIzaImB_LK777pzNk8cL6j5IXAAjlsHUqJoUD-_x"],
        weaken: ("{35}", "{34}"),
    };
    rule_gcp_private_key_id: Case {
        class: "gcp-private-key-id",
        token: || re("[0-9a-f]{40}"),
        contexts: &[("{\"private_key_id\": \"", "\","), ("private_key_id=", "\n")],
        samples: &["3f5fb85967f532f3ab3cc2d0b698d5c7e41ba4ea"],
        near_misses: &[
            "\"private_key_id\": \"3f5fb85967\"",
            "\"client_id\": \"3f5fb85967f532f3ab3cc2d0b698d5c7e41ba4ea\"",
        ],
        weaken: ("{40}", "{39}"),
    };
    rule_twilio_api_key: Case {
        class: "twilio-api-key",
        token: || re("SK[0-9a-fA-F]{32}"),
        contexts: STANDALONE,
        samples: &["SKc050fec94dbca3a0aac36098b2cc2bd8"],
        near_misses: &["SKc050fec94dbca3a0aac36098b2cc2bd", "SKU-1234", "ASKc050fec94dbca3a0aac36098b2cc2bd8"],
        weaken: ("{32}", "{31}"),
    };
    rule_sendgrid_key: Case {
        class: "sendgrid-key",
        token: || re(r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}"),
        contexts: STANDALONE,
        samples: &["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"],
        near_misses: &["SG.gJngKtFI3OyV2dZAkg05rK._gqv81RKMGHZEM9YpvujA-C5Q52ryFlwRlOEVHzc0X", "SG.short.key"],
        weaken: ("{43}", "{42}"),
    };
    rule_age_secret_key: Case {
        class: "age-secret-key",
        token: || re("AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}|AGE-PLUGIN-YUBIKEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{28}"),
        contexts: STANDALONE,
        samples: &[
            "AGE-SECRET-KEY-1T09NL4UJY8624FL6ZY54KLAY937YRNUJCKPAK28LRDJG0EEL92UE3GM36K",
            "AGE-PLUGIN-YUBIKEY-1CWF9TFWWQLTSJQF6H5GRAEEEEX7E",
        ],
        near_misses: &[
            "AGE-SECRET-KEY-1T09NL4UJY8624FL6ZY54KLAY937YRNUJCKPAK28LRDJG0EEL92UE3GM36",
            "AGE-SECRET-KEY-1t09nl4ujy8624fl6zy54klay937yrnujckpak28lrdjg0eel92ue3gm36k",
        ],
        weaken: ("1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]", "1[PZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]"),
    };
    rule_azure_storage_key: Case {
        class: "azure-storage-key",
        token: || re("[A-Za-z0-9+/]{86}=="),
        contexts: &[
            ("DefaultEndpointsProtocol=https;AccountName=acme;AccountKey=", ";EndpointSuffix=core.windows.net"),
            ("Endpoint=sb://acme.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=", ""),
        ],
        samples: &["AWIRh/JUqBlIFXZ53Ncqe28+ajY75FnCttn6kfaqDeMqG3omjMyXHCabM6JOF8EFd0Nhcy/1kGD2VD/eR1UYza=="],
        near_misses: &["AccountKey=short", "AccountName=acmestorageaccountname"],
        weaken: ("AccountKey|SharedAccessKey", "AccountKey"),
    };
    rule_vault_token: Case {
        class: "vault-token",
        token: || re(r"hv[sb]\.[A-Za-z0-9_-]{24,120}"),
        contexts: STANDALONE,
        samples: &["hvs.LiA-zNyD7CHLn-xC_1hsYgBds1ghxY5OokvQyx7eNWVQ4vnakJkS1pAWTN3lg8zV5yPU8d0FZfWe7ihGyiRUIQfHOJ"],
        near_misses: &["hvs.short", "hvx.LiA-zNyD7CHLn-xC_1hsYgBds1ghxY5Ok"],
        weaken: ("hv[sbr]", "hv[sr]"),
    };
    rule_digitalocean_token: Case {
        class: "digitalocean-token",
        token: || re("do[por]_v1_[a-f0-9]{64}"),
        contexts: STANDALONE,
        samples: &["dop_v1_902073fec8df4f50947aaeb26c57d21fa5d328263dfe574de739988b886e7577"],
        near_misses: &["dop_v1_902073fec8df4f50947aaeb26c57d21fa5d328263dfe574de739988b886e757"],
        weaken: ("{64}", "{63}"),
    };
    rule_shopify_token: Case {
        class: "shopify-token",
        token: || re("shp(at|ca|pa|ss)_[a-fA-F0-9]{32}"),
        contexts: STANDALONE,
        samples: &["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"],
        near_misses: &["shpat_496a2c8773e130f7eb19731662b5e80", "shpxx_496a2c8773e130f7eb19731662b5e803"],
        weaken: ("at|ca|pa|ss", "at|ca|pa"),
    };
    rule_pypi_token: Case {
        class: "pypi-token",
        token: || re("pypi-(AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,150}"),
        contexts: STANDALONE,
        samples: &["pypi-AgEIcHlwaS5vcmcSBeVRsfAGeAbP0VxNjAe-9i0mYtluYI0KN1gNT11cUzYZAa3u2olZU6uqbgsYlVvsSKuvinX_zMqf9OgXluCZz8xBfZuXTptFyfePpX6N1NF2XV54wca_7E5"],
        near_misses: &["pypi-AgEIcHlwaS5vcmcshort", "pypi-package-name"],
        weaken: ("|AgENdGVzdC5weXBpLm9yZw", ""),
    };
    rule_docker_token: Case {
        class: "docker-token",
        token: || re("dckr_(pat|oat)_[A-Za-z0-9_-]{27}"),
        contexts: STANDALONE,
        samples: &["dckr_pat_6w8ZniqT3Ul4ffqkOkgWrdioyq_"],
        near_misses: &["dckr_pat_6w8ZniqT3Ul4ffqkOkgWrdioy", "dckr_xxx_6w8ZniqT3Ul4ffqkOkgWrdioyq_"],
        weaken: ("(?:pat|oat)", "(?:pat)"),
    };
    rule_huggingface_token: Case {
        class: "huggingface-token",
        token: || re("hf_[A-Za-z]{34}"),
        contexts: STANDALONE,
        samples: &["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"],
        near_misses: &["hf_sZYkRYUoewNWqkuNrDjqGEnLqNGpuxcml", "hf_transfer_enabled"],
        weaken: ("{34}", "{33}"),
    };
    rule_databricks_token: Case {
        class: "databricks-token",
        token: || re("dapi[a-f0-9]{32}(-[0-9])?"),
        contexts: STANDALONE,
        samples: &["dapi58ac5831be38cb8cb4ba2e751989a017", "dapi58ac5831be38cb8cb4ba2e751989a017-2"],
        near_misses: &["dapi58ac5831be38cb8cb4ba2e751989a01", "dapi_version"],
        weaken: ("(?:-[0-9])?", ""),
    };
    rule_postman_key: Case {
        class: "postman-key",
        token: || re("PMAK-[a-f0-9]{24}-[a-f0-9]{34}"),
        contexts: STANDALONE,
        samples: &["PMAK-49ddb14f71010b93b7d946bf-54074e3248c801bef750110c57513064d6"],
        near_misses: &["PMAK-49ddb14f71010b93b7d946bf-54074e3248c801bef750110c57513064d"],
        weaken: ("{34}", "{33}"),
    };
    rule_grafana_token: Case {
        class: "grafana-token",
        token: || re("glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}"),
        contexts: STANDALONE,
        samples: &["glsa_HMPGPPA0NlGtetOd4UYETIay2BV6DfVP_e5738713"],
        near_misses: &["glsa_HMPGPPA0NlGtetOd4UYETIay2BV6DfVP_e573871"],
        weaken: ("{8}", "{7}"),
    };
    rule_linear_key: Case {
        class: "linear-key",
        token: || re("lin_api_[A-Za-z0-9]{40}"),
        contexts: STANDALONE,
        samples: &["lin_api_v5V7S82qTdrOJRBRY6HqsP795nf4Gakq5p1Vm8kV"],
        near_misses: &["lin_api_v5V7S82qTdrOJRBRY6HqsP795nf4Gakq5p1Vm8k"],
        weaken: ("{40}", "{39}"),
    };
    rule_newrelic_key: Case {
        class: "newrelic-key",
        token: || re("NR(AK|II)-[A-Z0-9]{27}"),
        contexts: STANDALONE,
        samples: &["NRAK-UMYVPY8447AB1OTNZEKJCBHGKWJ"],
        near_misses: &["NRAK-UMYVPY8447AB1OTNZEKJCBHGKW", "NRAK-umyvpy8447ab1otnzekjcbhgkwj"],
        weaken: ("(?:AK|II)", "(?:AK)"),
    };
    rule_age_recipient: Case {
        class: "age-recipient",
        token: || re("age1((yubikey|pq|tpm)1)?[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}"),
        contexts: STANDALONE,
        samples: &["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p"],
        near_misses: &["age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8", "age 18 and over", "page1"],
        weaken: ("(?:[a-z0-9-]{1,32}1)?", ""),
    };
    rule_pgp_fingerprint: Case {
        class: "pgp-fingerprint",
        token: || re("[0-9A-F]{4}( [0-9A-F]{4}){4}  [0-9A-F]{4}( [0-9A-F]{4}){4}"),
        contexts: STANDALONE,
        samples: &["9F34 369A AD80 B891 BAF9  0D0D 3BF1 6295 D069 10BF"],
        near_misses: &[
            "9F34 369A AD80 B891 BAF9 0D0D 3BF1 6295 D069",
            "3F5FB85967F532F3AB3CC2D0B698D5C7E41BA4EA",
            "2019 2020 2021 2022 and 2023",
        ],
        weaken: ("{9}", "{8}"),
    };
    rule_pgp_fingerprint_in_context: Case {
        class: "pgp-fingerprint-in-context",
        token: || re("(0x)?([0-9A-F]{40}|[0-9a-f]{40})"),
        contexts: &[
            ("fingerprint: ", ""),
            ("pgp: '", "'"),
            ("gpg --recv-key ", " && echo ok"),
            ("signed with key ID ", "."),
        ],
        samples: &["3F5FB85967F532F3AB3CC2D0B698D5C7E41BA4EA"],
        near_misses: &[
            "commit 3f5fb85967f532f3ab3cc2d0b698d5c7e41ba4ea",
            "fingerprint: 3F5FB859",
            "deployed 3f5fb85967f532f3ab3cc2d0b698d5c7e41ba4ea to production",
        ],
        weaken: ("{40}(?:", "{39}(?:"),
    };
    rule_aws_kms_arn: Case {
        class: "aws-kms-arn",
        token: || re(concat!(
            "arn:aws(-us-gov|-cn)?:kms:(us-east-1|eu-west-2|ap-southeast-1):[0-9]{12}:",
            "(key/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|key/mrk-[0-9a-f]{32}|alias/[A-Za-z0-9/_-]{1,40})",
        )),
        contexts: STANDALONE,
        samples: &["arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"],
        near_misses: &["arn:aws:s3:::my-bucket/key/x", "arn:aws:kms:us-east-1:12345:key/abc"],
        weaken: ("(?:key|alias)", "(?:key)"),
    };
    rule_gcp_kms_key: Case {
        class: "gcp-kms-key",
        token: || re(concat!(
            "projects/[a-z][a-z0-9-]{4,28}[a-z0-9]/locations/(global|us-east1|europe-west4)/",
            "keyRings/[A-Za-z0-9_-]{1,30}/cryptoKeys/[A-Za-z0-9_-]{1,30}(/cryptoKeyVersions/[0-9]{1,3})?",
        )),
        contexts: STANDALONE,
        samples: &["projects/acme-prod/locations/global/keyRings/sops/cryptoKeys/sops-key"],
        near_misses: &["projects/acme-prod/locations/global", "projects/123/issues/45"],
        weaken: ("(?:/cryptoKeyVersions/[0-9]+)?", ""),
    };
    rule_azure_key_vault_key: Case {
        class: "azure-key-vault-key",
        token: || re(r"https://[a-z][a-z0-9-]{2,22}\.(vault\.azure\.net|managedhsm\.azure\.net)/keys/[A-Za-z0-9-]{1,30}(/[0-9a-f]{32})?"),
        contexts: STANDALONE,
        samples: &["https://acme-prod-kv.vault.azure.net/keys/sops-key/5ee874ae7689447ab57a683536c4499d"],
        near_misses: &["https://acme.vault.azure.net/secrets/db", "https://acme.blob.core.windows.net/keys/x"],
        weaken: ("{32})?", "{31})?"),
    };
    rule_url_userinfo: Case {
        class: "url-userinfo",
        token: || re("[a-z]{3,10}:[A-Za-z0-9%!$*+.-]{8,30}|[A-Za-z0-9_]{16,40}"),
        contexts: &[
            ("https://", "@github.com/acme/repo.git"),
            ("postgres://", "@db.internal:5432/app"),
            ("clone git+https://", "@example.com/x and done"),
        ],
        samples: &["deploy:s3cr3t-Passw0rd", "x-access-token:ghs_abcdefghij", "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"],
        near_misses: &[
            "ssh://git@github.com/acme/repo.git",
            "https://example.com/@user",
            "mailto:ops@example.com",
            "https://github.com/acme/repo/actions/runs/123456789",
        ],
        weaken: (r"|[^\s/?#@:<>]{16,}", ""),
    };
    rule_url_query_secret: Case {
        class: "url-query-secret",
        token: || re("[A-Za-z0-9%._~-]{1,60}"),
        contexts: &[
            ("https://ci.example.com/job/42?token=", "&page=2"),
            ("https://s3.amazonaws.com/b/o?X-Amz-Signature=", ""),
            ("https://x.blob.core.windows.net/c/b?sv=2022-11-02&sig=", "#frag"),
            ("https://api.example.com/v1?api_key=", " returned 403"),
            ("/callback?code=", "&state=xyz"),
        ],
        samples: &["fe8a9b2c%2F20240101", "abc"],
        near_misses: &[
            "https://example.com/?page=2&sort=name",
            "https://example.com/?tokens=3",
            "https://example.com/?monkey=banana",
        ],
        weaken: ("|sig|", "|"),
    };
    rule_generic_assignment_quoted: Case {
        class: "generic-assignment-quoted",
        token: || re("[A-Za-z0-9 !#$%&()*+,./:;<=>?@^_-]{8,40}"),
        contexts: &[
            ("password: \"", "\""),
            ("{\"client_secret\": \"", "\"}"),
            ("DB_PASSWORD='", "'"),
            ("apiKey = \"", "\";"),
        ],
        samples: &["correct horse battery staple", "hunter2hunter2"],
        near_misses: &["password: \"short\"", "username: \"administrator\""],
        weaken: ("secret|", ""),
    };
    rule_generic_assignment: Case {
        class: "generic-assignment",
        token: || re("[A-Za-z0-9!#$%&()*+,./:;=?@^_-]{8,40}"),
        contexts: &[
            ("password=", " "),
            ("export GITHUB_TOKEN=", "\n"),
            ("--db-password=", ""),
            ("client_secret => ", "\n"),
        ],
        samples: &["hunter2hunter2", "s3cr3t!value"],
        near_misses: &[
            "password=short",
            "passwords are rotated every 90 days",
            "url=https://example.com/path",
            "https://example.com/?token=abcdefghijkl",
        ],
        weaken: ("token|", ""),
    };
    rule_generic_colon_assignment: Case {
        class: "generic-colon-assignment",
        token: || re("[A-Za-z]{4,20}[0-9]{2,4}[A-Za-z0-9!@#$%^*_.-]{2,20}"),
        contexts: &[
            ("password: ", "\n"),
            ("  db_secret: ", " # rotated"),
            ("\"apiToken\": ", " }"),
        ],
        samples: &["hunter2hunter2", "Prod2024!x"],
        near_misses: &[
            "Secret: rotation overdue",
            "Token: expired",
            "password: DATABASE_URL",
        ],
        weaken: ("password|", ""),
    };
    rule_high_entropy: Case {
        class: "high-entropy",
        token: random_token,
        contexts: STANDALONE,
        samples: &["JznnJAX7ebZ3CL7csGZaF31DDxp63OHm1FZuG296c0xPbX+n"],
        near_misses: &[
            "3f5fb85967f532f3ab3cc2d0b698d5c7e41ba4ea",
            "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
            "550e8400-e29b-41d4-a716-446655440000",
            "https://gitlab.com/acme-group/sub-group/backend-services/-/pipelines/987654321/jobs/123",
        ],
        weaken: ("{31,}", "{31,39}"),
    };
}

#[test]
fn every_rule_has_exactly_one_case() {
    let rules: Vec<_> = RULES.iter().map(|r| r.class).collect();
    let unique: BTreeSet<_> = rules.iter().copied().collect();
    assert_eq!(unique.len(), rules.len(), "rule classes are unique");
    let cases: Vec<_> = cases().iter().map(|c| c.class).collect();
    assert_eq!(cases.iter().copied().collect::<BTreeSet<_>>(), unique);
    assert_eq!(cases.len(), rules.len());
}

/// The Clef CLI's descriptions, structured values that may appear in free text, and
/// ordinary prose: none may be touched.
const CLEAN: &[&str] = &[
    "4 keys, 3 recipients, rotated 12d ago",
    "Has error-severity policy issues",
    "1 key in [development, staging] missing from production",
    "Rotation overdue for api-keys/production (94 days)",
    "Development has an additional recipient",
    "2 keys in [staging] missing from production",
    "Secret: rotation overdue",
    "Key STRIPE_SECRET_KEY: rotation overdue in production",
    "password: must be rotated",
    "3f5fb85967f532f3ab3cc2d0b698d5c7e41ba4ea",
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
    "commit 3f5fb85967f532f3ab3cc2d0b698d5c7e41ba4ea on main",
    "550e8400-e29b-41d4-a716-446655440000",
    "int_0123456789abcdef",
    "2026-05-14T09:30:00Z",
    "2026-05-14",
    "https://github.com/acme/repo/actions/runs/123456789",
    "https://github.com/acme-corp/platform-infrastructure/actions/runs/1234567890/job/9876543210",
    "https://gitlab.com/acme-group/sub-group/backend-services/-/pipelines/987654321/jobs/123",
    "https://app.circleci.com/pipelines/github/acme-inc/clef-pro-backend/4821/workflows/7c0f3a2e-5b1d-4c8e-9f6a-1b2c3d4e5f60",
    "https://dev.azure.com/contoso/PlatformTeam/_build/results?buildId=48213&view=logs",
    "refs/heads/feature/JIRA-1234-add-rotation-policy-for-production-secrets",
    "feature/CLEF-4821_rotate-stripe-webhook-signing-secret-2024Q3",
    "/home/runner/work/clef-pro-backend/clef-pro-backend/secrets/api-keys/production.enc.yaml",
    "ApplicationLoadBalancerTargetGroupHealthCheckConfiguration",
    "clef-pro/secret-redacted",
    "clef 0.14.2 (linux-x86_64)",
    "The nightly job rotated every key in the payments namespace.",
    "Please ask the platform team before adding a new recipient.",
    "Staging and production now share the same set of recipients.",
    "The password policy requires rotation every ninety days.",
    "We moved the API token to the secrets manager last week.",
    "This report was generated by the CI pipeline on the main branch.",
    "Two environments are missing the DATABASE_URL key.",
    "The manifest lists four namespaces and three environments.",
    "Recipients were re-encrypted after the offboarding on Monday.",
    "A reviewer approved the change to the rotation schedule.",
    "No policy violations were found in this run.",
    "The build failed because a key was missing from production.",
    "Our security team audits access to the private keys quarterly.",
    "Rotate the signing secret before the release goes out.",
    "The integration was paused while the token was being replaced.",
    "Each developer has an age key stored on their laptop.",
    "See the runbook for how to add a recipient to an environment.",
    "Drift was detected between staging and production at 14:02 UTC.",
    "The deploy key for the mobile app expires in 30 days.",
    "Keys are encrypted with SOPS and stored alongside the code.",
    "Authentication failed; check that the credentials are configured.",
    "The service account lost access after the project was renamed.",
    "Für die Produktion fehlen zwei Schlüssel — bitte prüfen.",
    "Merged pull request #4821 from acme/rotate-keys into main.",
];

#[test]
fn clean_text_is_borrowed_and_untouched() {
    for text in CLEAN {
        let mut findings = Vec::new();
        let out = Redactor::global().redact(text, &mut findings);
        assert!(matches!(out, Cow::Borrowed(_)), "{text:?} became {out:?}");
        assert!(findings.is_empty(), "{text:?}: {findings:?}");
    }
}

/// Every sample of every case, planted in prose and in a JSON-ish blob.
fn planted() -> (String, Vec<&'static str>) {
    let mut text = String::from("Report for acme/payments. ");
    let mut secrets = Vec::new();
    for case in cases() {
        let (before, after) = case.contexts[0];
        for sample in case.samples {
            text.push_str(&format!(
                "{{\"note\": \"{before}{sample}{after}\"}} and then, "
            ));
            secrets.push(*sample);
        }
    }
    text.push_str("the end.");
    (text, secrets)
}

#[test]
fn planted_secrets_never_leak() {
    let (text, secrets) = planted();
    let mut findings = Vec::new();
    let out = Redactor::global().redact(&text, &mut findings);
    let context = secrets.iter().fold(text.clone(), |t, s| t.replace(s, ""));
    for secret in &secrets {
        assert_eq!(leaked(&out, secret, &context), None, "{secret:?} leaked");
    }
    assert!(findings.len() >= secrets.len(), "{findings:?}");
    assert_eq!(
        out.matches("<REDACTED:fingerprint=").count(),
        findings.len()
    );
    assert!(out.starts_with("Report for acme/payments. ") && out.ends_with("the end."));
}

#[test]
fn redaction_is_idempotent() {
    let (text, _) = planted();
    let once = Redactor::global()
        .redact(&text, &mut Vec::new())
        .into_owned();
    let mut findings = Vec::new();
    let twice = Redactor::global().redact(&once, &mut findings);
    assert!(matches!(twice, Cow::Borrowed(_)), "{once}\n---\n{twice}");
    assert!(findings.is_empty(), "{findings:?}");
}

#[test]
fn only_an_exact_marker_is_exempt() {
    let text = "password: \"<REDACTED:fingerprint=00000000>hunter2hunter2\"";
    let out = Redactor::global().redact(text, &mut Vec::new());
    assert!(!out.contains("hunter2"), "{out}");
}

#[test]
fn marker_is_the_blake3_prefix_of_the_match() {
    let secret = "AKIAIOSFODNN7EXAMPLE";
    let hex = blake3::hash(secret.as_bytes()).to_hex();
    let text = format!("key {secret} here");
    let mut findings = Vec::new();
    let out = Redactor::global().redact(&text, &mut findings);
    assert_eq!(
        out,
        format!("key <REDACTED:fingerprint={}> here", &hex[..8])
    );
    assert_eq!(
        findings,
        [Finding {
            class: "aws-access-key",
            fingerprint: Fingerprint::of(secret)
        }]
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
        &mut findings,
    );
    assert_eq!(out, format!("ab{}j", marker(&Fingerprint::of("cdefghi"))));
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].class, "first");
}

#[test]
fn overlapping_rules_yield_one_finding_named_by_the_specific_rule() {
    let jwt = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
    let text = format!("https://ci.example.com/run?access_token={jwt}&page=2");
    let mut findings = Vec::new();
    let out = Redactor::global().redact(&text, &mut findings);
    assert_eq!(
        out,
        format!(
            "https://ci.example.com/run?access_token={}&page=2",
            marker(&Fingerprint::of(jwt))
        )
    );
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].class, "jwt");
}

#[test]
fn a_key_glued_to_other_text_is_redacted_whole() {
    // The `\b` in the AWS rule refuses the glued key; the entropy fallback takes the run.
    let text = "id=xAKIAIOSFODNN7EXAMPLEwJalrXUtnFEMIK7MDENGbPxRfiCY";
    let out = Redactor::global().redact(text, &mut Vec::new());
    assert_eq!(leaked(&out, "AKIAIOSFODNN7EXAMPLE", "id="), None, "{out}");
}

#[test]
fn truncated_private_key_block_is_redacted_to_the_end() {
    let text = "config: -----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA0Z3VS5JJcds3xfn/ygWyF8Pb";
    let out = Redactor::global().redact(text, &mut Vec::new());
    let secret = &text["config: ".len()..];
    assert_eq!(out, format!("config: {}", marker(&Fingerprint::of(secret))));
}

#[test]
fn non_ascii_text_around_secrets_is_preserved() {
    let text = "Schlüssel für Produktion: 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 — geändert ✓";
    let out = Redactor::global().redact(text, &mut Vec::new());
    let fp = Fingerprint::of("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");
    assert_eq!(
        out,
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
    ] {
        let text = unit.repeat(64 * 1024 / unit.len());
        let once = Redactor::global().redact(&text, &mut Vec::new());
        let twice = Redactor::global().redact(&once, &mut Vec::new());
        assert!(matches!(twice, Cow::Borrowed(_)), "{unit:?}");
    }
}
