//! Counters for `/metrics`, rendered in the Prometheus text format.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// What the HTTP surface counts. The notifier keeps its own counters.
#[derive(Debug, Default)]
pub struct Metrics {
    pub reports_accepted: Counter,
    pub batches_accepted: Counter,
    pub secrets_redacted: Counter,
    pub auth_failures: Counter,
    pub log_unavailable: Counter,
}

/// Appends one metric with its help and type lines.
pub fn write_metric(out: &mut String, name: &str, kind: &str, help: &str, samples: &[(&str, u64)]) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for (labels, v) in samples {
        if labels.is_empty() {
            let _ = writeln!(out, "{name} {v}");
        } else {
            let _ = writeln!(out, "{name}{{{labels}}} {v}");
        }
    }
}
