//! The views of alerts and the notifications sent about them.

use clef_pro_projections::lifecycle::Alert;
use clef_pro_projections::outbox::{Intent, IntentStatus};
use clef_pro_schema::domain::{ChannelKind, Severity};
use serde::Serialize;
use utoipa::ToSchema;

/// One notification of an alert.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NotificationView {
    pub id: String,
    pub channel: ChannelKind,
    /// An email address, or the name of a destination.
    pub target: String,
    pub commit_sha: String,
    /// `pending`, `sent` or `failed`.
    pub status: &'static str,
    /// When it was sent or failed.
    pub at: Option<u64>,
    /// Why it failed.
    pub reason: Option<String>,
}

impl NotificationView {
    fn of(i: &Intent) -> Self {
        let (status, at, reason) = match &i.status {
            IntentStatus::Pending => ("pending", None, None),
            IntentStatus::Delivered { at, .. } => ("sent", Some(*at), None),
            IntentStatus::Failed { reason, at } => ("failed", Some(*at), Some(reason.clone())),
        };
        Self {
            id: i.id.to_string(),
            channel: i.target.kind(),
            target: i.target.name().to_owned(),
            commit_sha: i.commit.to_string(),
            status,
            at,
            reason,
        }
    }
}

/// An alert and its whole lifecycle (docs/api.md).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
#[schema(example = json!({"id": "alr_51c0d2e3f4a5b6c7", "integrationId": "int_4f7c2a19d03e5b86", "ruleId": "missing_keys",
    "ruleName": "Missing encryption keys", "scope": "oauth/production", "severity": "critical", "status": "open",
    "acknowledged": false, "acknowledgedBy": null, "acknowledgedAt": null,
    "openedByCommit": "3f786850e387550fdab836ed7e6dc881de23001b", "openedAt": 1700000005000u64,
    "resolvedByCommit": null, "resolvedAt": null, "previousAlertId": null,
    "message": "oauth/production is missing a key", "notifications": []}))]
pub struct AlertView {
    pub id: String,
    pub integration_id: String,
    pub rule_id: String,
    pub rule_name: String,
    pub scope: String,
    pub severity: Severity,
    /// `open` or `resolved`.
    pub status: &'static str,
    pub acknowledged: bool,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<u64>,
    pub opened_by_commit: String,
    pub opened_at: u64,
    pub resolved_by_commit: Option<String>,
    pub resolved_at: Option<u64>,
    pub previous_alert_id: Option<String>,
    pub message: String,
    pub notifications: Vec<NotificationView>,
}

impl AlertView {
    pub fn of(a: &Alert, notifications: &[Intent]) -> Self {
        Self {
            id: a.id.to_string(),
            integration_id: a.integration.to_string(),
            rule_id: a.rule_id.to_string(),
            rule_name: a.rule_name.clone(),
            scope: a.scope.to_string(),
            severity: a.severity,
            status: a.status.as_str(),
            acknowledged: a.acknowledged(),
            acknowledged_by: a.acknowledged_by.clone(),
            acknowledged_at: a.acknowledged_at,
            opened_by_commit: a.opened_by.to_string(),
            opened_at: a.opened_at,
            resolved_by_commit: a.resolved_by.as_ref().map(ToString::to_string),
            resolved_at: a.resolved_at,
            previous_alert_id: a.previous.as_ref().map(ToString::to_string),
            message: a.message.clone(),
            notifications: notifications.iter().map(NotificationView::of).collect(),
        }
    }
}

/// A page of alerts, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertList {
    pub alerts: Vec<AlertView>,
    /// Pass as `before` for the next page; `null` on the last page.
    pub next: Option<String>,
}
