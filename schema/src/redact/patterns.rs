//! The rule table and the matcher that applies it.
//!
//! Each rule is a regex; the secret is its first capture group that took part in the
//! match, or the whole match when the regex has no groups (groups let a rule require
//! context, such as `aws_secret_access_key =`, without redacting the context).
//!
//! Conventions that keep a secret from being cut short:
//! - fixed-length tokens end in `\b`, or, when their alphabet has `-`, in a consumed
//!   `(?:[^…]|$)` outside the group; a token that continues past its nominal length
//!   is therefore not matched at all rather than matched in part (the entropy fallback
//!   then sees the whole run);
//! - variable-length tokens are greedy over their whole alphabet, so they end where the
//!   run ends;
//! - leading boundaries are zero-width (`\b`), so consecutive matches of one rule never
//!   compete for a separator character; the generic assignments consume theirs, which
//!   is safe because their values stop before, not after, a closing quote.
//!
//! Linear time: a [`RegexSet`] over every rule scans the text once and says which rules
//! match anywhere; clean text costs that one scan. Only the rules that matched are run
//! again to locate their matches. Each regex search is linear in the input (the regex
//! crate has no backtracking). Iterating over matches stays linear as long as no search
//! scans past the match it reports into text where another match could begin (see the
//! regex crate's "Iterating over matches"); the rules keep to that: greedy runs end where
//! their match ends, the one open-ended lookahead (a URL password, which may contain
//! `@`) stops at the `/` every URL match needs, and the age plugin name is at most 32
//! characters. Overall: O(rules × input) with a fixed rule count.

use super::{Finding, Fingerprint, entropy, is_marker, marker};
use regex::{Regex, RegexSet};
use std::borrow::Cow;

/// One detector: a class name reported in [`Finding`]s, a pattern, and a test the
/// secret must also pass (always true except for the entropy fallback and the unquoted
/// `key: value` assignment).
pub(super) struct Rule {
    pub(super) class: &'static str,
    pub(super) pattern: &'static str,
    pub(super) accept: fn(&str) -> bool,
}

const fn rule(class: &'static str, pattern: &'static str) -> Rule {
    Rule {
        class,
        pattern,
        accept: |_| true,
    }
}

/// The bech32 alphabet (age keys and recipients), upper- and lower-case.
macro_rules! bech32_upper {
    () => {
        "[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]"
    };
}
macro_rules! bech32_lower {
    () => {
        "[qpzry9x8gf2tvdw0s3jn54khce6mua7l]"
    };
}

/// The start of a generic `key = value` assignment: a boundary that is not `?`/`&`
/// (query parameters are the `url-query-secret` rule's), then a key name containing
/// one of the secret-bearing words, e.g. `DB_PASSWORD`, `client_secret`, `apiKey`.
macro_rules! secret_key {
    () => {
        r"(?:^|[^A-Za-z0-9_.?&-])(?i:[A-Za-z0-9_.-]*(?:password|passwd|pwd|secret|token|api[_.-]?key|access[_.-]?key|private[_.-]?key|credentials?)[A-Za-z0-9_.-]*)"
    };
}

/// The rule table. Order matters only for naming: when matches start at the same
/// place, the longer one wins and then the earlier rule, so specific rules come
/// before the generic ones and the entropy fallback is last.
pub(super) static RULES: &[Rule] = &[
    // --- Credentials with a recognisable prefix or shape -------------------------
    rule(
        "aws-access-key",
        r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\b",
    ),
    rule(
        "aws-secret-key",
        r#"(?i:aws[A-Za-z0-9_.-]*secret[A-Za-z0-9_.-]*)["']?\s*(?:=|:=|=>|:)\s*["']?([A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+]|$)"#,
    ),
    rule("github-token", r"\bgh[pousr]_[A-Za-z0-9]{36}\b"),
    rule(
        "github-fine-grained-pat",
        r"\bgithub_pat_[A-Za-z0-9_]{82}\b",
    ),
    rule(
        "gitlab-token",
        r"\b(?:glpat|gldt|glrt|glptt|glcbt|glft|glsoat|gloas)-[A-Za-z0-9_.-]{20,}",
    ),
    rule(
        "jwt",
        r"\beyJ[A-Za-z0-9_-]{8,}\.ey[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*",
    ),
    // Every PEM/armor private key: RSA, EC, DSA, OPENSSH, ENCRYPTED, PKCS#8, PGP, SSH2.
    // A block whose END line is missing (truncated text) is redacted to the end.
    rule(
        "private-key-block",
        r"-{4,5} ?BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)? ?-{4,5}(?:[\s\S]*?-{4,5} ?END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)? ?-{4,5}|[\s\S]*)",
    ),
    rule("npm-token", r"\bnpm_[A-Za-z0-9]{36}\b"),
    rule("anthropic-key", r"\bsk-ant-[A-Za-z0-9_-]{20,}"),
    rule(
        "openai-key",
        r"\bsk-(?:(?:proj|svcacct|admin)-[A-Za-z0-9_-]{20,}|[A-Za-z0-9]{48}\b)",
    ),
    rule(
        "slack-token",
        r"\b(?:xoxe\.)?(?:xox[abeoprs]|xapp)-[A-Za-z0-9-]{10,}",
    ),
    rule(
        "slack-webhook",
        r"(?:\bhttps?://)?\bhooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20,}",
    ),
    rule(
        "stripe-key",
        r"\b(?:(?:sk|rk)_(?:live|test)|whsec)_[A-Za-z0-9]{24,}",
    ),
    rule(
        "google-api-key",
        r"\b(AIza[0-9A-Za-z_-]{35})(?:[^0-9A-Za-z_-]|$)",
    ),
    rule(
        "gcp-private-key-id",
        r#"(?i:private_key_id)["']?\s*[:=]\s*["']?([0-9a-f]{40})\b"#,
    ),
    rule("twilio-api-key", r"\bSK[0-9a-fA-F]{32}\b"),
    rule(
        "sendgrid-key",
        r"\b(SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43})(?:[^A-Za-z0-9_-]|$)",
    ),
    rule(
        "age-secret-key",
        concat!(
            r"\bAGE-(?:SECRET-KEY-(?:PQ-)?1",
            bech32_upper!(),
            "{58,}|PLUGIN-[A-Z0-9-]{1,32}-1",
            bech32_upper!(),
            "{20,})"
        ),
    ),
    rule(
        "azure-storage-key",
        r"(?i:AccountKey|SharedAccessKey)\s*=\s*([A-Za-z0-9+/]{40,}={0,2})",
    ),
    rule("vault-token", r"\bhv[sbr]\.[A-Za-z0-9_-]{24,}"),
    rule("digitalocean-token", r"\bdo[por]_v1_[a-f0-9]{64}\b"),
    rule("shopify-token", r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b"),
    rule(
        "pypi-token",
        r"\bpypi-(?:AgEIcHlwaS5vcmc|AgENdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,}",
    ),
    rule("docker-token", r"\bdckr_(?:pat|oat)_[A-Za-z0-9_-]{27,}"),
    rule("huggingface-token", r"\bhf_[A-Za-z]{34}\b"),
    rule("databricks-token", r"\bdapi[a-f0-9]{32}(?:-[0-9])?\b"),
    rule("postman-key", r"\bPMAK-[a-f0-9]{24}-[a-f0-9]{34}\b"),
    rule("grafana-token", r"\bglsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}\b"),
    rule("linear-key", r"\blin_api_[A-Za-z0-9]{40}\b"),
    rule("newrelic-key", r"\bNR(?:AK|II)-[A-Z0-9]{27}\b"),
    // --- Recipient identities ----------------------------------------------------
    rule(
        "age-recipient",
        concat!(r"\bage1(?:[a-z0-9-]{1,32}1)?", bech32_lower!(), "{58,}"),
    ),
    // A bare 40-hex string is also a commit sha, so a PGP fingerprint is recognised
    // only in gpg's grouped form or after a word that names it (a list after the word
    // is redacted as one span).
    rule(
        "pgp-fingerprint",
        r"\b[0-9A-Fa-f]{4}(?: {1,2}[0-9A-Fa-f]{4}){9}\b",
    ),
    rule(
        "pgp-fingerprint-in-context",
        r"(?i:\b(?:fingerprints?|fpr|pgp|gpg|openpgp|key(?:[ _-]?id)?)\b)[^0-9A-Za-z\r\n]{1,4}((?:0x)?[0-9A-Fa-f]{40}(?:[\s,]+(?:0x)?[0-9A-Fa-f]{40})*)\b",
    ),
    rule(
        "aws-kms-arn",
        r"\barn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(?:key|alias)/[A-Za-z0-9/_-]+",
    ),
    rule(
        "gcp-kms-key",
        r"\bprojects/[A-Za-z0-9._:-]+/locations/[A-Za-z0-9-]+/keyRings/[A-Za-z0-9_-]+(?:/cryptoKeys/[A-Za-z0-9_-]+(?:/cryptoKeyVersions/[0-9]+)?)?",
    ),
    rule(
        "azure-key-vault-key",
        r"\bhttps?://[A-Za-z0-9-]{3,24}\.(?:vault\.azure\.net|vault\.azure\.cn|vault\.usgovcloudapi\.net|vault\.microsoftazure\.de|managedhsm\.azure\.net)/keys/[A-Za-z0-9-]+(?:/[0-9A-Fa-f]{32})?",
    ),
    // --- Credentials inside URLs -------------------------------------------------
    // `user:password@`, or a long bare user name (a token used as the user, as in
    // `https://ghp_…@github.com`); short bare user names such as `git@` are kept.
    rule(
        "url-userinfo",
        r"\b[A-Za-z][A-Za-z0-9+.-]*://([^\s/?#@:<>]*:[^\s/?#<>]+|[^\s/?#@:<>]{16,})@",
    ),
    rule(
        "url-query-secret",
        r"[?&;](?i:(?:access_|refresh_|id_|auth_)?token|api[_-]?key|apikey|key|(?:client_)?secret|password|passwd|pwd|sig|signature|x-amz-(?:signature|credential|security-token)|x-goog-(?:signature|credential)|code|auth)=([^&#\s\x22'<>]+)",
    ),
    // --- Generic assignments -----------------------------------------------------
    rule(
        "generic-assignment-quoted",
        concat!(
            secret_key!(),
            r#"["']?\s*(?:=|:=|=>|:)\s*(?:"([^"\r\n]{8,})|'([^'\r\n]{8,}))"#
        ),
    ),
    rule(
        "generic-assignment",
        concat!(secret_key!(), r#"\s*(?:=|:=|=>)\s*([^\s"'<>]{8,})"#),
    ),
    // `key: value` is also how prose introduces things ("Secret: rotation overdue"),
    // so an unquoted value after a colon must mix letters and digits.
    Rule {
        class: "generic-colon-assignment",
        pattern: concat!(secret_key!(), r#"["']?\s*:\s*([^\s"'<>]{8,})"#),
        accept: |v| {
            v.bytes().any(|b| b.is_ascii_digit()) && v.bytes().any(|b| b.is_ascii_alphabetic())
        },
    },
    // --- Entropy fallback for unknown shapes (see `entropy.rs`) -------------------
    Rule {
        class: "high-entropy",
        pattern: r"[A-Za-z0-9+_-][A-Za-z0-9+/_-]{31,}={0,2}",
        accept: entropy::looks_random,
    },
];

/// A compiled rule.
pub(super) struct Compiled {
    class: &'static str,
    regex: Regex,
    accept: fn(&str) -> bool,
}

impl Compiled {
    pub(super) fn new(class: &'static str, pattern: &str, accept: fn(&str) -> bool) -> Self {
        let regex = Regex::new(&ascii_boundaries(pattern))
            .unwrap_or_else(|e| panic!("rule {class} does not compile: {e}"));
        Self {
            class,
            regex,
            accept,
        }
    }

    /// Appends the byte range of every accepted secret in `text`. A secret that is
    /// exactly a marker (a quoted value redacted before) is skipped.
    pub(super) fn collect(&self, rank: usize, text: &str, spans: &mut Vec<Span>) {
        let grouped = self.regex.captures_len() > 1;
        for caps in self.regex.captures_iter(text) {
            let secret = if grouped {
                caps.iter().skip(1).flatten().next()
            } else {
                caps.get(0)
            };
            let accepted = |m: &regex::Match| {
                !m.is_empty() && !is_marker(m.as_str()) && (self.accept)(m.as_str())
            };
            if let Some(m) = secret.filter(accepted) {
                spans.push(Span {
                    start: m.start(),
                    end: m.end(),
                    rank,
                    class: self.class,
                });
            }
        }
    }
}

/// `\b` as an ASCII word boundary: every boundary in the table sits next to an ASCII
/// character, and a Unicode `\b` would stop the lazy DFA on non-ASCII text.
fn ascii_boundaries(pattern: &str) -> String {
    pattern.replace(r"\b", r"(?-u:\b)")
}

/// A located secret; `rank` is the rule's index, used to name merged spans.
#[derive(Debug)]
pub(super) struct Span {
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) rank: usize,
    pub(super) class: &'static str,
}

pub(super) struct PatternSet {
    prefilter: RegexSet,
    rules: Vec<Compiled>,
}

impl PatternSet {
    pub(super) fn compile() -> Self {
        let prefilter = RegexSet::new(RULES.iter().map(|r| ascii_boundaries(r.pattern)))
            .expect("the rule table compiles as a set");
        let rules = RULES
            .iter()
            .map(|r| Compiled::new(r.class, r.pattern, r.accept))
            .collect();
        Self { prefilter, rules }
    }

    pub(super) fn redact<'a>(&self, text: &'a str, findings: &mut Vec<Finding>) -> Cow<'a, str> {
        let mut spans = Vec::new();
        for i in self.prefilter.matches(text).iter() {
            self.rules[i].collect(i, text, &mut spans);
        }
        replace(text, spans, findings)
    }
}

/// Replaces the union of `spans` with markers. Overlapping spans are merged first, so
/// a marker always covers every byte any rule flagged and no part of a secret survives.
pub(super) fn replace<'a>(
    text: &'a str,
    mut spans: Vec<Span>,
    findings: &mut Vec<Finding>,
) -> Cow<'a, str> {
    if spans.is_empty() {
        return Cow::Borrowed(text);
    }
    spans.sort_unstable_by_key(|s| (s.start, std::cmp::Reverse(s.end), s.rank));
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut iter = spans.into_iter().peekable();
    while let Some(mut cur) = iter.next() {
        while let Some(next) = iter.next_if(|n| n.start < cur.end) {
            cur.end = cur.end.max(next.end);
        }
        let fingerprint = Fingerprint::of(&text[cur.start..cur.end]);
        out.push_str(&text[copied..cur.start]);
        out.push_str(&marker(&fingerprint));
        findings.push(Finding {
            class: cur.class,
            fingerprint,
        });
        copied = cur.end;
    }
    out.push_str(&text[copied..]);
    Cow::Owned(out)
}
