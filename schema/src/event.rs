//! The events of the log and their versioned encoding.
//!
//! An encoded event is one version byte followed by the postcard encoding of [`Event`].
//! postcard encodes enum variants by position, so variants (and fields of a variant) are
//! only ever appended; `tests::pinned_bytes` fails the build if stored bytes would change.

pub use crate::domain::Role;
use crate::domain::{Branch, ChannelKind, DestinationName, EmailAddress, RuleId, Severity};
use crate::ids::{AlertId, IntegrationId, IntentId, KeyId, TokenId};
use crate::keys::PurposeKey;
use crate::report::Report;
use serde::{Deserialize, Serialize};

/// The first envelope version: the event alone. Written before events were
/// authenticated; read only where the log trusts it (see `clef_pro_log`).
pub const VERSION: u8 = 1;
/// The envelope written today: the version, a 32-byte tag, then the event. The tag is
/// BLAKE3 keyed with the deployment's event key over the version and the event, so
/// whoever lacks the key can neither forge an event nor alter one.
pub const AUTHENTICATED: u8 = 2;
const TAG: usize = 32;

/// A policy rule the CLI evaluates; `params` is its JSON text, served back verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Policy {
    pub rule_id: RuleId,
    pub rule_name: String,
    pub severity: Severity,
    pub params: String,
}

/// An email channel as [`Event::NotificationsSet`] stored it, before other kinds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailChannel {
    pub target: EmailAddress,
    pub min_severity: Severity,
}

/// Where a channel sends: an address, or a destination of the operator's file, named.
/// The destination's URL and credential are never in an event.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Target {
    Email(EmailAddress),
    Destination {
        kind: ChannelKind,
        name: DestinationName,
    },
}

impl Target {
    pub fn kind(&self) -> ChannelKind {
        match self {
            Self::Email(_) => ChannelKind::Email,
            Self::Destination { kind, .. } => *kind,
        }
    }

    /// The address or the destination's name.
    pub fn name(&self) -> &str {
        match self {
            Self::Email(a) => a.as_str(),
            Self::Destination { name, .. } => name.as_str(),
        }
    }
}

/// A notification channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    pub target: Target,
    pub min_severity: Severity,
    /// Also notify of each alert a report resolves (PagerDuty resolves regardless).
    pub send_resolved: bool,
}

/// Who did something, as the audit log shows it: a token's id and label, or the
/// operator (the admin token given by flag). Never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// `None` for the operator.
    pub token: Option<TokenId>,
    pub label: String,
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
    /// Superseded by `NotificationsSetV2` (which [`decode`] upcasts it to).
    NotificationsSet {
        integration: IntegrationId,
        channels: Vec<EmailChannel>,
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
    /// Version-1 (unauthenticated) records at or below `through` were written before
    /// events were authenticated and are trusted; later ones are refused. Appended once
    /// per JetStream stream, on its own subject.
    LegacyTrusted {
        through: u64,
        at: u64,
    },
    /// The token stops working at once, with every session signed in with it.
    TokenRevoked {
        token_id: TokenId,
        at: u64,
    },
    /// A dashboard session. `session` is the BLAKE3 hash of the cookie's secret;
    /// `token` is `None` for the operator's admin token, whose sessions also end when
    /// the operator's token changes: `credential` is the token's hash keyed with the
    /// deployment's session key, so a reader of the log cannot test guesses of it.
    SessionStarted {
        session: [u8; 32],
        token: Option<TokenId>,
        credential: [u8; 32],
        role: Role,
        label: String,
        expires_at: u64,
        at: u64,
    },
    SessionEnded {
        session: [u8; 32],
        at: u64,
    },
    /// A sign-in with a token that is not valid (for the audit log; the token is not kept).
    SignInFailed {
        at: u64,
    },
    /// `event`, done by `actor`: what the audit log is built from.
    Audited {
        actor: Actor,
        event: Box<Event>,
    },
    /// The integration's channels, of every kind, replaced.
    NotificationsSetV2 {
        integration: IntegrationId,
        channels: Vec<Channel>,
        at: u64,
    },
    /// The integration's name changed (its id never does).
    IntegrationRenamed {
        id: IntegrationId,
        name: String,
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
    #[error(
        "the event's authentication tag does not match: forged, altered, or another deployment's"
    )]
    Forged,
}

/// How an event read from the log was vouched for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provenance {
    /// Its tag holds under this deployment's key.
    Authenticated,
    /// A version-1 record, written before events were authenticated.
    Legacy,
}

impl Event {
    /// The integration the event belongs to, if any: the log's subject for it.
    pub fn integration(&self) -> Option<&IntegrationId> {
        match self {
            Self::IntegrationCreated { id, .. }
            | Self::IntegrationConfigured { id, .. }
            | Self::IntegrationConfiguredV2 { id, .. }
            | Self::IntegrationRenamed { id, .. } => Some(id),
            Self::KeyIssued { integration, .. }
            | Self::KeyRevoked { integration, .. }
            | Self::PoliciesSet { integration, .. }
            | Self::NotificationsSet { integration, .. }
            | Self::NotificationsSetV2 { integration, .. }
            | Self::ReportSubmitted { integration, .. }
            | Self::BatchSubmitted { integration, .. }
            | Self::AlertAcknowledged { integration, .. } => Some(integration),
            Self::Audited { event, .. } => event.integration(),
            Self::TokenIssued { .. }
            | Self::NotificationDelivered { .. }
            | Self::NotificationFailed { .. }
            | Self::LegacyTrusted { .. }
            | Self::TokenRevoked { .. }
            | Self::SessionStarted { .. }
            | Self::SessionEnded { .. }
            | Self::SignInFailed { .. } => None,
        }
    }

    /// The reports of a report or batch event, with their integration and arrival time.
    pub fn reports(&self) -> Option<(&IntegrationId, &[Report], u64)> {
        match self.fact() {
            Self::ReportSubmitted {
                integration,
                report,
                at,
            } => Some((integration, std::slice::from_ref(report), *at)),
            Self::BatchSubmitted {
                integration,
                reports,
                at,
            } => Some((integration, reports.as_slice(), *at)),
            _ => None,
        }
    }

    /// The fact itself: an [`Event::Audited`] event's inner event, any other as it is.
    pub fn fact(&self) -> &Event {
        match self {
            Self::Audited { event, .. } => event.fact(),
            other => other,
        }
    }

    /// The key the log deduplicates appends by. Reports and batches are keyed by their
    /// content without the arrival time, so an identical resubmission is one event;
    /// acknowledgements and deliveries by what they are about, so that retries and
    /// concurrent instances append them once; everything else by its full content.
    pub fn dedupe_key(&self) -> [u8; 32] {
        let (label, part) = match self {
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
            // Who did it does not make it another fact: a retry by anyone is one event.
            Self::Audited { event, .. } => return event.dedupe_key(),
            other => ("event", encode(other)),
        };
        dedupe_hash(label, &part)
    }
}

/// A dedupe key: what kind of fact, then the bytes that make it that fact.
pub fn dedupe_hash(label: &str, part: &[u8]) -> [u8; 32] {
    let mut h = blake3::Hasher::new();
    h.update(label.as_bytes());
    h.update(part);
    *h.finalize().as_bytes()
}

fn encode_part<T: Serialize>(v: &T) -> Vec<u8> {
    postcard::to_allocvec(v).expect("postcard encodes every in-memory value")
}

/// Whether `bytes` has the shape of the authenticated envelope (its version, a whole
/// tag and a body), whatever key made the tag.
pub fn is_authenticated_envelope(bytes: &[u8]) -> bool {
    bytes.len() > 1 + TAG && bytes[0] == AUTHENTICATED
}

/// Encodes an event in the current envelope version.
pub fn encode(event: &Event) -> Vec<u8> {
    let mut out = vec![VERSION];
    out.extend(encode_part(event));
    out
}

/// Encodes an event in the authenticated envelope under `key` (the deployment's
/// [`crate::keys::DeploymentKey::events`] key).
pub fn encode_authenticated(event: &Event, key: &PurposeKey) -> Vec<u8> {
    let body = encode_part(event);
    let mut out = Vec::with_capacity(1 + TAG + body.len());
    out.push(AUTHENTICATED);
    out.extend_from_slice(&tag(key, &body));
    out.extend_from_slice(&body);
    out
}

/// [`encode_authenticated`] and [`Event::dedupe_key`] from one encoding of the event.
/// A report's or a batch's key hashes the encoding of its integration and report(s),
/// and postcard lays those out inside the event's body exactly so: the variant's
/// varint, the fields in order, then `at`, the last field, as a varint. So the key
/// hashes that part of the body instead of encoding the report a second time
/// (`tests::one_encoding_gives_the_same_key` holds the two equal).
pub fn encode_keyed(event: &Event, key: &PurposeKey) -> (Vec<u8>, [u8; 32]) {
    let (label, at) = match event {
        Event::ReportSubmitted { at, .. } => ("report", *at),
        Event::BatchSubmitted { at, .. } => ("batch", *at),
        other => return (encode_authenticated(other, key), other.dedupe_key()),
    };
    let out = encode_authenticated(event, key);
    let body = &out[1 + TAG..];
    let variant = body.iter().take_while(|&&b| b & 0x80 != 0).count() + 1;
    let at = postcard::to_slice(&at, &mut [0; 10])
        .expect("a u64's varint has at most 10 bytes")
        .len();
    let key = dedupe_hash(label, &body[variant..body.len() - at]);
    (out, key)
}

fn tag(key: &PurposeKey, body: &[u8]) -> [u8; 32] {
    let mut h = blake3::Hasher::new_keyed(key.bytes());
    h.update(&[AUTHENTICATED]);
    h.update(body);
    *h.finalize().as_bytes()
}

/// Decodes a record of either envelope, checking the tag of an authenticated one
/// (in constant time) before decoding anything of it.
pub fn open(bytes: &[u8], key: &PurposeKey) -> Result<(Event, Provenance), DecodeError> {
    match bytes.split_first() {
        Some((&AUTHENTICATED, rest)) => {
            if rest.len() < TAG {
                return Err(DecodeError::Forged);
            }
            let (given, body) = rest.split_at(TAG);
            let given =
                blake3::Hash::from_bytes(given.try_into().map_err(|_| DecodeError::Forged)?);
            if given != blake3::Hash::from_bytes(tag(key, body)) {
                return Err(DecodeError::Forged);
            }
            Ok((
                upcast(postcard::from_bytes(body)?),
                Provenance::Authenticated,
            ))
        }
        _ => decode(bytes).map(|e| (e, Provenance::Legacy)),
    }
}

/// Decodes a version-1 record, upcasting superseded variants, so that readers handle
/// one shape per fact.
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
        Event::NotificationsSet {
            integration,
            channels,
            at,
        } => Event::NotificationsSetV2 {
            integration,
            channels: channels
                .into_iter()
                .map(|c| Channel {
                    target: Target::Email(c.target),
                    min_severity: c.min_severity,
                    send_resolved: false,
                })
                .collect(),
            at,
        },
        Event::Audited { actor, event } => Event::Audited {
            actor,
            event: Box::new(upcast(*event)),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests;
