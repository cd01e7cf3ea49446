//! How clef-pro reaches NATS and shapes its streams.

use crate::nats_auth::{self, NatsAuth};
use std::time::Duration;

/// How long a client may retry an append and still be deduplicated; a duplicate window
/// shorter than this is warned about.
pub const RETRY_WINDOW: Duration = Duration::from_secs(120);
/// The default [`NatsOptions::append_wait`]: longer than a JetStream leader election
/// (about 12 s measured in the 3-node cluster test).
pub const APPEND_WAIT: Duration = Duration::from_secs(15);

/// How to reach and shape the streams. Defaults: stream `CLEF_PRO`, subjects
/// `clefpro.events.>`, intents on `CLEF_PRO_INTENTS` (`clefpro.intents.>`), one
/// replica, a two-minute duplicate window, no credentials. Its `Debug` shows neither
/// the URL's user info nor any secret of `auth`.
#[derive(Clone)]
pub struct NatsOptions {
    /// One server URL, or several separated by commas (members of one cluster). A
    /// `user:password@` in it is used as credentials and never logged.
    pub url: String,
    /// Credentials and TLS settings.
    pub auth: NatsAuth,
    pub stream: String,
    pub subject_prefix: String,
    pub intents_stream: String,
    pub intents_subject_prefix: String,
    pub replicas: usize,
    pub duplicate_window: Duration,
    /// How long an append waits for the server's acknowledgement.
    pub ack_timeout: Duration,
    /// How long an append that fails for a reason that passes (no stream leader while
    /// JetStream elects one, a lost connection) is retried before it fails: a client
    /// that sees a node die sees a slower answer, not an error.
    pub append_wait: Duration,
}

impl std::fmt::Debug for NatsOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsOptions")
            .field("url", &nats_auth::redact_url(&self.url))
            .field("auth", &self.auth)
            .field("stream", &self.stream)
            .field("subject_prefix", &self.subject_prefix)
            .field("intents_stream", &self.intents_stream)
            .field("intents_subject_prefix", &self.intents_subject_prefix)
            .field("replicas", &self.replicas)
            .field("duplicate_window", &self.duplicate_window)
            .field("ack_timeout", &self.ack_timeout)
            .field("append_wait", &self.append_wait)
            .finish()
    }
}

impl NatsOptions {
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            auth: NatsAuth::default(),
            stream: "CLEF_PRO".into(),
            subject_prefix: "clefpro.events".into(),
            intents_stream: "CLEF_PRO_INTENTS".into(),
            intents_subject_prefix: "clefpro.intents".into(),
            replicas: 1,
            duplicate_window: RETRY_WINDOW,
            ack_timeout: Duration::from_secs(5),
            append_wait: APPEND_WAIT,
        }
    }
}
