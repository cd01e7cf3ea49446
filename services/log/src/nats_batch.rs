//! How the JetStream log stores an event larger than one message: *part* messages, then
//! one *commit* message that lists them (see `nats.rs`); the header says which is which.

/// The header that marks a part or a commit.
pub(crate) const KIND: &str = "Clef-Pro-Kind";
pub(crate) const PART: &str = "part";
pub(crate) const COMMIT: &str = "commit";

/// The shortest a part but the last can be: the log's part size is the server's
/// `max_payload` less room for headers, and never below this.
pub(crate) const MIN_PART: usize = 4096;

/// The largest event a commit may assemble: twice the largest batch body the API takes
/// (32 MiB), so no genuine batch comes near it. A commit that names more is refused
/// before it costs a reader more than this in memory or [`MAX_PARTS`] fetches.
pub(crate) const MAX_ASSEMBLED: usize = 64 << 20;

/// The most parts a commit may name: [`MAX_ASSEMBLED`] in parts of [`MIN_PART`].
pub(crate) const MAX_PARTS: usize = MAX_ASSEMBLED / MIN_PART + 1;

/// The last message of a batch stored as parts: the parts' sequences and the BLAKE3
/// hash of the whole.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct CommitRecord {
    pub(crate) parts: Vec<u64>,
    pub(crate) hash: [u8; 32],
}
