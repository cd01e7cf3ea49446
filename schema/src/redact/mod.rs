//! The secret and identity detector behind the redaction chokepoint. It only finds and
//! replaces; `crate::sealed` is the chokepoint that applies it to every free-text field.

mod entropy;
mod exclusions;
mod kube;
mod patterns;
mod rule;
mod rules;
#[cfg(test)]
mod tests;

/// The entropy fallback's measure and threshold, for tests that plant what it must catch.
pub use entropy::{MIN_BITS_PER_CHAR, shannon_bits_per_char};

use crate::keys::PurposeKey;
use std::borrow::Cow;
use std::sync::LazyLock;

/// The first 8 hex digits of BLAKE3, keyed with the deployment's fingerprint key, of a
/// redacted match: the same secret gets the same fingerprint within a deployment, and
/// whoever reads one cannot test guesses against it offline without the key.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Fingerprint(String);

impl Fingerprint {
    pub fn keyed(key: &PurposeKey, matched: &str) -> Self {
        Self(hex::encode(&key.mac(matched.as_bytes())[..4]))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One redacted match: which kind of pattern found it and its fingerprint, never its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub class: &'static str,
    pub fingerprint: Fingerprint,
}

/// The rule set, compiled once per process.
static PATTERNS: LazyLock<patterns::PatternSet> = LazyLock::new(patterns::PatternSet::compile);

/// The detector with the deployment's fingerprint key
/// ([`crate::keys::DeploymentKey::fingerprints`]).
#[derive(Debug, Clone)]
pub struct Redactor {
    key: PurposeKey,
}

impl Redactor {
    pub fn new(key: PurposeKey) -> Self {
        Self { key }
    }

    /// Replaces every match in `text` with `<REDACTED:fingerprint=XXXXXXXX>` and
    /// records it in `findings`. Borrows when nothing matched.
    pub fn redact<'a>(&self, text: &'a str, findings: &mut Vec<Finding>) -> Cow<'a, str> {
        PATTERNS.redact(text, &self.key, findings)
    }

    /// Whether `text` holds anything the detector would replace; for messages that
    /// must not echo such text, and need no fingerprint.
    pub fn finds_any(text: &str) -> bool {
        PATTERNS.finds_any(text)
    }
}

const MARKER_PREFIX: &str = "<REDACTED:fingerprint=";

/// The replacement text for a match.
pub fn marker(fp: &Fingerprint) -> String {
    format!("{MARKER_PREFIX}{}>", fp.as_str())
}

/// Whether `s` is exactly a marker. The detector never redacts a marker again, so
/// redacting redacted text changes nothing.
fn is_marker(s: &str) -> bool {
    s.strip_prefix(MARKER_PREFIX)
        .and_then(|rest| rest.strip_suffix('>'))
        .is_some_and(|hex| hex.len() == 8 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}
