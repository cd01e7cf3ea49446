//! Reading the JetStream log: a live tail through an ordered consumer, which rebuilds
//! batches stored as parts when it reaches their commit.

use crate::nats_batch::{
    COMMIT, CommitRecord, KIND, MAX_ASSEMBLED, MAX_PARTS, MIN_PART, MSG_ID, PART, is_part_of,
};
use crate::unavailable;
use crate::{Authenticity, Chunk, Entry, LogError, Record};
use async_nats::HeaderMap;
use async_nats::jetstream::message::StreamMessage;
use async_nats::jetstream::{self, consumer, stream};
use clef_pro_schema::event::Event;
use futures::{FutureExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;

/// A live reader of the stream through an ordered consumer, which recreates itself
/// after a reconnect or a gap.
///
/// An ordered consumer lives on the stream's leader. When that node dies the consumer
/// can go quiet without an error, so a reader that has seen nothing for
/// [`STALL_CHECK`] looks at the stream's head; if it was ahead at two checks in a row,
/// with nothing delivered in between, the reader fails, and its owner reads on from
/// its checkpoint through a new consumer.
pub struct NatsTail {
    stream: stream::Stream,
    auth: Arc<Authenticity>,
    /// The subjects it reads.
    filter: String,
    messages: consumer::pull::Ordered,
    /// The last sequence consumed.
    through: u64,
    /// Whether the head was ahead of `through` at the last check, with nothing since.
    ahead: bool,
    /// Whether the consumer started over and a new one must be opened before reading.
    started_over: bool,
}

const STALL_CHECK: Duration = Duration::from_secs(2);

impl NatsTail {
    /// Reads the stream's `filter` subjects from sequence `from` on.
    pub(crate) async fn open(
        stream: stream::Stream,
        auth: Arc<Authenticity>,
        filter: String,
        from: u64,
    ) -> Result<Self, LogError> {
        let messages = ordered(&stream, &filter, from).await?;
        Ok(Self {
            stream,
            auth,
            filter,
            messages,
            through: from.saturating_sub(1),
            ahead: false,
            started_over: false,
        })
    }

    pub(crate) async fn next_chunk(&mut self, max: usize) -> Result<Chunk, LogError> {
        let mut entries = Vec::new();
        let mut size = 0;
        let auth = self.auth.clone();
        let through = self
            .next_raw(max, |seq, _, bytes| {
                // The legacy boundary is the log's own record, not a fact for readers.
                match auth.open(seq, &bytes) {
                    Some(Event::LegacyTrusted { .. }) | None => false,
                    Some(event) => {
                        entries.push(Entry { seq, event });
                        size += bytes.len();
                        true
                    }
                }
            })
            .await?;
        Ok(Chunk {
            entries,
            through,
            bytes: size,
        })
    }

    /// Like `next_chunk`, but returns the records the log trusts as they are stored.
    pub(crate) async fn next_records(
        &mut self,
        max: usize,
    ) -> Result<(Vec<Record>, u64), LogError> {
        let mut records = Vec::new();
        let auth = self.auth.clone();
        let through = self
            .next_raw(max, |seq, id, bytes| match auth.open(seq, &bytes) {
                Some(Event::LegacyTrusted { .. }) | None => false,
                Some(event) => {
                    let id = id.unwrap_or_else(|| event.dedupe_key());
                    records.push(Record { seq, id, bytes });
                    true
                }
            })
            .await?;
        Ok((records, through))
    }

    /// Waits for the next message, then takes those already delivered, passing each
    /// whole record (a single message, or a batch rebuilt at its commit) to `keep`
    /// until it has kept `max`; returns the last sequence consumed.
    async fn next_raw(
        &mut self,
        max: usize,
        mut keep: impl FnMut(u64, Option<[u8; 32]>, Vec<u8>) -> bool,
    ) -> Result<u64, LogError> {
        if self.started_over {
            self.read_on().await?;
        }
        let first = loop {
            match tokio::time::timeout(STALL_CHECK, self.messages.next()).await {
                Ok(m) => {
                    let m = m.ok_or_else(|| unavailable("the consumer ended"))?;
                    let (seq, m) = sequenced(m)?;
                    if seq <= self.through {
                        self.read_on().await?;
                        continue;
                    }
                    break (seq, m);
                }
                Err(_) => self.check_not_stalled().await?,
            }
        };
        self.ahead = false;
        let mut kept = 0;
        let mut next = Some(first);
        while let Some((seq, m)) = next {
            let record = take(&self.stream, &self.auth, seq, &m).await?;
            self.through = seq;
            if let Some((id, bytes)) = record {
                kept += usize::from(keep(seq, id, bytes));
            }
            if kept >= max {
                break;
            }
            next = match self.messages.next().now_or_never() {
                Some(Some(m)) => Some(sequenced(m)?),
                Some(None) => return Err(unavailable("the consumer ended")),
                None => None,
            };
            // What was taken is returned whole; the new consumer is opened next time.
            if next.as_ref().is_some_and(|(seq, _)| *seq <= self.through) {
                self.started_over = true;
                next = None;
            }
        }
        Ok(self.through)
    }

    /// Reads on through a new consumer, from after what this tail has read. A stall
    /// check starts afresh with it.
    async fn read_on(&mut self) -> Result<(), LogError> {
        tracing::info!(
            through = self.through,
            "the log's consumer started over; reading on from where the tail is"
        );
        self.messages = ordered(&self.stream, &self.filter, self.through + 1).await?;
        self.started_over = false;
        self.ahead = false;
        Ok(())
    }

    async fn check_not_stalled(&mut self) -> Result<(), LogError> {
        let head = match self.stream.info().await {
            Ok(info) => info.state.last_sequence,
            // The consumer has its own recovery while the server is unreachable.
            Err(e) => {
                tracing::debug!(error = %e, "cannot check the stream's head");
                return Ok(());
            }
        };
        if self.ahead && head > self.through {
            return Err(unavailable(format!(
                "the consumer stalled at sequence {} with the stream at {head}",
                self.through
            )));
        }
        self.ahead = head > self.through;
        Ok(())
    }
}

/// An ordered consumer of `filter` from sequence `from`.
async fn ordered(
    stream: &stream::Stream,
    filter: &str,
    from: u64,
) -> Result<consumer::pull::Ordered, LogError> {
    let deliver_policy = if from <= 1 {
        consumer::DeliverPolicy::All
    } else {
        consumer::DeliverPolicy::ByStartSequence {
            start_sequence: from,
        }
    };
    let config = consumer::pull::OrderedConfig {
        filter_subject: filter.to_owned(),
        deliver_policy,
        ..Default::default()
    };
    stream
        .create_consumer(config)
        .await
        .map_err(unavailable)?
        .messages()
        .await
        .map_err(unavailable)
}

/// A delivered message with its stream sequence. A sequence at or before what a tail
/// has read means the consumer started over: the client recreates an ordered consumer
/// that the server lost (a restart) from after the last message it delivered, and one
/// that had delivered nothing from the stream's first message, so a tail started at an
/// idle head would read the whole log again.
fn sequenced(
    msg: Result<jetstream::Message, consumer::pull::OrderedError>,
) -> Result<(u64, jetstream::Message), LogError> {
    let msg = msg.map_err(unavailable)?;
    let seq = msg.info().map_err(unavailable)?.stream_sequence;
    Ok((seq, msg))
}

/// Unless the message at `seq` is a batch part or a commit that is not a batch this
/// log wrote, the whole record: its `Nats-Msg-Id` and its bytes.
async fn take(
    stream: &stream::Stream,
    auth: &Authenticity,
    seq: u64,
    msg: &jetstream::Message,
) -> Result<Option<(Option<[u8; 32]>, Vec<u8>)>, LogError> {
    let headers = msg.headers.as_ref();
    let bytes = match record(stream, seq, headers, &msg.payload).await? {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Ok(None),
        Err(why) => {
            auth.refuse(seq, why);
            return Ok(None);
        }
    };
    let id = header(headers, MSG_ID)
        .and_then(|h| hex::decode(h).ok())
        .and_then(|v| <[u8; 32]>::try_from(v).ok());
    Ok(Some((id, bytes)))
}

/// The record the message at `seq` carries: none for a batch part (its commit carries
/// the batch), the whole batch for a commit, its payload otherwise. The inner error
/// says why a commit is not a batch this log wrote.
pub(crate) async fn record(
    stream: &stream::Stream,
    seq: u64,
    headers: Option<&HeaderMap>,
    payload: &[u8],
) -> Result<Result<Option<Vec<u8>>, &'static str>, LogError> {
    Ok(match header(headers, KIND) {
        Some(PART) => Ok(None),
        Some(COMMIT) => assemble(stream, seq, header(headers, MSG_ID), payload)
            .await?
            .map(Some),
        _ => Ok(Some(payload.to_vec())),
    })
}

/// Fetches a committed batch's parts by sequence and checks the whole. The outer error
/// is the server's; the inner says why the commit is not a batch this log wrote. A
/// forged commit can name any sequences, so it must never stop the reader, nor make it
/// fetch or hold more than a genuine batch could ([`names_a_batch`], [`Parts`]), nor
/// name parts published for another commit ([`is_part_of`]).
async fn assemble(
    stream: &stream::Stream,
    commit_seq: u64,
    commit_id: Option<&str>,
    commit: &[u8],
) -> Result<Result<Vec<u8>, &'static str>, LogError> {
    const NOT_A_BATCH: &str = "a batch commit naming parts no batch has";
    let (Some(commit_id), Ok(commit)) = (commit_id, postcard::from_bytes::<CommitRecord>(commit))
    else {
        return Ok(Err("a malformed batch commit"));
    };
    if !names_a_batch(commit_seq, &commit.parts) {
        return Ok(Err(NOT_A_BATCH));
    }
    let mut parts = Parts::new(commit.parts.len());
    for (index, part) in commit.parts.into_iter().enumerate() {
        let Some(m) = stored(stream, part).await? else {
            return Ok(Err("a batch commit naming a missing part"));
        };
        let ours =
            header(Some(&m.headers), MSG_ID).is_some_and(|id| is_part_of(id, commit_id, index));
        if !(ours && header(Some(&m.headers), KIND) == Some(PART) && parts.take(&m.payload)) {
            return Ok(Err(NOT_A_BATCH));
        }
    }
    let bytes = parts.bytes;
    if *blake3::hash(&bytes).as_bytes() != commit.hash {
        return Ok(Err("batch parts that do not match their commit"));
    }
    Ok(Ok(bytes))
}

/// The message stored at `seq`, if there is one.
pub(crate) async fn stored(
    stream: &stream::Stream,
    seq: u64,
) -> Result<Option<StreamMessage>, LogError> {
    match stream.get_raw_message(seq).await {
        Ok(m) => Ok(Some(m)),
        Err(e) if e.kind() == stream::RawMessageErrorKind::NoMessageFound => Ok(None),
        Err(e) => Err(unavailable(e)),
    }
}

/// A message's header `name`, if it has one.
pub(crate) fn header<'a>(headers: Option<&'a HeaderMap>, name: &str) -> Option<&'a str> {
    headers?.get(name).map(|v| v.as_str())
}

/// Whether `parts` could be what the commit at `commit_seq` of a genuine batch names:
/// 2 to [`MAX_PARTS`] distinct sequences, all before the commit (a batch goes as parts
/// only when it is larger than one message).
fn names_a_batch(commit_seq: u64, parts: &[u64]) -> bool {
    if !(2..=MAX_PARTS).contains(&parts.len()) {
        return false;
    }
    let mut distinct = parts.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    distinct.len() == parts.len() && distinct.last().is_some_and(|&last| last < commit_seq)
}

/// A batch's parts, gathered in order: all but the last as long as the first, which is
/// at least [`MIN_PART`]; the last from 1 byte to that; [`MAX_ASSEMBLED`] bytes in all.
struct Parts {
    count: usize,
    taken: usize,
    first: usize,
    bytes: Vec<u8>,
}

impl Parts {
    fn new(count: usize) -> Self {
        Self {
            count,
            taken: 0,
            first: 0,
            bytes: Vec::new(),
        }
    }

    /// Adds the next part; false (and nothing added) when no genuine batch has it.
    fn take(&mut self, part: &[u8]) -> bool {
        if self.taken == 0 {
            self.first = part.len();
        }
        let fits = if self.taken + 1 < self.count {
            part.len() == self.first
        } else {
            (1..=self.first).contains(&part.len())
        };
        if !fits
            || self.first < MIN_PART
            || self.taken >= self.count
            || self.bytes.len() + part.len() > MAX_ASSEMBLED
        {
            return false;
        }
        self.bytes.extend_from_slice(part);
        self.taken += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_commit_names_distinct_parts_stored_before_it() {
        assert!(names_a_batch(10, &[7, 8, 9]));
        assert!(
            names_a_batch(10, &[8, 7]),
            "a part stored again out of order"
        );
        assert!(!names_a_batch(10, &[7]), "one part fits in one message");
        assert!(!names_a_batch(10, &[]));
        assert!(!names_a_batch(10, &[7, 7, 8]), "a part named twice");
        assert!(!names_a_batch(10, &[8, 10]), "the commit itself");
        assert!(!names_a_batch(10, &[8, 11]), "a part after the commit");
        let many: Vec<u64> = (1..=MAX_PARTS as u64 + 1).collect();
        assert!(!names_a_batch(u64::MAX, &many));
        assert!(names_a_batch(u64::MAX, &many[1..]));
    }

    #[test]
    fn parts_are_as_long_as_the_first_but_the_last() {
        let part = vec![0u8; MIN_PART];
        let mut p = Parts::new(3);
        assert!(p.take(&part) && p.take(&part) && p.take(&part[..1]));
        assert_eq!(p.bytes.len(), 2 * MIN_PART + 1);
        assert!(!p.take(&part[..1]), "more parts than the commit named");

        let mut p = Parts::new(3);
        assert!(p.take(&part) && !p.take(&part[..10]), "a short part inside");
        let mut p = Parts::new(2);
        assert!(
            p.take(&part) && !p.take(&[0; MIN_PART + 1]),
            "a longer last part"
        );
        let mut p = Parts::new(2);
        assert!(p.take(&part) && !p.take(&[]), "an empty last part");
        let mut p = Parts::new(2);
        assert!(
            !p.take(&part[..100]),
            "parts shorter than any the log writes"
        );
    }

    /// The most a forged commit can make a reader hold: [`MAX_ASSEMBLED`] bytes.
    #[test]
    fn parts_stop_at_the_largest_event() {
        let part = vec![0u8; 1 << 20];
        let mut p = Parts::new(MAX_PARTS);
        let taken = (0..MAX_PARTS).take_while(|_| p.take(&part)).count();
        assert_eq!(taken, MAX_ASSEMBLED >> 20);
        assert_eq!(p.bytes.len(), MAX_ASSEMBLED);
    }
}
