//! `clef-pro export` and `clef-pro import`: move a whole log between deployments or
//! backends as one file ([`clef_pro_log::archive`]).

use crate::cli::{ExportArgs, ImportArgs};
use anyhow::Context;
use clef_pro_log::archive::{ArchiveReader, ArchiveWriter};
use clef_pro_log::{Log, Record};
use clef_pro_schema::event::{Provenance, open};
use clef_pro_schema::keys::{DeploymentKey, PurposeKey};
use clef_pro_schema::redact::Redactor;
use clef_pro_schema::sealed::seal;
use std::collections::HashSet;
use std::process::ExitCode;
use std::time::Instant;

/// Records read or appended at a time.
const CHUNK: usize = 1024;
/// Without a terminal for the progress bar, a line every so many events imported.
const PLAIN_EVERY: u64 = 10 * CHUNK as u64;

pub async fn export(args: ExportArgs) -> anyhow::Result<ExitCode> {
    let key = args.log.existing_key()?;
    let log = args.log.open_reader(&key).await?;
    let cut = log.head().await?;
    let mut out = ArchiveWriter::create(&args.out, &key.events())?;
    let bar = crate::progress::bar(cut, "export", "seq")?;
    let started = Instant::now();
    read_through(&log, cut, |records, through| {
        for r in records {
            out.push(r)?;
        }
        bar.set_position(through);
        Ok(())
    })
    .await?;
    bar.finish_and_clear();
    let header = out.finish(source(&log), cut)?;
    eprintln!(
        "exported {} events (the log through sequence {cut}) to {} in {:.1}s; digest {}",
        header.events,
        args.out.display(),
        started.elapsed().as_secs_f64(),
        header.digest,
    );
    Ok(ExitCode::SUCCESS)
}

/// The export's source: the backend, and the stream of a JetStream log (never a path).
fn source(log: &Log) -> String {
    match log.kind() {
        "embedded" => "embedded".into(),
        _ => log.describe(),
    }
}

/// Why an import stops before it writes anything.
fn refuse(why: String) -> anyhow::Result<ExitCode> {
    eprintln!("import refused: {why}");
    Ok(ExitCode::FAILURE)
}

pub async fn import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let key = args.log.existing_key()?;
    let events_key = key.events();
    let started = Instant::now();
    let header = ArchiveReader::check(&args.from, &events_key)?;
    eprintln!(
        "{}: {} events from {} (through sequence {}), digest checked",
        args.from.display(),
        header.events,
        header.source,
        header.through
    );
    let log = args.log.open(&key).await?;
    let held = held_ids(&log).await?;
    // Records another key wrote (or someone without a key forged) are skipped by every
    // reader; an import behind them would leave a log whose stores could never match the
    // export's. Each is counted once, whoever read it first.
    let foreign = log.authenticity().refused();
    if foreign > 0 {
        return refuse(format!(
            "the log is not empty: it holds {foreign} record(s) this deployment key does not \
             verify (written under another key, or forged): import only into a new log (a new \
             stream, or an empty data dir)"
        ));
    }
    if held.len() as u64 > header.events {
        return refuse(format!(
            "the log is not empty: it holds {} events, more than this export's {}",
            held.len(),
            header.events
        ));
    }

    let mut plan = Plan::new(&key, &events_key);
    let mut reader = ArchiveReader::open(&args.from)?;
    let bar = crate::progress::bar(header.events, "import", "event")?;
    let mut batch = Vec::with_capacity(CHUNK);
    let (mut compared, mut appended) = (0usize, 0u64);
    while let Some(record) = reader.next_record()? {
        bar.set_position(record.seq);
        let Some(record) = plan.next(record)? else {
            continue;
        };
        if compared < held.len() {
            if record.id != held[compared] {
                bar.finish_and_clear();
                return refuse(format!(
                    "the log is not empty, and its event {} is not this export's: import \
                     only into a new log (a new stream, or an empty data dir)",
                    compared + 1
                ));
            }
            compared += 1;
            continue;
        }
        batch.push(record);
        if batch.len() == CHUNK {
            appended += write_batch(&log, &mut batch).await?;
            if bar.is_hidden() && appended % PLAIN_EVERY == 0 {
                eprintln!("imported {appended} events so far");
            }
        }
    }
    appended += write_batch(&log, &mut batch).await?;
    bar.finish_and_clear();
    if appended == 0 && compared > 0 {
        return refuse(format!(
            "the log already holds all {} events of this export: nothing to import",
            held.len()
        ));
    }
    if compared > 0 {
        eprintln!("resumed after the {compared} events the log already held");
    }
    eprintln!(
        "imported {appended} events into {} in {:.1}s ({} unauthenticated records from an \
         older release sealed afresh, {} repeated records skipped); now run `clef-pro verify`",
        log.describe(),
        started.elapsed().as_secs_f64(),
        plan.legacy,
        plan.repeated,
    );
    Ok(ExitCode::SUCCESS)
}

/// Appends and empties `batch`; how many records it held.
async fn write_batch(log: &Log, batch: &mut Vec<Record>) -> anyhow::Result<u64> {
    if batch.is_empty() {
        return Ok(0);
    }
    log.append_records(batch)
        .await
        .context("cannot append to the log (run the same import again to resume)")?;
    let n = batch.len() as u64;
    batch.clear();
    Ok(n)
}

/// The dedupe keys of the events the log holds now, in order.
async fn held_ids(log: &Log) -> anyhow::Result<Vec<[u8; 32]>> {
    let head = log.head().await?;
    let mut ids = Vec::new();
    read_through(log, head, |records, _| {
        ids.extend(records.iter().map(|r| r.id));
        Ok(())
    })
    .await?;
    Ok(ids)
}

/// Reads the records the log trusts, in order, up to sequence `cut` (those appended
/// after it are left out), passing each chunk and the sequence it reached to `each`.
async fn read_through(
    log: &Log,
    cut: u64,
    mut each: impl FnMut(&[Record], u64) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    if cut == 0 {
        return Ok(());
    }
    let mut tail = log.tail(1).await?;
    let mut through = 0;
    while through < cut {
        let (mut records, last) = tail
            .next_records(CHUNK)
            .await
            .context("cannot read the log")?;
        records.retain(|r| r.seq <= cut);
        through = last;
        each(&records, through.min(cut))?;
    }
    Ok(())
}

/// What the import appends for each record of the file, in order: the record itself;
/// an older release's unauthenticated record sealed afresh through the redaction
/// chokepoint under this deployment's key; nothing for a record whose dedupe key came
/// earlier (a JetStream log stores a resubmission again once its duplicate window has
/// passed; every log keeps the first, so a moved log has each key once).
struct Plan<'k> {
    redactor: Redactor,
    key: &'k PurposeKey,
    seen: HashSet<[u8; 32]>,
    legacy: u64,
    repeated: u64,
}

impl<'k> Plan<'k> {
    fn new(deployment: &DeploymentKey, key: &'k PurposeKey) -> Self {
        Self {
            redactor: Redactor::new(deployment.fingerprints()),
            key,
            seen: HashSet::new(),
            legacy: 0,
            repeated: 0,
        }
    }

    fn next(&mut self, record: Record) -> anyhow::Result<Option<Record>> {
        let record = match open(&record.bytes, self.key) {
            Ok((_, Provenance::Authenticated)) => record,
            Ok((event, Provenance::Legacy)) => {
                self.legacy += 1;
                let (bytes, id) = seal(event, &self.redactor).encode_keyed(self.key);
                Record {
                    seq: record.seq,
                    id,
                    bytes,
                }
            }
            Err(e) => return Err(anyhow::anyhow!("record {} does not open: {e}", record.seq)),
        };
        if !self.seen.insert(record.id) {
            self.repeated += 1;
            return Ok(None);
        }
        Ok(Some(record))
    }
}
