//! Timestamps (Unix milliseconds, UTC) as people read them, without a date library.

/// `2023-11-14 22:13 UTC` inside a `<time>` element carrying the exact instant.
pub fn time(ms: u64) -> String {
    let secs = ms / 1000;
    let (y, m, d) = civil(secs / 86_400);
    let (hh, mm, ss) = (secs / 3600 % 24, secs / 60 % 60, secs % 60);
    format!(
        r#"<time datetime="{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}Z">{y:04}-{m:02}-{d:02} {hh:02}:{mm:02} UTC</time>"#
    )
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

/// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's
/// `civil_from_days`, for days ≥ 0).
fn civil(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + u64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_match_known_instants() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(civil(11_016), (2000, 2, 29));
        assert!(time(1_700_000_000_000).contains(">2023-11-14 22:13 UTC<"));
        assert!(time(1_700_000_000_000).contains(r#"datetime="2023-11-14T22:13:20Z""#));
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
