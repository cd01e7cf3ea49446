//! The small pieces pages are built from. Everything is `maud` markup, which escapes
//! every spliced value, so no report, label or message can inject markup; badges carry
//! a word (and an icon) beside their colour, never colour alone.

use super::visitor::Visitor;
use clef_pro_schema::domain::{HealthStatus, Severity};
use maud::{Markup, html};

/// A badge: its class names the colour, the icon is hidden from screen readers, and
/// the text says what the colour means.
pub fn badge(class: &str, icon: &str, text: impl maud::Render) -> Markup {
    html! {
        span class={ "badge " (class) } { span aria-hidden="true" { (icon) } " " (text) }
    }
}

/// A passing verdict, in the words of its place ("Passed", "passed").
pub fn pass_badge(word: &str) -> Markup {
    badge("pass", "✓", word)
}

/// A failing verdict.
pub fn fail_badge(text: impl maud::Render) -> Markup {
    badge("fail", "✖", text)
}

/// A report's verdict: `pass_word`, or how many violations it found.
pub fn verdict(pass_word: &str, passed: bool, violations: u32) -> Markup {
    if passed {
        pass_badge(pass_word)
    } else {
        fail_badge(html! { (violations) " violation(s)" })
    }
}

/// Health by colour (the class) and by icon and word.
pub fn health(h: HealthStatus) -> Markup {
    let (icon, word) = match h {
        HealthStatus::Healthy => ("✓", "Healthy"),
        HealthStatus::Warning => ("⚠", "Warning"),
        HealthStatus::Critical => ("✖", "Critical"),
        HealthStatus::Unknown => ("?", "Unknown"),
    };
    badge(&format!("health-{}", h.as_str()), icon, word)
}

/// A severity badge, coloured and named.
pub fn severity(s: Severity) -> Markup {
    html! { span class={ "badge sev-" (s.as_str()) } { (s.as_str()) } }
}

/// Parses a severity named in a form or query.
pub fn parse_severity(s: &str) -> Option<Severity> {
    Severity::ALL.into_iter().find(|v| v.as_str() == s)
}

/// `<option>`s of every severity, `selected` marking the chosen one.
pub fn severity_options(selected: Option<Severity>) -> Markup {
    html! {
        @for s in Severity::ALL {
            option value=(s.as_str()) selected[Some(s) == selected] { (s.as_str()) }
        }
    }
}

/// A table that scrolls sideways on narrow screens, with a header row naming `columns`
/// and `rows` as its body.
pub fn table(class: Option<&str>, columns: &[&str], rows: Markup) -> Markup {
    html! {
        div class="scroll" {
            table class=[class] {
                thead { tr { @for c in columns { th scope="col" { (c) } } } }
                tbody { (rows) }
            }
        }
    }
}

/// The hidden field every state-changing form carries: the session's CSRF token.
pub fn csrf_field(v: &Visitor) -> Markup {
    html! { input type="hidden" name="csrf" value=(v.csrf); }
}

/// A report's branch as people read it; a backfilled report may have none.
pub fn branch(b: Option<&str>) -> &str {
    b.unwrap_or("(no branch)")
}

/// The first 8 characters of a commit, as people read it.
pub fn short(commit: &str) -> &str {
    commit.get(..8).unwrap_or(commit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spliced_text_is_escaped_in_content_and_attributes() {
        let hostile = r#"<a href="x">Tom & 'Jerry'</a>"#;
        let m = html! { p title=(hostile) { (hostile) } };
        assert_eq!(
            m.into_string(),
            "<p title=\"&lt;a href=&quot;x&quot;&gt;Tom &amp; 'Jerry'&lt;/a&gt;\">\
             &lt;a href=&quot;x&quot;&gt;Tom &amp; 'Jerry'&lt;/a&gt;</p>"
        );
    }

    #[test]
    fn badges_name_what_their_colour_means() {
        assert_eq!(
            health(HealthStatus::Critical).into_string(),
            r#"<span class="badge health-critical"><span aria-hidden="true">✖</span> Critical</span>"#
        );
        assert_eq!(
            verdict("passed", false, 3).into_string(),
            r#"<span class="badge fail"><span aria-hidden="true">✖</span> 3 violation(s)</span>"#
        );
        assert_eq!(
            severity(Severity::Error).into_string(),
            r#"<span class="badge sev-error">error</span>"#
        );
    }

    #[test]
    fn the_chosen_severity_is_selected() {
        let options = severity_options(Some(Severity::Warning)).into_string();
        assert!(options.contains(r#"<option value="warning" selected>warning</option>"#));
        assert_eq!(options.matches("selected").count(), 1);
    }
}
