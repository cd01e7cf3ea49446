//! Command-line flags. Every flag also reads `CLEF_PRO_<FLAG>` from the environment.

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use clef_pro_log::redact_url;

mod nats_args;
use clef_pro_schema::keys::DeploymentKey;
pub use nats_args::NatsAuthArgs;
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
    /// Rebuild every projection from the log into fresh stores, then swap them in (or
    /// leave them in --into DIR). It only reads the log, so it may run while `serve`
    /// does: `serve` uses the swapped-in stores from its next start. Prints progress
    /// and a digest per projection; sends no email.
    Replay(ReplayArgs),
    /// Rebuild the projections aside and compare their digests with the live stores.
    /// Exits 1 on any difference. Stop `serve` first.
    Verify(LogArgs),
    /// Write the whole log, in order, to one checksummed file: every event's bytes
    /// unchanged, including the records of sent notifications. Reads one fixed cut of
    /// the log (its head when the export starts), so `serve` may keep running.
    Export(ExportArgs),
    /// Load an export into an empty log of either backend (this is how an embedded
    /// installation moves to JetStream). Checks the file's digest under the deployment
    /// key first (use the source's deployment.key). An interrupted import, or a log that
    /// holds an earlier export of the same source, is resumed after the events it holds;
    /// a log holding anything else, or all of the file, is refused. Then run `verify`.
    Import(ImportArgs),
    /// Work with a notification destinations file (see `serve --destinations`).
    #[command(subcommand)]
    Destinations(DestinationsCommand),
}

#[derive(Debug, Subcommand)]
pub enum DestinationsCommand {
    /// Validate a destinations file: prints each destination's name and kind (never a
    /// URL or credential) and exits 1 with the entry and field at fault otherwise.
    Check {
        /// The TOML file.
        file: PathBuf,
    },
}

/// Where the log is and how to reach it. `Debug` shows neither the `--log` URL's user
/// info nor the NATS password.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// Directory for the embedded log, the projection stores, mail files and keys.
    #[arg(long, env = "CLEF_PRO_DATA_DIR", default_value = "./data")]
    pub data_dir: PathBuf,
    /// The log: `embedded` (a file under the data dir) or `nats://host:4222` (JetStream;
    /// `tls://host:4222` for TLS; for a cluster, every node's URL, comma-separated).
    /// A `user:password@` in the URL is used as --nats-user/--nats-password and never
    /// logged; prefer the flags (or CLEF_PRO_NATS_PASSWORD), which stay out of `ps`.
    #[arg(
        long,
        env = "CLEF_PRO_LOG",
        default_value = "embedded",
        hide_env_values = true
    )]
    pub log: LogUrl,
    /// JetStream replicas for the streams (log and notification queue) when clef-pro
    /// creates them: 1 for a single node, 3 for a 3-node cluster (JetStream allows 1 to 5).
    #[arg(long, env = "CLEF_PRO_NATS_REPLICAS", default_value_t = 1, value_parser = replicas)]
    pub nats_replicas: usize,
    /// Seconds an append to JetStream is held and retried while it fails for a reason
    /// that passes (no stream leader during an election, a reconnect) before the
    /// request gets 503 with Retry-After.
    #[arg(
        long,
        env = "CLEF_PRO_NATS_APPEND_WAIT",
        default_value_t = 15,
        value_name = "SECONDS"
    )]
    pub nats_append_wait: u64,
    /// The deployment key: 32 bytes (raw or hex) that authenticate every event and key
    /// the fingerprints of redacted secrets. Every instance on one log needs the same
    /// file. Default: `<data-dir>/deployment.key`, created (mode 0600) on first start.
    #[arg(long, env = "CLEF_PRO_DEPLOYMENT_KEY")]
    pub deployment_key: Option<PathBuf>,
    #[command(flatten)]
    pub nats: NatsAuthArgs,
}

/// Refuses a log whose first records all fail to verify under the deployment key: it
/// was written under another key (a wrong `--deployment-key`, or a new key made for an
/// existing deployment), and every command would skip every one of its events: `serve`
/// would serve nothing, `export` write nothing, `verify` compare empty stores.
///
/// Only the embedded log, which has one writer: on JetStream, opening the log verified
/// the stream's legacy boundary under this key (or recorded the first), which proves the
/// key, and junk anyone with publish rights adds after it must not stop a command.
async fn first_records_verify(log: &clef_pro_log::Log) -> anyhow::Result<()> {
    const FIRST: usize = 64;
    if matches!(log, clef_pro_log::Log::Nats(_)) || log.head().await? == 0 {
        return Ok(());
    }
    let refused = log.authenticity().refused();
    let first = log.tail(1).await?.next_chunk(FIRST).await?;
    let now_refused = log.authenticity().refused() - refused;
    if first.entries.is_empty() && now_refused > 0 {
        anyhow::bail!(
            "the log's first {now_refused} record(s) do not verify under this deployment key: \
             the log was written under another one. Pass --deployment-key with the key of the \
             deployment that wrote it (every instance and command of a deployment shares \
             one); an import goes into a new log"
        );
    }
    Ok(())
}

/// `--nats-replicas`: what JetStream accepts for a stream.
fn replicas(s: &str) -> Result<usize, String> {
    match s.parse() {
        Ok(n @ 1..=5) => Ok(n),
        _ => Err("JetStream keeps 1 to 5 replicas of a stream (3 for a 3-node cluster)".into()),
    }
}

/// `--public-url`: an absolute `http` or `https` URL with a host, and no user, query or
/// fragment. Its scheme and host are lowercased and its trailing `/` dropped, as links,
/// `Secure` cookies and the same-origin check compare it as text.
fn public_url(s: &str) -> Result<String, String> {
    const GIVE: &str = "give the address people open, such as https://clef.example.com";
    let uri: axum::http::Uri = s.parse().map_err(|e| format!("not a URL ({e}): {GIVE}"))?;
    let scheme = uri.scheme_str().map(str::to_ascii_lowercase);
    let (Some(scheme @ ("http" | "https")), Some(authority)) = (scheme.as_deref(), uri.authority())
    else {
        return Err(format!("an http:// or https:// URL with a host: {GIVE}"));
    };
    let extra = authority.as_str().contains('@') || uri.query().is_some() || s.contains('#');
    if extra || authority.host().is_empty() {
        return Err(format!(
            "no user, password, query or fragment in it: {GIVE}"
        ));
    }
    let authority = authority.as_str().to_ascii_lowercase();
    Ok(format!(
        "{scheme}://{authority}{}",
        uri.path().trim_end_matches('/')
    ))
}

/// `--log` as typed. Its `Debug` hides any user info, as no message may show a password.
#[derive(Clone)]
pub struct LogUrl(pub String);

impl std::str::FromStr for LogUrl {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Self(s.to_owned()))
    }
}

impl std::fmt::Debug for LogUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", redact_url(&self.0))
    }
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
    #[arg(long, env = "CLEF_PRO_SMTP", hide_env_values = true)]
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
    #[arg(long, env = "CLEF_PRO_PUBLIC_URL", value_parser = public_url)]
    pub public_url: Option<String>,
    /// Serve `/metrics` on this address only (e.g. an internal interface for Prometheus),
    /// and not on `--listen`. Unset: `/metrics` is on `--listen`.
    #[arg(long, env = "CLEF_PRO_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// A TOML file of named Slack, Teams, PagerDuty and webhook destinations with their
    /// URLs and credentials, which notification channels name. Read at start and again
    /// on SIGHUP (a file that no longer validates is refused, and the previous one kept).
    /// Its credentials are never written to the log, a store, an answer or a log line.
    #[arg(long, env = "CLEF_PRO_DESTINATIONS")]
    pub destinations: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    #[command(flatten)]
    pub log: LogArgs,
    /// Build the stores into this directory and leave the live ones alone.
    #[arg(long, env = "CLEF_PRO_INTO")]
    pub into: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[command(flatten)]
    pub log: LogArgs,
    /// The file to write (created mode 0600; refused if it exists). It holds every
    /// report as the redactor left it and every token hash: keep it like the data dir.
    #[arg(long, env = "CLEF_PRO_OUT", value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(flatten)]
    pub log: LogArgs,
    /// The file `clef-pro export` wrote.
    #[arg(long = "from", env = "CLEF_PRO_FROM", value_name = "FILE")]
    pub from: PathBuf,
}

impl LogArgs {
    fn key_path(&self) -> PathBuf {
        self.deployment_key
            .clone()
            .unwrap_or_else(|| self.data_dir.join("deployment.key"))
    }

    /// Creates the data dir (owner-only) and reads or creates the deployment key;
    /// also says whether the key was created just now.
    pub fn prepare(&self) -> anyhow::Result<(DeploymentKey, bool)> {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.data_dir)
            .with_context(|| format!("cannot create data dir {}", self.data_dir.display()))?;
        let path = self.key_path();
        let created = !path.exists();
        let key = DeploymentKey::load_or_create(&path)?;
        if created {
            eprintln!(
                "created a new deployment key at {} (mode 0600): back it up; every instance on this log needs the same file",
                path.display()
            );
        }
        Ok((key, created))
    }

    /// The deployment key, which must exist: rebuilding with a new key would refuse
    /// every event of the log and leave empty stores.
    pub fn existing_key(&self) -> anyhow::Result<DeploymentKey> {
        let path = self.key_path();
        if !path.exists() {
            return Err(anyhow::anyhow!(
                "no deployment key at {}: pass --deployment-key with the key `serve` uses",
                path.display()
            ));
        }
        Ok(DeploymentKey::load_or_create(&path)?)
    }

    /// Opens the configured log, printing any warning about its durability settings.
    pub async fn open(&self, key: &DeploymentKey) -> anyhow::Result<clef_pro_log::Log> {
        self.open_with(key, false).await
    }

    /// Opens the configured log to read it while `serve` may be writing it: the
    /// embedded log as a read-only view of its current records.
    pub async fn open_reader(&self, key: &DeploymentKey) -> anyhow::Result<clef_pro_log::Log> {
        self.open_with(key, true).await
    }

    async fn open_with(
        &self,
        key: &DeploymentKey,
        read_only: bool,
    ) -> anyhow::Result<clef_pro_log::Log> {
        let url = &self.log.0;
        let log = if url == "embedded" {
            if self.nats.any() {
                anyhow::bail!("the --nats-* flags need a NATS --log (nats://… or tls://…)");
            }
            let dir = self.data_dir.join("log");
            if read_only {
                clef_pro_log::Log::open_embedded_read_only(&dir, key.events())
            } else {
                clef_pro_log::Log::open_embedded(&dir, true, key.events())
            }
        } else if url.starts_with("nats://") || url.starts_with("tls://") {
            let mut opts = clef_pro_log::NatsOptions::new(url.clone());
            opts.replicas = self.nats_replicas;
            opts.append_wait = std::time::Duration::from_secs(self.nats_append_wait);
            opts.auth = self.nats.auth()?;
            clef_pro_log::Log::connect_nats(opts, key.events()).await
        } else {
            return Err(anyhow::anyhow!(
                "--log must be `embedded`, nats://host:port or tls://host:port, not {:?}",
                redact_url(url)
            ));
        }
        .context("cannot open the log")?;
        for w in log.warnings() {
            tracing::warn!("{w}");
        }
        first_records_verify(&log).await?;
        Ok(log)
    }

    /// The live projection stores.
    pub fn stores_dir(&self) -> PathBuf {
        self.data_dir.join("stores")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from([&["clef-pro", "verify"][..], args].concat())
    }

    #[test]
    fn public_urls_are_web_addresses_with_a_host() {
        for (given, url) in [
            ("https://clef.example.com/", "https://clef.example.com"),
            ("http://10.0.0.1:8080", "http://10.0.0.1:8080"),
            ("https://x.example/clef/", "https://x.example/clef"),
            ("HTTPS://Clef.Example.com", "https://clef.example.com"),
        ] {
            assert_eq!(public_url(given).as_deref(), Ok(url), "{given}");
        }
        for bad in [
            "ftp:/x",
            "clef.example.com",
            "https://",
            "https://x.example/?a=b",
            "https://x.example/#top",
            "https://user:pass@x.example",
            "mailto:a@b.c",
        ] {
            assert!(public_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn replicas_are_what_jetstream_keeps() {
        assert_eq!(replicas("3"), Ok(3));
        for bad in ["0", "6", "-1", "three"] {
            assert!(replicas(bad).is_err(), "{bad}");
        }
    }

    /// The contract: every flag has an environment variable `CLEF_PRO_<FLAG>`, and those
    /// that carry a credential never show its value in `--help`.
    #[test]
    fn every_flag_has_its_environment_variable() {
        use clap::CommandFactory;
        // Values that can carry a password (`--log` in a URL's user part).
        let secret = ["smtp", "admin-token", "nats-password", "log"];
        let mut seen = 0;
        let mut commands = vec![Cli::command()];
        while let Some(c) = commands.pop() {
            for arg in c.get_arguments() {
                let Some(long) = arg.get_long().filter(|l| !["help", "version"].contains(l)) else {
                    continue;
                };
                let want = format!("CLEF_PRO_{}", long.to_uppercase().replace('-', "_"));
                assert_eq!(
                    arg.get_env().and_then(|e| e.to_str()),
                    Some(want.as_str()),
                    "{} --{long}",
                    c.get_name()
                );
                if secret.contains(&long) {
                    assert!(arg.is_hide_env_values_set(), "--{long} shows its value");
                }
                seen += 1;
            }
            commands.extend(c.get_subcommands().cloned());
        }
        assert!(seen > 20, "{seen} flags");
    }

    #[test]
    fn debug_shows_no_nats_password() {
        let cli = parse(&[
            "--log",
            "nats://u:url-pw@127.0.0.1:4222",
            "--nats-user",
            "u",
            "--nats-password",
            "flag-pw",
        ])
        .unwrap();
        let shown = format!("{cli:?}");
        assert!(
            !shown.contains("url-pw") && !shown.contains("flag-pw"),
            "{shown}"
        );
    }

    #[test]
    fn incomplete_or_competing_credentials_are_refused_by_flag() {
        let cases: [(&[&str], &str); 5] = [
            (&["--nats-user", "u"], "--nats-password"),
            (&["--nats-password", "p"], "--nats-user"),
            (&["--nats-tls-cert", "c.pem"], "--nats-tls-key"),
            (&["--nats-creds", "a", "--nats-nkey", "b"], "--nats-nkey"),
            (
                &[
                    "--nats-nkey",
                    "b",
                    "--nats-user",
                    "u",
                    "--nats-password",
                    "p",
                ],
                "--nats-user",
            ),
        ];
        for (args, named) in cases {
            let e = parse(args).unwrap_err().to_string();
            assert!(e.contains(named), "{args:?}: {e}");
        }
    }

    #[test]
    fn unreadable_or_wrong_files_are_named_by_flag() {
        let dir = std::env::temp_dir().join(format!("clef-pro-cli-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let not_a_seed = dir.join("seed");
        std::fs::write(&not_a_seed, "SUSECRETBUTBROKEN\n").unwrap();
        let path = |p: &std::path::Path| p.to_str().unwrap().to_owned();
        let cases = [
            ("--nats-nkey", path(&not_a_seed)),
            ("--nats-creds", path(&not_a_seed)),
            ("--nats-tls-ca", path(&not_a_seed)),
            ("--nats-tls-ca", path(&dir.join("missing.pem"))),
        ];
        for (flag, file) in cases {
            let Command::Verify(args) = parse(&["--log", "nats://h", flag, &file]).unwrap().command
            else {
                unreachable!()
            };
            let e = format!("{:#}", args.nats.auth().unwrap_err());
            assert!(e.starts_with(flag) && !e.contains("SECRET"), "{e}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
