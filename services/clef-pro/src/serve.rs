//! `clef-pro serve`: builds the [`Application`], says where it listens (and the first
//! admin token, once), and serves until SIGTERM or Ctrl-C.

use crate::application::Application;
use crate::cli::ServeArgs;
use anyhow::Context;
use std::process::ExitCode;

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let mut application = Application::build(args).await?;
    let building = application.app().projections().building();
    if building > 0 {
        println!(
            "{building} store(s) of an earlier release serve while this release's are built aside from the log; /readyz answers 200 once they are swapped in"
        );
    }
    if let Some((id, token)) = application.take_first_admin() {
        println!();
        println!("  First start: an admin token was created ({id}). It is shown only now:");
        println!();
        println!("      {token}");
        println!();
        println!(
            "  Use it as `Authorization: Bearer <token>` on the admin API, or sign in to the dashboard."
        );
        println!();
    }
    // Install the signal handlers before announcing readiness, so that a SIGTERM sent
    // right after the announcement stops us gracefully instead of by default action.
    let signal = shutdown_signal()?;
    let addr = application.address()?;
    let log = application.app().log().describe();
    println!("clef-pro listening on http://{addr} (log: {log})");
    println!(
        "Point the Clef CLI at it (clef report --push): CLEF_TELEMETRY_URL={}/otlp/v1/logs \
         CLEF_TELEMETRY_HEADERS=\"x-api-key=<an integration's API key>\"",
        application.public_url()
    );
    if let Some(metrics) = application.metrics_address()? {
        println!("metrics on http://{metrics}/metrics");
    }
    tracing::info!(%addr, %log, "serving");
    if let Err(e) = application.run_until_stopped(signal).await {
        tracing::error!(error = format!("{e:#}"), "server failed");
    }
    Ok(ExitCode::SUCCESS)
}

/// A future that completes on SIGTERM or Ctrl-C; the handlers are installed now.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate()).context("cannot handle SIGTERM")?;
    let mut int = signal(SignalKind::interrupt()).context("cannot handle SIGINT")?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    })
}
