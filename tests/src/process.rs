//! A child process whose output lines are captured to a file and can be awaited.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

pub struct Proc {
    pub child: Child,
    lines: mpsc::UnboundedReceiver<String>,
}

impl Proc {
    /// Starts `cmd`, appending its stdout and stderr to `log`.
    pub fn spawn(mut cmd: Command, log: &Path) -> Proc {
        cmd.stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {cmd:?}: {e}"));
        let (tx, lines) = mpsc::unbounded_channel();
        for out in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn tokio::io::AsyncRead + Unpin + Send>),
        ]
        .into_iter()
        .flatten()
        {
            let tx = tx.clone();
            let log: PathBuf = log.to_owned();
            tokio::spawn(async move {
                use tokio::io::AsyncWriteExt;
                let mut file = tokio::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&log)
                    .await
                    .ok();
                let mut r = BufReader::new(out).lines();
                while let Ok(Some(line)) = r.next_line().await {
                    if let Some(f) = file.as_mut() {
                        let _ = f.write_all(format!("{line}\n").as_bytes()).await;
                    }
                    let _ = tx.send(line);
                }
                // tokio's File hands writes to a background thread: without a flush the
                // last lines may reach the file after `wait_exit` (which waits for this
                // task's sender to drop) has returned and the test has read it.
                if let Some(f) = file.as_mut() {
                    let _ = f.flush().await;
                }
            });
        }
        Proc { child, lines }
    }

    /// Waits for an output line for which `f` returns something; panics with
    /// [`NoLine`]'s account if none comes.
    pub async fn wait_line<T>(&mut self, timeout: Duration, f: impl FnMut(&str) -> Option<T>) -> T {
        self.try_wait_line(timeout, f)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// Waits for an output line for which `f` returns something, or says why none came.
    pub async fn try_wait_line<T>(
        &mut self,
        timeout: Duration,
        mut f: impl FnMut(&str) -> Option<T>,
    ) -> Result<T, NoLine> {
        let mut last = std::collections::VecDeque::new();
        let found = tokio::time::timeout(timeout, async {
            while let Some(line) = self.lines.recv().await {
                if let Some(v) = f(&line) {
                    return Some(v);
                }
                if last.len() == NoLine::KEPT {
                    last.pop_front();
                }
                last.push_back(line);
            }
            None
        })
        .await;
        match found {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(NoLine::Exited(last.into())),
            Err(_) => Err(NoLine::TimedOut(timeout, last.into())),
        }
    }

    /// Waits for the process to exit by itself and for all its output to be written;
    /// `None` if it is still running after `timeout`.
    pub async fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        tokio::time::timeout(timeout, async {
            while self.lines.recv().await.is_some() {}
            self.child.wait().await.ok()
        })
        .await
        .ok()
        .flatten()
    }

    /// SIGKILL, and wait for the process to be gone.
    pub async fn kill9(&mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }

    /// SIGTERM, and wait for a clean exit.
    pub async fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        if let Some(pid) = self.child.id() {
            let _ = std::process::Command::new("kill")
                .arg("-TERM")
                .arg(pid.to_string())
                .status();
        }
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .ok()
            .and_then(Result::ok)
    }
}

/// Why an awaited line did not come, with the process's last lines before it.
#[derive(Debug)]
pub enum NoLine {
    /// The process's output ended: it exited (a port taken, a bad config).
    Exited(Vec<String>),
    TimedOut(Duration, Vec<String>),
}

impl NoLine {
    const KEPT: usize = 10;
}

impl std::fmt::Display for NoLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let last = match self {
            NoLine::Exited(last) => {
                write!(f, "the process exited without printing the expected line")?;
                last
            }
            NoLine::TimedOut(t, last) => {
                write!(
                    f,
                    "the process did not print the expected line within {t:?}"
                )?;
                last
            }
        };
        write!(f, "; its last lines:\n{}", last.join("\n"))
    }
}
