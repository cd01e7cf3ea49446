//! The deployment key (docs/api.md): 32 random bytes the operator keeps in one
//! file, shared by every instance on one log. It never reaches the log. Each use gets
//! its own key derived from it (BLAKE3 `derive_key` with a fixed context), so a value
//! computed for one purpose can never be replayed as another:
//! - fingerprints of redacted matches (so a reader cannot test guesses offline),
//! - the authentication tag of every event the service appends,
//! - dashboard session cookies and CSRF tokens.

use std::fmt;
use std::io::{Read, Write};
use std::path::Path;

/// The master key. `Debug` never shows it.
#[derive(Clone)]
pub struct DeploymentKey([u8; 32]);

impl fmt::Debug for DeploymentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DeploymentKey(…)")
    }
}

/// A key for one purpose, derived from the deployment key.
#[derive(Clone)]
pub struct PurposeKey([u8; 32]);

impl fmt::Debug for PurposeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PurposeKey(…)")
    }
}

impl PurposeKey {
    pub fn bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// BLAKE3 keyed with this key.
    pub fn mac(&self, data: &[u8]) -> [u8; 32] {
        *blake3::keyed_hash(&self.0, data).as_bytes()
    }
}

/// Why the key file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("cannot read or create the deployment key {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the deployment key {0} must hold 32 bytes (raw, or as 64 hexadecimal characters)")]
    Format(String),
}

impl DeploymentKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A new random key.
    pub fn random() -> Self {
        Self(rand::random())
    }

    /// Reads the key at `path`, or creates it there (owner-only from its creation, so
    /// no other user can ever read it) with 32 random bytes.
    pub fn load_or_create(path: &Path) -> Result<Self, KeyFileError> {
        let io = |source| KeyFileError::Io {
            path: path.display().to_string(),
            source,
        };
        match owner_only_new_file(path) {
            Ok(mut f) => {
                let key = Self::random();
                f.write_all(&key.0)
                    .and_then(|()| f.sync_all())
                    .map_err(io)?;
                Ok(key)
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let mut raw = Vec::new();
                std::fs::File::open(path)
                    .and_then(|mut f| f.read_to_end(&mut raw))
                    .map_err(io)?;
                Self::parse(&raw).ok_or_else(|| KeyFileError::Format(path.display().to_string()))
            }
            Err(e) => Err(io(e)),
        }
    }

    /// 32 raw bytes, or 64 hex digits with optional surrounding whitespace.
    fn parse(raw: &[u8]) -> Option<Self> {
        if let Ok(bytes) = <[u8; 32]>::try_from(raw) {
            return Some(Self(bytes));
        }
        let text = std::str::from_utf8(raw).ok()?.trim();
        let mut out = [0u8; 32];
        hex::decode_to_slice(text, &mut out).ok()?;
        Some(Self(out))
    }

    fn derive(&self, purpose: &str) -> PurposeKey {
        PurposeKey(blake3::derive_key(
            &format!("clef-pro 2026-12 {purpose}"),
            &self.0,
        ))
    }

    /// Keys the fingerprints of redacted matches.
    pub fn fingerprints(&self) -> PurposeKey {
        self.derive("redaction fingerprint")
    }

    /// Authenticates the events the service appends.
    pub fn events(&self) -> PurposeKey {
        self.derive("event authentication")
    }

    /// Authenticates session cookies and CSRF tokens.
    pub fn sessions(&self) -> PurposeKey {
        self.derive("dashboard session")
    }
}

/// Creates `path` for writing, failing if it exists; on Unix with mode 0600 from the
/// start.
pub fn owner_only_new_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_created_key_is_owner_only_and_read_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("deployment.key");
        let a = DeploymentKey::load_or_create(&path).unwrap();
        let b = DeploymentKey::load_or_create(&path).unwrap();
        assert_eq!(a.0, b.0);
        assert_eq!(std::fs::read(&path).unwrap().len(), 32);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn hex_keys_are_accepted_and_other_contents_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        std::fs::write(&path, format!("{}\n", "ab".repeat(32))).unwrap();
        assert_eq!(DeploymentKey::load_or_create(&path).unwrap().0, [0xab; 32]);
        std::fs::write(&path, "short").unwrap();
        assert!(matches!(
            DeploymentKey::load_or_create(&path),
            Err(KeyFileError::Format(_))
        ));
    }

    #[test]
    fn purposes_get_different_keys_and_debug_shows_none() {
        let k = DeploymentKey::from_bytes([7; 32]);
        let keys = [k.fingerprints().0, k.events().0, k.sessions().0];
        assert!(keys[0] != keys[1] && keys[1] != keys[2] && keys[0] != keys[2]);
        assert!(!format!("{k:?}{:?}", k.events()).contains('7'));
    }
}
