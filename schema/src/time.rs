//! Unix milliseconds as RFC 3339 text.

use time::OffsetDateTime;
use time::macros::format_description;

/// `2023-11-14T22:13:20.123Z` (UTC, always three fraction digits, so the text sorts
/// as the instants do). Instants past year 9999 print as that year's last millisecond.
pub fn rfc3339(ms: u64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    let at = OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .unwrap_or(time::macros::datetime!(9999-12-31 23:59:59.999 UTC));
    at.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .expect("every instant of years 0 to 9999 formats")
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_instants() {
        assert_eq!(super::rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            super::rfc3339(1_700_000_000_123),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(super::rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
