//! Per-client rate limits on what anyone may do without signing in (today:
//! starting a sign-in, which writes a row). In memory and per instance: a
//! flood is refused before it costs a database round trip, and several
//! instances only multiply the allowance, which the table bound caps anyway.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::http::{Extensions, HeaderMap};

/// Clients remembered at most; past this, clients whose buckets are full
/// again are forgotten (they are as good as new), and if that is not enough,
/// new clients wait until it is.
const MAX_CLIENTS: usize = 100_000;

/// A token bucket per client: `per_minute` tokens, refilled evenly over a
/// minute, so a client may start that many at once and then one every
/// `60 / per_minute` seconds.
pub struct RateLimiter {
    per_minute: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    pub fn per_minute(per_minute: u32) -> RateLimiter {
        RateLimiter { per_minute: f64::from(per_minute.max(1)), buckets: Mutex::default() }
    }

    fn refill_per_sec(&self) -> f64 {
        self.per_minute / 60.0
    }

    /// Takes one token for `client`, or says how long until one is there.
    pub fn take(&self, client: IpAddr) -> Result<(), Duration> {
        self.take_at(client, Instant::now())
    }

    fn take_at(&self, client: IpAddr, now: Instant) -> Result<(), Duration> {
        let (capacity, rate) = (self.per_minute, self.refill_per_sec());
        // A panic elsewhere while holding the lock leaves the map usable.
        let mut buckets = self.buckets.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let level = |b: &Bucket| (b.tokens + now.saturating_duration_since(b.at).as_secs_f64() * rate).min(capacity);
        if buckets.len() >= MAX_CLIENTS && !buckets.contains_key(&client) {
            buckets.retain(|_, b| level(b) < capacity);
            if buckets.len() >= MAX_CLIENTS {
                return Err(Duration::from_secs(60));
            }
        }
        let bucket = buckets.entry(client).or_insert(Bucket { tokens: capacity, at: now });
        let tokens = level(bucket);
        if tokens >= 1.0 {
            *bucket = Bucket { tokens: tokens - 1.0, at: now };
            Ok(())
        } else {
            *bucket = Bucket { tokens, at: now };
            Err(Duration::from_secs_f64(((1.0 - tokens) / rate).ceil().max(1.0)))
        }
    }
}

/// The database share of anonymous sign-in starts. The per-address limit
/// stops one address; a flood from many addresses passes it, and each start
/// writes a row and counts the live ones. Measured (docs/benchmarks.md §6):
/// such a flood took a signed-in user's list from 5 ms to 133 ms p95, holding
/// the pool. So starts use the database one at a time (`at_once`), the others
/// waiting at most `SIGN_IN_WAIT` before they are told "busy, retry"; and once
/// the attempts table is found full, starts are refused for `FULL_PAUSE`
/// without counting it again.
pub struct SignInGate {
    slots: tokio::sync::Semaphore,
    full_until: Mutex<Option<Instant>>,
}

/// How long a full attempts table is believed full without asking again.
const FULL_PAUSE: Duration = Duration::from_secs(1);

/// How long a sign-in start waits for its turn: a start takes a few
/// milliseconds, so people signing in together never see "busy".
const SIGN_IN_WAIT: Duration = Duration::from_millis(250);

impl SignInGate {
    pub fn new(at_once: usize) -> SignInGate {
        SignInGate { slots: tokio::sync::Semaphore::new(at_once.max(1)), full_until: Mutex::default() }
    }

    /// A turn to start a sign-in, or `None` (the caller answers "busy").
    pub async fn enter(&self) -> Option<tokio::sync::SemaphorePermit<'_>> {
        if self.is_full_at(Instant::now()) {
            return None;
        }
        tokio::time::timeout(SIGN_IN_WAIT, self.slots.acquire()).await.ok()?.ok()
    }

    fn is_full_at(&self, now: Instant) -> bool {
        let full_until = *self.full_until.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        full_until.is_some_and(|until| now < until)
    }

    /// The attempts table was full: refuse starts for a moment without asking.
    pub fn full(&self) {
        self.full_at(Instant::now());
    }

    fn full_at(&self, now: Instant) {
        *self.full_until.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(now + FULL_PAUSE);
    }
}

/// The address a rate limit counts against. The peer's address, unless a
/// trusted proxy is configured in front: then the first `X-Forwarded-For`
/// hop, which that proxy sets (clients can send the header too, so without
/// such a proxy it is ignored). IPv6 clients count per /64, the block one
/// subscriber usually holds. Without a peer address (in-process tests) all
/// requests count as one client.
pub fn client_address(headers: &HeaderMap, extensions: &Extensions, trusted_proxy: bool) -> IpAddr {
    let forwarded = match trusted_proxy {
        true => headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
            .and_then(|hop| hop.trim().parse::<IpAddr>().ok()),
        false => None,
    };
    let peer = extensions.get::<ConnectInfo<SocketAddr>>().map(|ConnectInfo(addr)| addr.ip());
    match forwarded.or(peer) {
        Some(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
        Some(v4) => v4,
        None => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_client_gets_its_allowance_then_waits_for_a_refill() {
        let limiter = RateLimiter::per_minute(3);
        let (a, b): (IpAddr, IpAddr) = ("10.0.0.1".parse().expect("ip"), "10.0.0.2".parse().expect("ip"));
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(limiter.take_at(a, t0), Ok(()));
        }
        assert_eq!(limiter.take_at(a, t0), Err(Duration::from_secs(20)), "one token per 20 s");
        assert_eq!(limiter.take_at(b, t0), Ok(()), "another client has its own bucket");
        assert_eq!(limiter.take_at(a, t0 + Duration::from_secs(20)), Ok(()));
        assert!(limiter.take_at(a, t0 + Duration::from_secs(21)).is_err());
    }

    #[tokio::test]
    async fn sign_ins_start_one_at_a_time_and_a_full_table_pauses_them_all() {
        use std::future::Future;
        use std::task::{Context, Poll, Waker};
        let gate = SignInGate::new(1);
        let first = gate.enter().await;
        assert!(first.is_some());
        let mut second = Box::pin(gate.enter());
        let mut poll = || second.as_mut().poll(&mut Context::from_waker(Waker::noop()));
        assert!(poll().is_pending(), "a second start waits for the first");
        drop(first);
        assert!(matches!(poll(), Poll::Ready(Some(_))), "and goes when it ends");

        let t0 = Instant::now();
        gate.full_at(t0);
        assert!(gate.is_full_at(t0 + Duration::from_millis(500)), "full: refused without asking");
        assert!(!gate.is_full_at(t0 + FULL_PAUSE), "then the table is asked again");
        assert!(gate.enter().await.is_none(), "while full, a start is refused at once");
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.7, 10.0.0.1".parse().expect("header"));
        let mut ext = Extensions::new();
        ext.insert(ConnectInfo(SocketAddr::from(([192, 0, 2, 1], 4000))));
        assert_eq!(client_address(&headers, &ext, false), IpAddr::from([192, 0, 2, 1]));
        assert_eq!(client_address(&headers, &ext, true), IpAddr::from([203, 0, 113, 7]));
        headers.insert("x-forwarded-for", "garbage".parse().expect("header"));
        assert_eq!(client_address(&headers, &ext, true), IpAddr::from([192, 0, 2, 1]), "unreadable: the peer");
        let v6: IpAddr = "2001:db8:1:2:3:4:5:6".parse().expect("ip");
        ext.insert(ConnectInfo(SocketAddr::new(v6, 4000)));
        assert_eq!(client_address(&HeaderMap::new(), &ext, false), "2001:db8:1:2::".parse::<IpAddr>().expect("ip"));
    }
}
