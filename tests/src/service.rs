//! The real `clef-pro` binary, started with its own data dir on a dynamic port.

use crate::client::Client;
use crate::process::Proc;
use std::path::PathBuf;
use std::time::Duration;
use tempfile::TempDir;
use tokio::process::Command;

/// Where the built `clef-pro` binary is: beside the running executable (a bin of this
/// crate, as the benchmark is) or beside its `deps/` dir (a test).
pub fn binary() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    let here = exe.parent().expect("exe dir");
    let candidates = [
        here.join("clef-pro"),
        here.parent()
            .map_or_else(PathBuf::new, |p| p.join("clef-pro")),
    ];
    let bin = candidates.iter().find(|p| p.exists()).cloned();
    bin.unwrap_or_else(|| {
        panic!(
            "clef-pro is missing beside {}: run `cargo build -p clef-pro` first (`just test` does)",
            here.display()
        )
    })
}

/// Which log a service uses.
#[derive(Debug, Clone)]
pub enum Backend {
    Embedded,
    Nats(String),
}

pub struct Service {
    pub dir: TempDir,
    pub url: String,
    pub admin: String,
    backend: Backend,
    smtp: Option<String>,
    extra: Vec<String>,
    /// Environment for the process, after `RUST_LOG=info` (so it may override that).
    env: Vec<(String, String)>,
    /// A deployment key file other than the default one (see [`Service::share_key`]).
    key_file: Option<PathBuf>,
    proc: Option<Proc>,
}

impl Service {
    pub async fn start(backend: Backend, smtp: Option<String>) -> Service {
        Self::start_with(backend, smtp, &[], |_| {}).await
    }

    /// Starts with more `serve` flags, after `prepare` has seen the (not yet created)
    /// data dir path, e.g. to mount a small file system there.
    pub async fn start_with(
        backend: Backend,
        smtp: Option<String>,
        extra: &[&str],
        prepare: impl FnOnce(&std::path::Path),
    ) -> Service {
        let mut s = Self::unstarted(backend, smtp, extra, &[]);
        prepare(&s.data_dir());
        s.launch().await;
        s
    }

    /// Starts with more `serve` flags and environment variables (`RUST_LOG` among them
    /// replaces the default `info`).
    pub async fn start_with_env(backend: Backend, extra: &[&str], env: &[(&str, &str)]) -> Service {
        let mut s = Self::unstarted(backend, None, extra, env);
        s.launch().await;
        s
    }

    /// A service that is not started yet: one-shot commands ([`Service::run`]) work on
    /// its data dir, and [`Service::start_again`] starts it.
    pub fn not_started(backend: Backend, smtp: Option<String>, extra: &[&str]) -> Service {
        Self::unstarted(backend, smtp, extra, &[])
    }

    /// Uses `other`'s deployment key, as a deployment moved from it must.
    pub fn share_key(&mut self, other: &Service) {
        self.key_file = Some(other.key_path());
    }

    /// Runs `serve` with these flags and environment, expecting it to exit by itself
    /// (a configuration it refuses) within a minute; returns its exit status and the
    /// output it printed, which is also in [`Service::output_path`].
    pub async fn start_failing(
        backend: Backend,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> (Service, std::process::ExitStatus, String) {
        let mut s = Self::unstarted(backend, None, extra, env);
        let (status, output) = s.start_again_failing().await;
        (s, status, output)
    }

    /// Starts a stopped service as [`Service::start_failing`] does: expecting `serve`
    /// to refuse and exit within a minute.
    pub async fn start_again_failing(&mut self) -> (std::process::ExitStatus, String) {
        assert!(self.proc.is_none());
        let mut p = Proc::spawn(self.command(), &self.output_path());
        let status = p
            .wait_exit(Duration::from_secs(60))
            .await
            .expect("serve kept running with a configuration it should refuse");
        let output = std::fs::read_to_string(self.output_path()).unwrap_or_default();
        (status, output)
    }

    fn unstarted(
        backend: Backend,
        smtp: Option<String>,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Service {
        Service {
            dir: crate::scratch_dir(),
            url: String::new(),
            admin: format!("test-admin-{}", std::process::id()),
            backend,
            smtp,
            extra: extra.iter().map(|a| (*a).to_owned()).collect(),
            env: env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            key_file: None,
            proc: None,
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The key the service authenticates its events with (created on its first start).
    pub fn deployment_key(&self) -> clef_pro_schema::keys::DeploymentKey {
        clef_pro_schema::keys::DeploymentKey::load_or_create(&self.key_path())
            .expect("the service's deployment key")
    }

    /// Every line the service printed, across restarts.
    pub fn output_path(&self) -> PathBuf {
        self.dir.path().join("service.log")
    }

    /// The deployment key file: the default one in the data dir on the embedded log;
    /// on JetStream one per NATS server, so that every instance on one stream shares it
    /// (as an operator's instances do).
    fn key_path(&self) -> PathBuf {
        if let Some(path) = &self.key_file {
            return path.clone();
        }
        match &self.backend {
            Backend::Embedded => self.data_dir().join("deployment.key"),
            Backend::Nats(url) => {
                // One key per server: the same stream reached by another URL (another
                // scheme, a password in it) is still the one deployment.
                let server = url.split("://").last().unwrap_or(url);
                let server = server.rsplit('@').next().unwrap_or(server);
                let key = blake3::hash(format!("clef-pro test key for {server}").as_bytes());
                let dir = std::env::temp_dir().join("clef-pro-test-keys");
                std::fs::create_dir_all(&dir).expect("key dir");
                let path = dir.join(&key.to_hex()[..16]);
                if !path.exists() {
                    std::fs::write(&path, key.to_hex().as_str()).expect("write the key");
                }
                path
            }
        }
    }

    fn log_arg(&self) -> String {
        match &self.backend {
            Backend::Embedded => "embedded".into(),
            Backend::Nats(url) => url.clone(),
        }
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(binary());
        cmd.arg("serve")
            .arg("--listen")
            .arg("127.0.0.1:0")
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--log")
            .arg(self.log_arg())
            .arg("--deployment-key")
            .arg(self.key_path())
            .arg("--admin-token")
            .arg(&self.admin)
            .env("RUST_LOG", "info");
        if let Some(smtp) = &self.smtp {
            cmd.arg("--smtp").arg(smtp);
        }
        cmd.args(&self.extra);
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        cmd
    }

    async fn launch(&mut self) {
        let mut p = Proc::spawn(self.command(), &self.output_path());
        let addr = p
            .wait_line(Duration::from_secs(60), |l| {
                l.strip_prefix("clef-pro listening on ")
                    .and_then(|r| r.split_whitespace().next())
                    .map(str::to_owned)
            })
            .await;
        self.url = addr;
        self.proc = Some(p);
    }

    pub fn client(&self) -> Client {
        Client::new(&self.url, &self.admin)
    }

    /// `kill -9`, then start again on the same data dir.
    pub async fn crash_and_restart(&mut self) {
        self.kill9().await;
        self.launch().await;
    }

    /// The running process's id.
    pub fn pid(&self) -> Option<u32> {
        self.proc.as_ref().and_then(|p| p.child.id())
    }

    pub async fn kill9(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill9().await;
        }
    }

    /// SIGTERM and wait for a clean exit.
    pub async fn stop(&mut self) {
        if let Some(mut p) = self.proc.take() {
            let status = p.terminate().await;
            assert!(
                status.is_some_and(|s| s.success()),
                "clef-pro did not stop cleanly: {status:?}"
            );
        }
    }

    /// Starts a stopped (or [not yet started](Service::not_started)) service.
    pub async fn start_again(&mut self) {
        assert!(self.proc.is_none());
        self.launch().await;
    }

    /// Runs a one-shot subcommand (`replay`, `verify`) on this service's data dir.
    pub async fn run(&self, sub: &str, extra: &[&str]) -> std::process::Output {
        self.one_shot(sub, extra)
            .output()
            .await
            .expect("run clef-pro")
    }

    /// The command line of a one-shot subcommand on this service's data dir, log and
    /// key, to start and watch it (see [`Service::run`]).
    pub fn one_shot(&self, sub: &str, extra: &[&str]) -> Command {
        let mut cmd = Command::new(binary());
        cmd.arg(sub)
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--log")
            .arg(self.log_arg())
            .arg("--deployment-key")
            .arg(self.key_path())
            .args(extra);
        cmd
    }
}
