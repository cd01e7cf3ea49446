//! The benchmark table and `target/bench/results.json`.

use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub struct Row {
    pub name: String,
    pub unit: &'static str,
    pub value: f64,
    pub baseline: Option<(String, f64)>,
    /// The target as text, e.g. `ratio >= 0.7`, and whether it was met.
    pub target: Option<(String, bool)>,
}

impl Row {
    pub fn new(name: impl Into<String>, unit: &'static str, value: f64) -> Row {
        Row {
            name: name.into(),
            unit,
            value,
            baseline: None,
            target: None,
        }
    }

    pub fn vs(mut self, name: impl Into<String>, value: f64) -> Row {
        self.baseline = Some((name.into(), value));
        self
    }

    pub fn ratio(&self) -> Option<f64> {
        self.baseline.as_ref().map(|(_, b)| self.value / b)
    }

    pub fn target(mut self, text: &str, met: bool) -> Row {
        self.target = Some((text.to_owned(), met));
        self
    }

    fn json(&self) -> Value {
        json!({
            "name": self.name, "unit": self.unit, "value": self.value,
            "baseline": self.baseline.as_ref().map(|b| b.0.clone()),
            "baseline_value": self.baseline.as_ref().map(|b| b.1),
            "ratio": self.ratio(),
            "target": self.target.as_ref().map(|t| t.0.clone()),
            "target_met": self.target.as_ref().map(|t| t.1),
        })
    }
}

fn num(v: f64) -> String {
    if v.is_nan() {
        "-".into()
    } else if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.2}")
    }
}

/// Prints one row as soon as it is measured.
/// Prints a result and keeps it for the results file.
pub fn record(rows: &mut Vec<Row>, r: Row) {
    print(&r);
    rows.push(r);
}

fn print(r: &Row) {
    let base = r
        .baseline
        .as_ref()
        .map_or(String::new(), |(n, v)| format!("{} {}", num(*v), n));
    let ratio = r.ratio().map_or(String::new(), |x| format!("{x:.2}x"));
    let target = r.target.as_ref().map_or(String::new(), |(t, met)| {
        format!("{} {t}", if *met { "MET" } else { "MISSED" })
    });
    println!(
        "{:<58} {:>10} {:<7} {:>7}  {:<44} {}",
        r.name,
        num(r.value),
        r.unit,
        ratio,
        base,
        target
    );
}

pub fn write(rows: &[Row]) -> std::io::Result<std::path::PathBuf> {
    let dir = clef_pro_tests::root().join("target/bench");
    std::fs::create_dir_all(&dir)?;
    let path = dir.join("results.json");
    let all: Vec<Value> = rows.iter().map(Row::json).collect();
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&all).unwrap_or_default(),
    )?;
    Ok(path)
}
