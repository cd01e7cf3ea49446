//! The destinations file at run time: `clef-pro destinations check`, the load at start,
//! and the reload on SIGHUP.

use anyhow::Context;
use clef_pro_notifier::destinations::{Destinations, Shared};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use tokio::sync::watch;

/// `clef-pro destinations check FILE`.
pub fn check(file: &Path) -> anyhow::Result<ExitCode> {
    let d = Destinations::load(file).map_err(anyhow::Error::msg)?;
    let mut n = 0;
    for (name, kind) in d.summary() {
        println!("{name}\t{kind}");
        n += 1;
    }
    println!("{}: {n} destination(s), valid", file.display());
    Ok(ExitCode::SUCCESS)
}

/// Loads the file (none: no destinations) and, when there is one, reloads it on
/// every SIGHUP until `shutdown`.
pub fn watch(file: Option<PathBuf>, mut shutdown: watch::Receiver<bool>) -> anyhow::Result<Shared> {
    let Some(file) = file else {
        return Ok(watch::channel(Arc::new(Destinations::default())).1);
    };
    let first = Destinations::load(&file).map_err(anyhow::Error::msg)?;
    announce(&first, &file, "loaded");
    let (tx, rx) = watch::channel(Arc::new(first));
    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
        .context("cannot handle SIGHUP")?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = hup.recv() => {}
                _ = shutdown.wait_for(|s| *s) => return,
            }
            match Destinations::load(&file) {
                Ok(d) => {
                    announce(&d, &file, "reloaded");
                    tx.send_replace(Arc::new(d));
                }
                Err(e) => tracing::error!(
                    error = %e,
                    "the destinations file was not reloaded; the previous one stays in use"
                ),
            }
        }
    });
    Ok(rx)
}

fn announce(d: &Destinations, file: &Path, what: &str) {
    let names: Vec<String> = d.summary().map(|(n, k)| format!("{n} ({k})")).collect();
    tracing::info!(file = %file.display(), destinations = %names.join(", "), "destinations file {what}");
}
