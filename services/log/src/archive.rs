//! The export file: a whole log, in order, as one portable file.
//!
//! ```text
//! header   HEADER bytes: one JSON object (`Header`), padded with spaces, then '\n'
//! records  [len: u32 LE][dedupe key: 32][the record's bytes: len]   × header.events
//! ```
//!
//! The digest is BLAKE3 keyed with the deployment's event key over a context string,
//! the event count and every record as written. A changed, cut or reordered file, or
//! one written under another deployment's key, fails it, and only a holder of the key
//! can make a file that passes: which is what lets import trust the records it holds.

use crate::{LogError, Record};
use clef_pro_schema::keys::PurposeKey;
use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

/// What the first bytes of the file hold.
pub const FORMAT: &str = "clef-pro-export";
/// The format version this release writes and reads.
pub const VERSION: u32 = 1;
/// The header's fixed size, so that it is written last over its placeholder.
const HEADER: usize = 512;
const CONTEXT: &[u8] = b"clef-pro export v1";
/// Records longer than this are not records of a log (the embedded log's length field
/// is a u32, but no event comes near this).
const MAX_RECORD: u32 = 1 << 30;

/// The file's header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    pub format: String,
    pub version: u32,
    /// Where the log was read: `embedded` or `nats:<stream>`.
    pub source: String,
    /// The last sequence of the source's cut.
    pub through: u64,
    pub events: u64,
    /// Keyed BLAKE3, hex.
    pub digest: String,
    /// When the export finished, in milliseconds since the epoch.
    pub exported_at: u64,
}

fn archive_error(path: &Path, why: impl std::fmt::Display) -> LogError {
    LogError::Refused(format!("{}: {why}", path.display()))
}

fn hasher(key: &PurposeKey) -> blake3::Hasher {
    let mut h = blake3::Hasher::new_keyed(key.bytes());
    h.update(CONTEXT);
    h
}

fn finish(mut h: blake3::Hasher, events: u64) -> String {
    h.update(&events.to_le_bytes());
    h.finalize().to_hex().to_string()
}

/// Writes an export to `<path>.partial`, which becomes `path` only when it is whole.
pub struct ArchiveWriter {
    path: PathBuf,
    partial: PathBuf,
    out: BufWriter<File>,
    digest: blake3::Hasher,
    events: u64,
}

impl ArchiveWriter {
    /// Starts an export; refuses to overwrite an existing file.
    pub fn create(path: &Path, key: &PurposeKey) -> Result<Self, LogError> {
        if path.exists() {
            return Err(archive_error(path, "exists already: choose another --out"));
        }
        let partial = PathBuf::from(format!("{}.partial", path.display()));
        let mut file = clef_pro_schema::keys::owner_only_new_file(&partial)
            .or_else(|_| {
                std::fs::remove_file(&partial)?;
                clef_pro_schema::keys::owner_only_new_file(&partial)
            })
            .map_err(|e| archive_error(&partial, e))?;
        file.write_all(&[b' '; HEADER])?;
        Ok(Self {
            path: path.to_owned(),
            partial,
            out: BufWriter::with_capacity(1 << 20, file),
            digest: hasher(key),
            events: 0,
        })
    }

    pub fn push(&mut self, record: &Record) -> Result<(), LogError> {
        let len = u32::try_from(record.bytes.len())
            .ok()
            .filter(|l| *l <= MAX_RECORD)
            .ok_or_else(|| archive_error(&self.path, "a record too large to export"))?;
        for part in [&len.to_le_bytes()[..], &record.id, &record.bytes] {
            self.digest.update(part);
            self.out.write_all(part)?;
        }
        self.events += 1;
        Ok(())
    }

    /// Writes the header over its placeholder, syncs, and moves the file into place.
    pub fn finish(self, source: String, through: u64) -> Result<Header, LogError> {
        let header = Header {
            format: FORMAT.into(),
            version: VERSION,
            source,
            through,
            events: self.events,
            digest: finish(self.digest, self.events),
            exported_at: clef_pro_schema::now_ms(),
        };
        let mut json = serde_json::to_vec(&header).map_err(|e| archive_error(&self.path, e))?;
        if json.len() >= HEADER {
            return Err(archive_error(&self.path, "the header does not fit"));
        }
        json.resize(HEADER - 1, b' ');
        json.push(b'\n');
        let mut file = self
            .out
            .into_inner()
            .map_err(|e| archive_error(&self.partial, e.error()))?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(&json)?;
        file.sync_all()?;
        std::fs::rename(&self.partial, &self.path)?;
        Ok(header)
    }
}

/// Reads an export: [`ArchiveReader::open`] checks the header, [`ArchiveReader::check`]
/// the digest over the whole file, and [`ArchiveReader::next_record`] yields the records.
pub struct ArchiveReader {
    path: PathBuf,
    input: BufReader<File>,
    pub header: Header,
    read: u64,
}

impl ArchiveReader {
    pub fn open(path: &Path) -> Result<Self, LogError> {
        let file = File::open(path).map_err(|e| archive_error(path, e))?;
        let mut input = BufReader::with_capacity(1 << 20, file);
        let mut head = vec![0u8; HEADER];
        input
            .read_exact(&mut head)
            .map_err(|_| archive_error(path, "not a clef-pro export (too short)"))?;
        let header: Header = serde_json::from_slice(head.trim_ascii_end())
            .ok()
            .filter(|h: &Header| h.format == FORMAT)
            .ok_or_else(|| {
                archive_error(path, "not a clef-pro export (its header does not read)")
            })?;
        if header.version != VERSION {
            return Err(archive_error(
                path,
                format!(
                    "export format version {}, and this release reads version {VERSION}",
                    header.version
                ),
            ));
        }
        Ok(Self {
            path: path.to_owned(),
            input,
            header,
            read: 0,
        })
    }

    /// The next record, numbered from 1 in `seq`; `None` after the last.
    pub fn next_record(&mut self) -> Result<Option<Record>, LogError> {
        if self.read == self.header.events {
            return Ok(None);
        }
        let cut = |_| archive_error(&self.path, "ends before its last record (cut short?)");
        let mut len = [0u8; 4];
        self.input.read_exact(&mut len).map_err(cut)?;
        let len = u32::from_le_bytes(len);
        if len > MAX_RECORD {
            return Err(archive_error(&self.path, "a record length out of range"));
        }
        let mut id = [0u8; 32];
        self.input.read_exact(&mut id).map_err(cut)?;
        let mut bytes = vec![0u8; len as usize];
        self.input.read_exact(&mut bytes).map_err(cut)?;
        self.read += 1;
        Ok(Some(Record {
            seq: self.read,
            id,
            bytes,
        }))
    }

    /// Reads the whole file once and checks the digest under `key`, and that nothing
    /// follows the last record.
    pub fn check(path: &Path, key: &PurposeKey) -> Result<Header, LogError> {
        let mut r = Self::open(path)?;
        let mut h = hasher(key);
        while let Some(record) = r.next_record()? {
            let len = record.bytes.len() as u32;
            h.update(&len.to_le_bytes());
            h.update(&record.id);
            h.update(&record.bytes);
        }
        let mut rest = [0u8; 1];
        if r.input.read(&mut rest)? != 0 {
            return Err(archive_error(path, "holds more than its header counts"));
        }
        let digest = finish(h, r.header.events);
        if !constant_time_eq(digest.as_bytes(), r.header.digest.as_bytes()) {
            return Err(archive_error(
                path,
                "its digest does not match: the file was changed or cut, or written under \
                 another deployment key (import needs the source's deployment.key)",
            ));
        }
        Ok(r.header)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use clef_pro_schema::keys::DeploymentKey;

    fn records(n: u64) -> Vec<Record> {
        (1..=n)
            .map(|seq| Record {
                seq,
                id: [seq as u8; 32],
                bytes: vec![seq as u8; seq as usize * 7],
            })
            .collect()
    }

    fn write(dir: &Path, key: &PurposeKey, rs: &[Record]) -> PathBuf {
        let path = dir.join("log.export");
        let mut w = ArchiveWriter::create(&path, key).unwrap();
        for r in rs {
            w.push(r).unwrap();
        }
        w.finish("embedded".into(), 42).unwrap();
        path
    }

    #[test]
    fn records_come_back_in_order_and_the_digest_holds() {
        let dir = tempfile::tempdir().unwrap();
        let key = DeploymentKey::random().events();
        let rs = records(20);
        let path = write(dir.path(), &key, &rs);
        let header = ArchiveReader::check(&path, &key).unwrap();
        assert_eq!((header.events, header.through), (20, 42));
        let mut r = ArchiveReader::open(&path).unwrap();
        let mut seen = Vec::new();
        while let Some(record) = r.next_record().unwrap() {
            seen.push(record);
        }
        assert_eq!(seen, rs);
        assert!(
            ArchiveWriter::create(&path, &key).is_err(),
            "never overwrites"
        );
    }

    #[test]
    fn a_changed_cut_or_foreign_file_fails_its_check() {
        let dir = tempfile::tempdir().unwrap();
        let key = DeploymentKey::random().events();
        let path = write(dir.path(), &key, &records(5));
        let good = std::fs::read(&path).unwrap();
        let check = |bytes: &[u8], key: &PurposeKey| {
            std::fs::write(&path, bytes).unwrap();
            ArchiveReader::check(&path, key).map(|_| ())
        };
        check(&good, &key).unwrap();
        let mut flipped = good.clone();
        *flipped.last_mut().unwrap() ^= 1;
        let cut = &good[..good.len() - 3];
        let mut longer = good.clone();
        longer.push(0);
        for (what, bytes) in [
            ("flipped", &flipped[..]),
            ("cut", cut),
            ("longer", &longer[..]),
        ] {
            assert!(check(bytes, &key).is_err(), "{what}");
        }
        let other = DeploymentKey::random().events();
        let e = check(&good, &other).unwrap_err().to_string();
        assert!(e.contains("deployment key"), "{e}");
        let e = check(b"{\"format\":\"something else\"}", &key)
            .unwrap_err()
            .to_string();
        assert!(e.contains("not a clef-pro export"), "{e}");
    }
}
