//! What the read API returns, as typed view models built from the projections. The JSON
//! API serves them, the dashboard renders them, and the OpenAPI document describes them
//! from the same types, so the three cannot disagree.

use clef_pro_projections::alerts::OpenCounts;
use clef_pro_projections::matrix::{HeadRef, Heads, ReportSummary, StoredReport};
use clef_pro_projections::registry::Integration;
use clef_pro_schema::domain::{ChannelKind, CommitSha, HealthStatus, Severity};
use clef_pro_schema::ids::{IntegrationId, ReportId};
use clef_pro_schema::report::{Drift, PolicyResult};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

mod access;
mod alerts;
mod triage;
pub use access::{AuditPage, AuditView, KeyList, KeyView, TokenList, TokenView};
pub use alerts::{AlertList, AlertView, NotificationView};
pub use triage::{InboxAlertView, InboxPage, InsightsView, TimeToResolveView, TrendPointView};

/// A pointer to a report.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HeadView {
    pub commit_sha: String,
    /// `null` for a report sent without a branch.
    pub branch: Option<String>,
    /// Milliseconds since the Unix epoch.
    pub received_at: u64,
}

impl HeadView {
    pub(crate) fn of(h: &HeadRef) -> Self {
        Self {
            commit_sha: h.commit.to_string(),
            branch: h.branch.as_ref().map(ToString::to_string),
            received_at: h.received_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PolicyView {
    pub rule_id: String,
    pub rule_name: String,
    pub severity: Severity,
    /// The rule's parameters, as the admin set them.
    pub params: Value,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChannelView {
    pub channel: ChannelKind,
    /// An email address, or the name of a destination (never its URL or credential).
    pub target: String,
    pub min_severity: Severity,
    pub send_resolved: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigView {
    #[serde(rename = "collectCIContext")]
    pub collect_ci_context: bool,
    pub tracked_branches: Vec<String>,
    pub file_pattern: Option<String>,
}

/// An integration, as `GET /api/v1/integrations/{id}` returns it (the Clef CLI reads
/// `lastCommitSha` and `config.collectCIContext`).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({
    "id": "int_4f7c2a19d03e5b86", "name": "payments", "lastCommitSha": "3f786850e387550fdab836ed7e6dc881de23001b",
    "config": {"collectCIContext": true, "trackedBranches": ["main", "master"], "filePattern": null},
    "collectCIContext": true, "trackedBranches": ["main", "master"], "policies": [], "notifications": [],
    "latestReport": {"commitSha": "3f786850e387550fdab836ed7e6dc881de23001b", "branch": "main", "receivedAt": 1700000000000u64},
    "latestTrackedReport": {"commitSha": "3f786850e387550fdab836ed7e6dc881de23001b", "branch": "main", "receivedAt": 1700000000000u64},
    "reportCount": 12, "openAlerts": {"critical": 1, "error": 0, "warning": 2, "info": 0}, "createdAt": 1690000000000u64
}))]
pub struct IntegrationView {
    pub id: String,
    pub name: String,
    /// The newest commit reported on a tracked branch; the CLI backfills from it.
    pub last_commit_sha: Option<String>,
    pub config: ConfigView,
    #[serde(rename = "collectCIContext")]
    pub collect_ci_context: bool,
    pub tracked_branches: Vec<String>,
    pub policies: Vec<PolicyView>,
    pub notifications: Vec<ChannelView>,
    pub latest_report: Option<HeadView>,
    pub latest_tracked_report: Option<HeadView>,
    pub report_count: u64,
    pub open_alerts: OpenCounts,
    pub created_at: u64,
}

impl IntegrationView {
    /// An integration with its heads and its open alerts' counts.
    pub fn of(i: Integration, heads: &Heads, counts: OpenCounts) -> Self {
        let tracked: Vec<String> = i.tracked_branches.iter().map(ToString::to_string).collect();
        IntegrationView {
            id: i.id.to_string(),
            name: i.name,
            last_commit_sha: heads.latest_tracked.as_ref().map(|h| h.commit.to_string()),
            config: ConfigView {
                collect_ci_context: i.collect_ci_context,
                tracked_branches: tracked.clone(),
                file_pattern: i.file_pattern,
            },
            collect_ci_context: i.collect_ci_context,
            tracked_branches: tracked,
            policies: i
                .policies
                .iter()
                .map(|p| PolicyView {
                    rule_id: p.rule_id.to_string(),
                    rule_name: p.rule_name.clone(),
                    severity: p.severity,
                    params: serde_json::from_str(&p.params).unwrap_or(Value::Null),
                })
                .collect(),
            notifications: i
                .channels
                .iter()
                .map(|c| ChannelView {
                    channel: c.target.kind(),
                    target: c.target.name().to_owned(),
                    min_severity: c.min_severity,
                    send_resolved: c.send_resolved,
                })
                .collect(),
            latest_report: heads.latest.as_ref().map(HeadView::of),
            latest_tracked_report: heads.latest_tracked.as_ref().map(HeadView::of),
            report_count: heads.reports,
            open_alerts: counts,
            created_at: i.created_at,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IntegrationList {
    pub integrations: Vec<IntegrationView>,
}

/// One report in a history listing.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ReportSummaryView {
    pub id: String,
    pub commit_sha: String,
    /// The branch whose history lists the report; `null` for a branchless report
    /// that no tracked branch has claimed.
    pub branch: Option<String>,
    pub commit_timestamp: Option<u64>,
    pub received_at: u64,
    pub cli_version: String,
    pub passed: bool,
    pub violations: u32,
    pub failed_results: u32,
    pub drifted_namespaces: u32,
    pub secrets_redacted: u32,
}

impl ReportSummaryView {
    pub fn of(s: &ReportSummary) -> Self {
        Self {
            id: report_id(&s.integration, &s.commit).to_string(),
            commit_sha: s.commit.to_string(),
            branch: s.branch.as_ref().map(ToString::to_string),
            commit_timestamp: s.commit_timestamp,
            received_at: s.received_at,
            cli_version: s.cli_version.clone(),
            passed: s.passed,
            violations: s.violations,
            failed_results: s.failed_results,
            drifted_namespaces: s.drifted_namespaces,
            secrets_redacted: s.secrets_redacted,
        }
    }
}

/// A page of history, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"reports": [{"id": "rpt_9a1b2c3d4e5f6a7b", "commitSha": "3f786850e387550fdab836ed7e6dc881de23001b",
    "branch": "main", "commitTimestamp": 1700000000000u64, "receivedAt": 1700000005000u64, "cliVersion": "0.1.30",
    "passed": false, "violations": 1, "failedResults": 1, "driftedNamespaces": 0, "secretsRedacted": 0}],
    "next": "118.0"}))]
pub struct ReportPage {
    pub reports: Vec<ReportSummaryView>,
    /// Pass as `before` for the next page; `null` on the last page.
    pub next: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CellView {
    pub namespace: String,
    pub environment: String,
    pub health_status: HealthStatus,
    pub description: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DriftView {
    pub namespace: String,
    pub is_drifted: bool,
    pub drift_count: Option<u32>,
    pub severity: Option<Severity>,
    pub summary: Option<String>,
}

impl DriftView {
    fn of(d: &Drift) -> Self {
        Self {
            namespace: d.namespace.to_string(),
            is_drifted: d.is_drifted,
            drift_count: d.drift_count,
            severity: d.severity,
            summary: d.summary.clone(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResultView {
    pub rule_id: String,
    pub rule_name: String,
    pub passed: bool,
    pub severity: Severity,
    pub message: String,
    /// `namespace/environment`, `namespace`, or `""` for the whole repository.
    pub scope: String,
}

impl ResultView {
    fn of(r: &PolicyResult) -> Self {
        Self {
            rule_id: r.rule_id.to_string(),
            rule_name: r.rule_name.clone(),
            passed: r.passed,
            severity: r.severity,
            message: r.message.clone(),
            scope: r.scope.to_string(),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SummaryView {
    pub files_scanned: u32,
    pub namespaces: Vec<String>,
    pub environments: Vec<String>,
    pub violations: u32,
    pub passed: bool,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CiView {
    pub provider: String,
    pub pipeline_url: Option<String>,
    pub trigger: Option<String>,
}

/// The matrix at one report: its history entry plus cells, drift and results.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MatrixView {
    #[serde(flatten)]
    pub report: ReportSummaryView,
    pub integration_id: String,
    pub commit: String,
    /// Whether this is the newest report for the query.
    pub latest: bool,
    pub summary: SummaryView,
    pub cells: Vec<CellView>,
    pub drift: Vec<DriftView>,
    pub policy_results: Vec<ResultView>,
    /// Present only when the integration collects CI context.
    pub ci_context: Option<CiView>,
}

impl MatrixView {
    pub fn of(s: &StoredReport, latest: bool) -> Self {
        let r = &s.report;
        let names =
            |v: &[clef_pro_schema::domain::Name]| v.iter().map(ToString::to_string).collect();
        Self {
            report: ReportSummaryView::of(&ReportSummary::of(s)),
            integration_id: s.integration.to_string(),
            commit: r.commit.to_string(),
            latest,
            summary: SummaryView {
                files_scanned: r.summary.files_scanned,
                namespaces: names(&r.summary.namespaces),
                environments: names(&r.summary.environments),
                violations: r.summary.violations,
                passed: r.summary.passed,
            },
            cells: r
                .summary
                .cells
                .iter()
                .map(|c| CellView {
                    namespace: c.namespace.to_string(),
                    environment: c.environment.to_string(),
                    health_status: c.health,
                    description: c.description.clone(),
                })
                .collect(),
            drift: r.drift.iter().map(DriftView::of).collect(),
            policy_results: r.policy_results.iter().map(ResultView::of).collect(),
            ci_context: r.ci_context.as_ref().map(|c| CiView {
                provider: c.provider.clone(),
                pipeline_url: c.pipeline_url.clone(),
                trigger: c.trigger.clone(),
            }),
        }
    }
}

/// A report's id, derived from its integration and commit: a resubmission keeps it.
pub fn report_id(integration: &IntegrationId, commit: &CommitSha) -> ReportId {
    ReportId::derive(&[integration.as_str().as_bytes(), commit.as_str().as_bytes()])
}
