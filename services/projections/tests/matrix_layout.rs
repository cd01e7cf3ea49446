//! The matrix store keeps reports by their place in the log (version 3), with the
//! per-integration rows a chunk rewrites held back until the chunk closes; a version 2
//! store, which kept reports by commit, is still read while its successor is built.

use clef_pro_log::{Chunk, Entry};
use clef_pro_projections::matrix::{Matrix, Position, StoredReport};
use clef_pro_projections::runtime::apply_chunk;
use clef_pro_projections::{Kind, Projections};
use clef_pro_schema::domain::{Branch, CommitSha};
use clef_pro_schema::event::Event;
use clef_pro_schema::ids::IntegrationId;
use clef_pro_schema::report::{Report, Summary};
use redb::{Database, TableDefinition};

type Raw = TableDefinition<'static, &'static [u8], &'static [u8]>;

fn report(commit: char, cli_version: &str) -> Report {
    Report {
        commit: CommitSha::parse(&commit.to_string().repeat(40)).unwrap(),
        branch: Some(Branch::parse("main").unwrap()),
        commit_timestamp: None,
        cli_version: cli_version.into(),
        summary: Summary::default(),
        drift: vec![],
        policy_results: vec![],
        ci_context: None,
        secrets_redacted: 0,
    }
}

fn submitted(seq: u64, integration: &IntegrationId, report: Report, at: u64) -> Entry {
    Entry {
        seq,
        event: Event::ReportSubmitted {
            integration: integration.clone(),
            report,
            at,
        },
    }
}

/// Within one chunk and across two, a resubmitted commit replaces the stored content in
/// its first place, and the heads count each commit once.
#[test]
fn reports_are_found_by_commit_and_replaced_in_place_across_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let p = Projections::open(dir.path()).unwrap();
    let store = p.store(Kind::Matrix);
    let int = IntegrationId::random();
    let first = Chunk {
        entries: vec![
            submitted(1, &int, report('a', "1"), 10),
            submitted(2, &int, report('b', "1"), 11),
            submitted(3, &int, report('a', "2"), 12),
        ],
        through: 3,
        bytes: 0,
    };
    apply_chunk::<Matrix>(&store, 0, &[first], true).unwrap();
    let second = Chunk {
        entries: vec![submitted(4, &int, report('b', "3"), 13)],
        through: 4,
        bytes: 0,
    };
    apply_chunk::<Matrix>(&store, 3, &[second], true).unwrap();

    let found = |c: char| -> StoredReport {
        let commit = CommitSha::parse(&c.to_string().repeat(40)).unwrap();
        p.matrix(|m| m.report(&int, &commit)).unwrap().unwrap()
    };
    let (a, b) = (found('a'), found('b'));
    assert_eq!(
        (a.report.cli_version.as_str(), a.position, a.received_at),
        ("2", Position { seq: 1, index: 0 }, 12)
    );
    assert_eq!(
        (b.report.cli_version.as_str(), b.position, b.received_at),
        ("3", Position { seq: 2, index: 0 }, 13)
    );
    let heads = p.matrix(|m| m.heads(&int)).unwrap();
    assert_eq!(heads.reports, 2);
    let history = p.matrix(|m| m.history(&int, None, None, 10)).unwrap();
    let listed: Vec<&str> = history.iter().map(|s| s.cli_version.as_str()).collect();
    assert_eq!(
        listed,
        ["3", "2"],
        "newest place first, with the newest content"
    );
}

/// A store that version 2 of the projector built (reports under `integration ‖ 0 ‖
/// commit` in `reports`) serves its reports while version 3 is built aside.
#[test]
fn a_version_2_store_still_serves_its_reports() {
    let dir = tempfile::tempdir().unwrap();
    let int = IntegrationId::random();
    let stored = StoredReport {
        integration: int.clone(),
        report: report('c', "old"),
        position: Position { seq: 1, index: 0 },
        received_at: 5,
        listed_branch: Some(Branch::parse("main").unwrap()),
    };
    {
        let db = Database::create(dir.path().join("matrix.redb")).unwrap();
        let tx = db.begin_write().unwrap();
        {
            let mut meta = tx.open_table(Raw::new("meta")).unwrap();
            meta.insert(
                b"checkpoint".as_slice(),
                postcard::to_allocvec(&1u64).unwrap().as_slice(),
            )
            .unwrap();
            meta.insert(
                b"version".as_slice(),
                postcard::to_allocvec(&2u32).unwrap().as_slice(),
            )
            .unwrap();
            let key = [
                int.as_str().as_bytes(),
                &[0],
                stored.report.commit.as_str().as_bytes(),
            ]
            .concat();
            tx.open_table(Raw::new("reports"))
                .unwrap()
                .insert(
                    key.as_slice(),
                    postcard::to_allocvec(&stored).unwrap().as_slice(),
                )
                .unwrap();
        }
        tx.commit().unwrap();
    }
    let p = Projections::open(dir.path()).unwrap();
    let found = p.matrix(|m| m.report(&int, &stored.report.commit)).unwrap();
    assert_eq!(found, Some(stored));
    assert!(
        dir.path().join("matrix.next.redb").exists(),
        "version 3 is built aside"
    );
}
