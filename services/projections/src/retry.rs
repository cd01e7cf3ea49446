//! The pause before a projector, or the feed they share, reads the log again after a
//! failure: 100 ms, doubling up to 5 s, and 100 ms again once a read gets through.

use std::time::Duration;
use tokio::sync::watch;

const FIRST: Duration = Duration::from_millis(100);
const LONGEST: Duration = Duration::from_secs(5);

pub(crate) struct Backoff(Duration);

impl Default for Backoff {
    fn default() -> Self {
        Self(FIRST)
    }
}

impl Backoff {
    /// After a read that got through.
    pub(crate) fn reset(&mut self) {
        self.0 = FIRST;
    }

    /// Waits out the pause, then doubles it; false when `shutdown` turned true first.
    pub(crate) async fn wait(&mut self, shutdown: &mut watch::Receiver<bool>) -> bool {
        tokio::select! {
            () = tokio::time::sleep(self.0) => {}
            _ = shutdown.wait_for(|s| *s) => return false,
        }
        self.0 = (self.0 * 2).min(LONGEST);
        true
    }
}
