//! The `clef-pro` binary's library: the flags ([`cli`]), the service's wiring
//! ([`Application`]), and the commands `serve`, `replay`, `verify`, `export`, `import`
//! and `destinations check`. `main.rs` only sets the allocator's limits ([`allocator`])
//! and calls [`run`].

pub mod allocator;
pub mod application;
pub mod cli;
mod destinations;
mod progress;
mod rebuild;
mod serve;
mod transfer;

pub use application::Application;
use clap::Parser;
use std::process::ExitCode;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer, filter::filter_fn};

/// Logs to stderr as `RUST_LOG` says (default `info,async_nats=warn`), except the NATS
/// client's events that carry credentials, which no level lets through.
fn init_tracing() {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,async_nats=warn".into());
    let output = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_filter(filter_fn(|meta| !clef_pro_log::carries_nats_secret(meta)));
    tracing_subscriber::registry()
        .with(filter)
        .with(output)
        .init();
}

/// Parses the command line and runs the command; the process's exit code.
pub fn run() -> ExitCode {
    let cli = cli::Cli::parse();
    // Everything the service creates (data dir, log, stores, mail, keys) is
    // owner-only from its creation: no window in which another user could open it.
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
    init_tracing();
    // At most 8 blocking threads (tokio's default is 512): store reads, projector
    // commits and request parsing queue for them instead of each busy moment adding
    // threads, and with them allocator arenas that stay resident (`bench ingest`: 64
    // clients peaked at 28 threads and 143-154 MB, now 12 and 125-128 MB, no slower).
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(8)
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            cli::Command::Serve(args) => serve::run(args).await,
            cli::Command::Replay(args) => rebuild::replay(args).await,
            cli::Command::Verify(args) => rebuild::verify(args).await,
            cli::Command::Export(args) => transfer::export(args).await,
            cli::Command::Import(args) => transfer::import(args).await,
            cli::Command::Destinations(cli::DestinationsCommand::Check { file }) => {
                destinations::check(&file)
            }
        }
    });
    // Stop what still runs in the background (a NATS client retrying its connection,
    // say) first, so that the error is the last line the process writes.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
