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
