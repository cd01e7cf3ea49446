//! People's viewer and admin tokens: shown once, stored only as a hash. Revoking one
//! ends it and every session signed in with it at once, on every instance.

use crate::App;
use crate::error::{Error, Result};
use crate::principal::Person;
use crate::secret::{hash, new_secret};
use clef_pro_projections::Kind;
use clef_pro_schema::event::{Event, Role};
use clef_pro_schema::ids::TokenId;

impl App {
    /// Issues a token: appends its hash and returns the id and the plaintext. `by` is
    /// `None` only for the first admin token, which the service issues itself.
    pub async fn issue_token(
        &self,
        by: Option<&Person>,
        role: Role,
        label: String,
    ) -> Result<(TokenId, String)> {
        let label = super::name("label", label, false)?;
        let token_id = TokenId::random();
        let token = new_secret("cpt_");
        let issued = Event::TokenIssued {
            token_id: token_id.clone(),
            role,
            label,
            hash: hash(&token),
            at: clef_pro_schema::now_ms(),
        };
        let sealed = self.seal(match by {
            Some(p) => p.did(issued),
            None => issued,
        });
        self.append(&sealed, &[Kind::Registry]).await?;
        tracing::info!(token = %token_id, ?role, "token issued");
        Ok((token_id, token))
    }

    /// Revokes a token (idempotent); not found for an unknown id.
    pub async fn revoke_token(&self, by: &Person, token_id: &str) -> Result<TokenId> {
        let id = TokenId::parse(token_id).map_err(|_| Error::NotFound("token"))?;
        self.projections()
            .registry(|r| r.access().token_by_id(&id))?
            .ok_or(Error::NotFound("token"))?;
        let sealed = self.seal(by.did(Event::TokenRevoked {
            token_id: id.clone(),
            at: clef_pro_schema::now_ms(),
        }));
        self.append(&sealed, &[Kind::Registry]).await?;
        tracing::info!(token = %id, "token revoked");
        Ok(id)
    }
}
