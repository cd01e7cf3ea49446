//! Timestamps (Unix milliseconds, UTC) as people read them, without a date library.

use maud::{Markup, html};

/// `2023-11-14 22:13 UTC` inside a `<time>` element carrying the exact instant.
pub fn time(ms: u64) -> Markup {
    let iso = clef_pro_schema::time::rfc3339(ms);
    html! {
        time datetime={ (&iso[..19]) "Z" } { (&iso[..10]) " " (&iso[11..16]) " UTC" }
    }
}

/// How long before `now` `ms` was: `just now`, `5 min ago`, `3 h ago`, `2 d ago`.
pub fn ago(ms: u64, now: u64) -> String {
    let s = now.saturating_sub(ms) / 1000;
    match s {
        0..60 => "just now".into(),
        60..3600 => format!("{} min ago", s / 60),
        3600..86_400 => format!("{} h ago", s / 3600),
        _ => format!("{} d ago", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_match_known_instants() {
        let t = time(1_700_000_000_000).into_string();
        assert!(t.contains(">2023-11-14 22:13 UTC<"), "{t}");
        assert!(t.contains(r#"datetime="2023-11-14T22:13:20Z""#), "{t}");
    }

    #[test]
    fn ages_round_down_to_the_largest_unit() {
        assert_eq!(ago(0, 59_000), "just now");
        assert_eq!(ago(0, 300_000), "5 min ago");
        assert_eq!(ago(0, 7_200_000), "2 h ago");
        assert_eq!(ago(5_000, 0), "just now");
        assert_eq!(ago(0, 3 * 86_400_000), "3 d ago");
    }
}
