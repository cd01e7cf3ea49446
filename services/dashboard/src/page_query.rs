//! The integration page's query: which report, history page and alerts it shows.

use super::html::{Esc, url_part};
use clef_pro_schema::ids::IntegrationId;
use serde::Deserialize;

/// What the integration page shows; links carry it along so filters stick.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageQuery {
    pub commit: Option<String>,
    pub branch: Option<String>,
    pub before: Option<String>,
    pub status: Option<String>,
    pub severity: Option<String>,
    /// The alerts section's page cursor.
    pub alerts: Option<String>,
}

impl PageQuery {
    pub const KEYS: &[&str] = &["commit", "branch", "before", "status", "severity", "alerts"];

    fn pairs(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let values = [
            &self.commit,
            &self.branch,
            &self.before,
            &self.status,
            &self.severity,
            &self.alerts,
        ];
        Self::KEYS
            .iter()
            .zip(values)
            .filter_map(|(k, v)| v.as_deref().filter(|v| !v.is_empty()).map(|v| (*k, v)))
    }

    /// The integration page for this query; empty values are left out.
    pub fn href(&self, id: &IntegrationId) -> String {
        let q: Vec<String> = self
            .pairs()
            .map(|(k, v)| format!("{k}={}", url_part(v)))
            .collect();
        if q.is_empty() {
            format!("/integrations/{id}")
        } else {
            format!("/integrations/{id}?{}", q.join("&"))
        }
    }

    /// Hidden inputs carrying the named parts of this query through a form.
    pub fn hidden(&self, keys: &[&str]) -> String {
        self.pairs()
            .filter(|(k, _)| keys.contains(k))
            .map(|(k, v)| format!(r#"<input type="hidden" name="{k}" value="{}">"#, Esc(v)))
            .collect()
    }
}
