//! The `--nats-*` flags: how clef-pro authenticates to NATS and checks its certificate.

use anyhow::Context;
use clap::Args;
use clef_pro_log::{NatsAuth, NatsCredentials, NatsTls, Secret};
use std::path::PathBuf;

/// How clef-pro authenticates to NATS (one of --nats-creds, --nats-nkey,
/// --nats-user/--nats-password) and checks the server's certificate.
#[derive(Debug, Args)]
pub struct NatsAuthArgs {
    /// A NATS credentials file (`.creds`: a user JWT and its nkey seed, as `nsc`
    /// generates them) for a server in operator/JWT mode. Read at start: restart clef-pro
    /// after rotating it.
    #[arg(
        long,
        env = "CLEF_PRO_NATS_CREDS",
        value_name = "FILE",
        conflicts_with_all = ["nats_nkey", "nats_user"]
    )]
    pub nats_creds: Option<PathBuf>,
    /// A file holding a user nkey seed (`SU…`, keep it mode 0600); the server's
    /// `authorization { users }` lists its public key (`U…`).
    #[arg(
        long,
        env = "CLEF_PRO_NATS_NKEY",
        value_name = "FILE",
        conflicts_with = "nats_user"
    )]
    pub nats_nkey: Option<PathBuf>,
    /// A NATS user from the server's `authorization { users }`; needs --nats-password.
    #[arg(
        long,
        env = "CLEF_PRO_NATS_USER",
        value_name = "USER",
        requires = "nats_password"
    )]
    pub nats_user: Option<String>,
    /// The password of --nats-user. Prefer CLEF_PRO_NATS_PASSWORD (from a file only
    /// root can read, e.g. a systemd EnvironmentFile) to the flag, which `ps` shows.
    #[arg(
        long,
        env = "CLEF_PRO_NATS_PASSWORD",
        value_name = "PASSWORD",
        hide_env_values = true,
        requires = "nats_user"
    )]
    pub nats_password: Option<Secret>,
    /// PEM CA certificate(s) to verify the NATS server with, in place of the system's
    /// roots. Makes TLS required.
    #[arg(long, env = "CLEF_PRO_NATS_TLS_CA", value_name = "FILE")]
    pub nats_tls_ca: Option<PathBuf>,
    /// A PEM client certificate, for a server that verifies clients (`verify: true`);
    /// needs --nats-tls-key. Makes TLS required.
    #[arg(
        long,
        env = "CLEF_PRO_NATS_TLS_CERT",
        value_name = "FILE",
        requires = "nats_tls_key"
    )]
    pub nats_tls_cert: Option<PathBuf>,
    /// The PEM private key of --nats-tls-cert.
    #[arg(
        long,
        env = "CLEF_PRO_NATS_TLS_KEY",
        value_name = "FILE",
        requires = "nats_tls_cert"
    )]
    pub nats_tls_key: Option<PathBuf>,
}

impl NatsAuthArgs {
    /// The settings, with every file checked now so that a mistake is reported by its
    /// flag rather than as a connection that keeps failing. No message shows a secret.
    pub fn auth(&self) -> anyhow::Result<NatsAuth> {
        let credentials = if let Some(path) = &self.nats_creds {
            let text = read("--nats-creds", path)?;
            if !text.contains("NATS USER JWT") || !text.contains("USER NKEY SEED") {
                return Err(anyhow::anyhow!(
                    "--nats-creds {}: not a NATS credentials file (a user JWT and an nkey seed)",
                    path.display()
                ));
            }
            NatsCredentials::CredsFile(path.clone())
        } else if let Some(path) = &self.nats_nkey {
            NatsCredentials::nkey_seed(&read("--nats-nkey", path)?)
                .map_err(|why| anyhow::anyhow!("--nats-nkey {}: {why}", path.display()))?
        } else if let (Some(user), Some(password)) = (&self.nats_user, &self.nats_password) {
            if user.is_empty() || password.expose().is_empty() {
                anyhow::bail!("--nats-user and --nats-password must not be empty");
            }
            NatsCredentials::UserPassword {
                user: user.clone(),
                password: password.clone(),
            }
        } else {
            NatsCredentials::None
        };
        let pem = |flag: &str, path: &PathBuf, label: &str| {
            if read(flag, path)?.contains(label) {
                Ok(path.clone())
            } else {
                Err(anyhow::anyhow!(
                    "{flag} {}: no PEM `{label}` in it",
                    path.display()
                ))
            }
        };
        let ca = self
            .nats_tls_ca
            .as_ref()
            .map(|p| pem("--nats-tls-ca", p, "CERTIFICATE"))
            .transpose()?;
        let client_cert = match (&self.nats_tls_cert, &self.nats_tls_key) {
            (Some(cert), Some(key)) => Some((
                pem("--nats-tls-cert", cert, "CERTIFICATE")?,
                pem("--nats-tls-key", key, "PRIVATE KEY")?,
            )),
            _ => None,
        };
        Ok(NatsAuth {
            credentials,
            tls: NatsTls { ca, client_cert },
        })
    }

    pub(crate) fn any(&self) -> bool {
        self.nats_creds.is_some()
            || self.nats_nkey.is_some()
            || self.nats_user.is_some()
            || self.nats_tls_ca.is_some()
            || self.nats_tls_cert.is_some()
    }
}

/// A file's text; the error names the flag and the path, never the content.
fn read(flag: &str, path: &std::path::Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path)
        .with_context(|| format!("{flag} {}: cannot read it", path.display()))
}
