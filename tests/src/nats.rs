//! A real `nats-server` with JetStream on a dynamic port and its own store directory,
//! which it keeps across `stop`/`start` and deletes on drop.

use crate::process::Proc;
use std::time::Duration;
use tempfile::TempDir;
use tokio::process::Command;

pub struct NatsServer {
    pub dir: TempDir,
    pub port: u16,
    /// `sync_interval: always` (the default here, as ops/nats/single.conf ships) or
    /// the server's default of syncing every two minutes.
    sync_always: bool,
    proc: Option<Proc>,
}

impl NatsServer {
    pub async fn start() -> NatsServer {
        Self::start_with_sync(true).await
    }

    /// A server that fsyncs every write (`true`) or on the server's default interval.
    pub async fn start_with_sync(sync_always: bool) -> NatsServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut s = NatsServer {
            sync_always,
            dir,
            port: 0,
            proc: None,
        };
        s.launch().await;
        s
    }

    async fn launch(&mut self) {
        let store = self.dir.path().join("store");
        let conf = self.dir.path().join("nats.conf");
        let sync = if self.sync_always {
            ", sync_interval: always"
        } else {
            ""
        };
        std::fs::write(
            &conf,
            format!(
                "listen: 127.0.0.1:{}\njetstream {{ store_dir: {:?}{sync} }}\n",
                if self.port == 0 {
                    -1
                } else {
                    i32::from(self.port)
                },
                store
            ),
        )
        .expect("write nats.conf");
        let mut cmd = Command::new(crate::tool("nats-server"));
        cmd.arg("-c").arg(&conf);
        let mut p = Proc::spawn(cmd, &self.dir.path().join("nats.log"));
        let port = p
            .wait_line(Duration::from_secs(20), |l| {
                l.split("Listening for client connections on ")
                    .nth(1)
                    .and_then(|a| a.rsplit(':').next()?.trim().parse().ok())
            })
            .await;
        self.port = port;
        p.wait_line(Duration::from_secs(20), |l| {
            l.contains("Server is ready").then_some(())
        })
        .await;
        self.proc = Some(p);
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
