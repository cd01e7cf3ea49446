//! clef-pro's schema: validated domain values, the request wire types, the events and
//! their versioned encoding, and the redaction chokepoint that every event passes
//! before it can be appended to the log.

pub mod domain;
pub mod event;
pub mod ids;
pub mod keys;
pub mod otlp;
pub mod redact;
pub mod report;
pub mod sealed;
pub mod time;
pub mod wire;

/// Milliseconds since the Unix epoch, the time unit of every event.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}
