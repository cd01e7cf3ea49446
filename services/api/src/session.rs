//! The dashboard's session cookie: `<token id>.<role>.<expiry ms>.<hex label>.<mac>`,
//! where the mac is a keyed BLAKE3 hash under the server's session key. It carries no
//! secret; forging one needs the key, and it expires after [`LIFETIME_MS`].

use crate::auth::Person;
use crate::state::AppState;
use axum::http::HeaderMap;
use clef_pro_schema::event::Role;
use subtle::ConstantTimeEq;

pub const COOKIE: &str = "clef_pro_session";
/// Twelve hours.
pub const LIFETIME_MS: u64 = 12 * 3600 * 1000;

fn mac(key: &[u8; 32], body: &str) -> String {
    blake3::keyed_hash(key, body.as_bytes())
        .to_hex()
        .to_string()
}

/// The cookie value for a person, valid until `now + LIFETIME_MS`.
pub fn issue(key: &[u8; 32], person: &Person, now: u64) -> String {
    let role = match person.role {
        Role::Admin => "admin",
        Role::Viewer => "viewer",
    };
    let body = format!(
        "{role}.{}.{}",
        now + LIFETIME_MS,
        hex::encode(person.name.as_bytes())
    );
    format!("{body}.{}", mac(key, &body))
}

/// The person a cookie value names, if its mac holds and it has not expired.
pub fn verify(key: &[u8; 32], value: &str, now: u64) -> Option<Person> {
    let (body, tag) = value.rsplit_once('.')?;
    if !bool::from(mac(key, body).as_bytes().ct_eq(tag.as_bytes())) {
        return None;
    }
    let mut parts = body.split('.');
    let role = match parts.next()? {
        "admin" => Role::Admin,
        "viewer" => Role::Viewer,
        _ => return None,
    };
    let expiry: u64 = parts.next()?.parse().ok()?;
    let name = String::from_utf8(hex::decode(parts.next()?).ok()?).ok()?;
    (now < expiry).then_some(Person { role, name })
}

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
    pub(crate) fn session_person(&self, headers: &HeaderMap) -> Option<Person> {
        verify(
            &self.settings().session_key,
            cookie(headers, COOKIE)?,
            clef_pro_schema::now_ms(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_verifies_until_it_expires_and_not_after_tampering() {
        let key = [3u8; 32];
        let p = Person {
            role: Role::Viewer,
            name: "alice (tok_1)".into(),
        };
        let c = issue(&key, &p, 1000);
        let back = verify(&key, &c, 2000).unwrap();
        assert_eq!(
            (back.role, back.name.as_str()),
            (Role::Viewer, "alice (tok_1)")
        );
        assert!(verify(&key, &c, 1000 + LIFETIME_MS).is_none());
        assert!(verify(&[4u8; 32], &c, 2000).is_none());
        let forged = c.replacen("viewer", "admin", 1);
        assert!(verify(&key, &forged, 2000).is_none());
    }
}
