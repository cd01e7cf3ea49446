//! A real SMTP server (aiosmtpd, `tests/support/smtp_sink.py`) on a dynamic port that
//! writes each accepted message to a directory.

use crate::process::Proc;
use std::path::PathBuf;
use std::time::Duration;
use tempfile::TempDir;
use tokio::process::Command;

pub struct SmtpServer {
    pub dir: TempDir,
    pub port: u16,
    delay_ms: u64,
    proc: Option<Proc>,
}

impl SmtpServer {
    pub async fn start() -> SmtpServer {
        Self::start_with_delay(0).await
    }

    /// A server that waits `delay_ms` after storing each message before answering 250.
    pub async fn start_with_delay(delay_ms: u64) -> SmtpServer {
        let dir = crate::scratch_dir();
        let mut s = SmtpServer {
            dir,
            port: 0,
            delay_ms,
            proc: None,
        };
        s.launch().await;
        s
    }

    async fn launch(&mut self) {
        let mut cmd = Command::new(crate::tool("python3"));
        cmd.arg(crate::root().join("tests/support/smtp_sink.py"))
            .arg(self.mail_dir())
            .arg(self.port.to_string())
            .arg(self.delay_ms.to_string());
        let mut p = Proc::spawn(cmd, &self.dir.path().join("smtp.log"));
        self.port = p
            .wait_line(Duration::from_secs(20), |l| {
                l.strip_prefix("READY ")?.trim().parse().ok()
            })
            .await;
        self.proc = Some(p);
    }

    pub fn mail_dir(&self) -> PathBuf {
        self.dir.path().join("mail")
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub async fn stop(&mut self) {
        if let Some(mut p) = self.proc.take() {
            p.kill9().await;
        }
    }

    pub async fn restart(&mut self) {
        self.stop().await;
        self.launch().await;
    }

    /// The messages received so far, oldest first.
    pub fn messages(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = crate::files_under(&self.mail_dir())
            .into_iter()
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        files.sort();
        files
            .iter()
            .filter_map(|p| std::fs::read_to_string(p).ok())
            .collect()
    }

    /// Waits until at least `n` messages arrived; returns them all.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let m = self.messages();
            if m.len() >= n || tokio::time::Instant::now() >= deadline {
                return m;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}
