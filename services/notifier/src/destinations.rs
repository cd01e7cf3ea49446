//! The operator's destinations file (`--destinations FILE`, TOML): named Slack, Teams,
//! PagerDuty and webhook destinations with their URLs and credentials.
//!
//! Channels name a destination; its URL, routing key and signing secret live only here
//! and in this process's memory. Nothing in this module prints one: errors name the
//! entry and the field, never a value, and [`Destination`]'s `Debug` hides them.

use clef_pro_schema::domain::{ChannelKind, DestinationName};
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

/// PagerDuty's Events API v2 endpoint, used when an entry gives no `url`.
pub const PAGERDUTY_EVENTS: &str = "https://events.pagerduty.com/v2/enqueue";

/// One destination: where to send, and the credential that goes with it.
#[derive(Clone, PartialEq, Eq)]
pub struct Destination {
    pub kind: ChannelKind,
    pub url: reqwest::Url,
    pub credential: Credential,
}

#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    /// Slack and Teams: the URL is the credential.
    InUrl,
    /// PagerDuty's integration key.
    RoutingKey(String),
    /// A Standard Webhooks signing key: the bytes after `whsec_`, base64-decoded.
    SigningKey(Vec<u8>),
}

impl std::fmt::Debug for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Destination")
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

impl Destination {
    /// Identifies the entry's whole content without revealing it: a destination
    /// disabled by a `410 Gone` stays disabled until its entry changes.
    pub fn fingerprint(&self) -> [u8; 32] {
        let mut h = blake3::Hasher::new();
        h.update(self.kind.as_str().as_bytes());
        h.update(&[0]);
        h.update(self.url.as_str().as_bytes());
        h.update(&[0]);
        match &self.credential {
            Credential::InUrl => {}
            Credential::RoutingKey(k) => {
                h.update(k.as_bytes());
            }
            Credential::SigningKey(k) => {
                h.update(k);
            }
        }
        *h.finalize().as_bytes()
    }
}

/// Every destination of a file, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Destinations(BTreeMap<DestinationName, Destination>);

/// The destinations as the service knows them now; replaced whole on SIGHUP.
pub type Shared = tokio::sync::watch::Receiver<Arc<Destinations>>;

impl Destinations {
    /// Reads and validates a file. The error names the file, the entry and the field.
    pub fn load(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the destinations file {}: {e}", path.display()))?;
        Self::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn parse(text: &str) -> Result<Self, String> {
        // toml's errors quote the offending line, which may hold a credential: only
        // its position is kept.
        let doc: toml::Table = text.parse().map_err(|e: toml::de::Error| match e.span() {
            Some(span) => format!(
                "not valid TOML at line {}",
                text[..span.start].matches('\n').count() + 1
            ),
            None => "not valid TOML".to_owned(),
        })?;
        let mut out = BTreeMap::new();
        for (key, value) in &doc {
            if key != "destinations" {
                return Err(format!("unknown table [{key}]: only [destinations.<name>]"));
            }
            let toml::Value::Table(entries) = value else {
                return Err("`destinations` must be a table of [destinations.<name>]".into());
            };
            for (name, entry) in entries {
                let parsed = DestinationName::parse(name)
                    .map_err(|e| format!("destinations.{name}: the name {e}"))?;
                let toml::Value::Table(fields) = entry else {
                    return Err(format!("destinations.{name}: must be a table"));
                };
                let d = entry_of(fields).map_err(|e| format!("destinations.{name}.{e}"))?;
                out.insert(parsed, d);
            }
        }
        Ok(Self(out))
    }

    pub fn get(&self, name: &DestinationName) -> Option<&Destination> {
        self.0.get(name)
    }

    /// The kind of the destination named `name`, if there is one.
    pub fn kind_of(&self, name: &str) -> Option<ChannelKind> {
        let name = DestinationName::parse(name).ok()?;
        self.0.get(&name).map(|d| d.kind)
    }

    /// Names and kinds, for `destinations check` and the settings page.
    pub fn summary(&self) -> impl Iterator<Item = (&DestinationName, ChannelKind)> {
        self.0.iter().map(|(n, d)| (n, d.kind))
    }
}

fn base64_engine() -> base64::engine::GeneralPurpose {
    base64::engine::general_purpose::STANDARD
}

use base64::Engine as _;

/// One entry; errors start with the field's name.
fn entry_of(fields: &toml::Table) -> Result<Destination, String> {
    let text = |field: &str| -> Result<Option<&str>, String> {
        match fields.get(field) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(format!("{field}: must be a string")),
        }
    };
    let required = |field: &str| text(field)?.ok_or_else(|| format!("{field}: is required"));
    let kind = match required("kind")? {
        "slack" => ChannelKind::Slack,
        "teams" => ChannelKind::Teams,
        "pagerduty" => ChannelKind::Pagerduty,
        "webhook" => ChannelKind::Webhook,
        _ => return Err("kind: must be slack, teams, pagerduty or webhook".into()),
    };
    let allowed: &[&str] = match kind {
        ChannelKind::Pagerduty => &["kind", "url", "routing_key"],
        ChannelKind::Webhook => &["kind", "url", "secret"],
        _ => &["kind", "url"],
    };
    if let Some(extra) = fields.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(format!(
            "{extra}: not a field of a {kind} destination (it has {})",
            allowed.join(", ")
        ));
    }
    let url = match (kind, text("url")?) {
        (ChannelKind::Pagerduty, None) => PAGERDUTY_EVENTS,
        (_, Some(u)) => u,
        (_, None) => return Err("url: is required".into()),
    };
    let url = reqwest::Url::parse(url)
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http") && u.host().is_some())
        .ok_or("url: must be an http or https URL")?;
    let credential = match kind {
        ChannelKind::Pagerduty => {
            let key = required("routing_key")?;
            if key.is_empty() || key.len() > 128 || !key.bytes().all(|b| b.is_ascii_graphic()) {
                return Err("routing_key: must be 1 to 128 printable characters".into());
            }
            Credential::RoutingKey(key.to_owned())
        }
        ChannelKind::Webhook => {
            let key = required("secret")?
                .strip_prefix("whsec_")
                .and_then(|b64| base64_engine().decode(b64).ok())
                .filter(|k| (24..=64).contains(&k.len()))
                .ok_or("secret: must be `whsec_` and 24 to 64 base64-encoded bytes")?;
            Credential::SigningKey(key)
        }
        _ => Credential::InUrl,
    };
    Ok(Destination {
        kind,
        url,
        credential,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn the_contract_example_parses() {
        let d = Destinations::parse(&format!(
            r#"
[destinations.security-slack]
kind = "slack"
url = "https://hooks.slack.com/services/T0/B0/abc"
[destinations.oncall]
kind = "pagerduty"
routing_key = "R0UTINGKEY0123456789abcdef012345"
[destinations.siem]
kind = "webhook"
url = "https://siem.example.com/hooks/clef"
secret = "{SECRET}"
"#
        ))
        .unwrap();
        assert_eq!(d.kind_of("security-slack"), Some(ChannelKind::Slack));
        assert_eq!(d.kind_of("oncall"), Some(ChannelKind::Pagerduty));
        assert_eq!(d.kind_of("siem"), Some(ChannelKind::Webhook));
        assert_eq!(d.kind_of("nope"), None);
        let oncall = d.get(&DestinationName::parse("oncall").unwrap()).unwrap();
        assert_eq!(oncall.url.as_str(), PAGERDUTY_EVENTS);
    }

    #[test]
    fn errors_name_the_entry_and_field_and_never_a_value() {
        for (text, want) in [
            (
                "[destinations.a]\nkind = \"sms\"\nurl = \"https://x.example\"",
                "destinations.a.kind",
            ),
            (
                "[destinations.a]\nkind = \"slack\"",
                "destinations.a.url: is required",
            ),
            (
                "[destinations.a]\nkind = \"slack\"\nurl = \"ftp://hush-hush\"",
                "destinations.a.url",
            ),
            (
                "[destinations.a]\nkind = \"webhook\"\nurl = \"https://x.example\"\nsecret = \"hush-hush\"",
                "destinations.a.secret",
            ),
            (
                "[destinations.a]\nkind = \"pagerduty\"",
                "destinations.a.routing_key: is required",
            ),
            (
                "[destinations.a]\nkind = \"slack\"\nurl = \"https://x.example\"\ntoken = \"hush-hush\"",
                "destinations.a.token",
            ),
            (
                "[destinations.\"a b\"]\nkind = \"slack\"\nurl = \"https://x.example\"",
                "destinations.a b: the name",
            ),
            (
                "[destinations.a]\nkind = \"slack\"\nurl = \"hush-hush",
                "line 3",
            ),
        ] {
            let e = Destinations::parse(text).unwrap_err();
            assert!(e.contains(want), "{e} lacks {want}");
            assert!(!e.contains("hush-hush"), "{e}");
        }
    }

    #[test]
    fn debug_hides_credentials() {
        let d = Destinations::parse(&format!(
            "[destinations.s]\nkind = \"webhook\"\nurl = \"https://hush.example/x\"\nsecret = \"{SECRET}\""
        ))
        .unwrap();
        let shown = format!("{d:?}");
        assert!(
            !shown.contains("hush") && !shown.contains("MfKQ"),
            "{shown}"
        );
    }
}
