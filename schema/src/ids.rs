//! Identifiers: a fixed prefix and 16 lowercase hex digits, either random (integrations,
//! keys, tokens) or derived by BLAKE3 from what they identify (alerts, notification
//! intents), so that a replay of the log derives the same ids.

use crate::domain::Invalid;
use serde::{Deserialize, Serialize};
use std::fmt;

const DIGITS: usize = 16;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            pub const PREFIX: &'static str = $prefix;

            pub fn parse(s: &str) -> Result<Self, Invalid> {
                let digits = s.strip_prefix($prefix).unwrap_or("");
                if digits.len() == DIGITS && digits.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(Invalid(concat!("must be an id of the form ", $prefix, "<16 hex digits>")))
                }
            }

            /// A fresh random id.
            pub fn random() -> Self {
                Self(format!("{}{:016x}", $prefix, rand::random::<u64>()))
            }

            /// The id derived from `parts`, each length-prefixed so that no two
            /// different part lists collide by concatenation.
            pub fn derive(parts: &[&[u8]]) -> Self {
                let mut h = blake3::Hasher::new();
                h.update($prefix.as_bytes());
                for p in parts {
                    h.update(&(p.len() as u64).to_le_bytes());
                    h.update(p);
                }
                Self(format!("{}{}", $prefix, &h.finalize().to_hex()[..DIGITS]))
            }

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

id_type!(
    /// An integration: one connection point between CI and clef-pro.
    IntegrationId,
    "int_"
);
id_type!(
    /// An API key of an integration (the id, not the key).
    KeyId,
    "key_"
);
id_type!(
    /// A viewer or admin token (the id, not the token).
    TokenId,
    "tok_"
);
id_type!(
    /// An alert, derived from its integration, rule, scope and opening commit.
    AlertId,
    "alr_"
);
id_type!(
    /// A stored report, derived from its integration and commit (one report per commit).
    ReportId,
    "rpt_"
);
id_type!(
    /// A notification intent, derived from its integration, report and channel.
    IntentId,
    "ntf_"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_parse_and_derived_ids_are_stable() {
        let id = IntegrationId::random();
        assert_eq!(IntegrationId::parse(id.as_str()).unwrap(), id);
        let a = AlertId::derive(&[b"x", b"yz"]);
        assert_eq!(a, AlertId::derive(&[b"x", b"yz"]));
        assert_ne!(a, AlertId::derive(&[b"xy", b"z"]));
        assert!(IntegrationId::parse("int_123").is_err());
        assert!(IntegrationId::parse("key_0123456789abcdef").is_err());
    }
}
