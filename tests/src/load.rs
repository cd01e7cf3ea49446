//! A mixed load for the fault tests: single reports that open and resolve alerts (and so
//! send notifications), batches, and acknowledgements, from several workers, with a
//! ledger of what the service answered; and the checks run against that ledger.

use crate::client::Client;
use crate::fixtures::{report, sha};
use crate::smtp::SmtpServer;
use serde_json::{Value, json};
use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};
use tokio::sync::watch;

const CRIT: (&str, &str, bool, &str) = ("missing_keys", "oauth/production", false, "critical");
const WARN: (&str, &str, bool, &str) = ("rotation", "database", false, "warning");
/// Reports per batch.
pub const BATCH: usize = 5;

/// One request of the load and what came back (`None`: no answer, the connection died).
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The commits the request submitted (empty for an acknowledgement).
    pub commits: Vec<String>,
    pub started: Instant,
    pub ended: Instant,
    pub status: Option<u16>,
    pub retry_after: bool,
}

impl Attempt {
    pub fn acked(&self) -> bool {
        self.status.is_some_and(|s| (200..300).contains(&s))
    }
}

/// Every attempt of a load run.
#[derive(Debug, Default)]
pub struct Ledger {
    pub attempts: Vec<Attempt>,
}

impl Ledger {
    /// Commits whose request got a 2xx: the service promised to keep them.
    pub fn acked_commits(&self) -> Vec<String> {
        self.attempts
            .iter()
            .filter(|a| a.acked())
            .flat_map(|a| a.commits.clone())
            .collect()
    }

    /// How many answers had each status (0 for no answer).
    pub fn statuses(&self) -> HashMap<u16, usize> {
        let mut out = HashMap::new();
        for a in &self.attempts {
            *out.entry(a.status.unwrap_or(0)).or_default() += 1;
        }
        out
    }

    pub fn extend(&mut self, other: Ledger) {
        self.attempts.extend(other.attempts);
    }
}

/// An integration under load, with a notification channel on the given SMTP sink.
#[derive(Clone)]
pub struct Load {
    pub id: String,
    pub key: String,
}

impl Load {
    pub async fn setup(c: &Client, name: &str) -> Load {
        let (id, key) = c.integration(name, json!({})).await;
        let r = c.channels(&id, &[("sec@acme.com", "warning")]).await;
        assert_eq!(r.status, 200, "{:?}", r.body);
        Load { id, key }
    }

    /// Runs `workers` workers against `clients` (round robin) until `stop` turns true,
    /// or, with `until_dead`, until a request finds no service. `tag` keeps commits
    /// of different runs apart.
    pub async fn run(
        &self,
        clients: &[Client],
        workers: usize,
        tag: &str,
        stop: watch::Receiver<bool>,
        until_dead: bool,
    ) -> Ledger {
        let tasks: Vec<_> = (0..workers)
            .map(|w| {
                let (load, c, mut stop) = (
                    self.clone(),
                    clients[w % clients.len()].clone(),
                    stop.clone(),
                );
                let tag = format!("{tag}-{w}");
                tokio::spawn(async move {
                    let mut ledger = Ledger::default();
                    for i in 0u64.. {
                        if *stop.borrow() {
                            break;
                        }
                        let a = load.step(&c, &tag, i).await;
                        let dead = a.status.is_none();
                        ledger.attempts.push(a);
                        if dead && until_dead {
                            break;
                        }
                        if dead
                            || ledger
                                .attempts
                                .last()
                                .is_some_and(|a| a.status == Some(503))
                        {
                            // Back off as Retry-After asks, but stop promptly.
                            let pause = tokio::time::sleep(Duration::from_millis(200));
                            tokio::select! { () = pause => {}, _ = stop.changed() => {} }
                        }
                    }
                    ledger
                })
            })
            .collect();
        let mut ledger = Ledger::default();
        for t in tasks {
            ledger.extend(t.await.expect("load worker"));
        }
        ledger
    }

    /// One request: two single reports (failing, then alternating), a batch, or an
    /// acknowledgement of an open alert, by `i`.
    async fn step(&self, c: &Client, tag: &str, i: u64) -> Attempt {
        let started = Instant::now();
        let key = Some(("x-api-key", self.key.as_str()));
        let (commits, r) = match i % 4 {
            0 | 1 => {
                let commit = sha(&format!("{tag}-{i}"));
                let results: &[_] = if i % 8 < 4 { &[CRIT, WARN] } else { &[WARN] };
                let body = report(&commit, "main", results).to_string().into_bytes();
                let r = c.try_send("POST", "/api/v1/reports", key, Some(body)).await;
                (vec![commit], r)
            }
            2 => {
                let commits: Vec<String> =
                    (0..BATCH).map(|j| sha(&format!("{tag}-{i}-{j}"))).collect();
                let reports: Vec<Value> =
                    commits.iter().map(|s| report(s, "main", &[CRIT])).collect();
                let body = json!({ "reports": reports }).to_string().into_bytes();
                let r = c
                    .try_send("POST", "/api/v1/reports/batch", key, Some(body))
                    .await;
                (commits, r)
            }
            _ => (Vec::new(), self.acknowledge(c).await),
        };
        Attempt {
            commits,
            started,
            ended: Instant::now(),
            status: r.as_ref().ok().map(|r| r.status),
            retry_after: r.as_ref().is_ok_and(|r| r.retry_after.is_some()),
        }
    }

    async fn acknowledge(&self, c: &Client) -> Result<crate::client::Resp, reqwest::Error> {
        let bearer = c.admin_bearer();
        let auth = Some(("authorization", bearer.as_str()));
        let path = format!("/api/v1/integrations/{}/alerts?status=open", self.id);
        let open = c.try_send("GET", &path, auth, None).await?;
        let first = open.body["alerts"]
            .as_array()
            .and_then(|a| a.iter().find(|a| a["acknowledged"] == false))
            .and_then(|a| a["id"].as_str().map(str::to_owned));
        let Some(alert) = first else {
            return Ok(open);
        };
        let path = format!(
            "/api/v1/integrations/{}/alerts/{alert}/acknowledge",
            self.id
        );
        c.try_send("POST", &path, auth, Some(b"{}".to_vec())).await
    }

    /// The commits of `commits` that the service shows.
    pub async fn visible(&self, c: &Client, commits: &[String]) -> HashSet<String> {
        let mut out = HashSet::new();
        for commit in commits {
            let r = c
                .admin(
                    "GET",
                    &format!("/api/v1/integrations/{}/matrix?commit={commit}", self.id),
                    Value::Null,
                )
                .await;
            assert!(matches!(r.status, 200 | 404), "{:?}", r.body);
            if r.status == 200 {
                out.insert(commit.clone());
            }
        }
        out
    }

    /// Every acknowledged report is visible, and every batch is wholly visible or not
    /// at all. Returns (acknowledged reports, batches checked).
    pub async fn check(&self, c: &Client, ledger: &Ledger) -> (usize, usize) {
        let all: Vec<String> = ledger
            .attempts
            .iter()
            .flat_map(|a| a.commits.clone())
            .collect();
        let seen = self.visible(c, &all).await;
        let acked = ledger.acked_commits();
        let lost: Vec<&String> = acked.iter().filter(|c| !seen.contains(*c)).collect();
        assert!(lost.is_empty(), "acknowledged reports lost: {lost:?}");
        let batches: Vec<&Attempt> = ledger
            .attempts
            .iter()
            .filter(|a| a.commits.len() > 1)
            .collect();
        for b in &batches {
            let n = b.commits.iter().filter(|c| seen.contains(*c)).count();
            assert!(
                n == 0 || n == b.commits.len(),
                "a batch is partly visible: {n} of {}",
                b.commits.len()
            );
        }
        (acked.len(), batches.len())
    }
}

/// Checks the mail a sink received: a `Message-ID` that arrived more than once is the
/// same notification each time (same recipient and subject). Returns (distinct
/// notifications, resends).
pub fn check_mail(smtp: &SmtpServer) -> (usize, usize) {
    let header = |m: &str, name: &str| {
        m.lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
            .map(str::to_owned)
    };
    // Message-ID → (To, Subject) of each copy.
    type Copy = (Option<String>, Option<String>);
    let mut by_id: HashMap<String, Vec<Copy>> = HashMap::new();
    let messages = smtp.messages();
    for m in &messages {
        let id = header(m, "Message-ID").expect("every notification has a Message-ID");
        by_id
            .entry(id)
            .or_default()
            .push((header(m, "To"), header(m, "Subject")));
    }
    for (id, copies) in &by_id {
        assert!(
            copies.windows(2).all(|w| w[0] == w[1]),
            "{id} was sent with different content: {copies:?}"
        );
    }
    (by_id.len(), messages.len() - by_id.len())
}

/// What a client that behaves like the Clef CLI saw: it sends one report at a time and,
/// when a request fails (no answer, or not 2xx), retries it once after one second.
#[derive(Debug, Default, Clone, Copy)]
pub struct CliOutcome {
    pub reports: usize,
    /// Reports whose retry failed too: a CI job that failed.
    pub failed: usize,
    /// Reports that needed their retry.
    pub retried: usize,
    /// The longest time one report took, retry included.
    pub longest: Duration,
}

impl Load {
    /// Sends reports as the Clef CLI does until `stop` turns true.
    pub async fn cli_like(&self, c: &Client, stop: watch::Receiver<bool>) -> CliOutcome {
        let mut out = CliOutcome::default();
        let key = Some(("x-api-key", self.key.as_str()));
        for i in 0u64.. {
            if *stop.borrow() {
                break;
            }
            let body = report(&sha(&format!("cli-{i}")), "main", &[WARN])
                .to_string()
                .into_bytes();
            let started = Instant::now();
            let mut ok = false;
            for attempt in 0..2 {
                if attempt == 1 {
                    out.retried += 1;
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                let r = c
                    .try_send("POST", "/api/v1/reports", key, Some(body.clone()))
                    .await;
                if r.is_ok_and(|r| (200..300).contains(&r.status)) {
                    ok = true;
                    break;
                }
            }
            out.reports += 1;
            out.failed += usize::from(!ok);
            out.longest = out.longest.max(started.elapsed());
        }
        out
    }
}
