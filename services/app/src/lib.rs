//! The application layer: the commands (accept a report or a batch, acknowledge an
//! alert, issue and revoke keys and tokens, configure an integration, sessions) and
//! the queries (typed view models) that every edge calls. The JSON API, the OTLP edge,
//! the dashboard and the binary's bootstrap sit on it; none calls another edge.
//!
//! A command validates domain types, passes its event through the redaction
//! chokepoint (`sealed::seal`), appends it and waits until the projections it names
//! show it (read your writes). A query reads only the projection stores.

pub mod commands;
pub mod counters;
pub mod error;
pub mod principal;
pub mod queries;
pub mod secret;
pub mod views;

pub use counters::Counters;
pub use error::{Error, Result};

use clef_pro_log::{Appended, Log};
use clef_pro_notifier::destinations::Destinations;
use clef_pro_projections::{Kind, Projections};
use clef_pro_schema::event::Event;
use clef_pro_schema::keys::DeploymentKey;
use clef_pro_schema::redact::Redactor;
use clef_pro_schema::sealed::{Sealed, seal};
use std::sync::Arc;
use std::time::Duration;

/// Requests up to this many bytes are processed on the async runtime
/// ([`App::computing`]). `bench ingest`, 4 KB reports at 64 clients: 3,141–3,303 req/s
/// inline against 2,260–2,657 through a blocking thread.
pub const INLINE_WORK: usize = 64 << 10;

/// What the application needs from the operator. `Config::default()` is the embedded
/// default with a random key (tests).
#[derive(Clone)]
pub struct Config {
    /// An operator-set admin token (`--admin-token`); only its hash is kept.
    pub admin_token: Option<String>,
    /// The key that makes session ids' credential records and CSRF tokens.
    pub session_key: [u8; 32],
    /// The redaction chokepoint's detector, with the deployment's fingerprint key.
    pub redactor: Redactor,
    /// How long a write waits for the projections to show it before answering anyway.
    /// Default 5 s.
    pub read_your_writes: Duration,
    /// The operator's notification destinations (`--destinations`), which channels
    /// name; `None`: there are none.
    pub destinations: Option<clef_pro_notifier::destinations::Shared>,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("read_your_writes", &self.read_your_writes)
            .finish_non_exhaustive()
    }
}

impl Default for Config {
    fn default() -> Self {
        Self {
            admin_token: None,
            session_key: rand::random(),
            redactor: Redactor::new(DeploymentKey::random().fingerprints()),
            read_your_writes: Duration::from_secs(5),
            destinations: None,
        }
    }
}

struct Inner {
    log: Log,
    projections: Arc<Projections>,
    counters: Counters,
    admin_hash: Option<[u8; 32]>,
    config: Config,
    /// One permit per core for parsing, validating and redacting requests.
    cpu: tokio::sync::Semaphore,
}

/// The application: the log, the projections and the operator's configuration. Cheap
/// to clone; every edge holds one.
#[derive(Clone)]
pub struct App(Arc<Inner>);

impl App {
    pub fn new(log: Log, projections: Arc<Projections>, config: Config) -> Self {
        let admin_hash = config.admin_token.as_deref().map(secret::hash);
        Self(Arc::new(Inner {
            log,
            projections,
            counters: Counters::default(),
            admin_hash,
            config,
            cpu: tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            ),
        }))
    }

    pub fn log(&self) -> &Log {
        &self.0.log
    }

    pub fn projections(&self) -> &Projections {
        &self.0.projections
    }

    pub fn config(&self) -> &Config {
        &self.0.config
    }

    /// What the commands count, for the metrics registry.
    pub fn counters(&self) -> &Counters {
        &self.0.counters
    }

    /// The destinations as the operator's file says now.
    pub fn destinations(&self) -> Arc<Destinations> {
        self.config()
            .destinations
            .as_ref()
            .map(|d| d.borrow().clone())
            .unwrap_or_default()
    }

    pub(crate) fn operator_admin_hash(&self) -> Option<&[u8; 32]> {
        self.0.admin_hash.as_ref()
    }

    /// `event` through the redaction chokepoint, with this deployment's fingerprint key.
    pub(crate) fn seal(&self, event: Event) -> Sealed {
        seal(event, &self.config().redactor)
    }

    /// Runs `f` on a thread for blocking work: store reads that grow with a page, and
    /// parsing, validating and redacting large requests. The async runtime's threads
    /// stay free, so one heavy request never delays another (`/healthz` included).
    /// `f`'s error may be any an edge answers with (a page's, say), as long as a failed
    /// thread can be told in it.
    pub async fn blocking<T: Send + 'static, E: From<Error> + Send + 'static>(
        &self,
        f: impl FnOnce(&App) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E> {
        let app = self.clone();
        tokio::task::spawn_blocking(move || f(&app))
            .await
            .map_err(|e| Error::Internal(format!("blocking task failed: {e}")))?
    }

    /// Work that only computes (parsing, validating and redacting a request whose body
    /// was `size` bytes). Up to [`INLINE_WORK`] it runs right here: well under a
    /// millisecond, which a hop to a blocking thread and back would only lengthen. A
    /// larger request runs on a blocking thread, one at a time per core: more at once
    /// would not finish sooner, and each would hold its own thread, buffers and regex
    /// caches (under 64 clients the blocking pool grew to 80 threads and 170 MB).
    pub async fn computing<T: Send + 'static, E: From<Error> + Send + 'static>(
        &self,
        size: usize,
        f: impl FnOnce(&App) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E> {
        if size <= INLINE_WORK {
            return f(self);
        }
        let _permit = self
            .0
            .cpu
            .acquire()
            .await
            .map_err(|e| Error::Internal(format!("the compute permits are closed: {e}")))?;
        self.blocking(f).await
    }

    /// Appends a sealed event and waits until the given projections have applied it,
    /// so that the caller's next request sees its own write.
    pub(crate) async fn append(&self, event: &Sealed, visible_in: &[Kind]) -> Result<Appended> {
        let appended = self.log().append(event).await?;
        self.visible(appended.seq, visible_in).await;
        Ok(appended)
    }

    /// Waits (up to the read-your-writes time) until the given projections have applied
    /// the log up to `seq`.
    pub(crate) async fn visible(&self, seq: u64, visible_in: &[Kind]) {
        for &kind in visible_in {
            if !self
                .projections()
                .wait_for(kind, seq, self.config().read_your_writes)
                .await
            {
                tracing::warn!(projection = kind.name(), seq, "write not yet visible");
            }
        }
    }
}
