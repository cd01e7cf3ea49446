//! The secret and identity detector behind the redaction chokepoint. It only finds and
//! replaces; `crate::sealed` is the chokepoint that applies it to every free-text field.

mod entropy;
mod exclusions;
mod kube;
mod patterns;
mod rules;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::sync::LazyLock;

/// The first 8 hex digits of the BLAKE3 hash of a redacted match.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Fingerprint(String);

impl Fingerprint {
    pub fn of(matched: &str) -> Self {
        Self(blake3::hash(matched.as_bytes()).to_hex()[..8].to_owned())
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

/// The compiled pattern set. Build once with [`Redactor::global`].
pub struct Redactor {
    patterns: patterns::PatternSet,
}

static GLOBAL: LazyLock<Redactor> = LazyLock::new(|| Redactor {
    patterns: patterns::PatternSet::compile(),
});

impl Redactor {
    pub fn global() -> &'static Redactor {
        &GLOBAL
    }

    /// Replaces every match in `text` with `<REDACTED:fingerprint=XXXXXXXX>` and
    /// records it in `findings`. Borrows when nothing matched.
    pub fn redact<'a>(&self, text: &'a str, findings: &mut Vec<Finding>) -> Cow<'a, str> {
        self.patterns.redact(text, findings)
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
