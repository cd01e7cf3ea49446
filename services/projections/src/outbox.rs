//! The outbox projection: one notification intent per (HEAD report, channel) whose
//! `minSeverity` admits at least one open, unacknowledged alert, listing those alerts;
//! and, for a channel with `sendResolved` and every PagerDuty channel, one intent per
//! alert the report resolved.
//!
//! The outbox folds its own copy of the alert lifecycle (the same code as the alerts
//! projection, in its own store), so it depends on no other projection. An intent's id
//! is derived from integration, commit, kind and channel (and the alert, for a resolved
//! notice), so a replay derives the same
//! intents, and the *delivered* and *failed* events in the log mark them done: a replay
//! never leaves a sent intent pending.

use crate::alerts::{self, RedbAlerts};
use crate::lifecycle::AlertState;
use crate::lifecycle::Head;
use crate::runtime::Projector;
use crate::store::{RwTable, StoreError, Table, enc, get, scan};
use clef_pro_log::Entry;
use clef_pro_schema::domain::{Branch, ChannelKind, CommitSha, RuleId, Scope, Severity};
use clef_pro_schema::event::{Channel, Event, Target};
use clef_pro_schema::ids::{AlertId, IntegrationId, IntentId};
use redb::{
    ReadTransaction, ReadableTable, ReadableTableMetadata, TableDefinition, WriteTransaction,
};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// integration → [`Recipients`]
const RECIPIENTS: Table = TableDefinition::new("outbox_recipients");
/// intent id → [`Intent`]
const INTENTS: Table = TableDefinition::new("intents");
/// intent id → (), the intents not yet delivered or failed
const PENDING: Table = TableDefinition::new("pending_intents");
/// alert id ‖ intent id → (), the notifications that listed an alert
const BY_ALERT: Table = TableDefinition::new("intents_by_alert");
/// intent id → (), the intents that failed for good (counted by `/metrics`)
const FAILED: Table = TableDefinition::new("failed_intents");
/// grouped id ‖ 0 ‖ intent id → (): the one intent earlier releases derived for all the
/// alerts a report resolved on a channel, and the per-alert intents that replace it.
/// Outcomes in the log that name a grouped id mark its per-alert intents done, so a
/// rebuild of an earlier release's log sends none of them again.
const GROUPED: Table = TableDefinition::new("resolved_grouped");

const TABLES: [Table; 13] = [
    RECIPIENTS,
    INTENTS,
    PENDING,
    BY_ALERT,
    FAILED,
    GROUPED,
    alerts::TABLES[0],
    alerts::TABLES[1],
    alerts::TABLES[2],
    alerts::TABLES[3],
    alerts::TABLES[4],
    alerts::TABLES[5],
    alerts::TABLES[6],
];

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct Recipients {
    name: String,
    channels: Vec<Channel>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum IntentKind {
    /// Open, unacknowledged alerts at a HEAD report.
    Failing,
    /// One alert a HEAD report resolved, for channels with `send_resolved` and every
    /// PagerDuty channel (which resolves the incident it opened).
    Resolved,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum IntentStatus {
    Pending,
    Delivered { message_id: String, at: u64 },
    Failed { reason: String, at: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntentAlert {
    pub id: AlertId,
    pub rule_id: RuleId,
    pub rule_name: String,
    pub scope: Scope,
    pub severity: Severity,
    pub message: String,
    pub opened_by: CommitSha,
    pub new: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    pub id: IntentId,
    pub kind: IntentKind,
    pub integration: IntegrationId,
    pub integration_name: String,
    pub commit: CommitSha,
    pub branch: Branch,
    pub target: Target,
    pub min_severity: Severity,
    /// At most [`MAX_LISTED`]: the most severe, new ones first.
    pub alerts: Vec<IntentAlert>,
    pub created_at: u64,
    pub status: IntentStatus,
    /// Alerts the notification counts but does not list (beyond [`MAX_LISTED`]).
    pub omitted: u32,
}

/// Alerts one notification lists, so that a report with a thousand failures makes one
/// readable message of bounded size (and bounded work), not a thousand-row one.
pub const MAX_LISTED: usize = 50;

impl Intent {
    /// The `Message-ID` every send of this intent carries, so that a resend after a
    /// crash is recognisably the same message.
    pub fn message_id(&self) -> String {
        format!("<{}@clef-pro>", self.id)
    }
}

pub struct Outbox;

/// The outbox's tables (and its copy of the alert lifecycle), open for one chunk.
pub struct OutboxTables<'t> {
    alerts: RedbAlerts<'t>,
    recipients: RwTable<'t>,
    intents: RwTable<'t>,
    pending: RwTable<'t>,
    by_alert: RwTable<'t>,
    failed: RwTable<'t>,
    grouped: RwTable<'t>,
}

impl Projector for Outbox {
    const NAME: &'static str = "outbox";
    const TABLES: &'static [Table] = &TABLES;
    /// 2: failed intents are indexed. 3: the replay guard, alerts by status, at most
    /// [`MAX_LISTED`] alerts per intent. 4: channels of every kind, resolved notices.
    /// 5: one resolved notice per alert.
    const VERSION: u32 = 5;
    /// No report's request waits for the outbox, and a notification may go out this
    /// much later. Applied at once, its commit of each report ran beside the matrix's
    /// and the alerts', which the client waits for (`bench ingest`, one client).
    const SPACING: Duration = Duration::from_millis(20);
    type Tables<'t> = OutboxTables<'t>;

    fn open(tx: &WriteTransaction) -> Result<OutboxTables<'_>, StoreError> {
        Ok(OutboxTables {
            alerts: RedbAlerts::open(tx)?,
            recipients: tx.open_table(RECIPIENTS)?,
            intents: tx.open_table(INTENTS)?,
            pending: tx.open_table(PENDING)?,
            by_alert: tx.open_table(BY_ALERT)?,
            failed: tx.open_table(FAILED)?,
            grouped: tx.open_table(GROUPED)?,
        })
    }

    fn prefetch(t: &mut OutboxTables<'_>, events: &[Entry]) -> Result<(), StoreError> {
        t.alerts.prefetch(events)
    }

    fn close(t: OutboxTables<'_>) -> Result<(), StoreError> {
        t.alerts.close()
    }

    fn apply(t: &mut OutboxTables<'_>, seq: u64, event: &Event) -> Result<(), StoreError> {
        let event = event.fact();
        let head = t.alerts.apply(seq, event)?;
        let recipients = &mut t.recipients;
        match event {
            Event::IntegrationCreated { id, name, .. } => {
                let r = Recipients {
                    name: name.clone(),
                    channels: Vec::new(),
                };
                recipients.insert(id.as_str().as_bytes(), enc(&r).as_slice())?;
            }
            // Notifications name the integration as it is called now. (No store of an
            // earlier version can hold a rename: the event is newer than all of them.)
            Event::IntegrationRenamed { id, name, .. } => {
                let key = id.as_str().as_bytes();
                if let Some(mut r) = get::<Recipients>(&*recipients, key)? {
                    r.name = name.clone();
                    recipients.insert(key, enc(&r).as_slice())?;
                }
            }
            Event::NotificationsSetV2 {
                integration,
                channels,
                ..
            } => {
                let key = integration.as_str().as_bytes();
                let mut r: Recipients = get(&*recipients, key)?.unwrap_or_default();
                r.channels = channels.clone();
                recipients.insert(key, enc(&r).as_slice())?;
            }
            Event::NotificationDelivered {
                intent,
                message_id,
                at,
            } => {
                finish(
                    t,
                    intent,
                    IntentStatus::Delivered {
                        message_id: message_id.clone(),
                        at: *at,
                    },
                )?;
            }
            Event::NotificationFailed { intent, reason, at } => {
                finish(
                    t,
                    intent,
                    IntentStatus::Failed {
                        reason: reason.clone(),
                        at: *at,
                    },
                )?;
            }
            Event::ReportSubmitted { at, .. } | Event::BatchSubmitted { at, .. } => {
                if let Some(head) = head {
                    let r: Recipients = get(&*recipients, head.integration.as_str().as_bytes())?
                        .unwrap_or_default();
                    enqueue(t, &head, &r, *at)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

/// Marks intent `id` done, or, if `id` is an earlier release's grouped resolved notice,
/// every per-alert intent that replaces it.
fn finish(t: &mut OutboxTables<'_>, id: &IntentId, status: IntentStatus) -> Result<(), StoreError> {
    let prefix = [id.as_str().as_bytes(), &[0]].concat();
    let replacing = scan::<()>(&t.grouped, &prefix)?;
    if replacing.is_empty() {
        return finish_one(t, id.as_str().as_bytes(), status);
    }
    for (key, ()) in replacing {
        finish_one(t, &key[prefix.len()..], status.clone())?;
    }
    Ok(())
}

fn finish_one(
    t: &mut OutboxTables<'_>,
    key: &[u8],
    status: IntentStatus,
) -> Result<(), StoreError> {
    if let Some(mut i) = get::<Intent>(&t.intents, key)?
        && i.status == IntentStatus::Pending
    {
        if matches!(status, IntentStatus::Failed { .. }) {
            t.failed.insert(key, [].as_slice())?;
        }
        i.status = status;
        t.intents.insert(key, enc(&i).as_slice())?;
        t.pending.remove(key)?;
    }
    Ok(())
}

fn enqueue(
    t: &mut OutboxTables<'_>,
    head: &Head,
    r: &Recipients,
    at: u64,
) -> Result<(), StoreError> {
    for (kind, ids) in [
        (IntentKind::Failing, &head.open),
        (IntentKind::Resolved, &head.resolved),
    ] {
        let mut listed = Vec::new();
        for id in ids {
            if let Some(a) = t.alerts.alert(id)? {
                listed.push(a);
            }
        }
        for ch in &r.channels {
            if kind == IntentKind::Resolved
                && !(ch.send_resolved || ch.target.kind() == ChannelKind::Pagerduty)
            {
                continue;
            }
            let mut alerts: Vec<IntentAlert> = listed
                .iter()
                .filter(|a| {
                    a.severity >= ch.min_severity
                        && (kind == IntentKind::Resolved || !a.acknowledged())
                })
                .map(|a| IntentAlert {
                    id: a.id.clone(),
                    rule_id: a.rule_id.clone(),
                    rule_name: a.rule_name.clone(),
                    scope: a.scope.clone(),
                    severity: a.severity,
                    message: a.message.clone(),
                    opened_by: a.opened_by.clone(),
                    new: head.opened.contains(&a.id),
                })
                .collect();
            alerts.sort_by(|a, b| {
                (b.severity, b.new, &a.rule_id, &a.scope)
                    .cmp(&(a.severity, a.new, &b.rule_id, &b.scope))
            });
            let kind_name = format!("{kind:?}");
            let channel = [
                head.integration.as_str().as_bytes(),
                head.commit.as_str().as_bytes(),
                kind_name.as_bytes(),
                &target_bytes(&ch.target),
                ch.min_severity.as_str().as_bytes(),
            ];
            let grouped = IntentId::derive(&channel);
            let base = Intent {
                id: grouped.clone(),
                kind,
                integration: head.integration.clone(),
                integration_name: r.name.clone(),
                commit: head.commit.clone(),
                branch: head.branch.clone(),
                target: ch.target.clone(),
                min_severity: ch.min_severity,
                alerts: Vec::new(),
                created_at: at,
                status: IntentStatus::Pending,
                omitted: 0,
            };
            match kind {
                IntentKind::Failing if !alerts.is_empty() => {
                    let (alerts, omitted) = capped(alerts);
                    add(
                        t,
                        Intent {
                            alerts,
                            omitted,
                            ..base
                        },
                    )?;
                }
                IntentKind::Failing => {}
                // One notice per resolved alert, the most severe first. Beyond
                // MAX_LISTED of them, a channel other than PagerDuty (which must resolve
                // every incident) gets one more notice for the rest instead of hundreds.
                // The grouped id is what earlier releases derived for them all, which
                // their outcomes in the log name.
                IntentKind::Resolved => {
                    let rest = match ch.target.kind() {
                        ChannelKind::Pagerduty => Vec::new(),
                        _ => alerts.split_off(alerts.len().min(MAX_LISTED)),
                    };
                    for a in alerts {
                        let id =
                            IntentId::derive(&[&channel[..], &[a.id.as_str().as_bytes()]].concat());
                        let alerts = vec![a];
                        replacing(
                            t,
                            &grouped,
                            Intent {
                                id,
                                alerts,
                                ..base.clone()
                            },
                        )?;
                    }
                    if !rest.is_empty() {
                        let (alerts, omitted) = capped(rest);
                        let id = IntentId::derive(&[&channel[..], &[b"rest".as_slice()]].concat());
                        replacing(
                            t,
                            &grouped,
                            Intent {
                                id,
                                alerts,
                                omitted,
                                ..base.clone()
                            },
                        )?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// At most [`MAX_LISTED`] of `alerts`, and how many more there are.
fn capped(mut alerts: Vec<IntentAlert>) -> (Vec<IntentAlert>, u32) {
    let more = alerts.len().saturating_sub(MAX_LISTED);
    alerts.truncate(MAX_LISTED);
    (alerts, u32::try_from(more).unwrap_or(u32::MAX))
}

/// Adds a resolved notice that replaces the `grouped` one of earlier releases.
fn replacing(
    t: &mut OutboxTables<'_>,
    grouped: &IntentId,
    intent: Intent,
) -> Result<(), StoreError> {
    let key = [
        grouped.as_str().as_bytes(),
        &[0],
        intent.id.as_str().as_bytes(),
    ]
    .concat();
    t.grouped.insert(key.as_slice(), [].as_slice())?;
    add(t, intent)
}

/// Stores `intent` as pending, unless a replay derived it before.
fn add(t: &mut OutboxTables<'_>, intent: Intent) -> Result<(), StoreError> {
    let key = intent.id.as_str().as_bytes();
    if t.intents.get(key)?.is_some() {
        return Ok(());
    }
    for a in &intent.alerts {
        t.by_alert.insert(
            [a.id.as_str().as_bytes(), key].concat().as_slice(),
            [].as_slice(),
        )?;
    }
    t.intents.insert(key, enc(&intent).as_slice())?;
    t.pending.insert(key, [].as_slice())?;
    Ok(())
}

/// A channel's target as its intents' ids are derived from it: an email address as it
/// always was (so a rebuilt outbox derives the ids that earlier outcomes name), a
/// destination as kind, NUL, name (no address holds a NUL).
fn target_bytes(t: &Target) -> Vec<u8> {
    match t {
        Target::Email(a) => a.as_str().as_bytes().to_vec(),
        Target::Destination { kind, name } => {
            [kind.as_str().as_bytes(), &[0], name.as_str().as_bytes()].concat()
        }
    }
}

/// Intents by status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IntentCounts {
    pub pending: u64,
    pub sent: u64,
    pub failed: u64,
}

/// Reads of the outbox.
pub struct OutboxView<'a>(pub(crate) &'a ReadTransaction);

impl OutboxView<'_> {
    /// Intents not yet delivered or failed, oldest id first.
    pub fn pending(&self) -> Result<Vec<Intent>, StoreError> {
        let pending = self.0.open_table(PENDING)?;
        let intents = self.0.open_table(INTENTS)?;
        let mut out = Vec::new();
        for r in pending.iter()? {
            let (k, _) = r?;
            if let Some(i) = get(&intents, k.value())? {
                out.push(i);
            }
        }
        Ok(out)
    }

    /// The last log sequence this view includes.
    pub fn checkpoint(&self) -> Result<u64, StoreError> {
        crate::store::checkpoint_in(self.0)
    }

    pub fn intent(&self, id: &IntentId) -> Result<Option<Intent>, StoreError> {
        get(&self.0.open_table(INTENTS)?, id.as_str().as_bytes())
    }

    /// The notifications that listed an alert.
    pub fn for_alert(&self, alert: &AlertId) -> Result<Vec<Intent>, StoreError> {
        let keys: Vec<(Vec<u8>, ())> =
            scan(&self.0.open_table(BY_ALERT)?, alert.as_str().as_bytes())?;
        let intents = self.0.open_table(INTENTS)?;
        let mut out = Vec::new();
        for (k, ()) in keys {
            if let Some(i) = get(&intents, &k[alert.as_str().len()..])? {
                out.push(i);
            }
        }
        Ok(out)
    }

    /// How many intents are pending, sent and failed, without reading them.
    pub fn counts(&self) -> Result<IntentCounts, StoreError> {
        let all = self.0.open_table(INTENTS)?.len()?;
        let pending = self.0.open_table(PENDING)?.len()?;
        let failed = self.0.open_table(FAILED)?.len()?;
        Ok(IntentCounts {
            pending,
            sent: all.saturating_sub(pending + failed),
            failed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::apply_chunk;
    use crate::store::Store;
    use clef_pro_log::Chunk;
    use clef_pro_schema::domain::{DestinationName, EmailAddress};
    use clef_pro_schema::report::{PolicyResult, Report, Summary};

    const ADDRESS: &str = "sec@acme.com";

    /// A report on `main` at commit `commit…` with `rules` results, all failing or all
    /// passing.
    fn report(commit: char, rules: usize, failing: bool) -> Report {
        Report {
            commit: CommitSha::parse(&commit.to_string().repeat(40)).unwrap(),
            branch: Some(Branch::parse("main").unwrap()),
            commit_timestamp: None,
            cli_version: "1.0.0".into(),
            summary: Summary::default(),
            drift: vec![],
            policy_results: (0..rules)
                .map(|n| PolicyResult {
                    rule_id: RuleId::parse(&format!("rule_{n}")).unwrap(),
                    rule_name: format!("rule {n}"),
                    passed: !failing,
                    severity: Severity::Error,
                    message: "m".into(),
                    scope: Scope::Global,
                })
                .collect(),
            ci_context: None,
            secrets_redacted: 0,
        }
    }

    /// Folds `events` into a fresh outbox and returns its view's pending intents.
    fn fold(dir: &std::path::Path, events: Vec<Event>) -> (Store, Vec<Intent>) {
        let store = Store::open(&dir.join("outbox"), &TABLES, Outbox::VERSION, 1 << 20).unwrap();
        let entries: Vec<Entry> = events
            .into_iter()
            .zip(1..)
            .map(|(event, seq)| Entry { seq, event })
            .collect();
        let chunk = Chunk {
            through: entries.len() as u64,
            entries,
            bytes: 0,
        };
        apply_chunk::<Outbox>(&store, 0, &[chunk], false).unwrap();
        let tx = store.begin_read().unwrap();
        let pending = OutboxView(&tx).pending().unwrap();
        drop(tx);
        (store, pending)
    }

    /// `rules` alerts open at commit `1…` and resolved at commit `2…`, told to `target`
    /// with `sendResolved`.
    fn history(int: &IntegrationId, target: Target, rules: usize) -> Vec<Event> {
        let reported = |commit, failing, at| Event::ReportSubmitted {
            integration: int.clone(),
            report: report(commit, rules, failing),
            at,
        };
        vec![
            Event::IntegrationCreated {
                id: int.clone(),
                name: "payments".into(),
                collect_ci_context: false,
                tracked_branches: vec![Branch::parse("main").unwrap()],
                at: 1,
            },
            Event::NotificationsSetV2 {
                integration: int.clone(),
                channels: vec![Channel {
                    target,
                    min_severity: Severity::Info,
                    send_resolved: true,
                }],
                at: 2,
            },
            reported('1', true, 3),
            reported('2', false, 4),
        ]
    }

    fn email() -> Target {
        Target::Email(EmailAddress::parse(ADDRESS).unwrap())
    }

    /// The resolved notices among `pending`: how many alerts each lists and omits.
    fn resolved(pending: &[Intent]) -> Vec<(usize, u32)> {
        let mut r: Vec<(usize, u32)> = pending
            .iter()
            .filter(|i| i.kind == IntentKind::Resolved)
            .map(|i| (i.alerts.len(), i.omitted))
            .collect();
        r.sort();
        r
    }

    /// A report that resolves two alerts makes one resolved notice for each; its open
    /// alerts were one message.
    #[test]
    fn each_resolved_alert_is_its_own_notice() {
        let dir = tempfile::tempdir().unwrap();
        let (_, pending) = fold(dir.path(), history(&IntegrationId::random(), email(), 2));
        let mut listed: Vec<&str> = pending
            .iter()
            .filter(|i| i.kind == IntentKind::Resolved)
            .map(|i| i.alerts[0].rule_id.as_str())
            .collect();
        listed.sort();
        assert_eq!(listed, ["rule_0", "rule_1"]);
        assert_eq!(resolved(&pending), [(1, 0), (1, 0)]);
        let failing: Vec<&Intent> = pending
            .iter()
            .filter(|i| i.kind == IntentKind::Failing)
            .collect();
        assert_eq!(failing.len(), 1);
        assert_eq!(failing[0].alerts.len(), 2, "open alerts stay one message");
    }

    /// Beyond [`MAX_LISTED`] resolved alerts, a channel gets one more notice for the
    /// rest (listing at most [`MAX_LISTED`], counting the others), not hundreds; a
    /// PagerDuty channel resolves every incident, one by one.
    #[test]
    fn many_resolved_alerts_are_capped_except_for_pagerduty() {
        let dir = tempfile::tempdir().unwrap();
        let (_, pending) = fold(
            &dir.path().join("email"),
            history(&IntegrationId::random(), email(), 2 * MAX_LISTED + 7),
        );
        let mut expected = vec![(1, 0); MAX_LISTED];
        expected.push((MAX_LISTED, 7));
        assert_eq!(resolved(&pending), expected);
        let pagerduty = Target::Destination {
            kind: ChannelKind::Pagerduty,
            name: DestinationName::parse("oncall").unwrap(),
        };
        let (_, pending) = fold(
            &dir.path().join("pagerduty"),
            history(&IntegrationId::random(), pagerduty, 2 * MAX_LISTED + 7),
        );
        assert_eq!(resolved(&pending), vec![(1, 0); 2 * MAX_LISTED + 7]);
    }

    /// An earlier release derived one resolved notice for both alerts; its outcome in
    /// the log marks both per-alert notices done, so a rebuild sends neither.
    #[test]
    fn an_earlier_releases_grouped_outcome_marks_each_notice_done() {
        let dir = tempfile::tempdir().unwrap();
        let int = IntegrationId::random();
        let grouped = IntentId::derive(&[
            int.as_str().as_bytes(),
            "2".repeat(40).as_bytes(),
            b"Resolved",
            ADDRESS.as_bytes(),
            b"info",
        ]);
        let mut events = history(&int, email(), 2);
        events.push(Event::NotificationDelivered {
            intent: grouped,
            message_id: "<m@clef-pro>".into(),
            at: 5,
        });
        let (store, pending) = fold(dir.path(), events);
        assert!(
            pending.iter().all(|i| i.kind == IntentKind::Failing),
            "{pending:?}"
        );
        let tx = store.begin_read().unwrap();
        let counts = OutboxView(&tx).counts().unwrap();
        assert_eq!((counts.pending, counts.sent), (1, 2));
    }
}
