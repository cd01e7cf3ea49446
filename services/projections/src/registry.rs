//! The registry projection: integrations with their configuration, policies and
//! channels; API keys by hash; and people's access (`crate::access`: tokens, sessions,
//! the audit log). Every request authenticates against it.

use crate::access::{AccessTables, AccessView};
use crate::runtime::Projector;
use crate::store::{RwTable, StoreError, Table, dec, enc, get, scan};
use clef_pro_schema::domain::Branch;
use clef_pro_schema::event::{Channel, Event, Policy, Role};
use clef_pro_schema::ids::{IntegrationId, KeyId};
use redb::{ReadTransaction, ReadableTable, TableDefinition, WriteTransaction};
use serde::{Deserialize, Serialize};

const INTEGRATIONS: Table = TableDefinition::new("integrations");
/// key hash → [`ApiKey`]
const KEYS: Table = TableDefinition::new("keys");
/// integration ‖ key id → key hash
const KEY_IDS: Table = TableDefinition::new("key_ids");

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Integration {
    pub id: IntegrationId,
    pub name: String,
    pub collect_ci_context: bool,
    pub tracked_branches: Vec<Branch>,
    pub policies: Vec<Policy>,
    pub channels: Vec<Channel>,
    pub created_at: u64,
    /// Where the encrypted files live; places OTLP issues in cells.
    pub file_pattern: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKey {
    pub integration: IntegrationId,
    pub key_id: KeyId,
    pub label: String,
    pub hash: [u8; 32],
    pub revoked: bool,
    pub created_at: u64,
}

pub struct Registry;

/// The registry's tables, open for one chunk.
pub struct RegistryTables<'t> {
    integrations: RwTable<'t>,
    keys: RwTable<'t>,
    key_ids: RwTable<'t>,
    access: AccessTables<'t>,
}

impl Projector for Registry {
    const NAME: &'static str = "registry";
    /// A report (never audited) reaches neither `access` nor the match below.
    const FOLDS_REPORTS: bool = false;
    const TABLES: &'static [Table] = &[
        INTEGRATIONS,
        KEYS,
        KEY_IDS,
        crate::access::TOKENS,
        crate::access::TOKEN_IDS,
        crate::access::SESSIONS,
        crate::access::AUDIT,
    ];
    /// 2: revocable tokens, sessions, the audit log, the replay guard. 3: channels of
    /// every kind.
    const VERSION: u32 = 3;
    type Tables<'t> = RegistryTables<'t>;

    fn open(tx: &WriteTransaction) -> Result<RegistryTables<'_>, StoreError> {
        Ok(RegistryTables {
            integrations: tx.open_table(INTEGRATIONS)?,
            keys: tx.open_table(KEYS)?,
            key_ids: tx.open_table(KEY_IDS)?,
            access: AccessTables::open(tx)?,
        })
    }

    fn apply(t: &mut RegistryTables<'_>, seq: u64, event: &Event) -> Result<(), StoreError> {
        if let Event::Audited { actor, .. } = event {
            t.access.audit(seq, actor, event.fact())?;
        }
        let event = event.fact();
        t.access.apply(seq, event)?;
        let ints = &mut t.integrations;
        let mut update =
            |id: &IntegrationId, f: &mut dyn FnMut(&mut Integration)| -> Result<(), StoreError> {
                if let Some(mut i) = get::<Integration>(&*ints, id.as_str().as_bytes())? {
                    f(&mut i);
                    ints.insert(id.as_str().as_bytes(), enc(&i).as_slice())?;
                }
                Ok(())
            };
        match event {
            Event::IntegrationCreated {
                id,
                name,
                collect_ci_context,
                tracked_branches,
                at,
            } => {
                if ints.get(id.as_str().as_bytes())?.is_some() {
                    return Ok(());
                }
                let i = Integration {
                    id: id.clone(),
                    name: name.clone(),
                    collect_ci_context: *collect_ci_context,
                    tracked_branches: tracked_branches.clone(),
                    policies: Vec::new(),
                    channels: Vec::new(),
                    created_at: *at,
                    file_pattern: None,
                };
                ints.insert(id.as_str().as_bytes(), enc(&i).as_slice())?;
            }
            Event::IntegrationRenamed { id, name, .. } => {
                update(id, &mut |i| i.name = name.clone())?;
            }
            Event::IntegrationConfiguredV2 {
                id,
                collect_ci_context,
                tracked_branches,
                file_pattern,
                ..
            } => {
                update(id, &mut |i| {
                    if let Some(c) = collect_ci_context {
                        i.collect_ci_context = *c;
                    }
                    if let Some(p) = file_pattern {
                        i.file_pattern = Some(p.clone());
                    }
                    if let Some(t) = tracked_branches {
                        i.tracked_branches = t.clone();
                    }
                })?;
            }
            Event::PoliciesSet {
                integration,
                policies,
                ..
            } => {
                update(integration, &mut |i| i.policies = policies.clone())?;
            }
            Event::NotificationsSetV2 {
                integration,
                channels,
                ..
            } => {
                update(integration, &mut |i| i.channels = channels.clone())?;
            }
            Event::KeyIssued {
                integration,
                key_id,
                label,
                hash,
                at,
            } => {
                if t.keys.get(hash.as_slice())?.is_some() {
                    return Ok(());
                }
                let k = ApiKey {
                    integration: integration.clone(),
                    key_id: key_id.clone(),
                    label: label.clone(),
                    hash: *hash,
                    revoked: false,
                    created_at: *at,
                };
                t.keys.insert(hash.as_slice(), enc(&k).as_slice())?;
                t.key_ids
                    .insert(key_ref(integration, key_id).as_slice(), hash.as_slice())?;
            }
            Event::KeyRevoked {
                integration,
                key_id,
                ..
            } => {
                let hash = t
                    .key_ids
                    .get(key_ref(integration, key_id).as_slice())?
                    .map(|h| h.value().to_vec());
                if let Some(hash) = hash
                    && let Some(mut k) = get::<ApiKey>(&t.keys, &hash)?
                {
                    k.revoked = true;
                    t.keys.insert(hash.as_slice(), enc(&k).as_slice())?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

fn key_ref(integration: &IntegrationId, key_id: &KeyId) -> Vec<u8> {
    [
        integration.as_str().as_bytes(),
        b"/",
        key_id.as_str().as_bytes(),
    ]
    .concat()
}

/// Reads of the registry.
pub struct RegistryView<'a>(pub(crate) &'a ReadTransaction);

impl RegistryView<'_> {
    pub fn integration(&self, id: &IntegrationId) -> Result<Option<Integration>, StoreError> {
        get(&self.0.open_table(INTEGRATIONS)?, id.as_str().as_bytes())
    }

    pub fn integrations(&self) -> Result<Vec<Integration>, StoreError> {
        let mut all: Vec<Integration> = scan(&self.0.open_table(INTEGRATIONS)?, b"")?
            .into_iter()
            .map(|(_, v)| v)
            .collect();
        all.sort_by(|a, b| a.name.cmp(&b.name).then(a.id.cmp(&b.id)));
        Ok(all)
    }

    /// The key with this hash, revoked or not.
    pub fn key(&self, hash: &[u8; 32]) -> Result<Option<ApiKey>, StoreError> {
        get(&self.0.open_table(KEYS)?, hash)
    }

    pub fn keys(&self, integration: &IntegrationId) -> Result<Vec<ApiKey>, StoreError> {
        let ids = self.0.open_table(KEY_IDS)?;
        let keys = self.0.open_table(KEYS)?;
        let prefix = [integration.as_str().as_bytes(), b"/"].concat();
        let end = crate::store::prefix_end(&prefix);
        let mut out = Vec::new();
        for r in ids.range(prefix.as_slice()..end.as_slice())? {
            let (_, hash) = r?;
            if let Some(k) = keys.get(hash.value())? {
                out.push(dec(k.value())?);
            }
        }
        Ok(out)
    }

    /// People's access: tokens, sessions, the audit log.
    pub fn access(&self) -> AccessView<'_> {
        AccessView(self.0)
    }

    /// Whether any admin token works (the first start issues one otherwise).
    pub fn has_admin_token(&self) -> Result<bool, StoreError> {
        Ok(self
            .access()
            .tokens()?
            .iter()
            .any(|t| t.role == Role::Admin && !t.revoked))
    }
}
