//! The views of triage: the inbox across integrations, times to resolve, and trends.

use super::AlertView;
use clef_pro_projections::alerts::OpenCounts;
use clef_pro_projections::triage::{Sums, TrendPoint};
use clef_pro_schema::domain::Severity;
use serde::Serialize;
use utoipa::ToSchema;

/// An alert in the inbox, with the name of its integration.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InboxAlertView {
    #[serde(flatten)]
    pub alert: AlertView,
    pub integration_name: String,
}

/// A page of the inbox: by status, then severity (most severe first), then age (oldest
/// first).
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxPage {
    pub alerts: Vec<InboxAlertView>,
    /// Pass as `before` for the next page; `null` on the last page.
    pub next: Option<String>,
}

/// Resolved alerts of one severity and how long they stayed open.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TimeToResolveView {
    pub severity: Severity,
    /// How many alerts of this severity were resolved.
    pub resolved: u64,
    /// Mean time from opening to resolution, in ms; `null` when none was resolved.
    pub mean_ms: Option<u64>,
    /// Median time from opening to resolution, in ms (the mean of the middle two for
    /// an even count); `null` when none was resolved.
    pub median_ms: Option<u64>,
}

impl TimeToResolveView {
    pub fn of(severity: Severity, sums: Sums, median_ms: Option<u64>) -> Self {
        Self {
            severity,
            resolved: sums.count,
            mean_ms: sums.total_ms.checked_div(sums.count),
            median_ms,
        }
    }
}

/// Where things stood after one report on a tracked branch.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrendPointView {
    /// The report's position in the log.
    pub seq: u64,
    /// When the report arrived (ms since the Unix epoch).
    pub at: u64,
    /// Open alerts by severity after it.
    pub open: OpenCounts,
    /// Failing policy results of the report (overall: of every integration's latest).
    pub failing: u64,
}

impl TrendPointView {
    pub fn of(p: TrendPoint) -> Self {
        Self {
            seq: p.seq,
            at: p.at,
            open: p.open,
            failing: p.failing,
        }
    }
}

/// Times to resolve by severity, and the recent trend.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InsightsView {
    pub time_to_resolve: Vec<TimeToResolveView>,
    /// Oldest first, at most the last 30 reports on tracked branches.
    pub trend: Vec<TrendPointView>,
}
