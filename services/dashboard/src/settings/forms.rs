//! The settings page's table forms (`name.0`, `name.1`, …), read into the admin API's
//! request types, so that a form and its endpoint validate the same way.

use crate::components::parse_severity;
use clef_pro_api::error::ApiError;
use clef_pro_schema::domain::{ChannelKind, Severity};
use clef_pro_schema::wire::{ChannelIn, NotificationsIn, PoliciesIn, PolicyIn};
use std::collections::HashMap;

/// Rows `name.0`, `name.1`, … of a table form, up to the first row without `first`.
fn rows<'a>(form: &'a HashMap<String, String>, first: &'a str) -> impl Iterator<Item = usize> + 'a {
    (0..).take_while(move |n| form.contains_key(&format!("{first}.{n}")))
}

fn field<'a>(form: &'a HashMap<String, String>, name: &str, n: usize) -> &'a str {
    form.get(&format!("{name}.{n}")).map_or("", |s| s.trim())
}

fn severity_field(
    form: &HashMap<String, String>,
    name: &str,
    n: usize,
) -> Result<Severity, ApiError> {
    parse_severity(field(form, name, n)).ok_or_else(|| {
        ApiError::invalid(
            format!("{name}.{n}"),
            "must be critical, error, warning or info",
        )
    })
}

pub(super) fn policies_in(form: &HashMap<String, String>) -> Result<PoliciesIn, ApiError> {
    let policies = rows(form, "ruleId")
        .filter(|n| !field(form, "ruleId", *n).is_empty())
        .map(|n| {
            let params = match field(form, "params", n) {
                "" => None,
                p => Some(serde_json::from_str(p).map_err(|_| {
                    ApiError::invalid(
                        format!("params.{n}"),
                        "must be JSON, such as {\"maxAgeDays\": 90}",
                    )
                })?),
            };
            Ok(PolicyIn {
                rule_id: field(form, "ruleId", n).to_owned(),
                rule_name: field(form, "ruleName", n).to_owned(),
                severity: severity_field(form, "severity", n)?,
                params,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(PoliciesIn { policies })
}

pub(super) fn notifications_in(
    form: &HashMap<String, String>,
) -> Result<NotificationsIn, ApiError> {
    let notifications = rows(form, "target")
        .filter(|n| !field(form, "target", *n).is_empty())
        .map(|n| {
            let kind = field(form, "channel", n);
            let channel = ChannelKind::ALL
                .into_iter()
                .find(|k| k.as_str() == kind || kind.is_empty() && *k == ChannelKind::Email)
                .ok_or_else(|| {
                    ApiError::invalid(
                        format!("channel.{n}"),
                        "must be email, slack, teams, pagerduty or webhook",
                    )
                })?;
            Ok(ChannelIn {
                channel,
                target: field(form, "target", n).to_owned(),
                min_severity: severity_field(form, "minSeverity", n)?,
                send_resolved: field(form, "sendResolved", n) == "on",
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok(NotificationsIn { notifications })
}
