//! The alerts projection: the lifecycle of [`crate::lifecycle`] kept in redb, with the
//! indexes that keep every read bounded by the page it returns, however many alerts an
//! integration has: alerts by opening order (all, and per status), and open counts by
//! severity kept up to date on every change.

pub use crate::counts::OpenCounts;
use crate::lifecycle::{self, Alert, AlertState, Head, IntegrationAlerts, Status};
use crate::runtime::{Projector, reported_commits};
use crate::store::{Rows, StoreError, Table, dec, enc, get};
use crate::triage::{self, InboxFilter, Sums, TrendPoint, Triage};
use clef_pro_log::Entry;
use clef_pro_schema::domain::{CommitSha, Severity};
use clef_pro_schema::event::Event;
use clef_pro_schema::ids::{AlertId, IntegrationId};
use redb::{ReadTransaction, ReadableTable, TableDefinition, WriteTransaction};

/// integration → [`IntegrationAlerts`]
const STATE: Table = TableDefinition::new("alert_state");
/// alert id → [`Alert`]
const ALERTS: Table = TableDefinition::new("alerts");
/// integration ‖ opening sequence ‖ alert id → alert id, for listing in order
const INDEX: Table = TableDefinition::new("alert_index");
/// integration ‖ commit → (), every commit reported
const SEEN: Table = TableDefinition::new("seen_commits");
/// integration ‖ status ‖ opening sequence ‖ alert id → alert id
const BY_STATUS: Table = TableDefinition::new("alert_status_index");
/// integration → [`OpenCounts`]
const COUNTS: Table = TableDefinition::new("alert_open_counts");
/// integration → how many alert writes it has had: a page's version, in one read.
const REVISIONS: Table = TableDefinition::new("alert_revisions");

pub(crate) const TABLES: [Table; 7] = [STATE, ALERTS, INDEX, SEEN, BY_STATUS, COUNTS, REVISIONS];

/// The alerts store: the lifecycle's tables and the triage tables.
const STORE_TABLES: [Table; 12] = [
    STATE,
    ALERTS,
    INDEX,
    SEEN,
    BY_STATUS,
    COUNTS,
    REVISIONS,
    triage::TABLES[0],
    triage::TABLES[1],
    triage::TABLES[2],
    triage::TABLES[3],
    triage::TABLES[4],
];

/// Where a page of alerts ends: the opening sequence and id of its last alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertCursor {
    pub seq: u64,
    pub id: AlertId,
}

impl AlertCursor {
    /// `<seq>.<alert id>`, as the API hands it out.
    pub fn parse(s: &str) -> Option<Self> {
        let (seq, id) = s.split_once('.')?;
        Some(Self {
            seq: seq.parse().ok()?,
            id: AlertId::parse(id).ok()?,
        })
    }

    pub fn of(a: &Alert) -> Self {
        Self {
            seq: a.opened_seq,
            id: a.id.clone(),
        }
    }
}

impl std::fmt::Display for AlertCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.seq, self.id)
    }
}

/// The lifecycle's state inside one write transaction.
pub struct RedbAlerts<'t> {
    state: Rows<'t, IntegrationAlerts>,
    alerts: redb::Table<'t, &'static [u8], &'static [u8]>,
    index: redb::Table<'t, &'static [u8], &'static [u8]>,
    seen: Rows<'t, ()>,
    by_status: redb::Table<'t, &'static [u8], &'static [u8]>,
    counts: Rows<'t, OpenCounts>,
    revisions: Rows<'t, u64>,
    /// The inbox, times to resolve and trends: the alerts projection's own, not the
    /// outbox's copy of the lifecycle.
    triage: Option<Triage<'t>>,
}

impl<'t> RedbAlerts<'t> {
    pub(crate) fn open(tx: &'t WriteTransaction) -> Result<Self, StoreError> {
        Ok(Self {
            state: Rows::open(tx, STATE)?,
            alerts: tx.open_table(ALERTS)?,
            index: tx.open_table(INDEX)?,
            seen: Rows::open(tx, SEEN)?,
            by_status: tx.open_table(BY_STATUS)?,
            counts: Rows::open(tx, COUNTS)?,
            revisions: Rows::open(tx, REVISIONS)?,
            triage: None,
        })
    }

    /// Writes the rows the chunk held back.
    pub(crate) fn close(self) -> Result<(), StoreError> {
        self.state.flush()?;
        self.seen.flush()?;
        self.counts.flush()?;
        self.revisions.flush()?;
        match self.triage {
            Some(t) => t.close(),
            None => Ok(()),
        }
    }

    fn with_triage(tx: &'t WriteTransaction) -> Result<Self, StoreError> {
        Ok(Self {
            triage: Some(Triage::open(tx)?),
            ..Self::open(tx)?
        })
    }

    /// Reads ahead whether the chunk's reports were seen before.
    pub(crate) fn prefetch(&mut self, events: &[Entry]) -> Result<(), StoreError> {
        self.seen
            .prefetch(reported_commits(events).map(|(int, commit)| seen_key(int, commit)))
    }

    pub(crate) fn apply(&mut self, seq: u64, event: &Event) -> Result<Option<Head>, StoreError> {
        let head = lifecycle::apply(self, seq, event)?;
        if let (Some(triage), Some(h)) = (&mut self.triage, &head) {
            let (reports, at) = event
                .reports()
                .map_or((&[][..], 0), |(_, reports, at)| (reports, at));
            let failing = reports.last().map_or(0, |r| r.failures().len() as u64);
            let open = self
                .counts
                .get(h.integration.as_str().as_bytes())?
                .unwrap_or_default();
            triage.on_report(
                &h.integration,
                TrendPoint {
                    seq,
                    at,
                    open,
                    failing,
                },
            )?;
        }
        Ok(head)
    }
}

/// integration ‖ 0 ‖ commit: a commit the lifecycle has seen.
fn seen_key(integration: &IntegrationId, commit: &CommitSha) -> Vec<u8> {
    [
        integration.as_str().as_bytes(),
        &[0],
        commit.as_str().as_bytes(),
    ]
    .concat()
}

/// `integration ‖ 0 ‖ [status ‖] seq ‖ id`: ids never contain NUL, so one
/// integration's keys never run into another's.
fn index_key(
    integration: &IntegrationId,
    status: Option<Status>,
    seq: u64,
    id: &AlertId,
) -> Vec<u8> {
    [
        integration.as_str().as_bytes(),
        &[0],
        status.map(status_byte).as_slice(),
        &seq.to_be_bytes(),
        id.as_str().as_bytes(),
    ]
    .concat()
}

fn status_byte(s: Status) -> u8 {
    match s {
        Status::Open => b'o',
        Status::Resolved => b'r',
    }
}

impl AlertState for RedbAlerts<'_> {
    type Error = StoreError;

    fn integration(&mut self, id: &IntegrationId) -> Result<Option<IntegrationAlerts>, StoreError> {
        self.state.get(id.as_str().as_bytes())
    }

    fn put_integration(
        &mut self,
        id: &IntegrationId,
        v: &IntegrationAlerts,
    ) -> Result<(), StoreError> {
        self.state.put(id.as_str().as_bytes(), v.clone());
        Ok(())
    }

    fn alert(&self, id: &AlertId) -> Result<Option<Alert>, StoreError> {
        get(&self.alerts, id.as_str().as_bytes())
    }

    fn put_alert(&mut self, a: &Alert) -> Result<(), StoreError> {
        let old: Option<Alert> = self
            .alerts
            .insert(a.id.as_str().as_bytes(), enc(a).as_slice())?
            .map(|v| dec(v.value()))
            .transpose()?;
        let id = a.id.as_str().as_bytes();
        self.index.insert(
            index_key(&a.integration, None, a.opened_seq, &a.id).as_slice(),
            id,
        )?;
        if let Some(o) = &old
            && o.status != a.status
        {
            self.by_status.remove(
                index_key(&o.integration, Some(o.status), o.opened_seq, &o.id).as_slice(),
            )?;
        }
        self.by_status.insert(
            index_key(&a.integration, Some(a.status), a.opened_seq, &a.id).as_slice(),
            id,
        )?;
        let was_open = old
            .as_ref()
            .filter(|o| o.status == Status::Open)
            .map(|o| o.severity);
        let is_open = (a.status == Status::Open).then_some(a.severity);
        if was_open != is_open {
            let key = a.integration.as_str().as_bytes();
            let mut c = self.counts.get(key)?.unwrap_or_default();
            c.change(was_open, is_open);
            self.counts.put(key, c);
        }
        if let Some(t) = &mut self.triage {
            t.on_alert(old.as_ref(), a)?;
        }
        self.still_failing(a)
    }

    /// Writing the same alert again changed nothing but its integration's revision
    /// (the inbox entry is removed and put back as it was); only that is done.
    fn still_failing(&mut self, a: &Alert) -> Result<(), StoreError> {
        let key = a.integration.as_str().as_bytes();
        let revision = self.revisions.get(key)?.unwrap_or_default();
        self.revisions.put(key, revision + 1);
        Ok(())
    }

    fn first_sight(
        &mut self,
        integration: &IntegrationId,
        commit: &CommitSha,
    ) -> Result<bool, StoreError> {
        let k = seen_key(integration, commit);
        let first = self.seen.get(&k)?.is_none();
        if first {
            self.seen.put(&k, ());
        }
        Ok(first)
    }
}

pub struct Alerts;

impl Projector for Alerts {
    const NAME: &'static str = "alerts";
    const TABLES: &'static [Table] = &STORE_TABLES;
    /// 2: the replay guard, alerts by status, open counts. 3: revisions. 4: the
    /// inbox, times to resolve and trends (`triage`).
    const VERSION: u32 = 4;
    /// An older store reads as one whose revisions are all 0 and whose triage tables
    /// are empty (open creates them): pages do not refresh by themselves, and the
    /// inbox, times to resolve and trends are empty, until the new store is swapped in.
    const READS_SINCE: u32 = 2;
    type Tables<'t> = RedbAlerts<'t>;

    fn open(tx: &WriteTransaction) -> Result<RedbAlerts<'_>, StoreError> {
        RedbAlerts::with_triage(tx)
    }

    fn prefetch(t: &mut RedbAlerts<'_>, events: &[Entry]) -> Result<(), StoreError> {
        t.prefetch(events)
    }

    fn apply(t: &mut RedbAlerts<'_>, seq: u64, event: &Event) -> Result<(), StoreError> {
        t.apply(seq, event.fact())?;
        Ok(())
    }

    fn close(t: RedbAlerts<'_>) -> Result<(), StoreError> {
        t.close()
    }
}

/// Reads of alerts, from the alerts projection (or the outbox's copy of the lifecycle).
pub struct AlertsView<'a>(pub(crate) &'a ReadTransaction);

impl AlertsView<'_> {
    pub fn alert(&self, id: &AlertId) -> Result<Option<Alert>, StoreError> {
        get(&self.0.open_table(ALERTS)?, id.as_str().as_bytes())
    }

    /// Open alerts by severity: one read, whatever their number.
    pub fn open_counts(&self, integration: &IntegrationId) -> Result<OpenCounts, StoreError> {
        Ok(get(&self.0.open_table(COUNTS)?, integration.as_str().as_bytes())?.unwrap_or_default())
    }

    /// The open alerts of an integration, newest first.
    pub fn open(&self, integration: &IntegrationId) -> Result<Vec<Alert>, StoreError> {
        self.page(integration, Some(Status::Open), None, usize::MAX)
    }

    /// Changes whenever one of the integration's alerts opens, resolves or is
    /// acknowledged.
    pub fn revision(&self, integration: &IntegrationId) -> Result<u64, StoreError> {
        Ok(get(
            &self.0.open_table(REVISIONS)?,
            integration.as_str().as_bytes(),
        )?
        .unwrap_or_default())
    }

    /// The inbox: see [`triage::inbox`].
    pub fn inbox(
        &self,
        filter: &InboxFilter,
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<(Vec<Alert>, Option<String>), StoreError> {
        let alerts = self.0.open_table(ALERTS)?;
        triage::inbox(self.0, filter, after, limit, |id| get(&alerts, id))
    }

    /// Times to resolve: see [`triage::time_to_resolve`].
    pub fn time_to_resolve(
        &self,
        integration: Option<&IntegrationId>,
    ) -> Result<Vec<(Severity, Sums, Option<u64>)>, StoreError> {
        triage::time_to_resolve(self.0, integration)
    }

    /// A trend: see [`triage::trend`].
    pub fn trend(
        &self,
        integration: Option<&IntegrationId>,
        points: usize,
    ) -> Result<Vec<TrendPoint>, StoreError> {
        triage::trend(self.0, integration, points)
    }

    /// Up to `limit` alerts of an integration with `status` (any when `None`), newest
    /// first, strictly after `after` in that order. Reads only what it returns.
    pub fn page(
        &self,
        integration: &IntegrationId,
        status: Option<Status>,
        after: Option<&AlertCursor>,
        limit: usize,
    ) -> Result<Vec<Alert>, StoreError> {
        let (index, prefix) = match status {
            Some(s) => (
                self.0.open_table(BY_STATUS)?,
                [integration.as_str().as_bytes(), &[0, status_byte(s)]].concat(),
            ),
            None => (
                self.0.open_table(INDEX)?,
                [integration.as_str().as_bytes(), &[0]].concat(),
            ),
        };
        let alerts = self.0.open_table(ALERTS)?;
        let upper = match after {
            Some(c) => [
                prefix.as_slice(),
                &c.seq.to_be_bytes(),
                c.id.as_str().as_bytes(),
            ]
            .concat(),
            None => [prefix.as_slice(), &[0xff; 9]].concat(),
        };
        let mut out = Vec::new();
        for r in index
            .range(prefix.as_slice()..upper.as_slice())?
            .rev()
            .take(limit)
        {
            let (_, id) = r?;
            if let Some(a) = get(&alerts, id.value())? {
                out.push(a);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use clef_pro_schema::domain::{RuleId, Scope};

    fn alert(integration: &IntegrationId) -> Alert {
        Alert {
            id: AlertId::random(),
            integration: integration.clone(),
            rule_id: RuleId::parse("rotation").unwrap(),
            rule_name: "Key rotation".into(),
            scope: Scope::Global,
            severity: Severity::Error,
            message: "overdue".into(),
            status: Status::Open,
            acknowledged_by: None,
            acknowledged_at: None,
            opened_by: CommitSha::parse(&"a".repeat(40)).unwrap(),
            opened_at: 1,
            opened_seq: 1,
            resolved_by: None,
            resolved_at: None,
            previous: None,
        }
    }

    /// `still_failing` leaves the store as writing the same alert again did, byte for
    /// byte, so stores built before it keep matching a rebuild (`verify`).
    #[test]
    fn an_alert_still_failing_stores_what_writing_it_again_stored() {
        let dir = tempfile::tempdir().unwrap();
        let a = alert(&IntegrationId::random());
        let digest = |name: &str, again: fn(&mut RedbAlerts<'_>, &Alert)| {
            let store = Store::open(&dir.path().join(name), &STORE_TABLES, 1, 1 << 20).unwrap();
            store
                .commit(0, 2, false, |tx, _| {
                    let mut t = RedbAlerts::with_triage(tx)?;
                    t.put_alert(&a)?;
                    again(&mut t, &a);
                    t.close()
                })
                .unwrap();
            store.digest().unwrap()
        };
        let written = digest("written", |t, a| t.put_alert(a).unwrap());
        let still = digest("still", |t, a| t.still_failing(a).unwrap());
        assert_eq!(written, still);
        assert_ne!(written, digest("once", |_, _| {}), "the revision counts it");
    }
}
