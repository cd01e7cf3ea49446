//! Creating and configuring integrations: collection, tracked branches, the OTLP file
//! pattern, policies and notification channels.

use super::{EVERYWHERE, MAX_ITEMS, name};
use crate::App;
use crate::error::{Error, Result};
use crate::principal::Person;
use clef_pro_projections::Kind;
use clef_pro_schema::domain::{Branch, ChannelKind, DestinationName, EmailAddress, RuleId};
use clef_pro_schema::event::{Channel, Event, Policy, Target};
use clef_pro_schema::ids::IntegrationId;
use clef_pro_schema::report::{FieldError, text};
use clef_pro_schema::wire::{ConfigIn, NewIntegrationIn, NotificationsIn, PoliciesIn, RenameIn};

fn branches(field: &str, v: Option<Vec<String>>) -> Result<Option<Vec<Branch>>> {
    let Some(v) = v else { return Ok(None) };
    if v.is_empty() || v.len() > MAX_ITEMS {
        return Err(Error::invalid(
            field,
            format!("must list 1 to {MAX_ITEMS} branches"),
        ));
    }
    v.iter()
        .enumerate()
        .map(|(i, b)| Branch::parse(b).map_err(|e| Error::invalid(format!("{field}[{i}]"), e.0)))
        .collect::<Result<Vec<_>>>()
        .map(Some)
}

/// A file pattern such as `{namespace}/{environment}.enc.yaml`: it must name the
/// namespace, may name the environment, and is at most 200 characters.
fn file_pattern(p: String) -> Result<String> {
    let p = name("filePattern", p, true)?;
    if !p.contains("{namespace}") {
        return Err(Error::invalid("filePattern", "must contain {namespace}"));
    }
    Ok(p)
}

impl App {
    /// Creates an integration; returns its id.
    pub async fn create_integration(
        &self,
        by: &Person,
        req: NewIntegrationIn,
    ) -> Result<IntegrationId> {
        let id = IntegrationId::random();
        let sealed = self.seal(
            by.did(Event::IntegrationCreated {
                id: id.clone(),
                name: name("name", req.name, true)?,
                collect_ci_context: req.collect_ci_context.unwrap_or(false),
                tracked_branches: branches("trackedBranches", req.tracked_branches)?
                    .unwrap_or_else(clef_pro_projections::lifecycle::default_tracked),
                at: clef_pro_schema::now_ms(),
            }),
        );
        self.append(&sealed, EVERYWHERE).await?;
        tracing::info!(integration = %id, "integration created");
        Ok(id)
    }

    /// Renames the integration; its id, keys and history stay.
    pub async fn rename_integration(
        &self,
        by: &Person,
        id: &IntegrationId,
        req: RenameIn,
    ) -> Result<()> {
        let sealed = self.seal(by.did(Event::IntegrationRenamed {
            id: id.clone(),
            name: name("name", req.name, true)?,
            at: clef_pro_schema::now_ms(),
        }));
        self.append(&sealed, &[Kind::Registry, Kind::Outbox])
            .await?;
        Ok(())
    }

    /// Replaces the integration's policies.
    pub async fn set_policies(
        &self,
        by: &Person,
        id: &IntegrationId,
        req: PoliciesIn,
    ) -> Result<()> {
        if req.policies.len() > MAX_ITEMS {
            return Err(Error::invalid(
                "policies",
                format!("at most {MAX_ITEMS} policies"),
            ));
        }
        let policies = req
            .policies
            .into_iter()
            .enumerate()
            .map(|(i, p)| {
                let f = |n: &str| format!("policies[{i}].{n}");
                let params = p
                    .params
                    .map(|v| v.to_string())
                    .unwrap_or_else(|| "{}".into());
                Ok(Policy {
                    rule_id: RuleId::parse(&p.rule_id)
                        .map_err(|e| FieldError::new(f("ruleId"), e.0))?,
                    rule_name: name(&f("ruleName"), p.rule_name, true)?,
                    severity: p.severity,
                    params: text(|| f("params"), params)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let sealed = self.seal(by.did(Event::PoliciesSet {
            integration: id.clone(),
            policies,
            at: clef_pro_schema::now_ms(),
        }));
        self.append(&sealed, &[Kind::Registry]).await?;
        Ok(())
    }

    /// Replaces the integration's notification channels. A channel other than email
    /// names one of the operator's destinations, of its kind.
    pub async fn set_notifications(
        &self,
        by: &Person,
        id: &IntegrationId,
        req: NotificationsIn,
    ) -> Result<()> {
        if req.notifications.len() > MAX_ITEMS {
            return Err(Error::invalid(
                "notifications",
                format!("at most {MAX_ITEMS} channels"),
            ));
        }
        let destinations = self.destinations();
        let channels = req
            .notifications
            .into_iter()
            .enumerate()
            .map(|(i, c)| {
                let field = format!("notifications[{i}].target");
                let target = c.target.trim();
                let target = match c.channel {
                    ChannelKind::Email => Target::Email(
                        EmailAddress::parse(target).map_err(|e| Error::invalid(&field, e.0))?,
                    ),
                    kind => {
                        let name = DestinationName::parse(target)
                            .map_err(|e| Error::invalid(&field, e.0))?;
                        match destinations.kind_of(name.as_str()) {
                            Some(k) if k == kind => Target::Destination { kind, name },
                            Some(k) => {
                                return Err(Error::invalid(
                                    &field,
                                    format!("names a {k} destination, not a {kind} one"),
                                ));
                            }
                            None => {
                                return Err(Error::invalid(
                                    &field,
                                    format!(
                                        "names no {kind} destination of the operator's destinations file"
                                    ),
                                ));
                            }
                        }
                    }
                };
                Ok(Channel {
                    target,
                    min_severity: c.min_severity,
                    send_resolved: c.send_resolved,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let sealed = self.seal(by.did(Event::NotificationsSetV2 {
            integration: id.clone(),
            channels,
            at: clef_pro_schema::now_ms(),
        }));
        self.append(&sealed, &[Kind::Registry, Kind::Outbox])
            .await?;
        Ok(())
    }

    /// Changes the integration's collection, tracked branches and file pattern.
    pub async fn set_config(&self, by: &Person, id: &IntegrationId, req: ConfigIn) -> Result<()> {
        let sealed = self.seal(by.did(Event::IntegrationConfiguredV2 {
            id: id.clone(),
            collect_ci_context: req.collect_ci_context,
            tracked_branches: branches("trackedBranches", req.tracked_branches)?,
            file_pattern: req.file_pattern.map(file_pattern).transpose()?,
            at: clef_pro_schema::now_ms(),
        }));
        self.append(&sealed, EVERYWHERE).await?;
        Ok(())
    }
}
