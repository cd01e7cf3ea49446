//! The embedded log: one append-only file of records
//! `[len: u32 LE][check: first 4 bytes of BLAKE3(body)][body = dedupe key (32) ‖ event]`.
//!
//! Invariants:
//! - A record is visible (in the index, to readers and to dedupe) only after the
//!   fsync that covers it has returned, so nothing unacknowledged is ever read.
//! - A batch is one record, so it is all or nothing: a crash mid-write leaves a torn
//!   tail, which `open` detects by length or checksum and cuts off.
//! - One writer thread owns the file. It takes every append waiting in its queue,
//!   writes them with one `write` and one `fdatasync`, then answers each (group commit).

use crate::{Appended, Authenticity, Chunk, Entry, LogError, Record};
use clef_pro_schema::sealed::Sealed;
use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use tokio::sync::{mpsc, oneshot, watch};

const HEADER: usize = 8;
const KEY: usize = 32;
/// How many queued appends one fsync may cover.
const MAX_GROUP: usize = 1024;

type Reply = oneshot::Sender<Result<Appended, LogError>>;

struct Request {
    key: [u8; 32],
    bytes: Vec<u8>,
    reply: Reply,
}

struct Index {
    /// Start offset of each record; sequence `n` is `offsets[n - 1]`.
    offsets: Vec<u64>,
    /// Dedupe key → sequence, for every record in the file.
    keys: HashMap<[u8; 32], u64>,
}

struct Shared {
    path: PathBuf,
    auth: Arc<Authenticity>,
    reader: File,
    index: RwLock<Index>,
    head: watch::Sender<u64>,
}

#[derive(Clone)]
pub struct EmbeddedLog {
    shared: Arc<Shared>,
    /// `None` for a read-only view of a log that another process writes.
    requests: Option<mpsc::Sender<Request>>,
}

impl EmbeddedLog {
    pub(crate) fn open(
        dir: &Path,
        group_commit: bool,
        auth: Arc<Authenticity>,
    ) -> Result<Self, LogError> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join("events.clog");
        let mut file = OpenOptions::new()
            .create(true)
            .read(true)
            .append(true)
            .open(&path)?;
        let (index, valid_len) = scan(&mut file)?;
        if valid_len < file.metadata()?.len() {
            tracing::warn!(path = %path.display(), valid_len, "cutting off a torn last record");
            file.set_len(valid_len)?;
            file.sync_all()?;
        }
        let head = index.offsets.len() as u64;
        let shared = Arc::new(Shared {
            reader: File::open(&path)?,
            path,
            auth,
            index: RwLock::new(index),
            head: watch::Sender::new(head),
        });
        let (requests, rx) = mpsc::channel(MAX_GROUP * 4);
        let writer = Writer {
            shared: shared.clone(),
            file,
            end: valid_len,
            group: if group_commit { MAX_GROUP } else { 1 },
        };
        std::thread::Builder::new()
            .name("clef-log-writer".into())
            .spawn(move || writer.run(rx))?;
        Ok(Self {
            shared,
            requests: Some(requests),
        })
    }

    /// Opens the log under `dir` for reading only, while its owner may keep appending:
    /// the records whole when the file is scanned are the fixed cut this view reads,
    /// and a record being written at that moment is simply not part of it. Nothing is
    /// cut off or written.
    pub(crate) fn open_read_only(dir: &Path, auth: Arc<Authenticity>) -> Result<Self, LogError> {
        let path = dir.join("events.clog");
        let mut file = File::open(&path).map_err(|e| {
            LogError::Refused(format!("cannot read the log at {}: {e}", path.display()))
        })?;
        let (index, _) = scan(&mut file)?;
        let head = index.offsets.len() as u64;
        Ok(Self {
            shared: Arc::new(Shared {
                reader: file,
                path,
                auth,
                index: RwLock::new(index),
                head: watch::Sender::new(head),
            }),
            requests: None,
        })
    }

    pub(crate) async fn append(
        &self,
        event: &Sealed,
        again: Option<u64>,
    ) -> Result<Appended, LogError> {
        let (bytes, key) = event.encode_keyed(self.shared.auth.key());
        self.append_bytes(crate::again_id(key, again), bytes).await
    }

    async fn append_bytes(&self, key: [u8; 32], bytes: Vec<u8>) -> Result<Appended, LogError> {
        let (reply, rx) = oneshot::channel();
        self.send(Request { key, bytes, reply }).await?;
        rx.await.map_err(|_| closed())?
    }

    async fn send(&self, req: Request) -> Result<(), LogError> {
        let requests = self
            .requests
            .as_ref()
            .ok_or_else(|| LogError::Refused("this log was opened read-only".into()))?;
        requests.send(req).await.map_err(|_| closed())
    }

    /// Appends records in their order: all are queued before the first is awaited, so
    /// the writer commits them in groups rather than one fsync each.
    pub(crate) async fn append_records(
        &self,
        records: &[Record],
    ) -> Result<Vec<Appended>, LogError> {
        let mut replies = Vec::with_capacity(records.len());
        for r in records {
            let (reply, rx) = oneshot::channel();
            self.send(Request {
                key: r.id,
                bytes: r.bytes.clone(),
                reply,
            })
            .await?;
            replies.push(rx);
        }
        let mut out = Vec::with_capacity(replies.len());
        for rx in replies {
            out.push(rx.await.map_err(|_| closed())??);
        }
        Ok(out)
    }

    pub(crate) fn head(&self) -> u64 {
        *self.shared.head.borrow()
    }

    pub(crate) fn tail(&self, from: u64) -> EmbeddedTail {
        EmbeddedTail {
            shared: self.shared.clone(),
            next: from.max(1),
            head: self.shared.head.subscribe(),
        }
    }

    pub(crate) fn describe(&self) -> String {
        format!("embedded:{}", self.shared.path.display())
    }

    pub(crate) fn authenticity(&self) -> &Authenticity {
        &self.shared.auth
    }
}

fn closed() -> LogError {
    LogError::Unavailable("the log writer has stopped".into())
}

/// Reads the file from the start; returns the index of the valid records and the
/// length they cover. Stops at the first record that is short or fails its checksum.
fn scan(file: &mut File) -> Result<(Index, u64), LogError> {
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(0))?;
    file.read_to_end(&mut bytes)?;
    let mut index = Index {
        offsets: Vec::new(),
        keys: HashMap::new(),
    };
    let mut pos = 0usize;
    while let Some(body) = record_at(&bytes, pos) {
        let mut key = [0u8; KEY];
        key.copy_from_slice(&body[..KEY]);
        index.offsets.push(pos as u64);
        index.keys.insert(key, index.offsets.len() as u64);
        pos += HEADER + body.len();
    }
    Ok((index, pos as u64))
}

/// The body of the record at `pos`, if it is whole and its checksum holds.
fn record_at(bytes: &[u8], pos: usize) -> Option<&[u8]> {
    let header = bytes.get(pos..pos + HEADER)?;
    let len = u32::from_le_bytes(header[..4].try_into().ok()?) as usize;
    let body = bytes.get(pos + HEADER..pos + HEADER + len)?;
    (len >= KEY && header[4..] == check(body)).then_some(body)
}

fn check(body: &[u8]) -> [u8; 4] {
    let h = blake3::hash(body);
    [
        h.as_bytes()[0],
        h.as_bytes()[1],
        h.as_bytes()[2],
        h.as_bytes()[3],
    ]
}

struct Writer {
    shared: Arc<Shared>,
    file: File,
    end: u64,
    group: usize,
}

impl Writer {
    fn run(mut self, mut rx: mpsc::Receiver<Request>) {
        let mut group = Vec::with_capacity(self.group);
        while let Some(first) = rx.blocking_recv() {
            group.push(first);
            while group.len() < self.group {
                match rx.try_recv() {
                    Ok(r) => group.push(r),
                    Err(_) => break,
                }
            }
            self.commit(&mut group);
        }
    }

    /// Writes and syncs one group; then publishes it to readers and answers each append.
    fn commit(&mut self, group: &mut Vec<Request>) {
        let mut buf = Vec::new();
        let mut fresh: Vec<([u8; 32], u64)> = Vec::new(); // (key, offset) of new records
        let base;
        let mut outcome: Vec<Appended> = Vec::with_capacity(group.len());
        {
            let index = self.shared.index.read().unwrap_or_else(|e| e.into_inner());
            base = index.offsets.len() as u64;
            let mut next_seq = base + 1;
            for req in group.iter() {
                let earlier = index.keys.get(&req.key).copied().or_else(|| {
                    fresh
                        .iter()
                        .position(|(k, _)| *k == req.key)
                        .map(|p| index.offsets.len() as u64 + 1 + p as u64)
                });
                if let Some(seq) = earlier {
                    outcome.push(Appended {
                        seq,
                        duplicate: true,
                    });
                    continue;
                }
                let offset = self.end + buf.len() as u64;
                let len = u32::try_from(KEY + req.bytes.len()).unwrap_or(u32::MAX);
                buf.extend_from_slice(&len.to_le_bytes());
                let mut body = Vec::with_capacity(KEY + req.bytes.len());
                body.extend_from_slice(&req.key);
                body.extend_from_slice(&req.bytes);
                buf.extend_from_slice(&check(&body));
                buf.extend_from_slice(&body);
                outcome.push(Appended {
                    seq: next_seq,
                    duplicate: false,
                });
                next_seq += 1;
                fresh.push((req.key, offset));
            }
        }
        let written = if buf.is_empty() {
            Ok(())
        } else {
            self.file
                .write_all(&buf)
                .and_then(|()| self.file.sync_data())
        };
        match written {
            Ok(()) => {
                self.end += buf.len() as u64;
                let mut index = self.shared.index.write().unwrap_or_else(|e| e.into_inner());
                for (key, offset) in &fresh {
                    index.offsets.push(*offset);
                    let seq = index.offsets.len() as u64;
                    index.keys.insert(*key, seq);
                }
                self.shared.head.send_replace(index.offsets.len() as u64);
                drop(index);
                for (req, out) in group.drain(..).zip(outcome) {
                    let _ = req.reply.send(Ok(out));
                }
            }
            Err(e) => {
                // Cut back to the last synced length so that no unacknowledged bytes stay.
                tracing::error!(error = %e, "log write failed");
                let _ = self.file.set_len(self.end);
                for (req, out) in group.drain(..).zip(outcome) {
                    let answer = if out.seq <= base {
                        Ok(out)
                    } else {
                        Err(LogError::Unavailable(format!("write failed: {e}")))
                    };
                    let _ = req.reply.send(answer);
                }
            }
        }
    }
}

/// A live reader of the embedded log.
pub struct EmbeddedTail {
    shared: Arc<Shared>,
    next: u64,
    head: watch::Receiver<u64>,
}

impl EmbeddedTail {
    pub(crate) async fn next_chunk(&mut self, max: usize) -> Result<Chunk, LogError> {
        let last = self.wait(max).await?;
        let mut entries = Vec::with_capacity((last + 1 - self.next) as usize);
        let auth = &self.shared.auth;
        let mut bytes = 0;
        self.each(self.next, last, |seq, body| {
            if let Some(event) = auth.open(seq, &body[KEY..]) {
                entries.push(Entry { seq, event });
                bytes += body.len() - KEY;
            }
        })?;
        self.next = last + 1;
        Ok(Chunk {
            entries,
            through: last,
            bytes,
        })
    }

    /// Like `next_chunk`, but returns the records the log trusts as they are stored.
    pub(crate) async fn next_records(
        &mut self,
        max: usize,
    ) -> Result<(Vec<Record>, u64), LogError> {
        let last = self.wait(max).await?;
        let mut records = Vec::new();
        let auth = &self.shared.auth;
        self.each(self.next, last, |seq, body| {
            if auth.open(seq, &body[KEY..]).is_some() {
                let mut id = [0u8; KEY];
                id.copy_from_slice(&body[..KEY]);
                records.push(Record {
                    seq,
                    id,
                    bytes: body[KEY..].to_vec(),
                });
            }
        })?;
        self.next = last + 1;
        Ok((records, last))
    }

    /// Waits until a record past the last one consumed exists; the last sequence of
    /// the next chunk of at most `max`.
    async fn wait(&mut self, max: usize) -> Result<u64, LogError> {
        loop {
            let head = *self.head.borrow_and_update();
            if head >= self.next {
                return Ok(head.min(self.next + max as u64 - 1));
            }
            self.head.changed().await.map_err(|_| closed())?;
        }
    }

    /// Reads the records `first..=last` (all below the published head) and passes each
    /// one's sequence and body to `f`.
    fn each(&self, first: u64, last: u64, mut f: impl FnMut(u64, &[u8])) -> Result<(), LogError> {
        let (start, end) = {
            let index = self.shared.index.read().unwrap_or_else(|e| e.into_inner());
            let start = index.offsets[(first - 1) as usize];
            let end = index.offsets.get(last as usize).copied();
            (start, end)
        };
        let end = match end {
            Some(e) => e,
            None => self.shared.reader.metadata()?.len(),
        };
        let mut bytes = vec![0u8; (end - start) as usize];
        self.shared.reader.read_exact_at(&mut bytes, start)?;
        let mut pos = 0;
        for seq in first..=last {
            let body = record_at(&bytes, pos).ok_or_else(|| LogError::Corrupt {
                seq,
                reason: "record does not match its checksum".into(),
            })?;
            f(seq, body);
            pos += HEADER + body.len();
        }
        Ok(())
    }
}
