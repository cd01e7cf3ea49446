//! What every handler shares: the log, the projections, settings and metrics.

use crate::error::ApiError;
use crate::failures::AuthFailures;
use crate::metrics::Metrics;
use clef_pro_log::{Appended, Log};
use clef_pro_notifier::destinations::Destinations;
use clef_pro_projections::{Kind, Projections};
use clef_pro_schema::event::Event;
use clef_pro_schema::keys::DeploymentKey;
use clef_pro_schema::redact::Redactor;
use clef_pro_schema::sealed::{Sealed, seal};
use std::sync::Arc;
use std::time::Duration;

/// How the HTTP surface behaves. `Settings::default()` is the embedded default.
#[derive(Clone)]
pub struct Settings {
    /// Where people reach the dashboard; used in links and to decide `Secure` cookies.
    /// Default `http://127.0.0.1:8080`.
    pub public_url: String,
    /// An operator-set admin token (`--admin-token`); only its hash is kept.
    pub admin_token: Option<String>,
    /// The key that signs session cookies.
    pub session_key: [u8; 32],
    /// The redaction chokepoint's detector, with the deployment's fingerprint key.
    pub redactor: Redactor,
    /// How long a write waits for the projections to show it before answering anyway.
    /// Default 5 s.
    pub read_your_writes: Duration,
    /// Failed authentications one client address may make per minute before it gets
    /// 429 (`crate::limits`); 0 turns the limit off. Default 60.
    pub auth_failures_per_minute: u32,
    /// Adds the metrics of parts of the service this crate does not know (the
    /// notifier's) to the one registry `/metrics` serves.
    pub register_metrics: Option<crate::metrics::Register>,
    /// `/metrics` is served on its own address (`--metrics-listen`), not on this one.
    /// Default false.
    pub metrics_elsewhere: bool,
    /// The operator's notification destinations (`--destinations`), which channels
    /// name; `None`: there are none.
    pub destinations: Option<clef_pro_notifier::destinations::Shared>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("public_url", &self.public_url)
            .finish_non_exhaustive()
    }
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".into(),
            admin_token: None,
            session_key: rand::random(),
            redactor: Redactor::new(DeploymentKey::random().fingerprints()),
            read_your_writes: Duration::from_secs(5),
            auth_failures_per_minute: 60,
            register_metrics: None,
            metrics_elsewhere: false,
            destinations: None,
        }
    }
}

struct Inner {
    log: Log,
    projections: Arc<Projections>,
    metrics: Metrics,
    admin_hash: Option<[u8; 32]>,
    auth_failures: AuthFailures,
    settings: Settings,
}

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

impl AppState {
    pub fn new(log: Log, projections: Arc<Projections>, settings: Settings) -> Self {
        let admin_hash = settings.admin_token.as_deref().map(crate::secret::hash);
        Self(Arc::new(Inner {
            log,
            projections,
            metrics: Metrics::new(settings.register_metrics.as_deref()),
            admin_hash,
            auth_failures: AuthFailures::new(settings.auth_failures_per_minute),
            settings,
        }))
    }

    pub fn log(&self) -> &Log {
        &self.0.log
    }

    pub fn projections(&self) -> &Projections {
        &self.0.projections
    }

    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    /// The destinations as the operator's file says now.
    pub fn destinations(&self) -> Arc<Destinations> {
        self.settings()
            .destinations
            .as_ref()
            .map(|d| d.borrow().clone())
            .unwrap_or_default()
    }

    pub fn auth_failures(&self) -> &AuthFailures {
        &self.0.auth_failures
    }

    pub(crate) fn operator_admin_hash(&self) -> Option<&[u8; 32]> {
        self.0.admin_hash.as_ref()
    }

    /// `event` through the redaction chokepoint, with this deployment's fingerprint key.
    pub fn seal(&self, event: Event) -> Sealed {
        seal(event, &self.settings().redactor)
    }

    /// Runs `f` on a thread for blocking work: store reads that grow with a page, and
    /// parsing, validating and redacting large requests. The async runtime's threads
    /// stay free, so one heavy request never delays another (`/healthz` included).
    pub async fn blocking<T: Send + 'static, E: From<ApiError> + Send + 'static>(
        &self,
        f: impl FnOnce(&AppState) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E> {
        let state = self.clone();
        tokio::task::spawn_blocking(move || f(&state))
            .await
            .map_err(|e| ApiError::Internal(format!("blocking task failed: {e}")))?
    }

    /// Appends a sealed event and waits until the given projections have applied it,
    /// so that the caller's next request sees its own write.
    pub async fn append(&self, event: &Sealed, visible_in: &[Kind]) -> Result<Appended, ApiError> {
        let appended = self.log().append(event).await?;
        for &kind in visible_in {
            if !self
                .projections()
                .wait_for(kind, appended.seq, self.settings().read_your_writes)
                .await
            {
                tracing::warn!(
                    projection = kind.name(),
                    seq = appended.seq,
                    "write not yet visible"
                );
            }
        }
        Ok(appended)
    }
}
