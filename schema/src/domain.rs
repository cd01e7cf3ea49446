//! Validated domain values. Each has private fields and a `parse` constructor, so a
//! value of one of these types is always well formed; handlers parse once, at the edge.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why a structured field was rejected. Never carries the rejected value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub &'static str);

macro_rules! string_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_newtype!(
    /// A git commit hash: 40 (SHA-1) or 64 (SHA-256) hex digits, stored lowercase.
    CommitSha
);

impl CommitSha {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let ok = matches!(s.len(), 40 | 64) && s.bytes().all(|b| b.is_ascii_hexdigit());
        if ok {
            Ok(Self(s.to_ascii_lowercase()))
        } else {
            Err(Invalid("must be 40 or 64 hexadecimal characters"))
        }
    }

    /// The first 7 digits, as git shows them.
    pub fn short(&self) -> &str {
        &self.0[..7]
    }
}

string_newtype!(
    /// A branch name, checked against git's ref-name rules (no spaces, control
    /// characters, `..`, `~^:?*[\`, leading `-` or `/`), at most 255 bytes.
    Branch
);

impl Branch {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        const BAD: &[char] = &[' ', '~', '^', ':', '?', '*', '[', '\\'];
        let ok = !s.is_empty()
            && s.len() <= 255
            && !s.starts_with(['-', '/'])
            && !s.ends_with(['/', '.'])
            && !s.ends_with(".lock")
            && !s.contains("..")
            && !s.contains("//")
            && !s.contains("@{")
            && !s.chars().any(|c| c.is_control() || BAD.contains(&c));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(Invalid("must be a valid git branch name"))
        }
    }

    /// A report's branch: `""` means none (the Clef CLI backfills ancestors without one).
    pub fn parse_optional(s: &str) -> Result<Option<Self>, Invalid> {
        if s.is_empty() {
            Ok(None)
        } else {
            Self::parse(s).map(Some)
        }
    }
}

/// Encodes a report's optional branch as the string it always was, `""` for none, so
/// events written before branches could be absent decode unchanged (the pinned bytes).
pub mod optional_branch {
    use super::Branch;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(b: &Option<Branch>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(b.as_ref().map_or("", Branch::as_str))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Branch>, D::Error> {
        let s = String::deserialize(d)?;
        Ok((!s.is_empty()).then_some(Branch(s)))
    }
}

string_newtype!(
    /// A namespace or environment name: 1 to 128 characters of `A-Z a-z 0-9 . _ -`,
    /// starting with a letter or digit.
    Name
);

impl Name {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        if is_identifier(s, 128, b"._-") {
            Ok(Self(s.to_owned()))
        } else {
            Err(Invalid(
                "must be 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit",
            ))
        }
    }
}

string_newtype!(
    /// A policy rule id such as `missing_keys` or `schema/error`: 1 to 128 characters
    /// of `A-Z a-z 0-9 . _ - / :`, starting with a letter or digit.
    RuleId
);

impl RuleId {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        if is_identifier(s, 128, b"._-/:") {
            Ok(Self(s.to_owned()))
        } else {
            Err(Invalid(
                "must be 1 to 128 letters, digits, '.', '_', '-', '/' or ':', starting with a letter or digit",
            ))
        }
    }

    /// The built-in rule that a report with redacted secrets fails.
    pub fn secret_redacted() -> Self {
        Self("clef-pro/secret-redacted".to_owned())
    }
}

string_newtype!(
    /// An email address used as a notification target: `local@domain`, no spaces or
    /// angle brackets, at most 254 bytes.
    EmailAddress
);

impl EmailAddress {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let err = Invalid("must be an email address such as security@example.com");
        let (local, domain) = s.rsplit_once('@').ok_or(err.clone())?;
        let atom = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c);
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        };
        let ok = s.len() <= 254
            && !local.is_empty()
            && local.len() <= 64
            && local.chars().all(atom)
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && domain.contains('.')
            && domain.split('.').all(label_ok);
        if ok { Ok(Self(s.to_owned())) } else { Err(err) }
    }
}

string_newtype!(
    /// The name of a destination in the operator's destinations file (a TOML table
    /// key): 1 to 64 characters of `A-Z a-z 0-9 . _ -`, starting with a letter or digit.
    DestinationName
);

impl DestinationName {
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        if is_identifier(s, 64, b"._-") {
            Ok(Self(s.to_owned()))
        } else {
            Err(Invalid(
                "must be a destination name: 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit",
            ))
        }
    }
}

/// What a notification channel is. Its target is an email address for `email`, and the
/// name of a destination of the same kind in the destinations file for the others.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    Email,
    Slack,
    Teams,
    Pagerduty,
    Webhook,
}

impl ChannelKind {
    pub const ALL: [ChannelKind; 5] = [
        Self::Email,
        Self::Slack,
        Self::Teams,
        Self::Pagerduty,
        Self::Webhook,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Slack => "slack",
            Self::Teams => "teams",
            Self::Pagerduty => "pagerduty",
            Self::Webhook => "webhook",
        }
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A structured name (branch, namespace or environment, rule id). Its format admits
/// secret-shaped values, so the chokepoint checks it too and replaces a name that holds
/// one whole, by `redacted-<fingerprint>`, which is valid in every one of these formats.
pub trait Identifier {
    fn as_str(&self) -> &str;
    fn replace_with_redacted(&mut self, fingerprint: &str);
}

macro_rules! identifier {
    ($($t:ty),*) => {$(
        impl Identifier for $t {
            fn as_str(&self) -> &str {
                &self.0
            }
            fn replace_with_redacted(&mut self, fingerprint: &str) {
                self.0 = format!("redacted-{fingerprint}");
            }
        }
    )*};
}
identifier!(Branch, Name, RuleId);

fn is_identifier(s: &str, max: usize, extra: &[u8]) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= max
        && b[0].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(c))
}

/// Severity of a policy result or drift entry, ordered `Info < Warning < Error < Critical`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Self::Critical, Self::Error, Self::Warning, Self::Info];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warning => "warning",
            Self::Error => "error",
            Self::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Health of one namespace × environment cell, as the CLI judged it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Healthy,
    Warning,
    Critical,
    Unknown,
}

impl HealthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Healthy => "healthy",
            Self::Warning => "warning",
            Self::Critical => "critical",
            Self::Unknown => "unknown",
        }
    }
}

/// Where a policy result applies: the whole repository, a namespace, or one cell.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Scope {
    Global,
    Namespace(Name),
    Cell(Name, Name),
}

impl Scope {
    /// Parses the string form `""`, `"namespace"` or `"namespace/environment"`.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        match s.split_once('/') {
            _ if s.is_empty() => Ok(Self::Global),
            None => Ok(Self::Namespace(Name::parse(s)?)),
            Some((ns, env)) => Ok(Self::Cell(Name::parse(ns)?, Name::parse(env)?)),
        }
    }

    pub fn from_parts(namespace: Option<&str>, environment: Option<&str>) -> Result<Self, Invalid> {
        match (namespace, environment) {
            (None, None) => Ok(Self::Global),
            (Some(ns), None) => Ok(Self::Namespace(Name::parse(ns)?)),
            (Some(ns), Some(env)) => Ok(Self::Cell(Name::parse(ns)?, Name::parse(env)?)),
            (None, Some(_)) => Err(Invalid("an environment needs a namespace")),
        }
    }
}

impl fmt::Display for Scope {
    /// `namespace/environment`, `namespace`, or the empty string for the whole repository.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Global => Ok(()),
            Self::Namespace(ns) => write!(f, "{ns}"),
            Self::Cell(ns, env) => write!(f, "{ns}/{env}"),
        }
    }
}

/// Who a token lets in: viewers read and acknowledge; admins also configure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Viewer => "viewer",
            Self::Admin => "admin",
        }
    }
}

#[cfg(test)]
mod tests;
