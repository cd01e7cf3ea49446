//! The trend chart: open alerts by severity and failing results over the recent
//! reports, as an SVG drawn on the server (no script, no chart library). It is readable
//! without colour (each series has its own dash pattern and marker, and a legend in
//! words), carries a text alternative (`role="img"`, `<title>` and `<desc>`), and the
//! figures themselves follow in a table under a disclosure.

use clef_pro_app::views::TrendPointView;
use maud::{Markup, html};

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 180.0;
const PAD: f64 = 28.0;

/// One line of the chart: its name, class (colour, in the stylesheet), dash pattern,
/// and value at a point.
struct Series {
    name: &'static str,
    class: &'static str,
    dash: &'static str,
    value: fn(&TrendPointView) -> u64,
}

const SERIES: [Series; 5] = [
    Series {
        name: "Critical open",
        class: "critical",
        dash: "",
        value: |p| p.open.critical,
    },
    Series {
        name: "Error open",
        class: "error",
        dash: "6 3",
        value: |p| p.open.error,
    },
    Series {
        name: "Warning open",
        class: "warning",
        dash: "2 3",
        value: |p| p.open.warning,
    },
    Series {
        name: "Info open",
        class: "info",
        dash: "8 3 2 3",
        value: |p| p.open.info,
    },
    Series {
        name: "Failing results",
        class: "failing",
        dash: "1 2",
        value: |p| p.failing,
    },
];

/// The chart of `points` (oldest first) with the id prefix `id`; a sentence when there
/// are none yet.
pub fn trend(id: &str, caption: &str, points: &[TrendPointView]) -> Markup {
    if points.is_empty() {
        return html! {
            p class="trend-empty" id=(format!("{id}-empty")) {
                "No trend yet: it starts with the first report on a tracked branch."
            }
        };
    }
    let top = points
        .iter()
        .flat_map(|p| SERIES.iter().map(move |s| (s.value)(p)))
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let x = |i: usize| {
        if points.len() == 1 {
            WIDTH / 2.0
        } else {
            PAD + (WIDTH - 2.0 * PAD) * i as f64 / (points.len() - 1) as f64
        }
    };
    let y = |v: u64| HEIGHT - PAD - (HEIGHT - 2.0 * PAD) * v as f64 / top;
    let last = points.last().expect("not empty");
    let summary = format!(
        "{} reports. Latest: {} critical, {} error, {} warning and {} info alerts open; {} failing results. Highest value: {}.",
        points.len(),
        last.open.critical,
        last.open.error,
        last.open.warning,
        last.open.info,
        last.failing,
        top as u64,
    );
    html! {
        figure class="trend" id=(id) {
            svg class="trend-chart" role="img" viewBox=(format!("0 0 {WIDTH} {HEIGHT}"))
                aria-labelledby=(format!("{id}-title {id}-desc")) data-points=(points.len()) {
                title id=(format!("{id}-title")) { (caption) }
                desc id=(format!("{id}-desc")) { (summary) }
                line class="axis" x1=(PAD) y1=(HEIGHT - PAD) x2=(WIDTH - PAD) y2=(HEIGHT - PAD) {}
                text class="tick" x="2" y=(PAD + 4.0) { (top as u64) }
                text class="tick" x="2" y=(HEIGHT - PAD + 4.0) { "0" }
                @for s in &SERIES {
                    @let path: Vec<String> = points.iter().enumerate()
                        .map(|(i, p)| format!("{:.1},{:.1}", x(i), y((s.value)(p))))
                        .collect();
                    g class=(format!("series series-{}", s.class)) data-series=(s.class) {
                        polyline points=(path.join(" ")) stroke-dasharray=[(!s.dash.is_empty()).then_some(s.dash)] {}
                        @for (i, p) in points.iter().enumerate() {
                            circle class="point" cx=(format!("{:.1}", x(i))) cy=(format!("{:.1}", y((s.value)(p)))) r="2.5" {}
                        }
                    }
                }
            }
            figcaption {
                ul class="legend" {
                    @for s in &SERIES {
                        li class=(format!("series-{}", s.class)) {
                            svg class="swatch" width="28" height="8" aria-hidden="true" {
                                line x1="0" y1="4" x2="28" y2="4" stroke-dasharray=[(!s.dash.is_empty()).then_some(s.dash)] {}
                            }
                            " " (s.name)
                        }
                    }
                }
                details {
                    summary { "The figures" }
                    table class="trend-figures" {
                        thead {
                            tr {
                                th scope="col" { "Report" }
                                @for s in &SERIES { th scope="col" { (s.name) } }
                            }
                        }
                        tbody {
                            @for (i, p) in points.iter().enumerate() {
                                tr {
                                    th scope="row" { (i + 1) " · " (super::time::time(p.at)) }
                                    @for s in &SERIES { td { ((s.value)(p)) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
