//! Private keys and the recipient identities SOPS records: age recipients, PGP
//! fingerprints in every form SOPS and gpg write them, and KMS / Key Vault / Vault
//! transit key references.

use super::rule_list;
use crate::redact::exclusions;
use crate::redact::exclusions::not_example;
use crate::redact::rule::{Candidate, Rule, rule_if};
use std::borrow::Cow;

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

/// A word that names a PGP fingerprint, including SOPS's `fp` (`"fp":`, `map_fp=`).
macro_rules! fingerprint_word {
    () => {
        r"(?i:(?:\b|_)(?:fingerprints?|fpr|fp|pgp|gpg|openpgp|key(?:[ _-]?id)?)\b)"
    };
}

/// Identities and key blocks are only exempt when they are a vendor's example: an
/// account id or a run of base64 padding is not a placeholder.
fn identity(class: &'static str, pattern: impl Into<Cow<'static, str>>) -> Rule {
    rule_if(class, pattern, not_example)
}

/// 40 uppercase hex digits with at least one letter: git writes shas in lowercase, and
/// SOPS writes fingerprints in uppercase (`fp: …`, `"fp": "…"`, `…_map_fp=…`).
fn uppercase_fingerprint(c: &Candidate) -> bool {
    exclusions::ordinary(c) && c.secret().bytes().any(|b| (b'A'..=b'F').contains(&b))
}

rule_list![
    // Every PEM/armor private key: RSA, EC, DSA, OPENSSH, ENCRYPTED, PKCS#8, PGP, SSH2.
    // A block whose END line is missing (truncated text) is redacted to the end.
    identity(
        "private-key-block",
        r"-{4,5} ?BEGIN[ A-Z0-9]*PRIVATE KEY(?: BLOCK)? ?-{4,5}(?:[\s\S]*?-{4,5} ?END[ A-Z0-9]*PRIVATE KEY(?: BLOCK)? ?-{4,5}|[\s\S]*)",
    ),
    identity(
        "age-secret-key",
        concat!(
            r"\bAGE-(?:SECRET-KEY-(?:PQ-)?1",
            bech32_upper!(),
            "{58,}|PLUGIN-[A-Z0-9-]{1,32}-1",
            bech32_upper!(),
            "{20,})"
        ),
    ),
    identity(
        "age-recipient",
        concat!(r"\bage1(?:[a-z0-9-]{1,32}1)?", bech32_lower!(), "{58,}"),
    ),
    // gpg's grouped form: ten groups of four, two spaces in the middle.
    identity(
        "pgp-fingerprint",
        r"\b[0-9A-Fa-f]{4}(?: {1,2}[0-9A-Fa-f]{4}){9}\b",
    ),
    // A list after the word is redacted as one span. After such a word even a lowercase
    // 40-hex string is a fingerprint, so only placeholders are exempt.
    rule_if(
        "pgp-fingerprint-in-context",
        concat!(
            fingerprint_word!(),
            r#"[^0-9A-Za-z\r\n]{1,4}((?:0x)?[0-9A-Fa-f]{40}(?:[\s,]+(?:0x)?[0-9A-Fa-f]{40})*)\b"#
        ),
        exclusions::not_placeholder,
    ),
    rule_if(
        "pgp-fingerprint-uppercase",
        r"\b(?:0x)?[0-9A-F]{40}\b",
        uppercase_fingerprint,
    ),
    identity(
        "aws-kms-arn",
        r"\barn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(?:key|alias)/[A-Za-z0-9/_-]+",
    ),
    identity(
        "gcp-kms-key",
        r"\bprojects/[A-Za-z0-9._:-]+/locations/[A-Za-z0-9-]+/keyRings/[A-Za-z0-9_-]+(?:/cryptoKeys/[A-Za-z0-9_-]+(?:/cryptoKeyVersions/[0-9]+)?)?",
    ),
    // A key URL, or the bare vault URL SOPS writes as `vault_url` next to the key name.
    identity(
        "azure-key-vault-key",
        r"\b(https?://[A-Za-z0-9-]{3,24}\.(?:vault\.azure\.net|vault\.azure\.cn|vault\.usgovcloudapi\.net|vault\.microsoftazure\.de|managedhsm\.azure\.net)(?:/keys/[A-Za-z0-9-]+(?:/[0-9A-Fa-f]{32})?)?)/?(?:[^A-Za-z0-9/._~%-]|$)",
    ),
    // The Clef CLI's lint quotes a recipient it expected or did not expect shortened to
    // its first 4 and last 8 characters (`Expected recipient 'age1…3k9x0q2z' is
    // missing`): still enough to tell who it is.
    identity(
        "truncated-recipient",
        r"\b[Rr]ecipient '([^'\s…]{1,16}…[^'\s…]{1,16})'",
    ),
    // SOPS's `hc_vault_transit_uri`: `<vault_address>/v1/<engine_path>/keys/<key_name>`.
    identity(
        "vault-transit-key",
        r"\bhttps?://[A-Za-z0-9.-]+(?::[0-9]{1,5})?/v1/(?:[A-Za-z0-9_-]+/)+keys/[A-Za-z0-9_.-]+",
    ),
];
