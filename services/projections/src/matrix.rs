//! The matrix projection: every stored report by (integration, commit), its history in
//! log order, the newest report per branch, and per integration the newest report on
//! any branch and on a tracked branch.
//!
//! A report's place in history is where its commit first arrived ((sequence, index in
//! its batch)); a resubmitted commit replaces the stored content in place, and an
//! identical resubmission changes nothing.
//!
//! A report sent alone without a branch (an OTLP gap fill, a REST single with
//! `branch: ""`) is listed in the all-branches history only, until the next new HEAD
//! report on a tracked branch of its integration arrives: that branch's history then
//! lists it too, in its own place, since the CLI fills a gap just before pushing HEAD.

use crate::lifecycle::default_tracked;
use crate::runtime::{Projector, reported_commits};
use crate::store::{Rows, RwTable, Staged, StoreError, Table, dec, enc, get, prefix_end};
use clef_pro_log::Entry;
use clef_pro_schema::domain::{Branch, CommitSha};
use clef_pro_schema::event::Event;
use clef_pro_schema::ids::IntegrationId;
use clef_pro_schema::report::Report;
use redb::{ReadTransaction, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

/// position → [`StoredReport`]. Keyed by where the report sits in the log, so a
/// rebuild appends to the end of the tree instead of inserting each large value at a
/// random place (`bench replay`: the matrix fold went from 4.7 to 3.3 s per 200,000
/// reports; docs/performance.md).
const REPORTS_AT: Table = TableDefinition::new("reports_at");
/// integration / commit → [`Position`]
const POSITIONS: Table = TableDefinition::new("report_positions");
/// integration / commit → [`StoredReport`]: where version 2 stores kept reports; read
/// only, while such a store serves until its successor is built.
const REPORTS_V2: Table = TableDefinition::new("reports");
/// integration / position → [`ReportSummary`], all branches
const HISTORY: Table = TableDefinition::new("history");
/// integration / branch / position → [`ReportSummary`]
const BRANCH_HISTORY: Table = TableDefinition::new("branch_history");
/// integration → [`Heads`]
const HEADS: Table = TableDefinition::new("heads");
/// integration → tracked branches
const TRACKED: Table = TableDefinition::new("tracked");
/// integration / position → commit, of branchless reports no branch lists yet
const UNCLAIMED: Table = TableDefinition::new("unclaimed");
/// [`REPLAYS`] → how many report events were copies of ones applied before
const REPLAYED: Table = TableDefinition::new("replayed_reports");
const REPLAYS: &[u8] = b"replays";

/// Where a report sits in the log: the event's sequence and its index in a batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Position {
    pub seq: u64,
    pub index: u32,
}

impl Position {
    fn bytes(self) -> [u8; 12] {
        let mut b = [0u8; 12];
        b[..8].copy_from_slice(&self.seq.to_be_bytes());
        b[8..].copy_from_slice(&self.index.to_be_bytes());
        b
    }

    /// The cursor form used by the API: `<seq>.<index>`.
    pub fn cursor(self) -> String {
        format!("{}.{}", self.seq, self.index)
    }

    pub fn parse_cursor(s: &str) -> Option<Self> {
        let (seq, index) = s.split_once('.')?;
        Some(Self {
            seq: seq.parse().ok()?,
            index: index.parse().ok()?,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredReport {
    pub integration: IntegrationId,
    pub report: Report,
    pub position: Position,
    /// When the current content arrived.
    pub received_at: u64,
    /// The branch whose history lists the report: its own, or for a branchless report
    /// the tracked branch that claimed it (none until then).
    pub listed_branch: Option<Branch>,
}

impl StoredReport {
    fn borrowed(&self) -> StoredReportRef<'_> {
        StoredReportRef {
            integration: &self.integration,
            report: &self.report,
            position: self.position,
            received_at: self.received_at,
            listed_branch: self.listed_branch.as_ref(),
        }
    }
}

/// A [`StoredReport`] made of borrowed parts, encoded to the same bytes: the fold
/// stores a report without copying it first.
#[derive(Serialize)]
struct StoredReportRef<'a> {
    integration: &'a IntegrationId,
    report: &'a Report,
    position: Position,
    received_at: u64,
    listed_branch: Option<&'a Branch>,
}

/// What a history listing shows of a report, kept beside the history index so that a
/// page of history never decodes whole reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSummary {
    pub integration: IntegrationId,
    pub commit: CommitSha,
    /// The branch whose history lists the report ([`StoredReport::listed_branch`]).
    pub branch: Option<Branch>,
    pub position: Position,
    pub received_at: u64,
    pub commit_timestamp: Option<u64>,
    pub cli_version: String,
    pub passed: bool,
    pub violations: u32,
    pub failed_results: u32,
    pub drifted_namespaces: u32,
    pub secrets_redacted: u32,
}

impl ReportSummary {
    pub fn of(s: &StoredReport) -> Self {
        Self::of_parts(&s.borrowed())
    }

    fn of_parts(s: &StoredReportRef<'_>) -> Self {
        let r = s.report;
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        Self {
            integration: s.integration.clone(),
            commit: r.commit.clone(),
            branch: s.listed_branch.cloned(),
            position: s.position,
            received_at: s.received_at,
            commit_timestamp: r.commit_timestamp,
            cli_version: r.cli_version.clone(),
            passed: r.summary.passed,
            violations: r.summary.violations,
            failed_results: count(r.policy_results.iter().filter(|p| !p.passed).count()),
            drifted_namespaces: count(r.drift.iter().filter(|d| d.is_drifted).count()),
            secrets_redacted: r.secrets_redacted,
        }
    }
}

/// A pointer to a report: its commit, branch, place and arrival time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeadRef {
    pub commit: CommitSha,
    pub branch: Option<Branch>,
    pub position: Position,
    pub received_at: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Heads {
    pub latest: Option<HeadRef>,
    pub latest_tracked: Option<HeadRef>,
    pub reports: u64,
}

pub struct Matrix;

/// The matrix projection's tables, open for one chunk.
pub struct MatrixTables<'t> {
    reports: Staged<'t>,
    positions: Rows<'t, Position>,
    history: Staged<'t>,
    branch_history: Staged<'t>,
    heads: Rows<'t, Heads>,
    tracked: Rows<'t, Vec<Branch>>,
    unclaimed: RwTable<'t>,
    replayed: Rows<'t, u64>,
}

/// Joins key parts with NUL, which no id, sha or branch name contains, so that no
/// prefix of one key part can match another (`release` vs `release/1`).
fn key(parts: &[&[u8]]) -> Vec<u8> {
    parts.join(&0u8)
}

impl Projector for Matrix {
    const NAME: &'static str = "matrix";
    const TABLES: &'static [Table] = &[
        REPORTS_AT,
        POSITIONS,
        REPORTS_V2,
        HISTORY,
        BRANCH_HISTORY,
        HEADS,
        TRACKED,
        UNCLAIMED,
        REPLAYED,
    ];
    /// 2: branchless reports and the `unclaimed` table; the replay guard. 3: reports
    /// keyed by position (`reports_at`, `report_positions`). 4: a change of tracked
    /// branches moves the newest tracked report; copies of report events are counted.
    const VERSION: u32 = 4;
    /// A version 2 store's reports are read from its `reports` table.
    const READS_SINCE: u32 = 2;
    type Tables<'t> = MatrixTables<'t>;

    fn open(tx: &WriteTransaction) -> Result<MatrixTables<'_>, StoreError> {
        Ok(MatrixTables {
            reports: Staged::open(tx, REPORTS_AT)?,
            positions: Rows::open(tx, POSITIONS)?,
            history: Staged::open(tx, HISTORY)?,
            branch_history: Staged::open(tx, BRANCH_HISTORY)?,
            heads: Rows::open(tx, HEADS)?,
            tracked: Rows::open(tx, TRACKED)?,
            unclaimed: tx.open_table(UNCLAIMED)?,
            replayed: Rows::open(tx, REPLAYED)?,
        })
    }

    /// Reads ahead where the chunk's commits are stored, if they are.
    fn prefetch(t: &mut MatrixTables<'_>, events: &[Entry]) -> Result<(), StoreError> {
        t.positions.prefetch(
            reported_commits(events)
                .map(|(int, commit)| key(&[int.as_str().as_bytes(), commit.as_str().as_bytes()])),
        )
    }

    fn apply(t: &mut MatrixTables<'_>, seq: u64, event: &Event) -> Result<(), StoreError> {
        let (integration, reports, at) = match event.fact() {
            Event::IntegrationCreated {
                id,
                tracked_branches,
                ..
            } => {
                t.tracked
                    .put(id.as_str().as_bytes(), tracked_branches.clone());
                return Ok(());
            }
            Event::IntegrationConfiguredV2 {
                id,
                tracked_branches: Some(tracked_branches),
                ..
            } => {
                let int = id.as_str().as_bytes();
                t.tracked.put(int, tracked_branches.clone());
                return t.retrack(int, tracked_branches);
            }
            event => match event.reports() {
                Some(reported) => reported,
                None => return Ok(()),
            },
        };
        let int = integration.as_str().as_bytes();
        let tracked = t.tracked.get(int)?.unwrap_or_else(default_tracked);
        let mut heads = t.heads.get(int)?.unwrap_or_default();
        let mut claimed_by = None;
        let mut copies = 0;
        for (index, report) in reports.iter().enumerate() {
            let rkey = key(&[int, report.commit.as_str().as_bytes()]);
            let prior = t.stored(&rkey)?;
            // The same content that arrived at the same moment: this very event, stored
            // again by someone who can publish to the log. A genuine resubmission
            // arrives later.
            copies += usize::from(
                prior
                    .as_ref()
                    .is_some_and(|p| p.report == *report && p.received_at == at),
            );
            let position = match &prior {
                // Identical, or older than what is stored (a replayed copy of an
                // earlier submission): nothing changes.
                Some(p) if p.report == *report || at < p.received_at => continue,
                Some(p) => p.position,
                None => Position {
                    seq,
                    index: u32::try_from(index).unwrap_or(u32::MAX),
                },
            };
            let s = StoredReportRef {
                integration,
                report,
                position,
                received_at: at,
                // A replaced report keeps its place, under the branch that listed it.
                listed_branch: match &prior {
                    Some(p) => p.listed_branch.as_ref(),
                    None => report.branch.as_ref(),
                },
            };
            t.list(&rkey, &s)?;
            if prior.is_some() {
                continue;
            }
            if report.branch.is_none() {
                t.unclaimed.insert(
                    key(&[int, &position.bytes()]).as_slice(),
                    report.commit.as_str().as_bytes(),
                )?;
            }
            let head = HeadRef {
                commit: report.commit.clone(),
                branch: report.branch.clone(),
                position,
                received_at: at,
            };
            claimed_by = None;
            if let Some(b) = report.branch.as_ref().filter(|b| tracked.contains(b)) {
                heads.latest_tracked = Some(head.clone());
                claimed_by = (index + 1 == reports.len()).then(|| b.clone());
            }
            heads.latest = Some(head);
            heads.reports += 1;
        }
        if let Some(branch) = claimed_by {
            t.claim(int, &branch)?;
        }
        t.heads.put(int, heads);
        if copies > 0 && copies == reports.len() {
            tracing::warn!(seq, "refused a replayed report event");
            let replays = t.replayed.get(REPLAYS)?.unwrap_or(0);
            t.replayed.put(REPLAYS, replays + 1);
        }
        Ok(())
    }

    fn close(t: MatrixTables<'_>) -> Result<(), StoreError> {
        t.reports.flush()?;
        t.history.flush()?;
        t.branch_history.flush()?;
        t.heads.flush()?;
        t.positions.flush()?;
        t.tracked.flush()?;
        t.replayed.flush()
    }
}

impl MatrixTables<'_> {
    /// The report stored under `rkey` (integration / commit).
    fn stored(&mut self, rkey: &[u8]) -> Result<Option<StoredReport>, StoreError> {
        match self.positions.get(rkey)? {
            Some(at) => self.reports.get(&at.bytes()),
            None => Ok(None),
        }
    }

    /// Stores `s` under `rkey` and lists it in the history of all branches and of its
    /// listed branch.
    fn list(&mut self, rkey: &[u8], s: &StoredReportRef<'_>) -> Result<(), StoreError> {
        let int = s.integration.as_str().as_bytes();
        let at = s.position.bytes();
        self.positions.put(rkey, s.position);
        self.reports.insert(at.to_vec(), enc(s));
        let summary = enc(&ReportSummary::of_parts(s));
        if let Some(b) = s.listed_branch {
            self.branch_history
                .insert(key(&[int, b.as_str().as_bytes(), &at]), summary.clone());
        }
        self.history.insert(key(&[int, &at]), summary);
        Ok(())
    }

    /// Points the newest tracked report of `int` at the newest report listed under one
    /// of `tracked`, its tracked branches from now on: `lastCommitSha` is the newest
    /// commit on a tracked branch, whichever branches those are.
    fn retrack(&mut self, int: &[u8], tracked: &[Branch]) -> Result<(), StoreError> {
        let mut newest: Option<ReportSummary> = None;
        for branch in tracked {
            let prefix = key(&[int, branch.as_str().as_bytes(), b""]);
            if let Some(s) = self.branch_history.last::<ReportSummary>(&prefix)?
                && newest.as_ref().is_none_or(|n| s.position > n.position)
            {
                newest = Some(s);
            }
        }
        let mut heads = self.heads.get(int)?.unwrap_or_default();
        // The same report (or none) keeps its pointer as it is (its first arrival);
        // another gets one made from its summary.
        if newest.as_ref().map(|s| s.position) == heads.latest_tracked.as_ref().map(|h| h.position)
        {
            return Ok(());
        }
        heads.latest_tracked = newest.map(|s| HeadRef {
            commit: s.commit,
            branch: s.branch,
            position: s.position,
            received_at: s.received_at,
        });
        self.heads.put(int, heads);
        Ok(())
    }

    /// Lists every unclaimed branchless report of `int` under `branch`, whose new HEAD
    /// has just arrived.
    fn claim(&mut self, int: &[u8], branch: &Branch) -> Result<(), StoreError> {
        let prefix = key(&[int, b""]);
        let upper = prefix_end(&prefix);
        let waiting = self
            .unclaimed
            .range(prefix.as_slice()..upper.as_slice())?
            .map(|e| e.map(|(k, commit)| (k.value().to_vec(), commit.value().to_vec())))
            .collect::<Result<Vec<_>, _>>()?;
        for (ukey, commit) in waiting {
            self.unclaimed.remove(ukey.as_slice())?;
            let rkey = key(&[int, &commit]);
            if let Some(mut s) = self.stored(&rkey)? {
                s.listed_branch = Some(branch.clone());
                self.list(&rkey, &s.borrowed())?;
            }
        }
        Ok(())
    }
}

/// Reads of the matrix projection.
pub struct MatrixView<'a>(pub(crate) &'a ReadTransaction);

impl MatrixView<'_> {
    /// How many report events were copies of ones applied before (replays).
    pub fn replayed_reports(&self) -> Result<u64, StoreError> {
        crate::store::count_in(self.0, REPLAYED, REPLAYS)
    }

    pub fn heads(&self, integration: &IntegrationId) -> Result<Heads, StoreError> {
        Ok(get(&self.0.open_table(HEADS)?, integration.as_str().as_bytes())?.unwrap_or_default())
    }

    pub fn report(
        &self,
        integration: &IntegrationId,
        commit: &CommitSha,
    ) -> Result<Option<StoredReport>, StoreError> {
        let rkey = key(&[integration.as_str().as_bytes(), commit.as_str().as_bytes()]);
        match get::<Position>(&self.0.open_table(POSITIONS)?, &rkey)? {
            Some(at) => get(&self.0.open_table(REPORTS_AT)?, &at.bytes()),
            None => get(&self.0.open_table(REPORTS_V2)?, &rkey),
        }
    }

    /// The newest report on `branch`.
    pub fn latest_on(
        &self,
        integration: &IntegrationId,
        branch: &Branch,
    ) -> Result<Option<StoredReport>, StoreError> {
        match self.history(integration, Some(branch), None, 1)?.first() {
            Some(newest) => self.report(integration, &newest.commit),
            None => Ok(None),
        }
    }

    /// Up to `limit` reports, newest first, strictly before `before` when given.
    pub fn history(
        &self,
        integration: &IntegrationId,
        branch: Option<&Branch>,
        before: Option<Position>,
        limit: usize,
    ) -> Result<Vec<ReportSummary>, StoreError> {
        let int = integration.as_str().as_bytes();
        let (table, prefix) = match branch {
            Some(b) => (BRANCH_HISTORY, key(&[int, b.as_str().as_bytes(), b""])),
            None => (HISTORY, key(&[int, b""])),
        };
        let t = self.0.open_table(table)?;
        let upper = match before {
            Some(p) => [prefix.as_slice(), &p.bytes()].concat(),
            None => prefix_end(&prefix),
        };
        let mut out = Vec::new();
        for r in t
            .range(prefix.as_slice()..upper.as_slice())?
            .rev()
            .take(limit)
        {
            out.push(dec(r?.1.value())?);
        }
        Ok(out)
    }
}
