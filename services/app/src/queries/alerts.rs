//! An integration's alerts with the notifications sent about them.

use super::paging;
use crate::App;
use crate::error::{Error, Result};
use crate::views::AlertView;
use clef_pro_projections::alerts::AlertCursor;
use clef_pro_projections::lifecycle::Status;
use clef_pro_schema::ids::{AlertId, IntegrationId};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct AlertsQuery {
    pub status: Option<String>,
    pub limit: Option<usize>,
    pub before: Option<String>,
}

/// Default and largest page of alerts.
pub const DEFAULT_LIMIT: usize = 200;
pub const MAX_LIMIT: usize = 1000;

impl App {
    /// A page of an integration's alerts with `status` = `open` (default), `resolved`
    /// or `all`, newest first, and the cursor of the next page. Its cost is its page:
    /// the store keeps alerts indexed by status, and each alert's notifications by alert.
    pub fn alert_page(
        &self,
        id: &IntegrationId,
        q: &AlertsQuery,
        default_limit: usize,
    ) -> Result<(Vec<AlertView>, Option<String>)> {
        let status = match q.status.as_deref().unwrap_or("open") {
            "open" => Some(Status::Open),
            "resolved" => Some(Status::Resolved),
            "all" => None,
            _ => return Err(Error::invalid("status", "must be open, resolved or all")),
        };
        let after = paging::cursor(q.before.as_deref(), AlertCursor::parse)?;
        let limit = q.limit.unwrap_or(default_limit).clamp(1, MAX_LIMIT);
        let alerts = self
            .projections()
            .alerts(|a| a.page(id, status, after.as_ref(), limit + 1))?;
        let (alerts, next) = paging::cut(alerts, limit, |a| AlertCursor::of(a).to_string());
        let views = alerts
            .iter()
            .map(|a| {
                let sent = self.projections().outbox(|o| o.for_alert(&a.id))?;
                Ok(AlertView::of(a, &sent))
            })
            .collect::<Result<_>>()?;
        Ok((views, next))
    }

    /// One alert with its notifications.
    pub fn alert(&self, id: &AlertId) -> Result<AlertView> {
        let a = self
            .projections()
            .alerts(|a| a.alert(id))?
            .ok_or(Error::NotFound("alert"))?;
        let sent = self.projections().outbox(|o| o.for_alert(id))?;
        Ok(AlertView::of(&a, &sent))
    }
}
