//! `/metrics` as the tests read it.

/// An exposition, parsed by `prometheus-parse`, as (name with its labels in key order,
/// e.g. `clef_pro_notifications{status="pending"}` → value). Histogram and summary
/// samples are left out.
pub fn parse(text: &str) -> std::collections::HashMap<String, f64> {
    let lines = text.lines().map(|l| Ok(l.to_owned()));
    let scrape = prometheus_parse::Scrape::parse(lines).expect("a valid exposition");
    scrape
        .samples
        .into_iter()
        .filter_map(|s| {
            let value = match s.value {
                prometheus_parse::Value::Counter(v)
                | prometheus_parse::Value::Gauge(v)
                | prometheus_parse::Value::Untyped(v) => v,
                _ => return None,
            };
            let mut labels: Vec<(String, String)> = s
                .labels
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            labels.sort();
            let key = if labels.is_empty() {
                s.metric
            } else {
                let inner: Vec<String> =
                    labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
                format!("{}{{{}}}", s.metric, inner.join(","))
            };
            Some((key, value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::parse;
    use clef_pro_api::metrics::{Metrics, Reading};

    #[test]
    fn the_exposition_parses_by_name_and_labels() {
        let counters = clef_pro_app::Counters::default();
        let m = Metrics::new(&counters, None);
        counters.reports_accepted.inc();
        let text = m.render(&Reading {
            head: Some(7),
            checkpoints: vec![("matrix", 5)],
            refused: 2,
            replayed: 0,
            notifications: [1, 2, 3],
        });
        // What `/metrics` serves by default: the classic text format, same samples.
        let classic = clef_pro_api::metrics::classic(&text);
        assert!(text.contains("# TYPE clef_pro_reports_accepted counter\n"));
        assert!(classic.contains("# TYPE clef_pro_reports_accepted_total counter\n"));
        assert!(classic.contains("# HELP clef_pro_reports_accepted_total Single reports accepted"));
        assert!(!classic.contains("# EOF") && text.ends_with("# EOF\n"));
        assert_eq!(parse(&classic), parse(&text));
        let parsed = parse(&classic);
        assert_eq!(parsed["clef_pro_reports_accepted_total"], 1.0);
        assert_eq!(parsed["clef_pro_log_head"], 7.0);
        assert_eq!(parsed["clef_pro_projector_lag{projector=\"matrix\"}"], 2.0);
        assert_eq!(parsed["clef_pro_events_refused_total"], 2.0);
        assert_eq!(parsed["clef_pro_notifications{status=\"failed\"}"], 3.0);
    }
}
