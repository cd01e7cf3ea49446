//! Command-line flags. Every flag also reads `CLEF_PRO_<FLAG>` from the environment.

use clap::{Args, Parser, Subcommand};
use clef_pro_schema::keys::DeploymentKey;
use std::net::SocketAddr;
use std::os::unix::fs::DirBuilderExt;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "clef-pro",
    version,
    about = "Secrets-governance reporting and alerting for the Clef CLI",
    long_about = "clef-pro stores the opaque, commit-keyed reports the Clef CLI sends from CI as \
                  immutable events on an append-only log, and builds from them the health matrix, \
                  the alert lifecycle and email notifications. It never stores a secret, key name, \
                  file path or recipient identity."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run everything in one process: HTTP API and dashboard, projectors, notifier.
    Serve(ServeArgs),
    /// Rebuild every projection from the log into fresh stores, then swap them in.
    /// Stop `serve` first. Prints progress and a digest per projection; sends no email.
    Replay(ReplayArgs),
    /// Rebuild the projections aside and compare their digests with the live stores.
    /// Exits 1 on any difference. Stop `serve` first.
    Verify(LogArgs),
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// Directory for the embedded log, the projection stores, mail files and keys.
    #[arg(long, env = "CLEF_PRO_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// The log: `embedded` (a file under the data dir) or `nats://host:4222` (JetStream;
    /// for a cluster, every node's URL, comma-separated).
    #[arg(long, env = "CLEF_PRO_LOG", default_value = "embedded")]
    pub log: String,
    /// JetStream replicas for the streams (log and notification queue) when clef-pro
    /// creates them (1 or 3).
    #[arg(long, env = "CLEF_PRO_NATS_REPLICAS", default_value_t = 1)]
    pub nats_replicas: usize,
    /// The deployment key: 32 bytes (raw or hex) that authenticate every event and key
    /// the fingerprints of redacted secrets. Every instance on one log needs the same
    /// file. Default: `<data-dir>/deployment.key`, created (mode 0600) on first start.
    #[arg(long, env = "CLEF_PRO_DEPLOYMENT_KEY")]
    pub deployment_key: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub log: LogArgs,
    /// Address to listen on.
    #[arg(long, env = "CLEF_PRO_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Where email goes: unset writes `.eml` files under `<data-dir>/mail/`;
    /// `smtp://user:pass@host:port[?tls=required]` (plain or STARTTLS) or `smtps://…` (TLS).
    #[arg(long, env = "CLEF_PRO_SMTP")]
    pub smtp: Option<String>,
    /// Sender of notification emails.
    #[arg(
        long,
        env = "CLEF_PRO_MAIL_FROM",
        default_value = "clef-pro <clef-pro@localhost>"
    )]
    pub mail_from: String,
    /// The admin token. Unset: one is generated on first start, printed once and stored
    /// only as a hash.
    #[arg(long, env = "CLEF_PRO_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Failed authentications one client address may make per minute before it gets
    /// 429 for a while; 0 turns the limit off (behind a proxy, limit there instead).
    #[arg(long, env = "CLEF_PRO_AUTH_FAILURES_PER_MINUTE", default_value_t = 60)]
    pub auth_failures_per_minute: u32,
    /// The URL people open the dashboard at (links in emails; `https://` makes cookies Secure).
    /// Default: `http://<listen>`.
    #[arg(long, env = "CLEF_PRO_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Serve `/metrics` on this address only (e.g. an internal interface for Prometheus),
    /// and not on `--listen`. Unset: `/metrics` is on `--listen`.
    #[arg(long, env = "CLEF_PRO_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub log: LogArgs,
    /// Build the stores into this directory and leave the live ones alone.
    #[arg(long, env = "CLEF_PRO_INTO")]
    pub into: Option<PathBuf>,
}

impl LogArgs {
    fn key_path(&self) -> PathBuf {
        self.deployment_key
            .clone()
            .unwrap_or_else(|| self.data_dir.join("deployment.key"))
    }

    /// Creates the data dir (owner-only) and reads or creates the deployment key.
    pub fn prepare(&self) -> Result<DeploymentKey, String> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.data_dir)
            .map_err(|e| format!("cannot create data dir {}: {e}", self.data_dir.display()))?;
        DeploymentKey::load_or_create(&self.key_path()).map_err(|e| e.to_string())
    }

    /// The deployment key, which must exist: rebuilding with a new key would refuse
    /// every event of the log and leave empty stores.
    pub fn existing_key(&self) -> Result<DeploymentKey, String> {
        let path = self.key_path();
        if !path.exists() {
            return Err(format!(
                "no deployment key at {}: pass --deployment-key with the key `serve` uses",
                path.display()
            ));
        }
        DeploymentKey::load_or_create(&path).map_err(|e| e.to_string())
    }

    /// Opens the configured log, printing any warning about its durability settings.
    pub async fn open(&self, key: &DeploymentKey) -> Result<clef_pro_log::Log, String> {
        let log = if self.log == "embedded" {
            clef_pro_log::Log::open_embedded(&self.data_dir.join("log"), true, key.events())
        } else if self.log.starts_with("nats://") || self.log.starts_with("tls://") {
            let mut opts = clef_pro_log::NatsOptions::new(self.log.clone());
            opts.replicas = self.nats_replicas;
            clef_pro_log::Log::connect_nats(opts, key.events()).await
        } else {
            return Err(format!(
                "--log must be `embedded` or nats://host:port, not {:?}",
                self.log
            ));
        }
        .map_err(|e| format!("cannot open the log: {e}"))?;
        for w in log.warnings() {
            tracing::warn!("{w}");
        }
        Ok(log)
    }

    /// The live projection stores.
    pub fn stores_dir(&self) -> PathBuf {
        self.data_dir.join("stores")
    }
}
