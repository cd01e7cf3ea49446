//! HTML building blocks. Every value that comes from a request or a store reaches the
//! page through [`Esc`] (text and attributes) or [`url_part`] (query values), so no
//! report, label or message can inject markup.

use super::visitor::Visitor;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use clef_pro_schema::domain::{HealthStatus, Severity};
use std::fmt;

/// Text escaped for HTML element content and quoted attribute values (`&`, `<`, `>`,
/// `"` and `'`).
pub struct Esc<'a>(pub &'a str);

impl fmt::Display for Esc<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&html_escape::encode_quoted_attribute(self.0))
    }
}

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

/// A report's branch as people read it; a backfilled report may have none.
pub fn branch(b: Option<&clef_pro_schema::domain::Branch>) -> &str {
    b.map_or("(no branch)", |b| b.as_str())
}

/// The first 8 characters of a commit, as people read it.
pub fn short(commit: &str) -> &str {
    commit.get(..8).unwrap_or(commit)
}

/// A complete page. `main_attrs` are extra attributes of `<main>` (the live-update hooks).
/// Pages are never cached: they carry the CSRF token and, once, a new API key.
pub fn page(
    status: StatusCode,
    title: &str,
    visitor: Option<&Visitor>,
    main_attrs: &str,
    main: &str,
) -> Response {
    let nav = match visitor {
        Some(v) => format!(
            r#"<nav aria-label="Main"><a href="/">Integrations</a>{}</nav>
<form class="sign-out" method="post" action="/sign-out">{}<span class="who">{} · {}</span> <button type="submit">Sign out</button></form>"#,
            if v.is_admin() {
                r#" <a href="/audit">Audit log</a>"#
            } else {
                ""
            },
            csrf_field(v),
            Esc(&v.person.name),
            v.role_name()
        ),
        None => String::new(),
    };
    // Scripts of the page that write through the JSON API send it as X-CSRF-Token.
    let csrf_meta = visitor
        .map(|v| format!(r#"<meta name="csrf-token" content="{}">"#, Esc(&v.csrf)))
        .unwrap_or_default();
    let body = format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{} · clef-pro</title>
{csrf_meta}
<link rel="stylesheet" href="/assets/app.css">
<script src="/assets/app.js" defer></script>
</head>
<body>
<header class="top"><a class="brand" href="/">clef-pro</a>{nav}</header>
<main id="main"{main_attrs}>
{main}
</main>
</body>
</html>
"#,
        Esc(title)
    );
    let mut resp = (status, axum::response::Html(body)).into_response();
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

/// The hidden field every state-changing form carries.
pub fn csrf_field(v: &Visitor) -> String {
    format!(
        r#"<input type="hidden" name="csrf" value="{}">"#,
        Esc(&v.csrf)
    )
}

/// Health by colour (the class) and by icon and word, never colour alone.
pub fn health(h: HealthStatus) -> String {
    let (icon, word) = match h {
        HealthStatus::Healthy => ("✓", "Healthy"),
        HealthStatus::Warning => ("⚠", "Warning"),
        HealthStatus::Critical => ("✖", "Critical"),
        HealthStatus::Unknown => ("?", "Unknown"),
    };
    format!(
        r#"<span class="badge health-{}"><span aria-hidden="true">{icon}</span> {word}</span>"#,
        h.as_str()
    )
}

/// A severity badge, coloured and named.
pub fn severity(s: Severity) -> String {
    format!(r#"<span class="badge sev-{0}">{0}</span>"#, s.as_str())
}

/// Parses a severity named in a form or query.
pub fn parse_severity(s: &str) -> Option<Severity> {
    Severity::ALL.into_iter().find(|v| v.as_str() == s)
}

/// `<option>`s of every severity, `selected` marking the chosen one.
pub fn severity_options(selected: Option<Severity>) -> String {
    Severity::ALL
        .iter()
        .map(|s| {
            let sel = if Some(*s) == selected {
                " selected"
            } else {
                ""
            };
            format!(r#"<option value="{0}"{sel}>{0}</option>"#, s.as_str())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            Esc(r#"<a href="x">Tom & 'Jerry'</a>"#).to_string(),
            "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#x27;Jerry&#x27;&lt;/a&gt;"
        );
        assert_eq!(Esc("plain ✓").to_string(), "plain ✓");
    }

    #[test]
    fn url_parts_keep_only_unreserved_characters() {
        assert_eq!(url_part("feat/a b&c=ü"), "feat%2Fa%20b%26c%3D%C3%BC");
        assert_eq!(url_part("12-3.4_5~"), "12-3.4_5~");
    }
}
