//! Per-address token buckets of failed authentications (the state behind
//! [`crate::limits`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// Buckets kept before full ones are forgotten (a full bucket is the default state).
const MAX_TRACKED: usize = 4096;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Per-address token buckets of authentication failures.
#[derive(Debug)]
pub struct AuthFailures {
    per_minute: u32,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

impl AuthFailures {
    /// `per_minute` failures per address and minute; 0 turns the limit off.
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    fn capacity(&self) -> f64 {
        f64::from(self.per_minute)
    }

    /// The bucket of `ip` refilled up to `now`.
    fn refilled(&self, b: Bucket, now: Instant) -> Bucket {
        let gained = now.duration_since(b.at).as_secs_f64() * self.capacity() / 60.0;
        Bucket {
            tokens: (b.tokens + gained).min(self.capacity()),
            at: now,
        }
    }

    /// Whether `ip` has used up its failures for now.
    pub fn exhausted(&self, ip: IpAddr, now: Instant) -> bool {
        if self.per_minute == 0 {
            return false;
        }
        let buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        buckets
            .get(&ip)
            .is_some_and(|b| self.refilled(*b, now).tokens < 1.0)
    }

    /// Takes one failure from the bucket of `ip`.
    pub fn record(&self, ip: IpAddr, now: Instant) {
        if self.per_minute == 0 {
            return;
        }
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        if buckets.len() >= MAX_TRACKED {
            let cap = self.capacity();
            buckets.retain(|_, b| self.refilled(*b, now).tokens < cap);
        }
        let full = Bucket {
            tokens: self.capacity(),
            at: now,
        };
        let b = self.refilled(buckets.get(&ip).copied().unwrap_or(full), now);
        buckets.insert(
            ip,
            Bucket {
                tokens: (b.tokens - 1.0).max(0.0),
                at: now,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_bucket_empties_after_its_budget_and_refills_with_time() {
        let l = AuthFailures::new(20);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..20 {
            assert!(!l.exhausted(a, t0));
            l.record(a, t0);
        }
        assert!(l.exhausted(a, t0), "the 21st attempt is refused");
        assert!(!l.exhausted(b, t0), "other addresses are not affected");
        // 20 per minute: one failure back every 3 s.
        assert!(l.exhausted(a, t0 + Duration::from_secs(2)));
        assert!(!l.exhausted(a, t0 + Duration::from_secs(3)));
    }

    #[test]
    fn zero_turns_the_limit_off() {
        let l = AuthFailures::new(0);
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..1000 {
            l.record(a, t0);
        }
        assert!(!l.exhausted(a, t0));
    }
}
