//! The service's one metrics registry (`prometheus-client`): what the HTTP surface
//! counts, each route's request latency, the gauges read from the log and the stores
//! when `/metrics` is scraped, and whatever other parts register in it
//! ([`crate::Settings::register_metrics`], the notifier's counters).

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::{Metric, Registry};
use std::sync::Mutex;
use std::time::Instant;

/// The labels of a request's latency: its method, its route pattern (never the path
/// itself, which holds ids) and its status.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ProjectorLabel {
    projector: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: &'static str,
}

type Latencies = Family<RouteLabels, Histogram, fn() -> Histogram>;

/// Adds metrics to the registry (see [`crate::Settings::register_metrics`]).
pub type Register = std::sync::Arc<dyn Fn(&mut Registry) + Send + Sync>;

/// 0.5 ms to about 4 s, doubling.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 14))
}

/// What the HTTP surface counts, and the registry every metric is in.
pub struct Metrics {
    requests: Latencies,
    scraped: Scraped,
    registry: Registry,
}

/// Gauges and counters whose values live elsewhere (the log, the stores) and are
/// copied in when `/metrics` is scraped; the lock keeps two scrapes from adding a
/// counter's difference twice.
struct Scraped {
    lock: Mutex<()>,
    log_up: Gauge,
    log_head: Gauge,
    checkpoint: Family<ProjectorLabel, Gauge>,
    lag: Family<ProjectorLabel, Gauge>,
    refused: Counter,
    replayed: Counter,
    notifications: Family<StatusLabel, Gauge>,
}

/// The values a scrape reads from the log and the stores.
pub struct Reading {
    /// The log's head, `None` when the log did not answer.
    pub head: Option<u64>,
    /// Each projection's name and checkpoint.
    pub checkpoints: Vec<(&'static str, u64)>,
    pub refused: u64,
    pub replayed: u64,
    /// Notification intents: pending, sent, failed.
    pub notifications: [u64; 3],
}

impl Metrics {
    /// The HTTP surface's metrics and the application's `counters` in a new registry,
    /// after `more` has added its own.
    pub fn new(
        counters: &clef_pro_app::Counters,
        more: Option<&(dyn Fn(&mut Registry) + Send + Sync)>,
    ) -> Self {
        let mut registry = Registry::default();
        if let Some(more) = more {
            more(&mut registry);
        }
        let r = &mut registry;
        for (name, help, counter) in [
            (
                "clef_pro_reports_accepted",
                "Single reports accepted",
                &counters.reports_accepted,
            ),
            (
                "clef_pro_batches_accepted",
                "Batches accepted",
                &counters.batches_accepted,
            ),
            (
                "clef_pro_secrets_redacted",
                "Matches the redaction chokepoint replaced",
                &counters.secrets_redacted,
            ),
            (
                "clef_pro_auth_failures",
                "Requests with an unknown or revoked credential",
                &counters.auth_failures,
            ),
        ] {
            add(r, name, help, counter.clone());
        }
        let [refused, replayed] = [
            (
                "clef_pro_events_refused",
                "Log records refused since start: forged, altered, unauthenticated or malformed",
            ),
            (
                "clef_pro_events_replayed",
                "Genuine events stored again (replays) that the projectors refused",
            ),
        ]
        .map(|(name, help)| add(r, name, help, Counter::default()));
        let [log_up, log_head] = [
            (
                "clef_pro_log_up",
                "1 when the log answered the last head query",
            ),
            (
                "clef_pro_log_head",
                "Sequence of the last record in the log",
            ),
        ]
        .map(|(name, help)| add(r, name, help, Gauge::default()));
        let [checkpoint, lag] = [
            (
                "clef_pro_projector_checkpoint",
                "Last log sequence each projector applied",
            ),
            (
                "clef_pro_projector_lag",
                "Log head minus the projector's checkpoint",
            ),
        ]
        .map(|(name, help)| add(r, name, help, Family::default()));
        let notifications = add(
            r,
            "clef_pro_notifications",
            "Notification intents by status",
            Family::default(),
        );
        let latencies: Latencies = Family::new_with_constructor(latency_histogram);
        let requests = add(
            r,
            "clef_pro_http_request_duration_seconds",
            "Time from a request's routing to its answer, by method, route and status",
            latencies,
        );
        Self {
            requests,
            scraped: Scraped {
                lock: Mutex::new(()),
                log_up,
                log_head,
                checkpoint,
                lag,
                refused,
                replayed,
                notifications,
            },
            registry,
        }
    }

    /// Copies in what the scrape read, and encodes every metric (the text format of
    /// OpenMetrics, which Prometheus reads).
    pub fn render(&self, reading: &Reading) -> String {
        let s = &self.scraped;
        let _one_at_a_time = s.lock.lock().unwrap_or_else(|e| e.into_inner());
        let head = reading.head.unwrap_or(0);
        s.log_up.set(i64::from(reading.head.is_some()));
        s.log_head.set(gauge(head));
        for &(projector, checkpoint) in &reading.checkpoints {
            let label = ProjectorLabel { projector };
            s.checkpoint.get_or_create(&label).set(gauge(checkpoint));
            s.lag
                .get_or_create(&label)
                .set(gauge(head.saturating_sub(checkpoint)));
        }
        for (counter, value) in [
            (&s.refused, reading.refused),
            (&s.replayed, reading.replayed),
        ] {
            counter.inc_by(value.saturating_sub(counter.get()));
        }
        for (status, value) in ["pending", "sent", "failed"]
            .into_iter()
            .zip(reading.notifications)
        {
            s.notifications
                .get_or_create(&StatusLabel { status })
                .set(gauge(value));
        }
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

/// Registers `metric` (which stays shared with the value returned).
fn add<M: Metric + Clone>(registry: &mut Registry, name: &str, help: &str, metric: M) -> M {
    registry.register(name, help, metric.clone());
    metric
}

fn gauge(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// The content type of [`Metrics::render`]'s text.
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The content type of the classic Prometheus text format ([`classic`]).
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The classic Prometheus text format of an OpenMetrics exposition, which is what
/// `/metrics` serves unless the scraper asks for OpenMetrics: a counter's family is
/// named with its `_total` (as its samples are), and there is no `# EOF`.
pub fn classic(openmetrics: &str) -> String {
    let counters: std::collections::HashSet<&str> = openmetrics
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE ")?.strip_suffix(" counter"))
        .collect();
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines().filter(|l| *l != "# EOF") {
        let descriptor = ["# HELP ", "# TYPE "]
            .into_iter()
            .find_map(|p| Some((p, line.strip_prefix(p)?)));
        match descriptor {
            Some((prefix, rest)) => {
                let (name, tail) = rest.split_once(' ').unwrap_or((rest, ""));
                let total = if counters.contains(name) {
                    "_total"
                } else {
                    ""
                };
                out.push_str(&format!("{prefix}{name}{total} {tail}\n"));
            }
            None => {
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    out
}

/// Records each routed request's latency under its route pattern.
pub async fn track(
    State(state): State<crate::AppState>,
    matched: Option<MatchedPath>,
    req: Request,
    next: Next,
) -> Response {
    let route = matched.map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = req.method().to_string();
    let started = Instant::now();
    let resp = next.run(req).await;
    state
        .metrics()
        .requests
        .get_or_create(&RouteLabels {
            method,
            route,
            status: resp.status().as_u16(),
        })
        .observe(started.elapsed().as_secs_f64());
    resp
}
