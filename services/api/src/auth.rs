//! Who is calling. CI authenticates with an integration's API key; people and the
//! dashboard with a viewer or admin token (or the session cookie signed in with one).
//! Keys and tokens are looked up by their BLAKE3 hash and the stored hash is compared in
//! constant time; the plaintext is never stored.

use crate::error::ApiError;
pub use crate::secret::{hash, new_secret};
use crate::state::AppState;
use axum::http::HeaderMap;
use clef_pro_schema::event::{Actor, Event, Role};
use clef_pro_schema::ids::{IntegrationId, KeyId};
use subtle::ConstantTimeEq;

/// The CI side: an API key and the one integration it selects.
#[derive(Debug, Clone)]
pub struct KeyCaller {
    pub integration: IntegrationId,
    pub key_id: KeyId,
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

/// The credential of a request: `Authorization: Bearer <x>` or `x-api-key: <x>`.
pub fn credential(headers: &HeaderMap) -> Option<&str> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    bearer
        .or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()))
        .map(str::trim)
}

impl AppState {
    fn key_caller(&self, secret: &str) -> Result<Option<KeyCaller>, ApiError> {
        let h = hash(secret);
        let key = self.projections().registry(|r| r.key(&h))?;
        Ok(key
            .filter(|k| bool::from(k.hash.ct_eq(&h)) && !k.revoked)
            .map(|k| KeyCaller {
                integration: k.integration,
                key_id: k.key_id,
            }))
    }

    /// The person a token belongs to, unless it is unknown or revoked.
    pub(crate) fn token_person(&self, secret: &str) -> Result<Option<Person>, ApiError> {
        let h = hash(secret);
        if let Some(admin) = self.operator_admin_hash()
            && bool::from(admin.ct_eq(&h))
        {
            return Ok(Some(Person::operator()));
        }
        let token = self.projections().registry(|r| r.access().token(&h))?;
        Ok(token.filter(|t| !t.revoked).map(|t| {
            Person::new(
                t.role,
                Actor {
                    token: Some(t.token_id),
                    label: t.label,
                },
            )
        }))
    }

    /// The API key of a CI request.
    pub fn authenticate_key(&self, headers: &HeaderMap) -> Result<KeyCaller, ApiError> {
        let secret = credential(headers).ok_or(ApiError::Unauthorized)?;
        self.guard(self.key_caller(secret))
    }

    /// A person's token, from the bearer header or the dashboard's session cookie.
    pub fn authenticate_person(&self, headers: &HeaderMap) -> Result<Person, ApiError> {
        if let Some(secret) = credential(headers) {
            return self.guard(self.token_person(secret));
        }
        self.session_person(headers)?
            .map(|(p, _)| p)
            .ok_or(ApiError::Unauthorized)
    }

    /// An admin.
    pub fn authenticate_admin(&self, headers: &HeaderMap) -> Result<Person, ApiError> {
        let p = self.authenticate_person(headers)?;
        if p.role == Role::Admin {
            Ok(p)
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// A key or a person.
    pub fn authenticate_any(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        if let Some(secret) = credential(headers) {
            if let Some(k) = self.key_caller(secret)? {
                return Ok(Caller::Key(k));
            }
            return self.guard(self.token_person(secret)).map(Caller::Person);
        }
        self.session_person(headers)?
            .map(|(p, _)| Caller::Person(p))
            .ok_or(ApiError::Unauthorized)
    }

    /// Turns "no such credential" into 401.
    fn guard<T>(&self, found: Result<Option<T>, ApiError>) -> Result<T, ApiError> {
        let found = found?;
        match found {
            Some(v) => Ok(v),
            None => {
                self.metrics().auth_failures.inc();
                Err(ApiError::Unauthorized)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::Settings;
    use clef_pro_log::Log;
    use clef_pro_projections::{Kind, Projections};
    use clef_pro_schema::event::Event;
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
        let state = AppState::new(log.clone(), projections.clone(), Settings::default());

        let secret = new_secret("clef_");
        let integration = IntegrationId::random();
        let appended = log
            .append(&state.seal(Event::KeyIssued {
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

        let found = state.key_caller(&secret).unwrap().unwrap();
        assert_eq!(found.integration, integration);
        // The store is keyed by the hash; the plaintext is nowhere to compare against.
        let stored = projections.registry(|r| r.key(&hash(&secret))).unwrap();
        assert!(stored.is_some_and(|k| k.hash == hash(&secret)));

        let mut near = secret.clone();
        let last = near.pop().unwrap();
        near.push(if last == 'a' { 'b' } else { 'a' });
        assert!(state.key_caller(&near).unwrap().is_none());
        // The near miss shares 44 of 45 characters but no more hash prefix than chance.
        let (h1, h2) = (hash(&secret), hash(&near));
        let common = h1.iter().zip(&h2).take_while(|(a, b)| a == b).count();
        assert!(common < 4, "{common} leading hash bytes in common");
    }
}
