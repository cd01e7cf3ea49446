//! The integration page's query: which report, history page and alerts it shows, and
//! how links and forms carry it along.

use clef_pro_schema::ids::IntegrationId;
use maud::{Markup, html};
use serde::Deserialize;

/// Everything but RFC 3986's unreserved characters.
const QUERY_VALUE: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A query-string value: everything but RFC 3986 unreserved characters percent-encoded.
pub fn url_part(s: &str) -> String {
    percent_encoding::utf8_percent_encode(s, QUERY_VALUE).to_string()
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
    fn url_parts_keep_only_unreserved_characters() {
        assert_eq!(url_part("feat/a b&c=ü"), "feat%2Fa%20b%26c%3D%C3%BC");
        assert_eq!(url_part("12-3.4_5~"), "12-3.4_5~");
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
            "/integrations/int_0123456789abcdef?branch=feat%2Fx%20y&status=all"
        );
        assert_eq!(
            q.hidden(&["status", "severity"]).into_string(),
            r#"<input type="hidden" name="status" value="all">"#
        );
    }
}
