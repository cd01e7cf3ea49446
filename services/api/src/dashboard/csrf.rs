//! CSRF tokens: a keyed BLAKE3 hash, under the server's session key, of the session
//! cookie value. A page of the dashboard carries it in a hidden field; another site can
//! neither read the cookie nor compute the hash, so it cannot forge a form. The "csrf"
//! context prefix keeps these hashes apart from the cookie macs made with the same key.

use subtle::ConstantTimeEq;

/// The token for a session cookie value.
pub fn token(key: &[u8; 32], session: &str) -> String {
    blake3::Hasher::new_keyed(key)
        .update(b"clef-pro csrf\0")
        .update(session.as_bytes())
        .finalize()
        .to_hex()
        .to_string()
}

/// Whether `presented` is the token of `session`, compared in constant time.
pub fn holds(key: &[u8; 32], session: &str, presented: &str) -> bool {
    bool::from(token(key, session).as_bytes().ct_eq(presented.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_holds_only_for_its_session_and_key() {
        let t = token(&[1; 32], "viewer.1.2.mac");
        assert!(holds(&[1; 32], "viewer.1.2.mac", &t));
        assert!(!holds(&[1; 32], "viewer.1.2.other", &t));
        assert!(!holds(&[2; 32], "viewer.1.2.mac", &t));
        assert!(!holds(&[1; 32], "viewer.1.2.mac", ""));
    }
}
