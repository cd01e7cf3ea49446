//! Acknowledging an alert: it silences notifications; the alert stays open until a
//! report resolves it (docs/api.md).

use crate::App;
use crate::error::{Error, Result};
use crate::principal::Person;
use crate::views::AlertView;
use clef_pro_projections::Kind;
use clef_pro_projections::lifecycle::Status;
use clef_pro_schema::event::Event;
use clef_pro_schema::ids::{AlertId, IntegrationId};

impl App {
    /// Acknowledges an open alert of integration `id` on behalf of `who`; idempotent;
    /// a conflict once the alert is resolved.
    pub async fn acknowledge(
        &self,
        id: &IntegrationId,
        alert: &str,
        who: &Person,
    ) -> Result<AlertView> {
        let alert_id = AlertId::parse(alert).map_err(|_| Error::NotFound("alert"))?;
        let current = self
            .projections()
            .alerts(|a| a.alert(&alert_id))?
            .filter(|a| a.integration == *id)
            .ok_or(Error::NotFound("alert"))?;
        if current.status == Status::Resolved {
            return Err(Error::Conflict(
                "the alert is resolved; only open alerts can be acknowledged".into(),
            ));
        }
        if !current.acknowledged() {
            let sealed = self.seal(who.did(Event::AlertAcknowledged {
                integration: id.clone(),
                alert: alert_id.clone(),
                by: who.name.clone(),
                at: clef_pro_schema::now_ms(),
            }));
            self.append(&sealed, &[Kind::Alerts, Kind::Outbox]).await?;
        }
        self.alert(&alert_id)
    }
}
