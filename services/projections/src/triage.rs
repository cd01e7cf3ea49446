//! What a security team triages and reports upward, kept beside the alert lifecycle in
//! the alerts store (the outbox's copy of the lifecycle keeps none of it):
//! - the inbox: every alert of every integration, by status, then severity (most
//!   severe first), then age (oldest first), so a page across fifty integrations reads
//!   only what it shows;
//! - time to resolve: each resolved alert's duration by severity, per integration and
//!   overall, with their count and sum, so a mean is one read and a median a walk to
//!   the middle of one ordered range;
//! - trends: after each report on a tracked branch, the integration's open alerts by
//!   severity and its failing results, and the same summed over every integration.

use crate::counts::OpenCounts;
use crate::lifecycle::{Alert, Status};
use crate::store::{Rows, Staged, StoreError, Table, dec, enc, get};
use clef_pro_schema::domain::Severity;
use clef_pro_schema::ids::IntegrationId;
use redb::{ReadTransaction, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// status ‖ severity rank ‖ opening sequence ‖ alert id → [`Entry`]
const INBOX: Table = TableDefinition::new("triage_inbox");
/// scope ‖ 0 ‖ severity rank ‖ duration ms ‖ alert id → ()
const RESOLVED: Table = TableDefinition::new("triage_resolved");
/// scope ‖ 0 ‖ severity rank → [`Sums`]
const SUMS: Table = TableDefinition::new("triage_sums");
/// scope ‖ 0 ‖ sequence → [`TrendPoint`]
const TRENDS: Table = TableDefinition::new("triage_trends");
/// scope → [`OpenCounts`] of every integration together (the per-integration counts
/// are the lifecycle's own)
const TOTALS: Table = TableDefinition::new("triage_open_totals");

pub(crate) const TABLES: [Table; 5] = [INBOX, RESOLVED, SUMS, TRENDS, TOTALS];

/// The scope of figures over every integration (integration ids start with `int_`).
const EVERY: &[u8] = b"*";

/// 0 for critical to 3 for info: keys sort the most severe first.
pub fn rank(s: Severity) -> u8 {
    Severity::ALL.iter().position(|v| *v == s).unwrap_or(3) as u8
}

fn scoped(scope: &[u8], rest: &[&[u8]]) -> Vec<u8> {
    let mut k = [scope, &[0]].concat();
    for r in rest {
        k.extend_from_slice(r);
    }
    k
}

fn status_byte(s: Status) -> u8 {
    match s {
        Status::Open => b'o',
        Status::Resolved => b'r',
    }
}

/// What the inbox's filters look at, kept in the index so that a filter reads only the
/// alerts it keeps.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    integration: String,
    rule: String,
    acknowledged: bool,
    opened_at: u64,
}

impl Entry {
    fn of(a: &Alert) -> Self {
        Self {
            integration: a.integration.to_string(),
            rule: a.rule_id.to_string(),
            acknowledged: a.acknowledged(),
            opened_at: a.opened_at,
        }
    }

    fn passes(&self, f: &InboxFilter) -> bool {
        f.integration
            .as_ref()
            .is_none_or(|i| i.as_str() == self.integration)
            && f.rule.as_deref().is_none_or(|r| r == self.rule)
            && f.acknowledged.is_none_or(|ack| ack == self.acknowledged)
            && f.opened_since.is_none_or(|t| self.opened_at >= t)
    }
}

fn inbox_key(a: &Alert) -> Vec<u8> {
    [
        &[status_byte(a.status), rank(a.severity)],
        a.opened_seq.to_be_bytes().as_slice(),
        a.id.as_str().as_bytes(),
    ]
    .concat()
}

/// Resolved alerts of a severity: how many, and their durations' sum in ms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sums {
    pub count: u64,
    pub total_ms: u64,
}

/// One point of a trend: after the report at `seq`, received at `at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrendPoint {
    pub seq: u64,
    pub at: u64,
    pub open: OpenCounts,
    /// Failing policy results of the report (for the overview: of every integration's
    /// latest tracked report).
    pub failing: u64,
}

type RwTable<'t> = redb::Table<'t, &'static [u8], &'static [u8]>;

/// The triage tables inside one write transaction.
pub struct Triage<'t> {
    inbox: RwTable<'t>,
    resolved: RwTable<'t>,
    sums: RwTable<'t>,
    trends: Staged<'t>,
    totals: Rows<'t, OpenCounts>,
    /// The newest trend point of each scope the chunk has read or written.
    last: HashMap<Vec<u8>, Option<TrendPoint>>,
}

impl<'t> Triage<'t> {
    pub(crate) fn open(tx: &'t WriteTransaction) -> Result<Self, StoreError> {
        Ok(Self {
            inbox: tx.open_table(INBOX)?,
            resolved: tx.open_table(RESOLVED)?,
            sums: tx.open_table(SUMS)?,
            trends: Staged::open(tx, TRENDS)?,
            totals: Rows::open(tx, TOTALS)?,
            last: HashMap::new(),
        })
    }

    /// Writes the rows the chunk held back.
    pub(crate) fn close(self) -> Result<(), StoreError> {
        self.trends.flush()?;
        self.totals.flush()
    }

    /// The newest trend point of `scope`.
    fn last_point(&mut self, scope: &[u8]) -> Result<Option<TrendPoint>, StoreError> {
        if let Some(p) = self.last.get(scope) {
            return Ok(p.clone());
        }
        // A scope the chunk has not written yet: its newest point is stored.
        let p = last_point(self.trends.stored(), scope)?;
        self.last.insert(scope.to_vec(), p.clone());
        Ok(p)
    }

    fn add_point(&mut self, scope: &[u8], point: TrendPoint) -> Result<(), StoreError> {
        self.trends
            .insert(scoped(scope, &[&point.seq.to_be_bytes()]), enc(&point));
        self.last.insert(scope.to_vec(), Some(point));
        Ok(())
    }

    /// Follows one alert write: its place in the inbox, its duration once resolved,
    /// and the open totals.
    pub(crate) fn on_alert(&mut self, old: Option<&Alert>, a: &Alert) -> Result<(), StoreError> {
        if let Some(o) = old {
            self.inbox.remove(inbox_key(o).as_slice())?;
        }
        self.inbox
            .insert(inbox_key(a).as_slice(), enc(&Entry::of(a)).as_slice())?;
        let was_open = old.filter(|o| o.status == Status::Open).map(|o| o.severity);
        let is_open = (a.status == Status::Open).then_some(a.severity);
        if was_open != is_open {
            let mut t = self.totals.get(EVERY)?.unwrap_or_default();
            t.change(was_open, is_open);
            self.totals.put(EVERY, t);
        }
        if was_open.is_some()
            && a.status == Status::Resolved
            && let Some(resolved_at) = a.resolved_at
        {
            let took = resolved_at.saturating_sub(a.opened_at);
            for scope in [a.integration.as_str().as_bytes(), EVERY] {
                let r = [rank(a.severity)];
                let key = scoped(scope, &[&r, &took.to_be_bytes(), a.id.as_str().as_bytes()]);
                self.resolved.insert(key.as_slice(), [].as_slice())?;
                let sums_key = scoped(scope, &[&r]);
                let mut s: Sums = get(&self.sums, &sums_key)?.unwrap_or_default();
                s.count += 1;
                s.total_ms += took;
                self.sums.insert(sums_key.as_slice(), enc(&s).as_slice())?;
            }
        }
        Ok(())
    }

    /// Records where an integration stands after a report on a tracked branch, and
    /// where every integration together does.
    pub(crate) fn on_report(
        &mut self,
        integration: &IntegrationId,
        point: TrendPoint,
    ) -> Result<(), StoreError> {
        let scope = integration.as_str().as_bytes();
        let previous = self.last_point(scope)?.map_or(0, |p| p.failing);
        let mut every = self.last_point(EVERY)?.unwrap_or(TrendPoint {
            seq: 0,
            at: 0,
            open: OpenCounts::default(),
            failing: 0,
        });
        // Every integration's latest failing results, summed: this one's replace its
        // previous ones.
        every.failing = (every.failing + point.failing).saturating_sub(previous);
        every.open = self.totals.get(EVERY)?.unwrap_or_default();
        every.seq = point.seq;
        every.at = point.at;
        self.add_point(scope, point)?;
        self.add_point(EVERY, every)
    }
}

fn last_point(
    t: &impl ReadableTable<&'static [u8], &'static [u8]>,
    scope: &[u8],
) -> Result<Option<TrendPoint>, StoreError> {
    let lo = scoped(scope, &[]);
    let hi = scoped(scope, &[&[0xff; 8]]);
    t.range(lo.as_slice()..hi.as_slice())?
        .next_back()
        .transpose()?
        .map(|(_, v)| dec(v.value()))
        .transpose()
}

/// Where an inbox page ends: the last alert's key, as the API hands it out (hex).
pub type InboxCursor = String;

/// The alerts an inbox page may show; `None` in a field is no filter.
#[derive(Debug, Default, Clone)]
pub struct InboxFilter {
    pub status: Option<Status>,
    pub severity: Option<Severity>,
    pub acknowledged: Option<bool>,
    pub integration: Option<IntegrationId>,
    pub rule: Option<String>,
    /// Opened at or after this time (ms).
    pub opened_since: Option<u64>,
}

/// Up to `limit` alerts that pass `filter`, by status, severity (most severe first)
/// and age (oldest first), strictly after `after`; and the cursor of the next page.
/// Status and severity narrow the range read; the other filters look at each index
/// entry, so only the alerts a page shows are read whole.
pub(crate) fn inbox(
    tx: &ReadTransaction,
    filter: &InboxFilter,
    after: Option<&[u8]>,
    limit: usize,
    alert: impl Fn(&[u8]) -> Result<Option<Alert>, StoreError>,
) -> Result<(Vec<Alert>, Option<InboxCursor>), StoreError> {
    let inbox = tx.open_table(INBOX)?;
    let prefix: Vec<u8> = match (filter.status, filter.severity) {
        (Some(st), Some(sev)) => vec![status_byte(st), rank(sev)],
        (Some(st), None) => vec![status_byte(st)],
        (None, _) => Vec::new(),
    };
    let end = crate::store::prefix_end(&prefix);
    let start = match after {
        Some(a) if a > prefix.as_slice() => [a, &[0]].concat(),
        _ => prefix.clone(),
    };
    let mut out = Vec::new();
    let mut next = None;
    for r in inbox.range(start.as_slice()..end.as_slice())? {
        let (k, entry) = r?;
        let key = k.value();
        if filter
            .severity
            .is_some_and(|s| key.get(1) != Some(&rank(s)))
            || !dec::<Entry>(entry.value())?.passes(filter)
        {
            continue;
        }
        let Some(a) = alert(&key[10..])? else {
            continue;
        };
        if out.len() == limit {
            next = Some(hex::encode(out_key(&out)));
            break;
        }
        out.push(a);
    }
    Ok((out, next))
}

/// Resolved alerts of `integration` (every integration when `None`) by severity:
/// count, mean and median time to resolve in ms.
pub(crate) fn time_to_resolve(
    tx: &ReadTransaction,
    integration: Option<&IntegrationId>,
) -> Result<Vec<(Severity, Sums, Option<u64>)>, StoreError> {
    let scope = integration.map_or(EVERY, |i| i.as_str().as_bytes());
    let sums = tx.open_table(SUMS)?;
    let resolved = tx.open_table(RESOLVED)?;
    let mut out = Vec::new();
    for s in Severity::ALL {
        let r = [rank(s)];
        let totals: Sums = get(&sums, &scoped(scope, &[&r]))?.unwrap_or_default();
        let median = if totals.count == 0 {
            None
        } else {
            let lo = scoped(scope, &[&r]);
            let hi = scoped(scope, &[&r, &[0xff; 9]]);
            let middle = |k: u64| -> Result<u64, StoreError> {
                let (key, _) = resolved
                    .range(lo.as_slice()..hi.as_slice())?
                    .nth(usize::try_from(k).unwrap_or(usize::MAX))
                    .ok_or(StoreError::Missing("a resolved duration"))??;
                let at = lo.len();
                let bytes: [u8; 8] = key.value()[at..at + 8].try_into().expect("8 bytes");
                Ok(u64::from_be_bytes(bytes))
            };
            let n = totals.count;
            Some(if n % 2 == 1 {
                middle(n / 2)?
            } else {
                (middle(n / 2 - 1)? + middle(n / 2)?) / 2
            })
        };
        out.push((s, totals, median));
    }
    Ok(out)
}

/// The last `points` trend points of `integration` (every integration when `None`),
/// oldest first.
pub(crate) fn trend(
    tx: &ReadTransaction,
    integration: Option<&IntegrationId>,
    points: usize,
) -> Result<Vec<TrendPoint>, StoreError> {
    let scope = integration.map_or(EVERY, |i| i.as_str().as_bytes());
    let trends = tx.open_table(TRENDS)?;
    let lo = scoped(scope, &[]);
    let hi = scoped(scope, &[&[0xff; 8]]);
    let mut out = trends
        .range(lo.as_slice()..hi.as_slice())?
        .rev()
        .take(points)
        .map(|r| {
            let (_, v) = r?;
            dec(v.value())
        })
        .collect::<Result<Vec<TrendPoint>, StoreError>>()?;
    out.reverse();
    Ok(out)
}

/// The inbox key of the last alert of a page.
fn out_key(page: &[Alert]) -> Vec<u8> {
    page.last().map(inbox_key).unwrap_or_default()
}
