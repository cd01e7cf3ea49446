//! The alerts projection: the lifecycle of [`crate::lifecycle`] kept in redb.

use crate::lifecycle::{self, Alert, AlertState, Head, IntegrationAlerts};
use crate::runtime::Projector;
use crate::store::{StoreError, Table, enc, get};
use clef_pro_schema::domain::CommitSha;
use clef_pro_schema::event::Event;
use clef_pro_schema::ids::{AlertId, IntegrationId};
use redb::{ReadTransaction, TableDefinition, WriteTransaction};

/// integration → [`IntegrationAlerts`]
const STATE: Table = TableDefinition::new("alert_state");
/// alert id → [`Alert`]
const ALERTS: Table = TableDefinition::new("alerts");
/// integration ‖ opening sequence ‖ alert id → alert id, for listing in order
const INDEX: Table = TableDefinition::new("alert_index");
/// integration ‖ commit → (), every commit reported
const SEEN: Table = TableDefinition::new("seen_commits");

pub(crate) const TABLES: [Table; 4] = [STATE, ALERTS, INDEX, SEEN];

/// The lifecycle's state inside one write transaction.
pub struct RedbAlerts<'t> {
    state: redb::Table<'t, &'static [u8], &'static [u8]>,
    alerts: redb::Table<'t, &'static [u8], &'static [u8]>,
    index: redb::Table<'t, &'static [u8], &'static [u8]>,
    seen: redb::Table<'t, &'static [u8], &'static [u8]>,
}

impl<'t> RedbAlerts<'t> {
    pub(crate) fn open(tx: &'t WriteTransaction) -> Result<Self, StoreError> {
        Ok(Self {
            state: tx.open_table(STATE)?,
            alerts: tx.open_table(ALERTS)?,
            index: tx.open_table(INDEX)?,
            seen: tx.open_table(SEEN)?,
        })
    }

    pub(crate) fn apply(&mut self, seq: u64, event: &Event) -> Result<Option<Head>, StoreError> {
        lifecycle::apply(self, seq, event)
    }
}

fn index_key(integration: &IntegrationId, seq: u64, id: &AlertId) -> Vec<u8> {
    [
        integration.as_str().as_bytes(),
        &[0],
        &seq.to_be_bytes(),
        id.as_str().as_bytes(),
    ]
    .concat()
}

impl AlertState for RedbAlerts<'_> {
    type Error = StoreError;

    fn integration(&self, id: &IntegrationId) -> Result<Option<IntegrationAlerts>, StoreError> {
        get(&self.state, id.as_str().as_bytes())
    }

    fn put_integration(
        &mut self,
        id: &IntegrationId,
        v: &IntegrationAlerts,
    ) -> Result<(), StoreError> {
        self.state
            .insert(id.as_str().as_bytes(), enc(v).as_slice())?;
        Ok(())
    }

    fn alert(&self, id: &AlertId) -> Result<Option<Alert>, StoreError> {
        get(&self.alerts, id.as_str().as_bytes())
    }

    fn put_alert(&mut self, a: &Alert) -> Result<(), StoreError> {
        self.alerts
            .insert(a.id.as_str().as_bytes(), enc(a).as_slice())?;
        self.index.insert(
            index_key(&a.integration, a.opened_seq, &a.id).as_slice(),
            a.id.as_str().as_bytes(),
        )?;
        Ok(())
    }

    fn first_sight(
        &mut self,
        integration: &IntegrationId,
        commit: &CommitSha,
    ) -> Result<bool, StoreError> {
        let k = [
            integration.as_str().as_bytes(),
            &[0],
            commit.as_str().as_bytes(),
        ]
        .concat();
        Ok(self.seen.insert(k.as_slice(), [].as_slice())?.is_none())
    }
}

pub struct Alerts;

impl Projector for Alerts {
    const NAME: &'static str = "alerts";
    const TABLES: &'static [Table] = &TABLES;
    /// 2: the replay guard.
    const VERSION: u32 = 2;
    type Tables<'t> = RedbAlerts<'t>;

    fn open(tx: &WriteTransaction) -> Result<RedbAlerts<'_>, StoreError> {
        RedbAlerts::open(tx)
    }

    fn apply(t: &mut RedbAlerts<'_>, seq: u64, event: &Event) -> Result<(), StoreError> {
        t.apply(seq, event.fact())?;
        Ok(())
    }
}

/// Reads of alerts, from the alerts projection (or the outbox's copy of the lifecycle).
pub struct AlertsView<'a>(pub(crate) &'a ReadTransaction);

impl AlertsView<'_> {
    pub fn alert(&self, id: &AlertId) -> Result<Option<Alert>, StoreError> {
        get(&self.0.open_table(ALERTS)?, id.as_str().as_bytes())
    }

    /// The open alerts of an integration, newest first as in [`Self::list`]; reads only
    /// those, however many were resolved before.
    pub fn open(&self, integration: &IntegrationId) -> Result<Vec<Alert>, StoreError> {
        let key = integration.as_str().as_bytes();
        let Some(state) = get::<IntegrationAlerts>(&self.0.open_table(STATE)?, key)? else {
            return Ok(Vec::new());
        };
        let alerts = self.0.open_table(ALERTS)?;
        let mut out = Vec::new();
        for id in state.open.values() {
            if let Some(a) = get::<Alert>(&alerts, id.as_str().as_bytes())? {
                out.push(a);
            }
        }
        out.sort_by(|a, b| (b.opened_seq, b.id.as_str()).cmp(&(a.opened_seq, a.id.as_str())));
        Ok(out)
    }

    /// Every alert of an integration, newest first.
    pub fn list(&self, integration: &IntegrationId) -> Result<Vec<Alert>, StoreError> {
        let index = self.0.open_table(INDEX)?;
        let alerts = self.0.open_table(ALERTS)?;
        let prefix = [integration.as_str().as_bytes(), &[0]].concat();
        let end = [integration.as_str().as_bytes(), &[1]].concat();
        let mut out = Vec::new();
        for r in index
            .range::<&[u8]>(prefix.as_slice()..end.as_slice())?
            .rev()
        {
            let (_, id) = r?;
            if let Some(a) = get(&alerts, id.value())? {
                out.push(a);
            }
        }
        Ok(out)
    }
}
