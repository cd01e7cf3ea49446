//! The secrets the service hands out (API keys, tokens, session ids) and the only form
//! in which it keeps them: their BLAKE3 hash.

/// The hash under which a secret is stored and looked up.
pub fn hash(secret: &str) -> [u8; 32] {
    *blake3::hash(secret.as_bytes()).as_bytes()
}

/// A random secret with a recognisable prefix: 40 base-62 characters (≈238 bits).
pub fn new_secret(prefix: &str) -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut rng = rand::rng();
    let body: String = (0..40)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect();
    format!("{prefix}{body}")
}
