//! The events of the log and their versioned encoding.
//!
//! An encoded event is one version byte followed by the postcard encoding of [`Event`].
//! postcard encodes enum variants by position, so variants (and fields of a variant) are
//! only ever appended; `tests::pinned_bytes` fails the build if stored bytes would change.

use crate::domain::{Branch, EmailAddress, RuleId, Severity};
use crate::ids::{AlertId, IntegrationId, IntentId, KeyId, TokenId};
use crate::report::Report;
use serde::{Deserialize, Serialize};

/// The envelope version written today.
pub const VERSION: u8 = 1;

/// Who a token lets in: viewers read and acknowledge; admins also configure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Admin,
}

/// A policy rule the CLI evaluates; `params` is its JSON text, served back verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub rule_id: RuleId,
    pub rule_name: String,
    pub severity: Severity,
    pub params: String,
}

/// An email notification channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    pub target: EmailAddress,
    pub min_severity: Severity,
}

/// Every fact clef-pro knows. Times are Unix milliseconds taken when the fact was accepted.
// Events are built once and handled by reference, so the size of the report variant
// costs nothing; boxing it would only complicate every match.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    IntegrationCreated {
        id: IntegrationId,
        name: String,
        collect_ci_context: bool,
        tracked_branches: Vec<Branch>,
        at: u64,
    },
    IntegrationConfigured {
        id: IntegrationId,
        collect_ci_context: Option<bool>,
        tracked_branches: Option<Vec<Branch>>,
        at: u64,
    },
    /// `hash` is the BLAKE3 hash of the key; the key itself is never stored.
    KeyIssued {
        integration: IntegrationId,
        key_id: KeyId,
        label: String,
        hash: [u8; 32],
        at: u64,
    },
    KeyRevoked {
        integration: IntegrationId,
        key_id: KeyId,
        at: u64,
    },
    PoliciesSet {
        integration: IntegrationId,
        policies: Vec<Policy>,
        at: u64,
    },
    NotificationsSet {
        integration: IntegrationId,
        channels: Vec<Channel>,
        at: u64,
    },
    /// `hash` is the BLAKE3 hash of the token; the token itself is never stored.
    TokenIssued {
        token_id: TokenId,
        role: Role,
        label: String,
        hash: [u8; 32],
        at: u64,
    },
    ReportSubmitted {
        integration: IntegrationId,
        report: Report,
        at: u64,
    },
    /// Oldest to newest; the last report is HEAD. Appended as one unit.
    BatchSubmitted {
        integration: IntegrationId,
        reports: Vec<Report>,
        at: u64,
    },
    AlertAcknowledged {
        integration: IntegrationId,
        alert: AlertId,
        by: String,
        at: u64,
    },
    NotificationDelivered {
        intent: IntentId,
        message_id: String,
        at: u64,
    },
    NotificationFailed {
        intent: IntentId,
        reason: String,
        at: u64,
    },
    /// Supersedes `IntegrationConfigured` (which [`decode`] upcasts to this). `None`
    /// leaves a setting as it is; `file_pattern` is where the integration keeps its
    /// encrypted files, such as `{namespace}/{environment}.enc.yaml`, used only to
    /// place OTLP issues in a cell; the path itself is never stored.
    IntegrationConfiguredV2 {
        id: IntegrationId,
        collect_ci_context: Option<bool>,
        tracked_branches: Option<Vec<Branch>>,
        file_pattern: Option<String>,
        at: u64,
    },
}

/// Why stored bytes could not be read as an event.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("empty record")]
    Empty,
    #[error("unknown envelope version {0}")]
    Version(u8),
    #[error("malformed event: {0}")]
    Malformed(#[from] postcard::Error),
}

impl Event {
    /// The integration the event belongs to, if any: the log's subject for it.
    pub fn integration(&self) -> Option<&IntegrationId> {
        match self {
            Self::IntegrationCreated { id, .. }
            | Self::IntegrationConfigured { id, .. }
            | Self::IntegrationConfiguredV2 { id, .. } => Some(id),
            Self::KeyIssued { integration, .. }
            | Self::KeyRevoked { integration, .. }
            | Self::PoliciesSet { integration, .. }
            | Self::NotificationsSet { integration, .. }
            | Self::ReportSubmitted { integration, .. }
            | Self::BatchSubmitted { integration, .. }
            | Self::AlertAcknowledged { integration, .. } => Some(integration),
            Self::TokenIssued { .. }
            | Self::NotificationDelivered { .. }
            | Self::NotificationFailed { .. } => None,
        }
    }

    /// The key the log deduplicates appends by. Reports and batches are keyed by their
    /// content without the arrival time, so an identical resubmission is one event;
    /// acknowledgements and deliveries by what they are about, so that retries and
    /// concurrent instances append them once; everything else by its full content.
    pub fn dedupe_key(&self) -> [u8; 32] {
        let mut h = blake3::Hasher::new();
        let parts: (&str, Vec<u8>) = match self {
            Self::ReportSubmitted {
                integration,
                report,
                ..
            } => ("report", encode_part(&(integration, report))),
            Self::BatchSubmitted {
                integration,
                reports,
                ..
            } => ("batch", encode_part(&(integration, reports))),
            Self::AlertAcknowledged {
                integration, alert, ..
            } => ("ack", encode_part(&(integration, alert))),
            Self::NotificationDelivered { intent, .. }
            | Self::NotificationFailed { intent, .. } => ("outcome", encode_part(intent)),
            other => ("event", encode(other)),
        };
        h.update(parts.0.as_bytes());
        h.update(&parts.1);
        *h.finalize().as_bytes()
    }
}

fn encode_part<T: Serialize>(v: &T) -> Vec<u8> {
    postcard::to_allocvec(v).expect("postcard encodes every in-memory value")
}

/// Encodes an event in the current envelope version.
pub fn encode(event: &Event) -> Vec<u8> {
    let mut out = vec![VERSION];
    out.extend(encode_part(event));
    out
}

/// Decodes an event of any known envelope version, upcasting superseded variants, so
/// that readers handle one shape per fact.
pub fn decode(bytes: &[u8]) -> Result<Event, DecodeError> {
    match bytes.split_first() {
        None => Err(DecodeError::Empty),
        Some((&VERSION, rest)) => Ok(upcast(postcard::from_bytes(rest)?)),
        Some((&v, _)) => Err(DecodeError::Version(v)),
    }
}

fn upcast(event: Event) -> Event {
    match event {
        Event::IntegrationConfigured {
            id,
            collect_ci_context,
            tracked_branches,
            at,
        } => Event::IntegrationConfiguredV2 {
            id,
            collect_ci_context,
            tracked_branches,
            file_pattern: None,
            at,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CommitSha, Scope};
    use crate::report::{PolicyResult, Summary};

    fn int() -> IntegrationId {
        IntegrationId::parse("int_0123456789abcdef").unwrap()
    }

    fn report() -> Report {
        Report {
            commit: CommitSha::parse(&"ab".repeat(20)).unwrap(),
            branch: Some(Branch::parse("main").unwrap()),
            commit_timestamp: Some(1_700_000_000_000),
            cli_version: "0.1.30".into(),
            summary: Summary {
                files_scanned: 1,
                namespaces: vec![],
                environments: vec![],
                cells: vec![],
                violations: 1,
                passed: false,
            },
            drift: vec![],
            policy_results: vec![PolicyResult {
                rule_id: RuleId::parse("missing_keys").unwrap(),
                rule_name: "Missing keys".into(),
                passed: false,
                severity: Severity::Critical,
                message: "m".into(),
                scope: Scope::parse("oauth/production").unwrap(),
            }],
            ci_context: None,
            secrets_redacted: 0,
        }
    }

    /// One event of every variant, in variant order.
    fn one_of_each() -> Vec<Event> {
        let at = 1_700_000_000_000;
        vec![
            Event::IntegrationCreated {
                id: int(),
                name: "payments".into(),
                collect_ci_context: true,
                tracked_branches: vec![Branch::parse("main").unwrap()],
                at,
            },
            Event::IntegrationConfigured {
                id: int(),
                collect_ci_context: Some(false),
                tracked_branches: None,
                at,
            },
            Event::KeyIssued {
                integration: int(),
                key_id: KeyId::parse("key_0123456789abcdef").unwrap(),
                label: "ci".into(),
                hash: [7; 32],
                at,
            },
            Event::KeyRevoked {
                integration: int(),
                key_id: KeyId::parse("key_0123456789abcdef").unwrap(),
                at,
            },
            Event::PoliciesSet {
                integration: int(),
                policies: vec![Policy {
                    rule_id: RuleId::parse("min_recipients").unwrap(),
                    rule_name: "Minimum recipients".into(),
                    severity: Severity::Warning,
                    params: "{\"min\":2}".into(),
                }],
                at,
            },
            Event::NotificationsSet {
                integration: int(),
                channels: vec![Channel {
                    target: EmailAddress::parse("security@acme.com").unwrap(),
                    min_severity: Severity::Critical,
                }],
                at,
            },
            Event::TokenIssued {
                token_id: TokenId::parse("tok_0123456789abcdef").unwrap(),
                role: Role::Viewer,
                label: "alice".into(),
                hash: [9; 32],
                at,
            },
            Event::ReportSubmitted {
                integration: int(),
                report: report(),
                at,
            },
            Event::BatchSubmitted {
                integration: int(),
                reports: vec![report()],
                at,
            },
            Event::AlertAcknowledged {
                integration: int(),
                alert: AlertId::parse("alr_0123456789abcdef").unwrap(),
                by: "alice".into(),
                at,
            },
            Event::NotificationDelivered {
                intent: IntentId::parse("ntf_0123456789abcdef").unwrap(),
                message_id: "<ntf_0123456789abcdef@clef-pro>".into(),
                at,
            },
            Event::NotificationFailed {
                intent: IntentId::parse("ntf_0123456789abcdef").unwrap(),
                reason: "550 mailbox unavailable".into(),
                at,
            },
            Event::IntegrationConfiguredV2 {
                id: int(),
                collect_ci_context: None,
                tracked_branches: Some(vec![Branch::parse("trunk").unwrap()]),
                file_pattern: Some("{namespace}/{environment}.enc.yaml".into()),
                at,
            },
        ]
    }

    /// The exact bytes of every variant. If this fails, a change would make stored
    /// logs unreadable: append a new variant or envelope version instead.
    #[test]
    fn pinned_bytes() {
        let got: Vec<String> = one_of_each()
            .iter()
            .map(|e| hex::encode(encode(e)))
            .collect();
        let want = include_str!("../tests/pinned_events.txt");
        let want: Vec<&str> = want.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            got,
            want,
            "encoded events changed; got:\n{}",
            got.join("\n")
        );
    }

    #[test]
    fn round_trip_and_unknown_version() {
        for e in one_of_each() {
            assert_eq!(decode(&encode(&e)).unwrap(), upcast(e));
        }
        let v1 = Event::IntegrationConfigured {
            id: int(),
            collect_ci_context: Some(true),
            tracked_branches: None,
            at: 5,
        };
        assert_eq!(
            decode(&encode(&v1)).unwrap(),
            Event::IntegrationConfiguredV2 {
                id: int(),
                collect_ci_context: Some(true),
                tracked_branches: None,
                file_pattern: None,
                at: 5
            }
        );
        assert!(matches!(decode(&[2, 0]), Err(DecodeError::Version(2))));
        assert!(matches!(decode(&[]), Err(DecodeError::Empty)));
    }

    #[test]
    fn resubmission_has_the_same_dedupe_key_at_another_time() {
        let a = Event::ReportSubmitted {
            integration: int(),
            report: report(),
            at: 1,
        };
        let b = Event::ReportSubmitted {
            integration: int(),
            report: report(),
            at: 2,
        };
        assert_eq!(a.dedupe_key(), b.dedupe_key());
        let mut other = report();
        other.summary.passed = true;
        let c = Event::ReportSubmitted {
            integration: int(),
            report: other,
            at: 1,
        };
        assert_ne!(a.dedupe_key(), c.dedupe_key());
    }
}
