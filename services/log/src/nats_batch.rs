//! How the JetStream log stores an event larger than one message: *part* messages, then
//! one *commit* message that lists them (see `nats.rs`); the header says which is which.

/// The header that marks a part or a commit.
pub(crate) const KIND: &str = "Clef-Pro-Kind";
pub(crate) const PART: &str = "part";
pub(crate) const COMMIT: &str = "commit";

/// The last message of a batch stored as parts: the parts' sequences and the BLAKE3
/// hash of the whole.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct CommitRecord {
    pub(crate) parts: Vec<u64>,
    pub(crate) hash: [u8; 32],
}
