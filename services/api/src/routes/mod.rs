//! Handlers, grouped by who calls them.

pub mod admin;
pub mod audit;
pub mod ingest;
pub mod ops;
pub mod otlp;
pub mod read;
pub mod tokens;
pub mod triage;
