//! The one page layout: head, the top bar (with the signed-in visitor's navigation and
//! sign-out form) and `<main>`. The security headers are not set here but by the
//! router's layers (`headers`), so every answer carries them, error pages included.

use super::components::csrf_field;
use super::visitor::Visitor;
use maud::{DOCTYPE, Markup, html};

/// What makes `<main>` poll for new content (the integration page): `url` answers the
/// page's current `version`; `assets/app.js` swaps in the `[data-region]` sections when
/// it changes.
pub struct Live {
    pub url: String,
    pub version: String,
}

/// A complete page titled `title`, for `visitor` (none on the sign-in and error pages).
pub fn layout(title: &str, visitor: Option<&Visitor>, live: Option<&Live>, main: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · clef-pro" }
                @if let Some(v) = visitor {
                    // Scripts of the page that write through the JSON API send it as
                    // X-CSRF-Token.
                    meta name="csrf-token" content=(v.csrf);
                }
                link rel="stylesheet" href="/assets/app.css";
                script src="/assets/app.js" defer {}
            }
            body {
                header class="top" {
                    a class="brand" href="/" { "clef-pro" }
                    @if let Some(v) = visitor { (nav(v)) }
                }
                main id="main"
                    data-live=[live.map(|l| &l.url)]
                    data-version=[live.map(|l| &l.version)] {
                    (main)
                }
            }
        }
    }
}

/// The signed-in visitor's links, name, role and sign-out button.
fn nav(v: &Visitor) -> Markup {
    html! {
        nav aria-label="Main" {
            a href="/" { "Integrations" }
            " " a href="/alerts" { "Alerts" }
            @if v.is_admin() {
                " " a href="/settings" { "Settings" }
                " " a href="/audit" { "Audit log" }
            }
        }
        form class="sign-out" method="post" action="/sign-out" {
            (csrf_field(v))
            span class="who" { (v.person.name) " · " (v.role_name()) }
            " "
            button type="submit" { "Sign out" }
        }
    }
}
