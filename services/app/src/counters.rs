//! What the commands count. The counters share their values with the clones the HTTP
//! surface registers in the service's one metrics registry.

use prometheus_client::metrics::counter::Counter;

#[derive(Debug, Clone, Default)]
pub struct Counters {
    pub reports_accepted: Counter,
    pub batches_accepted: Counter,
    /// Matches the redaction chokepoint replaced.
    pub secrets_redacted: Counter,
    /// Requests with an unknown or revoked credential.
    pub auth_failures: Counter,
}
