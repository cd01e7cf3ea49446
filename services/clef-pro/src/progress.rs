//! Progress bars on stderr for the long commands (drawn only on a terminal).

use indicatif::{ProgressBar, ProgressStyle};

/// A bar from 0 to `len` labelled `what`, counting `unit`s.
pub fn bar(len: u64, what: &str, unit: &str) -> anyhow::Result<ProgressBar> {
    let bar = ProgressBar::new(len);
    bar.set_style(
        ProgressStyle::with_template(&format!(
            "{{msg}} [{{bar:30}}] {unit} {{pos}}/{{len}} · {{per_sec}} · ETA {{eta}}"
        ))?
        .progress_chars("=> "),
    );
    bar.set_message(what.to_owned());
    Ok(bar)
}
