//! What every handler shares: the application, the HTTP surface's settings, the
//! metrics registry and the per-address limits.

use crate::failures::AuthFailures;
use crate::metrics::Metrics;
use clef_pro_app::App;

/// How the HTTP surface behaves. `Settings::default()` is the embedded default.
#[derive(Clone)]
pub struct Settings {
    /// Where people reach the dashboard; used in links and to decide `Secure` cookies.
    /// Default `http://127.0.0.1:8080`.
    pub public_url: String,
    /// Failed authentications one client address may make per minute before it gets
    /// 429 (`crate::limits`); 0 turns the limit off. Default 60.
    pub auth_failures_per_minute: u32,
    /// Adds the metrics of parts of the service this crate does not know (the
    /// notifier's) to the one registry `/metrics` serves.
    pub register_metrics: Option<crate::metrics::Register>,
    /// `/metrics` is served on its own address (`--metrics-listen`), not on this one.
    /// Default false.
    pub metrics_elsewhere: bool,
    /// How a refusal outside the routes is answered on the dashboard's pages (an HTML
    /// page); `None`: as the API's JSON error.
    pub page_failure: Option<fn(crate::error::ApiError) -> axum::response::Response>,
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
            auth_failures_per_minute: 60,
            register_metrics: None,
            metrics_elsewhere: false,
            page_failure: None,
        }
    }
}

struct Inner {
    app: App,
    metrics: Metrics,
    auth_failures: AuthFailures,
    settings: Settings,
}

#[derive(Clone)]
pub struct AppState(std::sync::Arc<Inner>);

impl AppState {
    pub fn new(app: App, settings: Settings) -> Self {
        Self(std::sync::Arc::new(Inner {
            metrics: Metrics::new(app.counters(), settings.register_metrics.as_deref()),
            auth_failures: AuthFailures::new(settings.auth_failures_per_minute),
            app,
            settings,
        }))
    }

    /// The application layer every handler calls.
    pub fn app(&self) -> &App {
        &self.0.app
    }

    pub fn metrics(&self) -> &Metrics {
        &self.0.metrics
    }

    pub fn settings(&self) -> &Settings {
        &self.0.settings
    }

    pub fn auth_failures(&self) -> &AuthFailures {
        &self.0.auth_failures
    }

    /// Whether cookies must be `Secure`: the service is reached over HTTPS.
    pub fn secure_cookies(&self) -> bool {
        self.settings().public_url.starts_with("https://")
    }
}
