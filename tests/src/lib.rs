//! Test harness: starts the real things on dynamic ports with their own directories, and
//! cleans up on drop. `nats-server` and the SMTP sink come from the repo's own recipe
//! (`just deps`, which installs them under `.tools/`), or from `$PATH`.

pub mod browser;
pub mod client;
pub mod destinations;
pub mod events;
pub mod fixtures;
pub mod history;
pub mod load;
pub mod metrics;
pub mod moving;
pub mod nats;
pub mod plants;
pub mod process;
pub mod receiver;
pub mod service;
pub mod smtp;
pub mod stores;

use std::path::PathBuf;

/// The workspace root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Finds a tool: `$CLEF_PRO_TEST_<NAME>`, then `.tools/venv/bin/<name>`, then `$PATH`.
pub fn tool(name: &str) -> PathBuf {
    let var = format!("CLEF_PRO_TEST_{}", name.to_uppercase().replace('-', "_"));
    if let Ok(p) = std::env::var(&var) {
        return p.into();
    }
    let local = root().join(".tools/venv/bin").join(name);
    if local.exists() {
        return local;
    }
    name.into()
}

/// A scratch directory for a service or server under test; with `CLEF_PRO_TEST_KEEP=1`
/// it is kept after the test (its path is printed), to read the logs of a failure.
pub fn scratch_dir() -> tempfile::TempDir {
    let keep = std::env::var_os("CLEF_PRO_TEST_KEEP").is_some_and(|v| v == "1");
    let dir = tempfile::Builder::new()
        .prefix("clef-pro-test-")
        .disable_cleanup(keep)
        .tempdir()
        .expect("tempdir");
    if keep {
        eprintln!("keeping {}", dir.path().display());
    }
    dir
}

/// A number from the environment (a fault test's knob), or `default`.
pub fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Every file under `dir`, recursively.
pub fn files_under(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// The files under `dir` that contain `needle`.
pub fn files_containing(dir: &std::path::Path, needle: &[u8]) -> Vec<PathBuf> {
    files_under(dir)
        .into_iter()
        .filter(|p| std::fs::read(p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle)))
        .collect()
}
