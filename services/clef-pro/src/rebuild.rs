//! `clef-pro replay` and `clef-pro verify`: fold the whole log into fresh stores.

use crate::cli::{LogArgs, ReplayArgs};
use anyhow::Context;
use clef_pro_log::Log;
use clef_pro_projections::replay::rebuild;
use clef_pro_projections::{Kind, Projections};
use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

/// Folds the log up to `head` into the stores at `dir`, with a progress bar on stderr.
async fn fold(dir: &Path, log: &Log, head: u64, what: &str) -> anyhow::Result<Projections> {
    let p = Projections::open_with_cache(dir, clef_pro_projections::store::REBUILD_CACHE)
        .with_context(|| format!("cannot open stores in {}", dir.display()))?;
    let bar = crate::progress::bar(head, what, "seq")?;
    let started = Instant::now();
    let done = rebuild(&p, log, head, |_, through| bar.set_position(through))
        .await
        .with_context(|| format!("{what} failed"))?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    let folding: Vec<String> = Kind::ALL
        .iter()
        .zip(done.folding)
        .map(|(k, t)| format!("{} {:.1}s", k.name(), t.as_secs_f64()))
        .collect();
    eprintln!(
        "{what}: {} events up to sequence {head} in {secs:.1}s ({:.0} events/s; folding: {}; waiting for the log {:.1}s)",
        done.events,
        done.events as f64 / secs.max(1e-9),
        folding.join(", "),
        done.waiting.as_secs_f64(),
    );
    Ok(p)
}

fn print_digests(p: &Projections) -> anyhow::Result<Vec<(&'static str, u64, String)>> {
    let d = p.digests().context("cannot digest the stores")?;
    for (name, checkpoint, digest) in &d {
        println!("{name:<9} checkpoint {checkpoint:>10}  digest {digest}");
    }
    Ok(d)
}

pub async fn replay(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    // A read-only view: replay never writes the log, so it may run beside `serve`.
    let log = args.log.open_reader(&args.log.existing_key()?).await?;
    let head = log.head().await?;
    let live = args.log.stores_dir();
    let target = args
        .into
        .clone()
        .unwrap_or_else(|| args.log.data_dir.join("stores.rebuild"));
    if target.exists() {
        std::fs::remove_dir_all(&target)
            .with_context(|| format!("cannot clear {}", target.display()))?;
    }
    let p = fold(&target, &log, head, "replay").await?;
    print_digests(&p)?;
    drop(p);
    if args.into.is_none() {
        if live.exists() {
            let old = args
                .log
                .data_dir
                .join(format!("stores.old-{}", clef_pro_schema::now_ms()));
            std::fs::rename(&live, &old).context("cannot move the old stores aside")?;
            eprintln!("previous stores kept in {}", old.display());
        }
        std::fs::rename(&target, &live).context("cannot install the rebuilt stores")?;
        eprintln!("rebuilt stores installed in {}", live.display());
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn verify(args: LogArgs) -> anyhow::Result<ExitCode> {
    let log = args.open(&args.existing_key()?).await?;
    let head = log.head().await?;
    // Bring the live stores to the same head first: what `serve` would do next anyway.
    let live = fold(&args.stores_dir(), &log, head, "catch up live stores").await?;
    let aside = tempfile_dir(&args.data_dir)?;
    let fresh = fold(&aside, &log, head, "rebuild aside").await?;
    println!("live:");
    let a = print_digests(&live)?;
    println!("rebuilt:");
    let b = print_digests(&fresh)?;
    drop(fresh);
    let _ = std::fs::remove_dir_all(&aside);
    let differing: Vec<&str> = a
        .iter()
        .zip(&b)
        .filter(|(x, y)| x.2 != y.2)
        .map(|(x, _)| x.0)
        .collect();
    if differing.is_empty() {
        println!("OK: every projection matches a rebuild from the log");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("MISMATCH: {}", differing.join(", "));
        Ok(ExitCode::FAILURE)
    }
}

fn tempfile_dir(data_dir: &Path) -> anyhow::Result<std::path::PathBuf> {
    let dir = data_dir.join(format!("stores.verify-{}", clef_pro_schema::now_ms()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}
