//! An integration's API keys: issued with their plaintext shown once, stored only as a
//! hash, revoked at once.

use super::name;
use crate::App;
use crate::error::{Error, Result};
use crate::principal::Person;
use crate::secret::{hash, new_secret};
use clef_pro_projections::Kind;
use clef_pro_schema::event::Event;
use clef_pro_schema::ids::{IntegrationId, KeyId};
use clef_pro_schema::wire::NewKeyIn;

impl App {
    /// Issues an API key: appends its hash and returns the id and the plaintext.
    pub async fn issue_key(
        &self,
        by: &Person,
        id: &IntegrationId,
        req: NewKeyIn,
    ) -> Result<(KeyId, String)> {
        let key_id = KeyId::random();
        let api_key = new_secret("clef_");
        let sealed = self.seal(by.did(Event::KeyIssued {
            integration: id.clone(),
            key_id: key_id.clone(),
            label: name("label", req.label, false)?,
            hash: hash(&api_key),
            at: clef_pro_schema::now_ms(),
        }));
        self.append(&sealed, &[Kind::Registry]).await?;
        tracing::info!(integration = %id, key = %key_id, "api key issued");
        Ok((key_id, api_key))
    }

    /// Revokes one of the integration's keys; it stops working at once.
    pub async fn revoke_key(&self, by: &Person, id: &IntegrationId, key: &str) -> Result<KeyId> {
        let key_id = KeyId::parse(key).map_err(|_| Error::NotFound("key"))?;
        let keys = self.projections().registry(|r| r.keys(id))?;
        if !keys.iter().any(|k| k.key_id == key_id) {
            return Err(Error::NotFound("key"));
        }
        let sealed = self.seal(by.did(Event::KeyRevoked {
            integration: id.clone(),
            key_id: key_id.clone(),
            at: clef_pro_schema::now_ms(),
        }));
        self.append(&sealed, &[Kind::Registry]).await?;
        tracing::info!(integration = %id, key = %key_id, "api key revoked");
        Ok(key_id)
    }
}
