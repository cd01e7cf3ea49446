//! A store written by a release on redb 2 (file format v2) opens on this one, upgraded
//! in place, with its view and checkpoint.

use clef_pro_projections::store::{SERVING_CACHE, Store};
use redb::{ReadableDatabase, ReadableTable, TableDefinition};

const VIEW: TableDefinition<&[u8], &[u8]> = TableDefinition::new("view");

/// A store as a release on redb 2 left it: format v2, a view row and a checkpoint.
fn written_by_redb2(path: &std::path::Path) {
    type T = redb2::TableDefinition<'static, &'static [u8], &'static [u8]>;
    let db = redb2::Database::create(path).expect("create with redb 2");
    let tx = db.begin_write().expect("write");
    tx.open_table(T::new("meta"))
        .expect("meta")
        .insert(
            b"checkpoint".as_slice(),
            postcard::to_allocvec(&42u64).unwrap().as_slice(),
        )
        .expect("checkpoint");
    tx.open_table(T::new("view"))
        .expect("view")
        .insert(b"row".as_slice(), b"value".as_slice())
        .expect("row");
    tx.commit().expect("commit");
}

#[test]
fn a_store_written_by_redb_2_opens_with_its_view_and_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("view.redb");
    written_by_redb2(&path);
    assert!(
        matches!(
            redb::Database::open(&path),
            Err(redb::DatabaseError::UpgradeRequired(_))
        ),
        "the planted file must be one redb 5 refuses as it is"
    );

    let store = Store::open(&path, &[VIEW], 1, SERVING_CACHE).expect("open");
    assert_eq!(store.checkpoint().unwrap(), 42);
    let tx = store.begin_read().unwrap();
    let view = tx.open_table(VIEW).unwrap();
    let row = view.get(b"row".as_slice()).unwrap();
    assert_eq!(row.map(|v| v.value().to_vec()), Some(b"value".to_vec()));
    drop((view, tx));
    drop(store);
    // Upgraded for good: the current redb opens it directly now.
    let db = redb::Database::open(&path).expect("format v3");
    assert!(db.begin_read().is_ok());
}
