//! Request bodies exactly as clients send them (camelCase, unknown fields rejected).
//! Nothing here is trusted: `crate::report` and the admin parsers turn these into
//! validated domain values at the edge.

use crate::domain::{ChannelKind, HealthStatus, Severity};
use serde::Deserialize;
use utoipa::ToSchema;

/// `POST /api/v1/reports`: one report, as the Clef CLI's `CloudClient` sends it.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
#[schema(example = json!({
    "commitSha": "3f786850e387550fdab836ed7e6dc881de23001b", "branch": "main",
    "commitTimestamp": 1700000000000u64, "cliVersion": "0.1.30",
    "summary": {"filesScanned": 9, "namespaces": ["database", "oauth"], "environments": ["development", "production"],
        "cells": [{"namespace": "oauth", "environment": "production", "healthStatus": "critical",
                   "description": "4 keys, 3 recipients, rotated 12d ago"}],
        "violations": 1, "passed": false},
    "drift": [{"namespace": "database", "isDrifted": true, "driftCount": 2}],
    "policyResults": [{"ruleId": "missing_keys", "ruleName": "Missing encryption keys", "passed": false,
        "severity": "critical", "message": "oauth/production is missing a key",
        "scope": {"namespace": "oauth", "environment": "production"}}],
    "ciContext": {"provider": "github-actions", "pipelineUrl": "https://ci.example.com/runs/1", "trigger": "push"}
}))]
pub struct ReportIn {
    /// 40 or 64 hexadecimal characters.
    pub commit_sha: String,
    /// A git branch name, or `""`: in a batch, a report with an empty branch belongs to
    /// the branch of the batch's HEAD; alone, it is stored without a branch and never
    /// drives alerts.
    pub branch: String,
    #[serde(default)]
    pub commit_timestamp: Option<u64>,
    #[serde(default)]
    pub cli_version: Option<String>,
    pub summary: SummaryIn,
    #[serde(default)]
    pub drift: Vec<DriftIn>,
    #[serde(default)]
    pub policy_results: Vec<PolicyResultIn>,
    /// Also accepted as `ci` (the name the shipped client uses). Stored only when the
    /// integration collects CI context.
    #[serde(default, alias = "ci")]
    pub ci_context: Option<CiContextIn>,
}

/// `POST /api/v1/reports/batch`: 1 to 500 reports, oldest to newest; the last one is
/// HEAD. All or nothing.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchIn {
    pub reports: Vec<ReportIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SummaryIn {
    #[serde(default)]
    pub files_scanned: u32,
    #[serde(default)]
    pub namespaces: Vec<String>,
    #[serde(default)]
    pub environments: Vec<String>,
    #[serde(default)]
    pub cells: Vec<CellIn>,
    #[serde(default)]
    pub violations: u32,
    pub passed: bool,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CellIn {
    pub namespace: String,
    pub environment: String,
    pub health_status: HealthStatus,
    #[serde(default)]
    pub description: String,
}

/// A drift entry: `driftCount` (shipped client) and/or `severity` + `summary` (docs).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct DriftIn {
    pub namespace: String,
    pub is_drifted: bool,
    #[serde(default)]
    pub drift_count: Option<u32>,
    #[serde(default)]
    pub severity: Option<Severity>,
    #[serde(default)]
    pub summary: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicyResultIn {
    pub rule_id: String,
    #[serde(default)]
    pub rule_name: Option<String>,
    pub passed: bool,
    pub severity: Severity,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub scope: Option<ScopeIn>,
}

/// `"namespace/environment"`, `"namespace"`, or `{"namespace", "environment"?}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ScopeIn {
    Text(String),
    Parts(ScopePartsIn),
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScopePartsIn {
    #[serde(default)]
    pub namespace: Option<String>,
    #[serde(default)]
    pub environment: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CiContextIn {
    pub provider: String,
    #[serde(default)]
    pub pipeline_url: Option<String>,
    #[serde(default)]
    pub trigger: Option<String>,
}

/// `POST /api/v1/admin/integrations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct NewIntegrationIn {
    pub name: String,
    #[serde(default, rename = "collectCIContext")]
    pub collect_ci_context: Option<bool>,
    #[serde(default)]
    pub tracked_branches: Option<Vec<String>>,
}

/// `PATCH /api/v1/admin/integrations/{id}`: a new name.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenameIn {
    pub name: String,
}

/// `PUT /api/v1/admin/integrations/{id}/config`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ConfigIn {
    #[serde(default, rename = "collectCIContext")]
    pub collect_ci_context: Option<bool>,
    #[serde(default)]
    pub tracked_branches: Option<Vec<String>>,
    /// Where the encrypted files live, e.g. `{namespace}/{environment}.enc.yaml`.
    #[serde(default)]
    pub file_pattern: Option<String>,
}

/// `POST /api/v1/admin/integrations/{id}/keys` and `POST /api/v1/admin/tokens`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyIn {
    #[serde(default)]
    pub label: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTokenIn {
    pub role: crate::domain::Role,
    #[serde(default)]
    pub label: String,
}

/// `PUT /api/v1/admin/integrations/{id}/policies`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PoliciesIn {
    pub policies: Vec<PolicyIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct PolicyIn {
    pub rule_id: String,
    pub rule_name: String,
    pub severity: Severity,
    #[serde(default)]
    pub params: Option<serde_json::Value>,
}

/// `PUT /api/v1/admin/integrations/{id}/notifications`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NotificationsIn {
    pub notifications: Vec<ChannelIn>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ChannelIn {
    pub channel: ChannelKind,
    /// An email address for `email`; the name of a destination of the channel's kind
    /// in the operator's destinations file for the others.
    pub target: String,
    pub min_severity: Severity,
    /// Also send a notice for each alert a report resolves. Default `false`.
    #[serde(default)]
    pub send_resolved: bool,
}
