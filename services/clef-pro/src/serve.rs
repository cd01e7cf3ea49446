//! `clef-pro serve`: wires the log, projectors, notifier and HTTP server together and
//! stops them in order on SIGTERM or Ctrl-C.

use crate::cli::ServeArgs;
use clef_pro_api::{AppState, Settings};
use clef_pro_app::{App, Config};
use clef_pro_notifier::{Notifier, Stats, Transport};
use clef_pro_projections::{Kind, Projections};
use clef_pro_schema::event::Role;
use clef_pro_schema::redact::Redactor;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

pub async fn run(args: ServeArgs) -> Result<ExitCode, String> {
    let (key, created) = args.log.prepare()?;
    let log = args.log.open(&key).await?;
    // A new key cannot vouch for what another key wrote: say so loudly (a log written
    // before events were authenticated is trusted as it is, so this is not an error).
    let head = log.head().await.unwrap_or(0);
    if created && head > 0 {
        tracing::warn!(
            head,
            "a new deployment key was created for a log that already holds records: any of them written under another key will be refused. If this instance joins an existing deployment, stop it and pass that deployment's --deployment-key"
        );
    }
    let projections = Arc::new(
        Projections::open(&args.log.stores_dir())
            .map_err(|e| format!("cannot open the projection stores: {e}"))?,
    );
    projections.set_ready_at(head);
    if projections.building() > 0 {
        println!(
            "{} store(s) of an earlier release serve while this release's are built aside from the log; /readyz answers 200 once they are swapped in",
            projections.building()
        );
    }
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
    let settings = Settings {
        public_url: public_url.clone(),
        auth_failures_per_minute: args.auth_failures_per_minute,
        register_metrics: Some({
            let stats = stats.clone();
            Arc::new(move |registry| stats.register(registry))
        }),
        metrics_elsewhere: args.metrics_listen.is_some(),
    };
    let state = AppState::new(app.clone(), settings);

    let transport = match &args.smtp {
        Some(url) => Transport::smtp(url)?,
        None => Transport::Files(args.log.data_dir.join("mail")),
    };
    let notifier = Notifier {
        transport,
        destinations,
        gone: Default::default(),
        http: clef_pro_notifier::http_client(),
        log: log.clone(),
        projections: projections.clone(),
        from: args
            .mail_from
            .parse()
            .map_err(|e| format!("invalid --mail-from: {e}"))?,
        public_url: public_url.clone(),
        stats,
        redactor: Redactor::new(key.fingerprints()),
    };
    tasks.push(tokio::spawn(notifier.run(shutdown.clone())));

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| format!("cannot listen on {}: {e}", args.listen))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    if args.admin_token.is_none() {
        bootstrap_admin(&app).await?;
    }
    // Install the signal handlers before announcing readiness, so that a SIGTERM sent
    // right after the announcement stops us gracefully instead of by default action.
    let signal = shutdown_signal()?;
    let state_for_metrics = state.clone();
    println!(
        "clef-pro listening on http://{addr} (log: {})",
        log.describe()
    );
    println!(
        "Point the Clef CLI at it (clef report --push): CLEF_TELEMETRY_URL={public_url}/otlp/v1/logs \
         CLEF_TELEMETRY_HEADERS=\"x-api-key=<an integration's API key>\""
    );
    tracing::info!(%addr, log = %log.describe(), "serving");

    if let Some(addr) = args.metrics_listen {
        let metrics = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("cannot listen on {addr} for metrics: {e}"))?;
        println!(
            "metrics on http://{}/metrics",
            metrics.local_addr().map_err(|e| e.to_string())?
        );
        let mut stopped = shutdown.clone();
        tasks.push(tokio::spawn(async move {
            let app = clef_pro_api::metrics_router(state_for_metrics);
            let until = async move {
                let _ = stopped.wait_for(|s| *s).await;
            };
            if let Err(e) = clef_pro_api::serve(metrics, app, until).await {
                tracing::error!(error = %e, "metrics server failed");
            }
        }));
    }
    let router = clef_pro_api::router(state, clef_pro_dashboard::routes());
    let server = tokio::spawn(clef_pro_api::serve(listener, router, signal));
    // The server finishes in-flight requests (and their appends) before it returns.
    match server.await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "server failed"),
        Err(e) => tracing::error!(error = %e, "server task failed"),
    }
    tracing::info!("stopping projectors and notifier");
    let _ = stop.send(true);
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
    }
    Ok(ExitCode::SUCCESS)
}

/// Issues the first admin token when the log has none, and prints it once.
async fn bootstrap_admin(app: &App) -> Result<(), String> {
    let head = app.log().head().await.map_err(|e| e.to_string())?;
    app.projections()
        .wait_for(Kind::Registry, head, Duration::from_secs(600))
        .await;
    let has_admin = app
        .projections()
        .registry(|r| r.has_admin_token())
        .map_err(|e| e.to_string())?;
    if has_admin {
        return Ok(());
    }
    let (id, token) = app
        .issue_token(None, Role::Admin, "bootstrap".into())
        .await
        .map_err(|e| format!("cannot issue the first admin token: {e}"))?;
    println!();
    println!("  First start: an admin token was created ({id}). It is shown only now:");
    println!();
    println!("      {token}");
    println!();
    println!(
        "  Use it as `Authorization: Bearer <token>` on the admin API, or sign in to the dashboard."
    );
    println!();
    Ok(())
}

/// A future that completes on SIGTERM or Ctrl-C; the handlers are installed now.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()> + Send + 'static, String> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term =
        signal(SignalKind::terminate()).map_err(|e| format!("cannot handle SIGTERM: {e}"))?;
    let mut int =
        signal(SignalKind::interrupt()).map_err(|e| format!("cannot handle SIGINT: {e}"))?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}
