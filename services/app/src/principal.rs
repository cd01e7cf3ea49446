//! Who is calling. CI authenticates with an integration's API key; people and the
//! dashboard with a viewer or admin token, or the session cookie signed in with one.
//! Each credential is resolved in one read of the registry, which also carries what the
//! request goes on to need (the key's integration and its collection settings). Keys
//! and tokens are looked up by their BLAKE3 hash and the stored hash is compared in
//! constant time; the plaintext is never stored.

use crate::App;
use crate::error::Result;
use crate::secret::hash;
use clef_pro_projections::registry::{Integration, RegistryView};
use clef_pro_schema::event::{Actor, Event, Role};
use clef_pro_schema::ids::KeyId;
use subtle::ConstantTimeEq;

/// The CI side: an API key and the integration it selects, as read with the key.
#[derive(Debug, Clone)]
pub struct KeyCaller {
    pub key_id: KeyId,
    pub integration: Integration,
}

/// A person (or the dashboard on their behalf).
#[derive(Debug, Clone)]
pub struct Person {
    pub role: Role,
    /// Who they are, as recorded on acknowledgements: `label (tok_…)`, or `operator`.
    pub name: String,
    /// Who they are, as the audit log records them.
    pub actor: Actor,
}

impl Person {
    pub fn new(role: Role, actor: Actor) -> Self {
        let name = match &actor.token {
            Some(id) => format!("{} ({id})", actor.label),
            None => actor.label.clone(),
        };
        Self { role, name, actor }
    }

    fn operator() -> Self {
        Self::new(
            Role::Admin,
            Actor {
                token: None,
                label: "operator".into(),
            },
        )
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// `event`, attributed to this person for the audit log.
    pub fn did(&self, event: Event) -> Event {
        Event::Audited {
            actor: self.actor.clone(),
            event: Box::new(event),
        }
    }
}

/// Either kind of caller, for endpoints both may use.
#[derive(Debug, Clone)]
pub enum Caller {
    Key(KeyCaller),
    Person(Person),
}

impl App {
    /// The key or the person a presented secret belongs to, in one read; `None` when
    /// it is unknown or revoked.
    pub fn caller(&self, secret: &str) -> Result<Option<Caller>> {
        let h = hash(secret);
        if let Some(person) = self.operator(&h) {
            return Ok(Some(Caller::Person(person)));
        }
        Ok(self.projections().registry(|r| {
            if let Some(key) = key_caller(&r, &h)? {
                return Ok(Some(Caller::Key(key)));
            }
            Ok(token_person(&r, &h)?.map(Caller::Person))
        })?)
    }

    /// The API key a secret is, with its integration, in one read.
    pub fn key_caller(&self, secret: &str) -> Result<Option<KeyCaller>> {
        let h = hash(secret);
        Ok(self.projections().registry(|r| key_caller(&r, &h))?)
    }

    /// The person a token belongs to, unless it is unknown or revoked.
    pub fn token_person(&self, secret: &str) -> Result<Option<Person>> {
        let h = hash(secret);
        if let Some(person) = self.operator(&h) {
            return Ok(Some(person));
        }
        Ok(self.projections().registry(|r| token_person(&r, &h))?)
    }

    /// The person whose session cookie has the value `secret`, if the session works:
    /// it has not ended or expired, and what signed it in still works (the token is
    /// not revoked, or the operator's admin token is the one it was signed in with).
    pub fn session_person(&self, secret: &str) -> Result<Option<Person>> {
        let now = clef_pro_schema::now_ms();
        let found = self.projections().registry(|r| {
            let Some(s) = r.access().session(&hash(secret))? else {
                return Ok(None);
            };
            if s.ended || s.expires_at <= now {
                return Ok(None);
            }
            let token_works = match &s.token {
                Some(id) => Some(r.access().token_by_id(id)?.is_some_and(|t| !t.revoked)),
                None => None,
            };
            Ok(Some((s, token_works)))
        })?;
        let Some((s, token_works)) = found else {
            return Ok(None);
        };
        let signer_works = token_works.unwrap_or_else(|| {
            self.operator_admin_hash()
                .is_some_and(|h| bool::from(self.credential_mac(h).ct_eq(&s.credential)))
        });
        Ok(signer_works.then(|| {
            Person::new(
                s.role,
                Actor {
                    token: s.token,
                    label: s.label,
                },
            )
        }))
    }

    /// The operator, when `h` is the hash of the operator's admin token.
    fn operator(&self, h: &[u8; 32]) -> Option<Person> {
        self.operator_admin_hash()
            .filter(|admin| bool::from(admin.ct_eq(h)))
            .map(|_| Person::operator())
    }

    /// What a session records of the credential that signed it in: its hash keyed with
    /// the session key, so the log never holds a hash one could test guesses against.
    pub(crate) fn credential_mac(&self, credential_hash: &[u8; 32]) -> [u8; 32] {
        *blake3::keyed_hash(&self.config().session_key, credential_hash).as_bytes()
    }
}

fn key_caller(
    r: &RegistryView<'_>,
    h: &[u8; 32],
) -> Result<Option<KeyCaller>, clef_pro_projections::store::StoreError> {
    let Some(k) = r
        .key(h)?
        .filter(|k| bool::from(k.hash.ct_eq(h)) && !k.revoked)
    else {
        return Ok(None);
    };
    // A key always belongs to an integration; a missing one means the registry lags.
    Ok(r.integration(&k.integration)?.map(|integration| KeyCaller {
        key_id: k.key_id,
        integration,
    }))
}

fn token_person(
    r: &RegistryView<'_>,
    h: &[u8; 32],
) -> Result<Option<Person>, clef_pro_projections::store::StoreError> {
    Ok(r.access().token(h)?.filter(|t| !t.revoked).map(|t| {
        Person::new(
            t.role,
            Actor {
                token: Some(t.token_id),
                label: t.label,
            },
        )
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;
    use crate::secret::new_secret;
    use clef_pro_log::Log;
    use clef_pro_projections::{Kind, Projections};
    use clef_pro_schema::ids::IntegrationId;
    use std::sync::Arc;
    use std::time::Duration;

    /// A key is found by the BLAKE3 hash of the presented secret, never by comparing
    /// plaintexts: a guess that shares all but its last character with the real key
    /// hashes to an unrelated value, so how much of it matched cannot show in timing.
    #[tokio::test]
    async fn keys_are_looked_up_by_hash_only() {
        let dir = tempfile::tempdir().unwrap();
        let key = clef_pro_schema::keys::DeploymentKey::random();
        let log = Log::open_embedded(&dir.path().join("log"), true, key.events()).unwrap();
        let projections = Arc::new(Projections::open(&dir.path().join("stores")).unwrap());
        let (_stop, shutdown) = tokio::sync::watch::channel(false);
        let _tasks = projections.spawn(&log, &shutdown);
        let app = App::new(log.clone(), projections.clone(), Config::default());

        let secret = new_secret("clef_");
        let integration = IntegrationId::random();
        log.append(&app.seal(Event::IntegrationCreated {
            id: integration.clone(),
            name: "payments".into(),
            collect_ci_context: false,
            tracked_branches: Vec::new(),
            at: 1,
        }))
        .await
        .unwrap();
        let appended = log
            .append(&app.seal(Event::KeyIssued {
                integration: integration.clone(),
                key_id: KeyId::random(),
                label: "ci".into(),
                hash: hash(&secret),
                at: 1,
            }))
            .await
            .unwrap();
        assert!(
            projections
                .wait_for(Kind::Registry, appended.seq, Duration::from_secs(10))
                .await
        );

        let found = app.key_caller(&secret).unwrap().unwrap();
        assert_eq!(found.integration.id, integration);
        // The store is keyed by the hash; the plaintext is nowhere to compare against.
        let stored = projections.registry(|r| r.key(&hash(&secret))).unwrap();
        assert!(stored.is_some_and(|k| k.hash == hash(&secret)));

        let mut near = secret.clone();
        let last = near.pop().unwrap();
        near.push(if last == 'a' { 'b' } else { 'a' });
        assert!(app.key_caller(&near).unwrap().is_none());
        // The near miss shares 44 of 45 characters but no more hash prefix than chance.
        let (h1, h2) = (hash(&secret), hash(&near));
        let common = h1.iter().zip(&h2).take_while(|(a, b)| a == b).count();
        assert!(common < 4, "{common} leading hash bytes in common");
    }
}
