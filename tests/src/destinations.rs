//! A notification destinations file pointing at a test receiver, with planted
//! credentials that no byte the service writes may hold, a service started on it, and
//! the steps the channel tests share.

use crate::client::Client;
use crate::receiver::Receiver;
use crate::service::{Backend, Service};
use serde_json::{Value, json};
use std::path::PathBuf;

/// Planted credentials: none of them may appear in any byte the service writes.
pub const SLACK_TOKEN: &str = "T0PLANTED/B0PLANTED/slackplantedsecret";
pub const TEAMS_TOKEN: &str = "teamsplantedsig0123456789";
pub const ROUTING_KEY: &str = "R0UTINGKEYPLANTED0123456789abcdef";
pub const SIGNING_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// The destinations file for `r`, in a directory that lives as long as the test.
pub fn destinations(r: &Receiver, dir: &tempfile::TempDir) -> PathBuf {
    let path = dir.path().join("destinations.toml");
    let text = format!(
        r#"
[destinations.security-slack]
kind = "slack"
url = "{slack}"
[destinations.critical-slack]
kind = "slack"
url = "{slack_crit}"
[destinations.teams]
kind = "teams"
url = "{teams}"
[destinations.oncall]
kind = "pagerduty"
routing_key = "{ROUTING_KEY}"
url = "{pd}"
[destinations.siem]
kind = "webhook"
url = "{hook}"
secret = "{SIGNING_SECRET}"
"#,
        slack = r.url(&format!("/services/{SLACK_TOKEN}")),
        slack_crit = r.url("/critical"),
        teams = r.url(&format!("/teams/{TEAMS_TOKEN}")),
        pd = r.url("/pagerduty"),
        hook = r.url("/hook"),
    );
    std::fs::write(&path, text).expect("write destinations");
    path
}

pub const SLACK: &str = "/services/T0PLANTED/B0PLANTED/slackplantedsecret";
pub const TEAMS: &str = "/teams/teamsplantedsig0123456789";

pub async fn start(backend: Backend, file: &std::path::Path) -> Service {
    Service::start_with(
        backend,
        None,
        &["--destinations", file.to_str().expect("path")],
        |_| {},
    )
    .await
}

pub async fn set_channels(c: &Client, id: &str, channels: Value) -> crate::client::Resp {
    c.admin(
        "PUT",
        &format!("/api/v1/admin/integrations/{id}/notifications"),
        json!({ "notifications": channels }),
    )
    .await
}

pub fn rule_ids(alerts: &Value) -> Vec<String> {
    let mut ids: Vec<String> = alerts
        .as_array()
        .expect("alerts")
        .iter()
        .map(|a| a["ruleId"].as_str().expect("ruleId").to_owned())
        .collect();
    ids.sort();
    ids
}
