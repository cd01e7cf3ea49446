//! How clef-pro proves who it is to NATS and checks who the server is, without a
//! secret ever reaching a log line.
//!
//! - Passwords and nkey seeds live in [`Secret`], whose `Debug` prints `<redacted>`, so
//!   no derived `Debug` of a struct holding one can leak it.
//! - A password in a server URL (`nats://user:pass@host`) is moved out of the URL into
//!   [`NatsCredentials::UserPassword`] before connecting: the client then only ever
//!   sees (and logs) URLs without user info. [`redact_url`] is for every message that
//!   names a URL as the operator typed it.
//! - The NATS client traces its `CONNECT` message, password included, at `trace`;
//!   [`carries_nats_secret`] names that event so the binary's subscriber drops it
//!   whatever `RUST_LOG` says.

use crate::LogError;
use async_nats::{ConnectOptions, ServerAddr};
use std::fmt;
use std::path::PathBuf;

/// A secret string: a password or an nkey seed. Printing it shows `<redacted>`; only
/// [`Secret::expose`] gives the value, to hand it to the NATS client.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// For clap: a flag's value read straight into a `Secret`.
impl std::str::FromStr for Secret {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self::new(s))
    }
}

/// Who clef-pro is to NATS: one of these at a time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum NatsCredentials {
    /// No credentials: the server must let anyone in (a trial on loopback only).
    #[default]
    None,
    UserPassword {
        user: String,
        password: Secret,
    },
    /// A user nkey seed (`SU…`); the server's config lists its public key.
    Nkey(Secret),
    /// A `.creds` file (a user JWT and its nkey seed) for a server in operator (JWT)
    /// mode; read when clef-pro connects (a rotated file takes a restart).
    CredsFile(PathBuf),
}

impl NatsCredentials {
    /// The credentials of a user nkey seed, as read from a seed file (surrounding
    /// whitespace ignored). The error never contains the seed.
    pub fn nkey_seed(text: &str) -> Result<Self, String> {
        let seed = text.trim();
        if !seed.starts_with("SU") {
            return Err("it must hold a user nkey seed (one line starting with SU)".into());
        }
        nkeys::KeyPair::from_seed(seed)
            .map_err(|_| "it holds no valid user nkey seed (a bad checksum or length)")?;
        Ok(Self::Nkey(Secret::new(seed)))
    }

    fn is_none(&self) -> bool {
        matches!(self, Self::None)
    }
}

/// TLS beyond what a `tls://` URL or the server's `tls {}` block asks for. Either
/// setting makes TLS required, so a server that offers none is refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NatsTls {
    /// PEM CA certificates to trust in place of the system's.
    pub ca: Option<PathBuf>,
    /// A PEM client certificate and its key, for servers that verify clients.
    pub client_cert: Option<(PathBuf, PathBuf)>,
}

impl NatsTls {
    fn required(&self) -> bool {
        self.ca.is_some() || self.client_cert.is_some()
    }
}

/// Everything about connecting to NATS that is not the server list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NatsAuth {
    pub credentials: NatsCredentials,
    pub tls: NatsTls,
}

impl NatsAuth {
    /// Adds the credentials and TLS settings to the client's options.
    pub(crate) async fn apply(&self, mut o: ConnectOptions) -> Result<ConnectOptions, LogError> {
        o = match &self.credentials {
            NatsCredentials::None => o,
            NatsCredentials::UserPassword { user, password } => {
                o.user_and_password(user.clone(), password.expose().to_owned())
            }
            NatsCredentials::Nkey(seed) => o.nkey(seed.expose().to_owned()),
            // The client's parse errors name the part that is wrong, never its content.
            NatsCredentials::CredsFile(path) => o.credentials_file(path).await.map_err(|e| {
                LogError::Config(format!(
                    "cannot use the NATS credentials file {}: {e}",
                    path.display()
                ))
            })?,
        };
        if let Some(ca) = &self.tls.ca {
            o = o.add_root_certificates(ca.clone());
        }
        if let Some((cert, key)) = &self.tls.client_cert {
            o = o.add_client_certificate(cert.clone(), key.clone());
        }
        Ok(o.require_tls(self.tls.required()))
    }

    /// Whether a password may cross the network in clear: password credentials and
    /// neither the client (`tls://`, a CA or a client certificate) nor the server
    /// (`tls_required` in its INFO) insists on TLS.
    pub(crate) fn password_in_clear(&self, servers: &[ServerAddr], server_tls: bool) -> bool {
        matches!(self.credentials, NatsCredentials::UserPassword { .. })
            && !self.tls.required()
            && !server_tls
            && !servers.iter().any(ServerAddr::tls_required)
    }
}

/// Parses `urls` (one URL or several, comma-separated) into server addresses without
/// user info, and merges a user and password found there into `auth`. Every URL must
/// carry the same user info or none, and URL credentials exclude any other kind.
pub(crate) fn servers(
    urls: &str,
    auth: &NatsAuth,
) -> Result<(Vec<ServerAddr>, NatsAuth), LogError> {
    let mut servers = Vec::new();
    let mut from_url: Option<NatsCredentials> = None;
    for raw in urls.split(',').map(str::trim) {
        let addr = raw
            .parse::<ServerAddr>()
            .map_err(|e| LogError::Config(format!("invalid NATS URL {}: {e}", redact_url(raw))))?;
        let (addr, creds) = take_user_info(addr)?;
        match (&from_url, creds) {
            (_, None) => {}
            (None, Some(c)) => from_url = Some(c),
            (Some(seen), Some(c)) if *seen == c => {}
            (Some(_), Some(_)) => {
                return Err(LogError::Config(
                    "the NATS URLs carry different users or passwords".into(),
                ));
            }
        }
        servers.push(addr);
    }
    let mut auth = auth.clone();
    if let Some(creds) = from_url {
        if !auth.credentials.is_none() && auth.credentials != creds {
            return Err(LogError::Config(
                "the NATS URL carries a user and password and other NATS credentials are set: \
                 give one"
                    .into(),
            ));
        }
        auth.credentials = creds;
    }
    Ok((servers, auth))
}

/// Splits a server address into the address without user info and the (decoded) user
/// and password it carried.
fn take_user_info(addr: ServerAddr) -> Result<(ServerAddr, Option<NatsCredentials>), LogError> {
    if !addr.has_user_pass() {
        return Ok((addr, None));
    }
    let decode = |s: &str| {
        percent_encoding::percent_decode_str(s)
            .decode_utf8()
            .map(|c| c.into_owned())
            .map_err(|_| LogError::Config("the NATS URL's user info is not UTF-8".into()))
    };
    let user = decode(addr.username().unwrap_or_default())?;
    let Some(password) = addr.password().map(decode).transpose()? else {
        return Err(LogError::Config(
            "the NATS URL names a user without a password (tokens are not supported): give \
             user:password or a separate user and password"
                .into(),
        ));
    };
    let mut url = addr.into_inner();
    // Neither call can fail on a URL that already had user info (it has a host).
    let _ = url.set_username("");
    let _ = url.set_password(None);
    let addr = ServerAddr::from_url(url).map_err(|e| LogError::Config(e.to_string()))?;
    let creds = NatsCredentials::UserPassword {
        user,
        password: Secret::new(password),
    };
    Ok((addr, Some(creds)))
}

/// `urls` (one URL or several, comma-separated) with the user info of each replaced by
/// `***`, for messages. Works on text that does not parse as a URL too.
pub fn redact_url(urls: &str) -> String {
    urls.split(',')
        .map(|url| {
            let (scheme, rest) = match url.find("://") {
                Some(i) => url.split_at(i + 3),
                None => ("", url),
            };
            let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => format!("{scheme}***{}", &rest[at..]),
                None => url.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// Whether a tracing event is one the NATS client emits with credentials in it: its
/// trace of the `CONNECT` message (field `connect_info`, which holds the password and,
/// with a JWT, the user JWT). A subscriber must drop these at every level.
pub fn carries_nats_secret(meta: &tracing::Metadata<'_>) -> bool {
    meta.target().starts_with("async_nats") && meta.fields().field("connect_info").is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "SUAIO3FHUX5PNV2LQIIP7TZ3N4L7TX3W53MQGEIVYFIGA635OZCKEYHFLM";

    #[test]
    fn secrets_never_print() {
        let auth = NatsAuth {
            credentials: NatsCredentials::UserPassword {
                user: "clef-pro".into(),
                password: Secret::new("hunter2-pw"),
            },
            tls: NatsTls::default(),
        };
        let shown = format!("{auth:?} {auth:#?}");
        assert!(
            !shown.contains("hunter2-pw") && shown.contains("clef-pro"),
            "{shown}"
        );
        let nkey = NatsCredentials::nkey_seed(&format!("{SEED}\n")).unwrap();
        assert!(!format!("{nkey:?}").contains(SEED));
    }

    #[test]
    fn nkey_seeds_are_checked_without_echoing_them() {
        let mut bad = SEED.to_owned();
        bad.replace_range(10..11, if &bad[10..11] == "A" { "B" } else { "A" });
        for text in [bad.as_str(), "SAAOTHERKINDOFSEED", "", "not a seed"] {
            let e = NatsCredentials::nkey_seed(text).unwrap_err();
            assert!(text.is_empty() || !e.contains(text), "{e}");
        }
    }

    #[test]
    fn url_user_info_moves_into_the_credentials() {
        let (servers, auth) = servers(
            "nats://clef:p%40ss@127.0.0.1:4222, tls://clef:p%40ss@10.0.0.2",
            &NatsAuth::default(),
        )
        .unwrap();
        let shown: Vec<String> = servers.iter().map(|s| format!("{s:?}")).collect();
        assert!(
            shown
                .iter()
                .all(|s| !s.contains("p%40ss") && !s.contains("clef")),
            "{shown:?}"
        );
        assert!(servers[1].tls_required());
        assert_eq!(
            auth.credentials,
            NatsCredentials::UserPassword {
                user: "clef".into(),
                password: Secret::new("p@ss")
            }
        );
    }

    #[test]
    fn conflicting_url_credentials_are_refused_without_echoing_them() {
        let nkey = NatsAuth {
            credentials: NatsCredentials::nkey_seed(SEED).unwrap(),
            ..NatsAuth::default()
        };
        let cases = [
            ("nats://a:pw1@h1,nats://a:pw2@h2", NatsAuth::default()),
            ("nats://a:pw1@h1", nkey),
            ("nats://tokenpw1@h1", NatsAuth::default()),
            ("nats://a:pw1@h1:notaport", NatsAuth::default()),
        ];
        for (urls, auth) in cases {
            let Err(e) = servers(urls, &auth) else {
                panic!("{urls} was accepted");
            };
            assert!(!e.to_string().contains("pw1"), "{e}");
        }
    }

    #[test]
    fn redaction_hides_user_info_only() {
        assert_eq!(
            redact_url("nats://u:p@h:4222,tls://h2:4222,x:y@h3/p@q"),
            "nats://***@h:4222,tls://h2:4222,***@h3/p@q"
        );
    }
}
