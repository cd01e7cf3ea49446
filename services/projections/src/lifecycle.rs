//! The alert lifecycle of docs/api.md as a pure fold over events, generic over
//! where its state lives ([`AlertState`]): redb in the projectors, maps in tests.
//!
//! - An alert's identity is (integration, rule, scope). It opens when a failing result
//!   appears on a tracked branch's HEAD report and resolves when a later HEAD report
//!   shows the identity passing or absent. A failure after resolution opens a new alert
//!   whose `previous` is the last one of that identity.
//! - Only HEAD reports of tracked branches drive alerts: a single report is its own
//!   HEAD; a batch's HEAD is its last report. A commit seen before (in any report of the
//!   integration) never changes alert state again.
//! - While open, an alert follows the latest failing result's severity and message.
//! - Acknowledging records who and when and changes nothing else.

use clef_pro_schema::domain::{Branch, CommitSha, RuleId, Scope, Severity};
use clef_pro_schema::event::Event;
use clef_pro_schema::ids::{AlertId, IntegrationId};
use clef_pro_schema::report::Report;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

pub type Identity = (RuleId, Scope);

/// Tracked branches when an integration does not say.
pub fn default_tracked() -> Vec<Branch> {
    ["main", "master"]
        .iter()
        .filter_map(|b| Branch::parse(b).ok())
        .collect()
}

/// Per-integration lifecycle state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationAlerts {
    pub tracked: Vec<Branch>,
    pub open: BTreeMap<Identity, AlertId>,
    pub last: BTreeMap<Identity, AlertId>,
}

impl Default for IntegrationAlerts {
    fn default() -> Self {
        Self {
            tracked: default_tracked(),
            open: BTreeMap::new(),
            last: BTreeMap::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Open,
    Resolved,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Resolved => "resolved",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alert {
    pub id: AlertId,
    pub integration: IntegrationId,
    pub rule_id: RuleId,
    pub rule_name: String,
    pub scope: Scope,
    pub severity: Severity,
    pub message: String,
    pub status: Status,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<u64>,
    pub opened_by: CommitSha,
    pub opened_at: u64,
    pub opened_seq: u64,
    pub resolved_by: Option<CommitSha>,
    pub resolved_at: Option<u64>,
    pub previous: Option<AlertId>,
}

impl Alert {
    pub fn acknowledged(&self) -> bool {
        self.acknowledged_at.is_some()
    }
}

/// Where the lifecycle keeps its state.
pub trait AlertState {
    type Error;
    fn integration(&mut self, id: &IntegrationId)
    -> Result<Option<IntegrationAlerts>, Self::Error>;
    fn put_integration(
        &mut self,
        id: &IntegrationId,
        v: &IntegrationAlerts,
    ) -> Result<(), Self::Error>;
    fn alert(&self, id: &AlertId) -> Result<Option<Alert>, Self::Error>;
    fn put_alert(&mut self, a: &Alert) -> Result<(), Self::Error>;
    /// A report found `a` still failing, as it was: nothing of it to write. Whatever
    /// the state counts per report is counted here (the alerts store's revisions).
    fn still_failing(&mut self, _a: &Alert) -> Result<(), Self::Error> {
        Ok(())
    }
    /// Marks the commit seen; true when it was not seen before.
    fn first_sight(
        &mut self,
        integration: &IntegrationId,
        commit: &CommitSha,
    ) -> Result<bool, Self::Error>;
}

/// What a HEAD report did, for the outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub integration: IntegrationId,
    pub commit: CommitSha,
    pub branch: Branch,
    pub opened: Vec<AlertId>,
    pub resolved: Vec<AlertId>,
    /// Every alert open after the report, in identity order.
    pub open: Vec<AlertId>,
}

/// Applies one event. Returns the HEAD outcome when a report drove alerts.
pub fn apply<S: AlertState>(s: &mut S, seq: u64, event: &Event) -> Result<Option<Head>, S::Error> {
    match event {
        Event::IntegrationCreated {
            id,
            tracked_branches,
            ..
        } => {
            let mut v = s.integration(id)?.unwrap_or_default();
            v.tracked = tracked_branches.clone();
            s.put_integration(id, &v)?;
        }
        Event::IntegrationConfiguredV2 {
            id,
            tracked_branches: Some(t),
            ..
        } => {
            let mut v = s.integration(id)?.unwrap_or_default();
            v.tracked = t.clone();
            s.put_integration(id, &v)?;
        }
        Event::ReportSubmitted {
            integration,
            report,
            at,
        } => {
            return on_reports(s, seq, integration, std::slice::from_ref(report), *at);
        }
        Event::BatchSubmitted {
            integration,
            reports,
            at,
        } => {
            return on_reports(s, seq, integration, reports, *at);
        }
        Event::AlertAcknowledged { alert, by, at, .. } => {
            if let Some(mut a) = s.alert(alert)?
                && a.status == Status::Open
                && !a.acknowledged()
            {
                a.acknowledged_by = Some(by.clone());
                a.acknowledged_at = Some(*at);
                s.put_alert(&a)?;
            }
        }
        _ => {}
    }
    Ok(None)
}

fn on_reports<S: AlertState>(
    s: &mut S,
    seq: u64,
    integration: &IntegrationId,
    reports: &[Report],
    at: u64,
) -> Result<Option<Head>, S::Error> {
    let Some(head) = reports.last() else {
        return Ok(None);
    };
    let head_is_new = s.first_sight(integration, &head.commit)?;
    for r in &reports[..reports.len() - 1] {
        s.first_sight(integration, &r.commit)?;
    }
    let mut state = s.integration(integration)?.unwrap_or_default();
    // A branchless report (sent alone without one) is history only, like any report on
    // an untracked branch.
    let Some(branch) = head.branch.as_ref().filter(|b| state.tracked.contains(b)) else {
        return Ok(None);
    };
    if !head_is_new {
        return Ok(None);
    }
    let failures = head.failures();
    let mut out = Head {
        integration: integration.clone(),
        commit: head.commit.clone(),
        branch: branch.clone(),
        opened: Vec::new(),
        resolved: Vec::new(),
        open: Vec::new(),
    };
    for (identity, id) in state.open.clone() {
        if !failures.contains_key(&identity)
            && let Some(mut a) = s.alert(&id)?
        {
            a.status = Status::Resolved;
            a.resolved_by = Some(head.commit.clone());
            a.resolved_at = Some(at);
            s.put_alert(&a)?;
            state.open.remove(&identity);
            out.resolved.push(id);
        }
    }
    for (identity, result) in failures {
        match state.open.get(&identity) {
            Some(id) => {
                if let Some(mut a) = s.alert(id)? {
                    if (a.severity, &a.message, &a.rule_name)
                        == (result.severity, &result.message, &result.rule_name)
                    {
                        s.still_failing(&a)?;
                    } else {
                        a.severity = result.severity;
                        a.message = result.message.clone();
                        a.rule_name = result.rule_name.clone();
                        s.put_alert(&a)?;
                    }
                }
            }
            None => {
                let id = AlertId::derive(&[
                    integration.as_str().as_bytes(),
                    identity.0.as_str().as_bytes(),
                    identity.1.to_string().as_bytes(),
                    head.commit.as_str().as_bytes(),
                ]);
                let a = Alert {
                    id: id.clone(),
                    integration: integration.clone(),
                    rule_id: identity.0.clone(),
                    rule_name: result.rule_name.clone(),
                    scope: identity.1.clone(),
                    severity: result.severity,
                    message: result.message.clone(),
                    status: Status::Open,
                    acknowledged_by: None,
                    acknowledged_at: None,
                    opened_by: head.commit.clone(),
                    opened_at: at,
                    opened_seq: seq,
                    resolved_by: None,
                    resolved_at: None,
                    previous: state.last.get(&identity).cloned(),
                };
                s.put_alert(&a)?;
                state.open.insert(identity.clone(), id.clone());
                state.last.insert(identity, id.clone());
                out.opened.push(id);
            }
        }
    }
    out.open = state.open.values().cloned().collect();
    s.put_integration(integration, &state)?;
    Ok(Some(out))
}

/// The lifecycle state in memory: what the unit and property tests fold into.
#[derive(Debug, Default, Clone)]
pub struct MemAlerts {
    pub integrations: BTreeMap<IntegrationId, IntegrationAlerts>,
    pub alerts: BTreeMap<AlertId, Alert>,
    pub seen: std::collections::BTreeSet<(IntegrationId, CommitSha)>,
}

impl AlertState for MemAlerts {
    type Error = std::convert::Infallible;
    fn integration(
        &mut self,
        id: &IntegrationId,
    ) -> Result<Option<IntegrationAlerts>, Self::Error> {
        Ok(self.integrations.get(id).cloned())
    }
    fn put_integration(
        &mut self,
        id: &IntegrationId,
        v: &IntegrationAlerts,
    ) -> Result<(), Self::Error> {
        self.integrations.insert(id.clone(), v.clone());
        Ok(())
    }
    fn alert(&self, id: &AlertId) -> Result<Option<Alert>, Self::Error> {
        Ok(self.alerts.get(id).cloned())
    }
    fn put_alert(&mut self, a: &Alert) -> Result<(), Self::Error> {
        self.alerts.insert(a.id.clone(), a.clone());
        Ok(())
    }
    fn first_sight(
        &mut self,
        integration: &IntegrationId,
        commit: &CommitSha,
    ) -> Result<bool, Self::Error> {
        Ok(self.seen.insert((integration.clone(), commit.clone())))
    }
}
