//! The integration page's query: which report, history page and alerts it shows, and
//! how links and forms carry it along.

use clef_pro_schema::ids::IntegrationId;
use maud::{Markup, html};
use serde::Deserialize;

/// A query string of `pairs`, form-encoded (`application/x-www-form-urlencoded`, as
/// the pages' own GET forms send theirs).
pub fn query_string<'k, 'v>(pairs: impl IntoIterator<Item = (&'k str, &'v str)>) -> String {
    let pairs: Vec<(&str, &str)> = pairs.into_iter().collect();
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

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
        match query_string(self.pairs()) {
            q if q.is_empty() => format!("/integrations/{id}"),
            q => format!("/integrations/{id}?{q}"),
        }
    }

    /// Hidden inputs carrying the named parts of this query through a form.
    pub fn hidden(&self, keys: &[&str]) -> Markup {
        html! {
            @for (k, v) in self.pairs().filter(|(k, _)| keys.contains(k)) {
                input type="hidden" name=(k) value=(v);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_form_encoded() {
        assert_eq!(
            query_string([("branch", "feat/a b&c=ü"), ("before", "12-3.4_5~")]),
            "branch=feat%2Fa+b%26c%3D%C3%BC&before=12-3.4_5%7E"
        );
    }

    #[test]
    fn links_and_forms_carry_the_query_along() {
        let id = IntegrationId::parse("int_0123456789abcdef").unwrap();
        let q = PageQuery {
            branch: Some("feat/x y".into()),
            status: Some("all".into()),
            severity: Some(String::new()),
            ..PageQuery::default()
        };
        assert_eq!(
            q.href(&id),
            "/integrations/int_0123456789abcdef?branch=feat%2Fx+y&status=all"
        );
        assert_eq!(
            q.hidden(&["status", "severity"]).into_string(),
            r#"<input type="hidden" name="status" value="all">"#
        );
    }
}
