//! JSON shapes of what the read API returns, built from the projections. The dashboard
//! renders the same values.

use crate::auth::Caller;
use crate::error::ApiError;
use crate::routes::ingest::report_id;
use crate::state::AppState;
use clef_pro_projections::lifecycle::{Alert, Status};
use clef_pro_projections::matrix::{HeadRef, ReportSummary, StoredReport};
use clef_pro_projections::outbox::{Intent, IntentStatus};
use clef_pro_projections::registry::Integration;
use clef_pro_schema::domain::Severity;
use clef_pro_schema::ids::IntegrationId;
use clef_pro_schema::report::{Drift, PolicyResult};
use serde_json::{Value, json};

/// Parses an id from a path and checks that it exists and that the caller may see it.
/// A key of another integration gets the same 404 as an unknown id.
pub fn visible_integration(
    state: &AppState,
    caller: &Caller,
    id: &str,
) -> Result<IntegrationId, ApiError> {
    let id = IntegrationId::parse(id).map_err(|_| ApiError::NotFound("integration"))?;
    if let Caller::Key(k) = caller
        && k.integration != id
    {
        return Err(ApiError::NotFound("integration"));
    }
    integration(state, &id)?;
    Ok(id)
}

pub fn integration(state: &AppState, id: &IntegrationId) -> Result<Integration, ApiError> {
    state
        .projections()
        .registry(|r| r.integration(id))?
        .ok_or(ApiError::NotFound("integration"))
}

pub fn collects_ci(state: &AppState, id: &IntegrationId) -> Result<bool, ApiError> {
    // A key always belongs to an integration; a missing one means the registry lags.
    Ok(integration(state, id)
        .map(|i| i.collect_ci_context)
        .unwrap_or(false))
}

fn head_json(h: &Option<HeadRef>) -> Value {
    match h {
        Some(h) => {
            json!({"commitSha": h.commit.as_str(), "branch": h.branch.as_str(), "receivedAt": h.received_at})
        }
        None => Value::Null,
    }
}

/// Open alerts by severity, counting acknowledged ones (acknowledging never un-counts).
pub fn open_counts(alerts: &[Alert]) -> Value {
    let mut counts = serde_json::Map::new();
    for s in Severity::ALL {
        let n = alerts
            .iter()
            .filter(|a| a.status == Status::Open && a.severity == s)
            .count();
        counts.insert(s.as_str().into(), n.into());
    }
    Value::Object(counts)
}

pub fn integration_json(state: &AppState, id: &IntegrationId) -> Result<Value, ApiError> {
    let i = integration(state, id)?;
    let heads = state.projections().matrix(|m| m.heads(id))?;
    let alerts = state.projections().alerts(|a| a.open(id))?;
    let policies: Vec<Value> = i
        .policies
        .iter()
        .map(|p| {
            let params: Value = serde_json::from_str(&p.params).unwrap_or(Value::Null);
            json!({"ruleId": p.rule_id.as_str(), "ruleName": p.rule_name, "severity": p.severity, "params": params})
        })
        .collect();
    let channels: Vec<Value> = i
        .channels
        .iter()
        .map(|c| json!({"channel": "email", "target": c.target.as_str(), "minSeverity": c.min_severity}))
        .collect();
    Ok(json!({
        "id": i.id.as_str(),
        "name": i.name,
        "lastCommitSha": heads.latest_tracked.as_ref().map(|h| h.commit.as_str()),
        "config": {"collectCIContext": i.collect_ci_context, "trackedBranches": i.tracked_branches,
                   "filePattern": i.file_pattern},
        "collectCIContext": i.collect_ci_context,
        "trackedBranches": i.tracked_branches,
        "policies": policies,
        "notifications": channels,
        "latestReport": head_json(&heads.latest),
        "latestTrackedReport": head_json(&heads.latest_tracked),
        "reportCount": heads.reports,
        "openAlerts": open_counts(&alerts),
        "createdAt": i.created_at,
    }))
}

fn result_json(r: &PolicyResult) -> Value {
    json!({
        "ruleId": r.rule_id.as_str(), "ruleName": r.rule_name, "passed": r.passed,
        "severity": r.severity, "message": r.message, "scope": r.scope.to_string(),
    })
}

fn drift_json(d: &Drift) -> Value {
    json!({
        "namespace": d.namespace.as_str(), "isDrifted": d.is_drifted, "driftCount": d.drift_count,
        "severity": d.severity, "summary": d.summary,
    })
}

/// One report in a history listing.
pub fn report_summary_json(s: &ReportSummary) -> Value {
    json!({
        "id": report_id(&s.integration, &s.commit).as_str(),
        "commitSha": s.commit.as_str(),
        "branch": s.branch.as_str(),
        "commitTimestamp": s.commit_timestamp,
        "receivedAt": s.received_at,
        "cliVersion": s.cli_version,
        "passed": s.passed,
        "violations": s.violations,
        "failedResults": s.failed_results,
        "driftedNamespaces": s.drifted_namespaces,
        "secretsRedacted": s.secrets_redacted,
    })
}

/// A whole report: the matrix at its commit.
pub fn matrix_json(s: &StoredReport, latest: bool) -> Value {
    let r = &s.report;
    let mut v = report_summary_json(&ReportSummary::of(s));
    let cells: Vec<Value> = r
        .summary
        .cells
        .iter()
        .map(|c| {
            json!({"namespace": c.namespace.as_str(), "environment": c.environment.as_str(),
                   "healthStatus": c.health.as_str(), "description": c.description})
        })
        .collect();
    let extra = json!({
        "integrationId": s.integration.as_str(),
        "commit": r.commit.as_str(),
        "latest": latest,
        "summary": {
            "filesScanned": r.summary.files_scanned,
            "namespaces": r.summary.namespaces,
            "environments": r.summary.environments,
            "violations": r.summary.violations,
            "passed": r.summary.passed,
        },
        "cells": cells,
        "drift": r.drift.iter().map(drift_json).collect::<Vec<_>>(),
        "policyResults": r.policy_results.iter().map(result_json).collect::<Vec<_>>(),
        "ciContext": r.ci_context.as_ref().map(|c| json!({"provider": c.provider, "pipelineUrl": c.pipeline_url, "trigger": c.trigger})),
    });
    if let (Some(a), Value::Object(b)) = (v.as_object_mut(), extra) {
        a.extend(b);
    }
    v
}

pub fn intent_json(i: &Intent) -> Value {
    let (status, at, detail) = match &i.status {
        IntentStatus::Pending => ("pending", None, None),
        IntentStatus::Delivered { at, .. } => ("sent", Some(*at), None),
        IntentStatus::Failed { reason, at } => ("failed", Some(*at), Some(reason.as_str())),
    };
    json!({"id": i.id.as_str(), "target": i.target.as_str(), "commitSha": i.commit.as_str(),
           "status": status, "at": at, "reason": detail})
}

pub fn alert_json(a: &Alert, notifications: &[Intent]) -> Value {
    json!({
        "id": a.id.as_str(),
        "integrationId": a.integration.as_str(),
        "ruleId": a.rule_id.as_str(),
        "ruleName": a.rule_name,
        "scope": a.scope.to_string(),
        "severity": a.severity,
        "status": a.status.as_str(),
        "acknowledged": a.acknowledged(),
        "acknowledgedBy": a.acknowledged_by,
        "acknowledgedAt": a.acknowledged_at,
        "openedByCommit": a.opened_by.as_str(),
        "openedAt": a.opened_at,
        "resolvedByCommit": a.resolved_by.as_ref().map(|c| c.as_str()),
        "resolvedAt": a.resolved_at,
        "previousAlertId": a.previous.as_ref().map(|p| p.as_str()),
        "message": a.message,
        "notifications": notifications.iter().map(intent_json).collect::<Vec<_>>(),
    })
}
