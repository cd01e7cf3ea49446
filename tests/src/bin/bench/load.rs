//! HTTP load: closed loop (N workers back to back) and open loop (a fixed request
//! rate, latency measured from each request's scheduled start, so a slow server
//! cannot hide its queueing).

use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a load run measured.
#[derive(Debug, Clone)]
pub struct Run {
    pub ok: usize,
    pub failed: usize,
    pub elapsed: Duration,
    /// Sorted latencies of successful requests.
    pub latencies: Vec<Duration>,
}

impl Run {
    pub fn per_sec(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }

    /// The `q` quantile (0..1) in milliseconds.
    pub fn ms(&self, q: f64) -> f64 {
        if self.latencies.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies.len() - 1) as f64 * q).round() as usize;
        self.latencies[i].as_secs_f64() * 1000.0
    }

    fn from(results: Vec<(bool, Duration)>, elapsed: Duration) -> Run {
        let mut latencies: Vec<Duration> = results.iter().filter(|r| r.0).map(|r| r.1).collect();
        latencies.sort();
        Run {
            ok: latencies.len(),
            failed: results.len() - latencies.len(),
            elapsed,
            latencies,
        }
    }
}

/// One request: method, URL, headers, body.
pub type MakeRequest = Arc<dyn Fn(usize) -> reqwest::RequestBuilder + Send + Sync>;

/// `workers` clients each sending requests back to back for `duration`.
pub async fn closed(workers: usize, duration: Duration, make: MakeRequest) -> Run {
    let (stop, until) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        tokio::time::sleep(duration).await;
        let _ = stop.send(true);
    });
    closed_until(workers, until, make).await
}

/// `workers` clients each sending requests back to back until `stop` turns true.
pub async fn closed_until(
    workers: usize,
    stop: tokio::sync::watch::Receiver<bool>,
    make: MakeRequest,
) -> Run {
    let start = Instant::now();
    let counter = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let tasks: Vec<_> = (0..workers)
        .map(|_| {
            let make = make.clone();
            let (counter, stop) = (counter.clone(), stop.clone());
            tokio::spawn(async move {
                let mut out = Vec::new();
                while !*stop.borrow() {
                    let i = counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let t = Instant::now();
                    let ok = matches!(make(i).send().await, Ok(r) if r.status().is_success());
                    out.push((ok, t.elapsed()));
                }
                out
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap_or_default());
    }
    Run::from(all, start.elapsed())
}

/// `rate` requests per second for `duration`, each from its scheduled time.
pub async fn open(rate: u32, duration: Duration, make: MakeRequest) -> Run {
    let start = Instant::now();
    let period = Duration::from_secs_f64(1.0 / f64::from(rate));
    let total = (duration.as_secs_f64() * f64::from(rate)) as usize;
    let mut tasks = Vec::with_capacity(total);
    for i in 0..total {
        let scheduled = start + period * i as u32;
        tokio::time::sleep_until(scheduled.into()).await;
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let ok = matches!(make(i).send().await, Ok(r) if r.status().is_success());
            (ok, scheduled.elapsed())
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        if let Ok(r) = t.await {
            all.push(r);
        }
    }
    Run::from(all, start.elapsed())
}

/// Peak resident memory of a process in MB (`VmHWM`).
pub fn peak_rss_mb(pid: Option<u32>) -> f64 {
    let Some(pid) = pid else { return f64::NAN };
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}
