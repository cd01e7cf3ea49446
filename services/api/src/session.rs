//! Dashboard sessions, kept in the log like every other fact. Signing in appends
//! `SessionStarted` with the BLAKE3 hash of a random secret, and the cookie carries the
//! secret. Each request looks its session up in the registry; a session works only
//! while it has not ended (sign-out), has not expired ([`LIFETIME_MS`]), and what signed
//! it in still works: the token is not revoked, or the operator's admin token is the
//! one it was signed in with. So sign-out, revocation and a changed operator token end
//! a session at once, on every instance. The cookie itself is never stored.

use crate::auth::Person;
use crate::error::ApiError;
use crate::secret::{hash, new_secret};
use crate::state::AppState;
use axum::http::HeaderMap;
use clef_pro_projections::Kind;
use clef_pro_schema::event::{Actor, Event};
use subtle::ConstantTimeEq;

pub const COOKIE: &str = "clef_pro_session";
/// Twelve hours.
pub const LIFETIME_MS: u64 = 12 * 3600 * 1000;

/// The value of a cookie in a request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

impl AppState {
    /// What a session records of the credential that signed it in: its hash keyed with
    /// the session key, so the log never holds a hash one could test guesses against.
    pub(crate) fn credential_mac(&self, credential_hash: &[u8; 32]) -> [u8; 32] {
        *blake3::keyed_hash(&self.settings().session_key, credential_hash).as_bytes()
    }

    /// Starts a session for `person`, who presented the token with `credential_hash`;
    /// returns the cookie value.
    pub(crate) async fn start_session(
        &self,
        person: &Person,
        credential_hash: &[u8; 32],
    ) -> Result<String, ApiError> {
        let secret = new_secret("cps_");
        let now = clef_pro_schema::now_ms();
        let event = self.seal(Event::SessionStarted {
            session: hash(&secret),
            token: person.actor.token.clone(),
            credential: self.credential_mac(credential_hash),
            role: person.role,
            label: person.actor.label.clone(),
            expires_at: now + LIFETIME_MS,
            at: now,
        });
        self.append(&event, &[Kind::Registry]).await?;
        Ok(secret)
    }

    /// Ends the session whose cookie value is `secret`, everywhere.
    pub(crate) async fn end_session(&self, secret: &str) -> Result<(), ApiError> {
        let event = self.seal(Event::SessionEnded {
            session: hash(secret),
            at: clef_pro_schema::now_ms(),
        });
        self.append(&event, &[Kind::Registry]).await?;
        Ok(())
    }

    /// The person of the request's session cookie and the cookie's value, if the
    /// session works.
    pub(crate) fn session_person<'h>(
        &self,
        headers: &'h HeaderMap,
    ) -> Result<Option<(Person, &'h str)>, ApiError> {
        let Some(secret) = cookie(headers, COOKIE) else {
            return Ok(None);
        };
        let found = self
            .projections()
            .registry(|r| r.access().session(&hash(secret)))?;
        let Some(s) = found else { return Ok(None) };
        if s.ended || s.expires_at <= clef_pro_schema::now_ms() {
            return Ok(None);
        }
        let signer_works = match &s.token {
            Some(id) => self
                .projections()
                .registry(|r| r.access().token_by_id(id))?
                .is_some_and(|t| !t.revoked),
            None => self
                .operator_admin_hash()
                .is_some_and(|h| bool::from(self.credential_mac(h).ct_eq(&s.credential))),
        };
        if !signer_works {
            return Ok(None);
        }
        let person = Person::new(
            s.role,
            Actor {
                token: s.token,
                label: s.label,
            },
        );
        Ok(Some((person, secret)))
    }
}
