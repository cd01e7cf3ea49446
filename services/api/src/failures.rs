//! Per-address token buckets of failed authentications (the state behind
//! [`crate::limits`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Instant;

/// Buckets kept before full ones are forgotten (a full bucket is the default state).
/// After a sweep the next one waits until the map has doubled, so a flood from many
/// addresses costs amortised constant time per failure, not a sweep each.
const MAX_TRACKED: usize = 4096;

/// The client a failure is charged to: an IPv4 address, or the /64 network of an IPv6
/// one (what one host is usually given, so rotating through it changes nothing).
fn client(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(std::net::Ipv6Addr::from_bits(
                v6.to_bits() & !((1u128 << 64) - 1),
            )),
        },
        v4 => v4,
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// Per-address token buckets of authentication failures.
#[derive(Debug)]
pub struct AuthFailures {
    per_minute: u32,
    buckets: Mutex<Buckets>,
}

#[derive(Debug, Default)]
struct Buckets {
    by_client: HashMap<IpAddr, Bucket>,
    /// The size at which full buckets are next swept out.
    sweep_at: usize,
}

impl AuthFailures {
    /// `per_minute` failures per address and minute; 0 turns the limit off.
    pub fn new(per_minute: u32) -> Self {
        Self {
            per_minute,
            buckets: Mutex::new(Buckets {
                by_client: HashMap::new(),
                sweep_at: MAX_TRACKED,
            }),
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
            .by_client
            .get(&client(ip))
            .is_some_and(|b| self.refilled(*b, now).tokens < 1.0)
    }

    /// Takes one failure from the bucket of `ip`.
    pub fn record(&self, ip: IpAddr, now: Instant) {
        if self.per_minute == 0 {
            return;
        }
        let mut guard = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let buckets = &mut *guard;
        if buckets.by_client.len() >= buckets.sweep_at {
            let cap = self.capacity();
            buckets
                .by_client
                .retain(|_, b| self.refilled(*b, now).tokens < cap);
            buckets.sweep_at = MAX_TRACKED.max(2 * buckets.by_client.len());
        }
        let full = Bucket {
            tokens: self.capacity(),
            at: now,
        };
        let ip = client(ip);
        let b = self.refilled(buckets.by_client.get(&ip).copied().unwrap_or(full), now);
        buckets.by_client.insert(
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
    fn an_ipv6_host_is_charged_for_its_network() {
        let l = AuthFailures::new(2);
        let t0 = Instant::now();
        let v6 = |s: &str| -> IpAddr { s.parse().unwrap() };
        l.record(v6("2001:db8:1:2::1"), t0);
        l.record(v6("2001:db8:1:2:ffff::9"), t0);
        assert!(l.exhausted(v6("2001:db8:1:2::77"), t0), "the same /64");
        assert!(!l.exhausted(v6("2001:db8:1:3::1"), t0), "another /64");
        l.record(v6("::ffff:10.0.0.1"), t0);
        l.record("10.0.0.1".parse().unwrap(), t0);
        assert!(
            l.exhausted("10.0.0.1".parse().unwrap(), t0),
            "IPv4-mapped is IPv4"
        );
    }

    /// Failures from more addresses than are tracked sweep out full buckets now and
    /// then, not at every failure, and keep the ones still counting.
    #[test]
    fn many_addresses_sweep_seldom_and_keep_what_counts() {
        let l = AuthFailures::new(60);
        let t0 = Instant::now();
        let ip = |i: u32| IpAddr::V4(std::net::Ipv4Addr::from_bits(0x0a00_0000 + i));
        for i in 0..3 * MAX_TRACKED as u32 {
            l.record(ip(i), t0);
        }
        let b = l.buckets.lock().unwrap();
        assert_eq!(b.by_client.len(), 3 * MAX_TRACKED, "none was full yet");
        assert_eq!(
            b.sweep_at,
            4 * MAX_TRACKED,
            "the next sweep waits for twice as many"
        );
        drop(b);
        // Two seconds later every bucket has refilled: the next sweep forgets them, and
        // keeps the ones that still count.
        let t1 = t0 + Duration::from_secs(2);
        for i in 0..MAX_TRACKED as u32 + 1 {
            l.record(ip(1_000_000 + i), t1);
        }
        let b = l.buckets.lock().unwrap();
        assert!(
            b.by_client.len() <= MAX_TRACKED + 1,
            "{}",
            b.by_client.len()
        );
        assert!((0..=MAX_TRACKED as u32).all(|i| b.by_client.contains_key(&ip(1_000_000 + i))));
        assert!(!b.by_client.contains_key(&ip(0)));
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
