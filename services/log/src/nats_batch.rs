//! How the JetStream log stores an event larger than one message: *part* messages, then
//! one *commit* message that lists them (see `nats.rs`); the header says which is which.

/// The header JetStream deduplicates by: the record's id.
pub(crate) const MSG_ID: &str = "Nats-Msg-Id";

/// The header that marks a part or a commit.
pub(crate) const KIND: &str = "Clef-Pro-Kind";
pub(crate) const PART: &str = "part";
pub(crate) const COMMIT: &str = "commit";

/// The shortest a part but the last can be: the log's part size is the server's
/// `max_payload` less room for headers, and never below this.
pub(crate) const MIN_PART: usize = 4096;

/// The largest event the log stores as parts, and so the most a commit may assemble:
/// eight times the largest batch body the API takes (32 MiB), which redaction markers
/// can lengthen but never that much. An append beyond it is refused, and a commit that
/// names more is refused before it costs a reader more than this.
pub(crate) const MAX_ASSEMBLED: usize = 256 << 20;

/// The most parts a commit may name: [`MAX_ASSEMBLED`] in parts of [`MIN_PART`].
pub(crate) const MAX_PARTS: usize = MAX_ASSEMBLED / MIN_PART + 1;

/// The last message of a batch stored as parts: the parts' sequences and the BLAKE3
/// hash of the whole.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct CommitRecord {
    pub(crate) parts: Vec<u64>,
    pub(crate) hash: [u8; 32],
}

/// A part's `Nats-Msg-Id`: its commit's id and its index, then anything after a `-`
/// (a part stored again under an id of the log's own). A commit can only name parts
/// published for it, so a stranger's commit cannot make readers gather the same parts
/// again and again.
pub(crate) fn part_id(commit_id: &str, index: usize) -> String {
    format!("{commit_id}-p{index}")
}

/// Whether `id` is the id of part `index` of the commit with id `commit_id`.
pub(crate) fn is_part_of(id: &str, commit_id: &str, index: usize) -> bool {
    id.strip_prefix(&part_id(commit_id, index))
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_belongs_to_the_commit_and_index_its_id_names() {
        assert!(is_part_of("k-p0", "k", 0));
        assert!(
            is_part_of("k-p12-3f9a", "k", 12),
            "stored again under the log's own id"
        );
        assert!(
            is_part_of("k-5e-p1", "k-5e", 1),
            "a commit under the log's own id"
        );
        assert!(!is_part_of("k-p1", "k", 0));
        assert!(!is_part_of("k-p12", "k", 1), "p1 is not p12");
        assert!(!is_part_of("x-p0", "k", 0));
        assert!(!is_part_of("k-p0", "k-5e", 0));
    }
}
