//! Dashboard sessions, kept in the log like every other fact. Signing in appends
//! `SessionStarted` with the BLAKE3 hash of a random secret, and the cookie carries the
//! secret. A session works only while it has not ended (sign-out), has not expired
//! ([`LIFETIME_MS`]), and what signed it in still works
//! ([`App::session_person`](crate::App::session_person)), so sign-out, revocation and a
//! changed operator token end a session at once, on every instance. The cookie value
//! itself is never stored.

use crate::App;
use crate::error::Result;
use crate::principal::Person;
use crate::secret::{hash, new_secret};
use clef_pro_projections::Kind;
use clef_pro_schema::event::Event;

/// Twelve hours.
pub const LIFETIME_MS: u64 = 12 * 3600 * 1000;

/// How a sign-in went.
pub enum SignIn {
    /// The session's cookie value, and who signed in.
    Started { session: String, person: Person },
    /// The token was unknown or revoked; the failure is in the audit log.
    Refused,
}

impl App {
    /// Signs in with a viewer or admin token: starts a session, or records the failure.
    pub async fn sign_in(&self, token: &str) -> Result<SignIn> {
        let token = token.trim();
        let Some(person) = self.token_person(token)? else {
            self.counters().auth_failures.inc();
            let failed = self.seal(Event::SignInFailed {
                at: clef_pro_schema::now_ms(),
            });
            self.append(&failed, &[Kind::Registry]).await?;
            return Ok(SignIn::Refused);
        };
        let secret = new_secret("cps_");
        let now = clef_pro_schema::now_ms();
        let event = self.seal(Event::SessionStarted {
            session: hash(&secret),
            token: person.actor.token.clone(),
            credential: self.credential_mac(&hash(token)),
            role: person.role,
            label: person.actor.label.clone(),
            expires_at: now + LIFETIME_MS,
            at: now,
        });
        self.append(&event, &[Kind::Registry]).await?;
        tracing::info!(role = ?person.role, "dashboard sign-in");
        Ok(SignIn::Started {
            session: secret,
            person,
        })
    }

    /// Ends the session whose cookie value is `session`, everywhere.
    pub async fn sign_out(&self, session: &str) -> Result<()> {
        let event = self.seal(Event::SessionEnded {
            session: hash(session),
            at: clef_pro_schema::now_ms(),
        });
        self.append(&event, &[Kind::Registry]).await?;
        Ok(())
    }
}
