//! The service's wiring as a library: [`Application::build`] opens the log and the
//! stores, starts the projectors and the notifier, binds the listeners and issues the
//! first admin token when there is none; [`Application::run_until_stopped`] serves
//! until a future completes, then stops everything in order. `clef-pro serve` is these
//! two calls; tests build one in process and drive [`Application::router`] with
//! `oneshot`, or serve it on port 0.

use crate::cli::ServeArgs;
use anyhow::Context;
use axum::Router;
use clef_pro_api::{AppState, Settings};
use clef_pro_app::{App, Config};
use clef_pro_notifier::{Notifier, Stats, Transport};
use clef_pro_projections::{Kind, Projections};
use clef_pro_schema::event::Role;
use clef_pro_schema::ids::TokenId;
use clef_pro_schema::redact::Redactor;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A built service, not yet serving.
pub struct Application {
    app: App,
    router: Router,
    listener: TcpListener,
    /// `/metrics` on its own listener (`--metrics-listen`).
    metrics: Option<(TcpListener, Router)>,
    public_url: String,
    /// The first admin token, issued by this start; shown once by the caller.
    first_admin: Option<(TokenId, String)>,
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Application {
    pub async fn build(args: ServeArgs) -> anyhow::Result<Self> {
        let (key, created) = args.log.prepare()?;
        let log = args.log.open(&key).await?;
        // A new key cannot vouch for what another key wrote: say so loudly (a log
        // written before events were authenticated is trusted as it is).
        let head = log.head().await.unwrap_or(0);
        if created && head > 0 {
            tracing::warn!(
                head,
                "a new deployment key was created for a log that already holds records: any of them written under another key will be refused. If this instance joins an existing deployment, stop it and pass that deployment's --deployment-key"
            );
        }
        let projections = Arc::new(
            Projections::open(&args.log.stores_dir())
                .context("cannot open the projection stores")?,
        );
        projections.set_ready_at(head);
        let (stop, shutdown) = watch::channel(false);
        let mut tasks = projections.spawn(&log, &shutdown);

        let public_url = args
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", args.listen));
        let stats = Arc::new(Stats::default());
        let destinations = crate::destinations::watch(args.destinations.clone(), shutdown.clone())?;
        let app = App::new(
            log.clone(),
            projections.clone(),
            Config {
                admin_token: args.admin_token.clone(),
                session_key: *key.sessions().bytes(),
                redactor: Redactor::new(key.fingerprints()),
                destinations: Some(destinations.clone()),
                ..Config::default()
            },
        );
        let state = AppState::new(
            app.clone(),
            Settings {
                public_url: public_url.clone(),
                auth_failures_per_minute: args.auth_failures_per_minute,
                register_metrics: Some({
                    let stats = stats.clone();
                    Arc::new(move |registry| stats.register(registry))
                }),
                metrics_elsewhere: args.metrics_listen.is_some(),
                page_failure: Some(clef_pro_dashboard::failure_page),
            },
        );

        let transport = match &args.smtp {
            Some(url) => Transport::smtp(url).map_err(anyhow::Error::msg)?,
            None => Transport::Files(args.log.data_dir.join("mail")),
        };
        let notifier = Notifier {
            transport,
            destinations,
            gone: Default::default(),
            http: clef_pro_notifier::http_client(),
            log: log.clone(),
            projections: projections.clone(),
            from: args.mail_from.parse().context("invalid --mail-from")?,
            public_url: public_url.clone(),
            stats,
            redactor: Redactor::new(key.fingerprints()),
        };
        tasks.push(tokio::spawn(notifier.run(shutdown)));

        let listener = TcpListener::bind(args.listen)
            .await
            .with_context(|| format!("cannot listen on {}", args.listen))?;
        let metrics = match args.metrics_listen {
            Some(addr) => Some((
                TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen on {addr} for metrics"))?,
                clef_pro_api::metrics_router(state.clone()),
            )),
            None => None,
        };
        let first_admin = match args.admin_token {
            Some(_) => None,
            None => bootstrap_admin(&app).await?,
        };
        let router = clef_pro_api::router(state, clef_pro_dashboard::routes());
        Ok(Self {
            app,
            router,
            listener,
            metrics,
            public_url,
            first_admin,
            stop,
            tasks,
        })
    }

    /// The address the service listens on (port 0 resolved).
    pub fn address(&self) -> anyhow::Result<SocketAddr> {
        Ok(self.listener.local_addr()?)
    }

    /// The metrics listener's address, when `/metrics` has one of its own.
    pub fn metrics_address(&self) -> anyhow::Result<Option<SocketAddr>> {
        Ok(match &self.metrics {
            Some((l, _)) => Some(l.local_addr()?),
            None => None,
        })
    }

    /// Every route, for driving the service in process (`oneshot`).
    pub fn router(&self) -> Router {
        self.router.clone()
    }

    /// The application layer, for given/when/then tests.
    pub fn app(&self) -> &App {
        &self.app
    }

    pub fn public_url(&self) -> &str {
        &self.public_url
    }

    /// The admin token this start issued (there was none), once.
    pub fn take_first_admin(&mut self) -> Option<(TokenId, String)> {
        self.first_admin.take()
    }

    /// Serves until `until` completes, lets in-flight requests (and their appends)
    /// finish, then stops the projectors and the notifier.
    pub async fn run_until_stopped(
        self,
        until: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let mut tasks = self.tasks;
        if let Some((listener, router)) = self.metrics {
            let mut stopped = self.stop.subscribe();
            tasks.push(tokio::spawn(async move {
                let until = async move {
                    let _ = stopped.wait_for(|s| *s).await;
                };
                if let Err(e) = clef_pro_api::serve(listener, router, until).await {
                    tracing::error!(error = %e, "metrics server failed");
                }
            }));
        }
        let served = clef_pro_api::serve(self.listener, self.router, until).await;
        tracing::info!("stopping projectors and notifier");
        let _ = self.stop.send(true);
        for t in tasks {
            let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
        }
        served.context("the server failed")
    }
}

/// Issues the first admin token when the log has none.
async fn bootstrap_admin(app: &App) -> anyhow::Result<Option<(TokenId, String)>> {
    let head = app.log().head().await?;
    app.projections()
        .wait_for(Kind::Registry, head, Duration::from_secs(600))
        .await;
    if app.projections().registry(|r| r.has_admin_token())? {
        return Ok(None);
    }
    let issued = app
        .issue_token(None, Role::Admin, "bootstrap".into())
        .await
        .context("cannot issue the first admin token")?;
    Ok(Some(issued))
}
