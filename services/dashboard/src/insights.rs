//! Insights on a page: the time to resolve by severity (mean and median) and the trend
//! chart, for one integration or over every integration. The same figures as
//! `GET …/insights`.

use super::chart;
use super::components::{severity, table};
use clef_pro_app::views::{InsightsView, TimeToResolveView};
use maud::{Markup, html};

/// A duration as people read it: `850 ms`, `45 s`, `12 min`, `3 h 20 min`, `2 d 4 h`.
pub fn duration(ms: u64) -> String {
    let s = ms / 1000;
    if ms < 1000 {
        return format!("{ms} ms");
    }
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86_400 => match (s % 3600) / 60 {
            0 => format!("{} h", s / 3600),
            m => format!("{} h {m} min", s / 3600),
        },
        _ => match (s % 86_400) / 3600 {
            0 => format!("{} d", s / 86_400),
            h => format!("{} d {h} h", s / 86_400),
        },
    }
}

fn figure(ms: Option<u64>) -> Markup {
    html! {
        @match ms {
            Some(ms) => span data-ms=(ms) { (duration(ms)) },
            None => "—",
        }
    }
}

fn time_to_resolve(rows: &[TimeToResolveView]) -> Markup {
    let body = html! {
        @for r in rows {
            tr data-severity=(r.severity.as_str()) {
                th scope="row" { (severity(r.severity)) }
                td class="ttr-resolved" { (r.resolved) }
                td class="ttr-mean" { (figure(r.mean_ms)) }
                td class="ttr-median" { (figure(r.median_ms)) }
            }
        }
    };
    table(
        Some("ttr"),
        &[
            "Severity",
            "Resolved",
            "Mean time to resolve",
            "Median time to resolve",
        ],
        body,
    )
}

/// The section, its headings naming `scope` (an integration's name, or "every
/// integration").
pub fn section(scope: &str, insights: &InsightsView) -> Markup {
    html! {
        section id="insights" data-region aria-labelledby="insights-h" {
            h2 id="insights-h" { "Trends and time to resolve" }
            (chart::trend(
                "trend",
                &format!("Open alerts by severity and failing results, {scope}, last {} reports", insights.trend.len()),
                &insights.trend,
            ))
            h3 { "Time to resolve" }
            p class="hint" {
                "From an alert's opening to the report that resolved it; acknowledging does not resolve."
            }
            (time_to_resolve(&insights.time_to_resolve))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_in_the_two_largest_units() {
        assert_eq!(duration(850), "850 ms");
        assert_eq!(duration(45_000), "45 s");
        assert_eq!(duration(12 * 60_000), "12 min");
        assert_eq!(duration(3 * 3_600_000), "3 h");
        assert_eq!(duration(3 * 3_600_000 + 20 * 60_000), "3 h 20 min");
        assert_eq!(duration(2 * 86_400_000 + 4 * 3_600_000), "2 d 4 h");
    }
}
