//! Integrations as a caller may see them.

use crate::App;
use crate::error::{Error, Result};
use crate::principal::Caller;
use crate::views::IntegrationView;
use clef_pro_projections::registry::Integration;
use clef_pro_schema::ids::IntegrationId;

impl App {
    /// Parses an integration id from a path and checks that it exists and that the
    /// caller may see it: a key of another integration gets the same "not found" as an
    /// unknown id; a person may see every integration.
    pub fn visible_integration(&self, caller: &Caller, id: &str) -> Result<IntegrationId> {
        if let Caller::Key(k) = caller
            && k.integration.id.as_str() != id
        {
            return Err(Error::NotFound("integration"));
        }
        self.existing_integration(id)
    }

    /// Parses an integration id from a path and checks that the integration exists; an
    /// unknown or malformed id is "not found" alike.
    pub fn existing_integration(&self, id: &str) -> Result<IntegrationId> {
        let id = IntegrationId::parse(id).map_err(|_| Error::NotFound("integration"))?;
        self.integration(&id)?;
        Ok(id)
    }

    pub fn integration(&self, id: &IntegrationId) -> Result<Integration> {
        self.projections()
            .registry(|r| r.integration(id))?
            .ok_or(Error::NotFound("integration"))
    }

    /// An integration with its latest reports and open alerts.
    pub fn integration_view(&self, id: &IntegrationId) -> Result<IntegrationView> {
        let i = self.integration(id)?;
        self.view_of(i)
    }

    /// Every integration, by name.
    pub fn integration_views(&self) -> Result<Vec<IntegrationView>> {
        let all = self.projections().registry(|r| r.integrations())?;
        all.into_iter().map(|i| self.view_of(i)).collect()
    }

    /// Changes whenever what an integration's page shows changes: a report arrives (or
    /// is replaced), or an alert opens, resolves or is acknowledged. One read of a
    /// counter per store, whatever the number of alerts.
    pub fn revision(&self, id: &IntegrationId) -> Result<String> {
        let heads = self.projections().matrix(|m| m.heads(id))?;
        let alerts = self.projections().alerts(|a| a.revision(id))?;
        let mut h = blake3::Hasher::new();
        h.update(&heads.reports.to_le_bytes());
        if let Some(l) = &heads.latest {
            h.update(l.position.cursor().as_bytes());
        }
        h.update(&alerts.to_le_bytes());
        Ok(h.finalize().to_hex()[..16].to_owned())
    }

    /// Every integration's id and name, by name: what a filter offers.
    pub fn integration_names(&self) -> Result<Vec<(String, String)>> {
        let all = self.projections().registry(|r| r.integrations())?;
        Ok(all
            .into_iter()
            .map(|i| (i.id.to_string(), i.name))
            .collect())
    }

    fn view_of(&self, i: Integration) -> Result<IntegrationView> {
        let heads = self.projections().matrix(|m| m.heads(&i.id))?;
        let counts = self.projections().alerts(|a| a.open_counts(&i.id))?;
        Ok(IntegrationView::of(i, &heads, counts))
    }
}
