//! The inbox across every integration, times to resolve and trends.

use super::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::App;
use crate::error::{Error, Result};
use crate::views::{
    AlertView, InboxAlertView, InboxPage, InsightsView, TimeToResolveView, TrendPointView,
};
use clef_pro_projections::lifecycle::Status;
use clef_pro_projections::triage::InboxFilter;
use clef_pro_schema::domain::Severity;
use clef_pro_schema::ids::IntegrationId;
use serde::Deserialize;
use std::collections::HashMap;

/// Points a trend shows: the last 30 reports on tracked branches.
pub const TREND_POINTS: usize = 30;

/// `GET /api/v1/alerts` and `GET /alerts`: every parameter is optional.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct InboxQuery {
    /// `open` (default), `resolved` or `all`.
    pub status: Option<String>,
    /// `true` or `false`; absent: both.
    pub acknowledged: Option<String>,
    pub severity: Option<String>,
    pub integration: Option<String>,
    pub rule: Option<String>,
    /// Opened within this long: `24h`, `7d`, … (hours or days).
    pub age: Option<String>,
    pub limit: Option<usize>,
    pub before: Option<String>,
}

/// Absent and empty parameters are the same: no filter.
fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl InboxQuery {
    fn filter(&self, now: u64) -> Result<InboxFilter> {
        let status = match given(&self.status).unwrap_or("open") {
            "open" => Some(Status::Open),
            "resolved" => Some(Status::Resolved),
            "all" => None,
            _ => return Err(Error::invalid("status", "must be open, resolved or all")),
        };
        let acknowledged = match given(&self.acknowledged) {
            None => None,
            Some("true") => Some(true),
            Some("false") => Some(false),
            Some(_) => return Err(Error::invalid("acknowledged", "must be true or false")),
        };
        let severity = given(&self.severity)
            .map(|s| {
                Severity::ALL
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| {
                        Error::invalid("severity", "must be critical, error, warning or info")
                    })
            })
            .transpose()?;
        let integration = given(&self.integration)
            .map(|i| {
                IntegrationId::parse(i)
                    .map_err(|_| Error::invalid("integration", "must be an integration id"))
            })
            .transpose()?;
        let opened_since = given(&self.age)
            .map(|a| {
                age_ms(a).map(|ms| now.saturating_sub(ms)).ok_or_else(|| {
                    Error::invalid("age", "must be hours or days, such as 24h or 7d")
                })
            })
            .transpose()?;
        Ok(InboxFilter {
            status,
            severity,
            acknowledged,
            integration,
            rule: given(&self.rule).map(str::to_owned),
            opened_since,
        })
    }
}

/// `24h` or `7d` in ms.
fn age_ms(a: &str) -> Option<u64> {
    let (n, unit) = a.split_at(a.len().checked_sub(1)?);
    let n: u64 = n.parse().ok()?;
    let hour = 3_600_000u64;
    match unit {
        "h" => n.checked_mul(hour),
        "d" => n.checked_mul(24 * hour),
        _ => None,
    }
}

impl App {
    /// A page of the inbox: every integration's alerts that pass the query's filters.
    pub fn inbox(&self, q: &InboxQuery) -> Result<InboxPage> {
        let filter = q.filter(clef_pro_schema::now_ms())?;
        let after = given(&q.before)
            .map(|b| {
                hex::decode(b).map_err(|_| Error::invalid("before", "must be a `next` cursor"))
            })
            .transpose()?;
        let limit = q.limit.unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
        let (alerts, next) = self
            .projections()
            .alerts(|a| a.inbox(&filter, after.as_deref(), limit))?;
        let mut names: HashMap<IntegrationId, String> = HashMap::new();
        let alerts = alerts
            .iter()
            .map(|a| {
                if !names.contains_key(&a.integration) {
                    let name = self.integration(&a.integration)?.name;
                    names.insert(a.integration.clone(), name);
                }
                let sent = self.projections().outbox(|o| o.for_alert(&a.id))?;
                Ok(InboxAlertView {
                    alert: AlertView::of(a, &sent),
                    integration_name: names[&a.integration].clone(),
                })
            })
            .collect::<Result<_>>()?;
        Ok(InboxPage { alerts, next })
    }

    /// Times to resolve and the trend of one integration, or of every one (`None`).
    pub fn insights(&self, integration: Option<&IntegrationId>) -> Result<InsightsView> {
        let (ttr, trend) = self.projections().alerts(|a| {
            Ok((
                a.time_to_resolve(integration)?,
                a.trend(integration, TREND_POINTS)?,
            ))
        })?;
        Ok(InsightsView {
            time_to_resolve: ttr
                .into_iter()
                .map(|(s, sums, median)| TimeToResolveView::of(s, sums, median))
                .collect(),
            trend: trend.into_iter().map(TrendPointView::of).collect(),
        })
    }
}
