//! A real `nats-server` with JetStream on a dynamic port and its own store directory,
//! which it keeps across `stop`/`start` and deletes on drop; and a 3-node cluster of
//! them made from the configs `ops/nats/` ships.

use crate::process::{NoLine, Proc};
use std::path::Path;
use std::time::Duration;
use tempfile::TempDir;
use tokio::process::Command;

pub struct NatsServer {
    pub dir: TempDir,
    pub port: u16,
    config: Config,
    /// Environment of the server process (the passwords a config refers to as `$VAR`).
    env: Vec<(String, String)>,
    proc: Option<Proc>,
}

enum Config {
    /// A single node; `sync_interval: always` (as ops/nats/single.conf ships) or the
    /// server's default of syncing every two minutes.
    Single { sync_always: bool },
    /// A config file's text, its ports already chosen.
    Text(String),
}

impl NatsServer {
    pub async fn start() -> NatsServer {
        Self::start_with_sync(true).await
    }

    /// A server that fsyncs every write (`true`) or on the server's default interval.
    pub async fn start_with_sync(sync_always: bool) -> NatsServer {
        let dir = crate::scratch_dir();
        let mut s = NatsServer {
            config: Config::Single { sync_always },
            dir,
            port: 0,
            env: Vec::new(),
            proc: None,
        };
        s.launch().await;
        s
    }

    /// A server with the config `make(port, dir)` returns, given a free port and the
    /// server's own directory (for its store, certificates and other files).
    /// [`NatsServer::base_config`] is the usual start of one. A port taken between
    /// choosing it and the server binding it is chosen again ([`START_ATTEMPTS`]).
    pub async fn start_with_config(make: impl Fn(u16, &Path) -> String) -> NatsServer {
        retrying_ports(|| async {
            let dir = crate::scratch_dir();
            let port = free_port();
            let mut s = NatsServer {
                config: Config::Text(make(port, dir.path())),
                dir,
                port,
                env: Vec::new(),
                proc: None,
            };
            s.try_launch().await.map(|()| s)
        })
        .await
    }

    /// `listen` on `port` and JetStream (fsync always) with its store under `dir`.
    pub fn base_config(port: u16, dir: &Path) -> String {
        let store = dir.join("store");
        format!(
            "listen: 127.0.0.1:{port}\njetstream {{ store_dir: {store:?}, sync_interval: always }}\n"
        )
    }

    fn config_text(&self) -> String {
        let store = self.dir.path().join("store");
        match &self.config {
            Config::Single { sync_always } => format!(
                "listen: 127.0.0.1:{}\njetstream {{ store_dir: {store:?}{} }}\n",
                if self.port == 0 {
                    -1
                } else {
                    i32::from(self.port)
                },
                if *sync_always {
                    ", sync_interval: always"
                } else {
                    ""
                }
            ),
            Config::Text(t) => t.clone(),
        }
    }

    async fn launch(&mut self) {
        self.try_launch()
            .await
            .unwrap_or_else(|e| panic!("nats-server: {e}"));
    }

    async fn try_launch(&mut self) -> Result<(), NoLine> {
        let conf = self.dir.path().join("nats.conf");
        std::fs::write(&conf, self.config_text()).expect("write nats.conf");
        let mut cmd = Command::new(crate::tool("nats-server"));
        cmd.arg("-c").arg(&conf);
        cmd.envs(self.env.iter().map(|(k, v)| (k, v)));
        let mut p = Proc::spawn(cmd, &self.dir.path().join("nats.log"));
        let port = p
            .try_wait_line(Duration::from_secs(20), |l| {
                l.split("Listening for client connections on ")
                    .nth(1)
                    .and_then(|a| a.rsplit(':').next()?.trim().parse().ok())
            })
            .await?;
        self.port = port;
        p.try_wait_line(Duration::from_secs(20), |l| {
            l.contains("Server is ready").then_some(())
        })
        .await?;
        self.proc = Some(p);
        Ok(())
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Stops the server (SIGKILL); its store stays.
    pub async fn stop(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill9().await;
        }
    }

    /// Starts it again on the same port with the same store.
    pub async fn restart(&mut self) {
        self.stop().await;
        self.launch().await;
    }
}

/// Three JetStream nodes on loopback, configured from `ops/nats/cluster-{1,2,3}.conf`
/// with free ports and temporary store dirs in place of the shipped ones, and fresh
/// passwords in the environment variables the configs refer to.
pub struct NatsCluster {
    pub nodes: Vec<NatsServer>,
    /// The password of the `clef-pro` user.
    password: String,
}

/// The user clef-pro connects as in `ops/nats/*.conf`.
pub const CLEF_PRO_USER: &str = "clef-pro";

impl NatsCluster {
    /// Starts the three nodes and waits until the cluster has a JetStream leader.
    pub async fn start() -> NatsCluster {
        let cluster = retrying_ports(Self::try_start).await;
        cluster.wait_for_leader().await;
        cluster
    }

    async fn try_start() -> Result<NatsCluster, NoLine> {
        let shipped: Vec<[u16; 3]> =
            vec![[4222, 6222, 8222], [4223, 6223, 8223], [4224, 6224, 8224]];
        let free: Vec<[u16; 3]> = shipped
            .iter()
            .map(|_| [free_port(), free_port(), free_port()])
            .collect();
        let password = random_password();
        let mut nodes = Vec::new();
        for i in 0..3 {
            let path = crate::root().join(format!("ops/nats/cluster-{}.conf", i + 1));
            let mut text = std::fs::read_to_string(&path).expect("ops cluster config");
            let dir = crate::scratch_dir();
            let store = dir.path().join("store");
            text = text.replace(&format!("./nats-{}", i + 1), &format!("{store:?}"));
            for (from, to) in shipped.iter().zip(&free) {
                for (f, t) in from.iter().zip(to) {
                    text = text.replace(&format!("127.0.0.1:{f}"), &format!("127.0.0.1:{t}"));
                }
            }
            let mut node = NatsServer {
                dir,
                port: free[i][0],
                config: Config::Text(text),
                env: vec![
                    ("NATS_CLEF_PRO_PASSWORD".into(), password.clone()),
                    ("NATS_AUDITOR_PASSWORD".into(), random_password()),
                ],
                proc: None,
            };
            node.try_launch().await?;
            nodes.push(node);
        }
        Ok(NatsCluster { nodes, password })
    }

    /// Every node's URL, comma-separated, as `--log` takes them.
    pub fn urls(&self) -> String {
        self.nodes
            .iter()
            .map(NatsServer::url)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// The `serve` flags that authenticate as the configs' `clef-pro` user.
    pub fn service_args(&self) -> [&str; 4] {
        [
            "--nats-user",
            CLEF_PRO_USER,
            "--nats-password",
            &self.password,
        ]
    }

    /// A JetStream client connected to the running nodes.
    async fn jetstream(&self) -> async_nats::jetstream::Context {
        let live: Vec<async_nats::ServerAddr> = self
            .nodes
            .iter()
            .filter(|n| n.proc.is_some())
            .map(|n| n.url().parse().expect("server address"))
            .collect();
        let client = async_nats::ConnectOptions::with_user_and_password(
            CLEF_PRO_USER.into(),
            self.password.clone(),
        )
        .connect(live)
        .await
        .expect("connect");
        async_nats::jetstream::new(client)
    }

    async fn wait_for_leader(&self) {
        let js = self.jetstream().await;
        for _ in 0..120 {
            if js.query_account().await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        panic!("the cluster elected no JetStream leader within 30 s");
    }

    /// The index of the node that leads `stream` (server names are `clef-nats-<n>`).
    pub async fn leader_of(&self, stream: &str) -> usize {
        let mut s = self
            .jetstream()
            .await
            .get_stream(stream)
            .await
            .expect("stream");
        let info = s.info().await.expect("stream info");
        let leader = info.cluster.as_ref().and_then(|c| c.leader.clone());
        let n: usize = leader
            .and_then(|l| l.strip_prefix("clef-nats-")?.parse().ok())
            .expect("a leader named clef-nats-<n>");
        n - 1
    }
}

/// A fresh password (hex) for a server's config.
pub fn random_password() -> String {
    let bytes: [u8; 16] = rand::random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How many times a server (or cluster) whose chosen ports turn out taken is started
/// again on others: [`free_port`] releases the port it finds, and a test running beside
/// may bind it before nats-server does.
const START_ATTEMPTS: usize = 3;

/// `start()`, again on fresh ports while a server exits or hangs before it is ready
/// (what was started is dropped: its processes killed, its directories removed).
async fn retrying_ports<T, F: std::future::Future<Output = Result<T, NoLine>>>(
    start: impl Fn() -> F,
) -> T {
    let mut attempt = 1;
    loop {
        match start().await {
            Ok(started) => return started,
            Err(e) if attempt < START_ATTEMPTS => {
                eprintln!(
                    "nats-server did not start ({e}); starting it again, on new ports where the harness chose them"
                );
                attempt += 1;
            }
            Err(e) => panic!("nats-server did not start in {START_ATTEMPTS} attempts: {e}"),
        }
    }
}

/// A loopback port nothing listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A port another process binds before nats-server does: the server exits, and is
    /// started again on another.
    #[tokio::test]
    async fn a_port_taken_before_the_server_binds_it_is_chosen_again() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let taken = taken.local_addr().expect("address").port();
        let configs = AtomicUsize::new(0);
        let s = NatsServer::start_with_config(|port, dir| {
            let first = configs.fetch_add(1, Ordering::SeqCst) == 0;
            NatsServer::base_config(if first { taken } else { port }, dir)
        })
        .await;
        assert_eq!(configs.load(Ordering::SeqCst), 2);
        assert_ne!(s.port, taken);
        async_nats::connect(s.url())
            .await
            .expect("the server serves");
    }
}
