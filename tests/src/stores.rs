//! The projection stores of a stopped service, as files.

/// Marks the store at `path` as built by `version` of its projector: what an earlier
/// release would have left (each store keeps its projector's version under
/// `meta`/`version`, a postcard `u32`).
pub fn as_built_by(path: &std::path::Path, version: u32) {
    const META: redb::TableDefinition<&[u8], &[u8]> = redb::TableDefinition::new("meta");
    let db = redb::Database::open(path).expect("open the store");
    let tx = db.begin_write().expect("write");
    let value = postcard::to_allocvec(&version).expect("encode");
    tx.open_table(META)
        .expect("meta")
        .insert(b"version".as_slice(), value.as_slice())
        .expect("insert");
    tx.commit().expect("commit");
}
