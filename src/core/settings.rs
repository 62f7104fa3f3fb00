//! The Worker's configuration, parsed from its vars and secrets.
//!
//! Pure: the caller hands in a lookup function (the Worker reads `env`, a
//! test a map), so every default and every bad value is tested natively.
//! A bad value never stops the Worker: it falls back to the default and is
//! reported in `problems` (visible in `/v1/stats` and the log). Token values
//! never appear in a problem message.
//!
//! No token has a default: a Worker deployed without its secrets must refuse
//! loudly (`not_configured`), not fall back to values anyone can read in the
//! README. Local development gets its tokens from `.dev.vars`.

use super::lifecycle::Policy;
use super::memory::Limits;
use super::ports::KV_MIN_EXPIRATION_SECS;
use super::sync::{SyncLimits, MAX_KV_OPS, MAX_ORIGIN_CALLS, MIN_KV_OPS};
use super::throttle::ThrottleConfig;
use super::tiered::Timeouts;

/// Everything the Worker reads from its environment, with defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Base URL of the origin API, without a trailing slash.
    pub origin_url: String,
    /// Token accepted for reads (`None`: the secret is not set).
    pub read_token: Option<String>,
    /// Token accepted for reads and writes (`None`: the secret is not set).
    pub admin_token: Option<String>,
    /// Token the Worker sends to the origin (`None`: the origin is never called).
    pub origin_token: Option<String>,
    /// The `OPTIONS_CONFIG` JSON text (parsed against the registry later).
    pub options_config: String,
    /// The `LEGACY_PREFIXES` text (comma-separated).
    pub legacy_prefixes: String,
    /// How long a KV copy counts as fresh after the origin gave it,
    /// seconds (≥ 60): its *logical* lifetime. Older copies are refreshed
    /// from the origin, and answered as stale when it cannot be reached.
    pub kv_expiration_secs: u64,
    /// How long KV keeps a copy at all, seconds (≥ `kv_expiration_secs`):
    /// its *physical* lifetime, long so an origin outage of any length
    /// still finds the last value (`KV_RETENTION_SECS`, default 30 days).
    pub kv_retention_secs: u64,
    /// Hard timeout of an origin call, milliseconds.
    pub origin_timeout_ms: u64,
    /// Timeouts of the read path (soft timeout, KV timeout, hard timeout).
    pub timeouts: Timeouts,
    /// Backoff per key and the isolate-wide breaker.
    pub throttle: ThrottleConfig,
    /// Largest accepted request body, bytes (at most `limits::MAX_BODY_BYTES`).
    pub max_body_bytes: usize,
    /// Bounds of isolate memory.
    pub memory: Limits,
    /// Lifecycle of cached option maps.
    pub map_policy: Policy,
    /// Lifecycle of cached ownership records.
    pub ownership_policy: Policy,
    /// How long KV keeps a last-processed-event record, seconds.
    pub last_event_expiration_secs: u64,
    /// What one sync run may spend (KV operations, origin calls).
    pub sync: SyncLimits,
    /// Write one structured log line per request.
    pub debug: bool,
    /// How often an isolate checks the version beacon (`BEACON_CHECK_MS`,
    /// default 500; 0 turns the beacon off: the time-based lifecycle only).
    pub beacon_check_ms: u64,
    /// How often the beacon pages the origin's change feed (`BEACON_POLL_MS`, default 1000).
    pub beacon_poll_ms: u64,
    /// Bad values that were replaced by their defaults.
    pub problems: Vec<String>,
}

/// Defaults of the settings that have one. Tokens have none (see the
/// module docs); the origin URL defaults to the local reference origin.
pub mod defaults {
    pub const ORIGIN_URL: &str = "http://127.0.0.1:8788";
    pub const KV_EXPIRATION_SECS: u64 = 3600;
    pub const KV_RETENTION_SECS: u64 = 30 * 24 * 3600;
    pub const ORIGIN_TIMEOUT_MS: u64 = 5_000;
    pub const MAX_BODY_BYTES: usize = crate::core::limits::MAX_BODY_BYTES;
    pub const LAST_EVENT_EXPIRATION_SECS: u64 = 90 * 24 * 3600;
    pub const BEACON_CHECK_MS: u64 = crate::core::propagation::DEFAULT_CHECK_MS;
    pub const BEACON_POLL_MS: u64 = 1_000;
}

impl Settings {
    /// The secrets this Worker needs and lacks, by name (never a value).
    /// `READ_TOKEN` or `ADMIN_TOKEN` missing makes every `/v1` call answer
    /// `not_configured`; `ORIGIN_TOKEN` missing keeps the origin uncalled.
    pub fn missing_secrets(&self) -> Vec<&'static str> {
        [("READ_TOKEN", &self.read_token), ("ADMIN_TOKEN", &self.admin_token), ("ORIGIN_TOKEN", &self.origin_token)]
            .into_iter()
            .filter(|(_, token)| token.is_none())
            .map(|(name, _)| name)
            .collect()
    }

    /// Reads every setting through `var` (name → value, `None` when unset).
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Settings {
        let mut problems = Vec::new();
        let text = |name: &str, default: &str| {
            var(name).filter(|v| !v.trim().is_empty()).unwrap_or_else(|| default.to_string())
        };
        let origin_url = text("ORIGIN_URL", defaults::ORIGIN_URL).trim().trim_end_matches('/').to_string();
        let secret = |name: &str| var(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let read_token = secret("READ_TOKEN");
        let admin_token = secret("ADMIN_TOKEN");
        let origin_token = secret("ORIGIN_TOKEN");
        let options_config = text("OPTIONS_CONFIG", "");
        let legacy_prefixes = text("LEGACY_PREFIXES", "");
        let debug = matches!(text("DEBUG", "").trim(), "1" | "true" | "yes" | "on");

        let mut number = |name: &str, default: u64, min: u64| -> u64 {
            match var(name).map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) {
                None => default,
                Some(v) => match v.parse::<u64>() {
                    Ok(n) if n >= min => n,
                    _ => {
                        problems.push(format!("{name}={v:?} is not a whole number ≥ {min}; using {default}"));
                        default
                    }
                },
            }
        };
        let beacon_check_ms = number("BEACON_CHECK_MS", defaults::BEACON_CHECK_MS, 0);
        let beacon_poll_ms = number("BEACON_POLL_MS", defaults::BEACON_POLL_MS, 100);
        let kv_expiration_secs = number("KV_EXPIRATION_SECS", defaults::KV_EXPIRATION_SECS, KV_MIN_EXPIRATION_SECS);
        let kv_retention_secs =
            number("KV_RETENTION_SECS", defaults::KV_RETENTION_SECS.max(kv_expiration_secs), kv_expiration_secs);
        let origin_timeout_ms = number("ORIGIN_TIMEOUT_MS", defaults::ORIGIN_TIMEOUT_MS, 1);
        let timeout_defaults = Timeouts::default();
        let timeouts = Timeouts {
            soft_ms: number("ORIGIN_SOFT_TIMEOUT_MS", timeout_defaults.soft_ms, 0),
            kv_ms: number("KV_TIMEOUT_MS", timeout_defaults.kv_ms, 1),
            origin_ms: origin_timeout_ms,
        };
        let throttle_defaults = ThrottleConfig::default();
        let throttle = ThrottleConfig {
            backoff_start_ms: number("BACKOFF_START_MS", throttle_defaults.backoff_start_ms, 0),
            backoff_max_ms: number("BACKOFF_MAX_MS", throttle_defaults.backoff_max_ms, 0),
            breaker_threshold: u32::try_from(number(
                "BREAKER_THRESHOLD",
                u64::from(throttle_defaults.breaker_threshold),
                1,
            ))
            .unwrap_or(u32::MAX),
            breaker_open_ms: number("BREAKER_OPEN_MS", throttle_defaults.breaker_open_ms, 0),
        };
        let mut max_body_bytes = number("MAX_BODY_BYTES", defaults::MAX_BODY_BYTES as u64, 1);
        let memory_defaults = Limits::default();
        let max_entries = number("MEMORY_MAX_ENTRIES", memory_defaults.max_entries as u64, 1);
        let max_bytes = number("MEMORY_MAX_BYTES", memory_defaults.max_bytes as u64, 1024);
        let default_ttl = Policy::DEFAULT.ttl_ms / 1000;
        let default_grace = Policy::DEFAULT.grace_ms / 1000;
        let map_policy =
            Policy::from_secs(number("MAP_TTL_SECS", default_ttl, 0), number("MAP_GRACE_SECS", default_grace, 0));
        let ownership_policy = Policy::from_secs(
            number("OWNERSHIP_TTL_SECS", default_ttl, 0),
            number("OWNERSHIP_GRACE_SECS", default_grace, 0),
        );
        let last_event_expiration_secs =
            number("LAST_EVENT_EXPIRATION_SECS", defaults::LAST_EVENT_EXPIRATION_SECS, KV_MIN_EXPIRATION_SECS);
        let sync_defaults = SyncLimits::default();
        let sync_kv_ops = number("SYNC_MAX_KV_OPS", u64::from(sync_defaults.max_kv_ops), u64::from(MIN_KV_OPS));
        let sync_origin_calls = number("SYNC_MAX_ORIGIN_CALLS", u64::from(sync_defaults.max_origin_calls), 1);
        let mut at_most = |name: &str, n: u64, max: u32, default: u32| match u32::try_from(n) {
            Ok(n) if n <= max => n,
            _ => {
                problems.push(format!(
                    "{name}={n} is over {max} (one invocation may make 1,000 subrequests in all); using {default}"
                ));
                default
            }
        };
        let sync = SyncLimits {
            max_kv_ops: at_most("SYNC_MAX_KV_OPS", sync_kv_ops, MAX_KV_OPS, sync_defaults.max_kv_ops),
            max_origin_calls: at_most(
                "SYNC_MAX_ORIGIN_CALLS",
                sync_origin_calls,
                MAX_ORIGIN_CALLS,
                sync_defaults.max_origin_calls,
            ),
        };

        // What the edge accepts must fit what the origin takes: lower only.
        if max_body_bytes > defaults::MAX_BODY_BYTES as u64 {
            problems.push(format!(
                "MAX_BODY_BYTES={max_body_bytes} is over the origin's limit of {}; using {0}",
                defaults::MAX_BODY_BYTES
            ));
            max_body_bytes = defaults::MAX_BODY_BYTES as u64;
        }

        if !(origin_url.starts_with("http://") || origin_url.starts_with("https://")) {
            problems.push(format!("ORIGIN_URL={origin_url:?} is not an http(s) URL; origin calls will fail"));
        } else if origin_url.starts_with("http://") && !is_loopback_url(&origin_url) {
            problems.push(format!(
                "ORIGIN_URL={origin_url:?} is plain http to a host that is not this machine: \
                 ORIGIN_TOKEN would travel in clear text; use https"
            ));
        }
        if origin_token.is_none() {
            problems
                .push("ORIGIN_TOKEN is not set: the origin is never called (set it with wrangler secret put)".into());
        }
        if read_token.is_some() && read_token == admin_token {
            problems.push("READ_TOKEN equals ADMIN_TOKEN: every reader is an admin".to_string());
        }

        Settings {
            origin_url,
            read_token,
            admin_token,
            origin_token,
            options_config,
            legacy_prefixes,
            kv_expiration_secs,
            kv_retention_secs,
            origin_timeout_ms,
            timeouts,
            throttle,
            max_body_bytes: usize::try_from(max_body_bytes).unwrap_or(usize::MAX),
            memory: Limits {
                max_entries: usize::try_from(max_entries).unwrap_or(usize::MAX),
                max_bytes: usize::try_from(max_bytes).unwrap_or(usize::MAX),
            },
            map_policy,
            ownership_policy,
            last_event_expiration_secs,
            sync,
            debug,
            beacon_check_ms,
            beacon_poll_ms,
            problems,
        }
    }
}

/// Whether an `http://` URL names this machine (a loopback address or
/// `localhost`), where a token in clear text never leaves the host.
fn is_loopback_url(url: &str) -> bool {
    let rest = url.strip_prefix("http://").unwrap_or(url);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    let host = host.to_ascii_lowercase();
    if host == "localhost" || host.ends_with(".localhost") {
        return true;
    }
    match host.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn from(pairs: &[(&str, &str)]) -> Settings {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_vars(|name| map.get(name).cloned())
    }

    /// The three tokens, set: what `.dev.vars.example` gives a local Worker.
    const TOKENS: [(&str, &str); 3] =
        [("READ_TOKEN", "r-token"), ("ADMIN_TOKEN", "a-token"), ("ORIGIN_TOKEN", "o-token")];

    fn with_tokens(pairs: &[(&str, &str)]) -> Settings {
        let mut all = TOKENS.to_vec();
        all.extend_from_slice(pairs);
        from(&all)
    }

    #[test]
    fn defaults_apply_to_everything_but_the_tokens() {
        let s = with_tokens(&[]);
        assert_eq!(s.origin_url, "http://127.0.0.1:8788");
        assert_eq!(s.max_body_bytes, 1024 * 1024);
        assert_eq!((s.map_policy, s.ownership_policy), (Policy::DEFAULT, Policy::DEFAULT));
        assert_eq!(s.last_event_expiration_secs, 90 * 86_400);
        assert_eq!(s.timeouts, Timeouts { soft_ms: 250, kv_ms: 1_000, origin_ms: 5_000 });
        assert_eq!(s.throttle, ThrottleConfig::default());
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        assert!(s.missing_secrets().is_empty());
    }

    #[test]
    fn no_token_has_a_default_and_missing_ones_are_named() {
        let s = from(&[]);
        assert_eq!((s.read_token, s.admin_token, s.origin_token), (None, None, None));
        assert_eq!(from(&[]).missing_secrets(), ["READ_TOKEN", "ADMIN_TOKEN", "ORIGIN_TOKEN"]);
        assert_eq!(from(&[("ADMIN_TOKEN", "a")]).missing_secrets(), ["READ_TOKEN", "ORIGIN_TOKEN"]);
    }

    #[test]
    fn a_missing_origin_token_is_a_reported_problem() {
        let s = from(&[("READ_TOKEN", "r"), ("ADMIN_TOKEN", "a")]);
        assert!(s.problems.iter().any(|p| p.contains("ORIGIN_TOKEN is not set")), "{:?}", s.problems);
    }

    #[test]
    fn plain_http_to_another_host_is_a_reported_problem() {
        for remote in [
            "http://origin.example.com",
            "http://10.0.0.5:8788/api",
            "http://[2001:db8::1]:80",
            "http://127.0.0.1.example.com",
        ] {
            let s = with_tokens(&[("ORIGIN_URL", remote)]);
            assert!(s.problems.iter().any(|p| p.contains("clear text")), "{remote}: {:?}", s.problems);
        }
        for local in [
            "http://127.0.0.1:8788",
            "http://localhost:1",
            "http://[::1]:8788/",
            "http://127.9.9.9",
            "https://origin.example.com",
        ] {
            let s = with_tokens(&[("ORIGIN_URL", local)]);
            assert!(s.problems.is_empty(), "{local}: {:?}", s.problems);
        }
    }

    #[test]
    fn trailing_slash_of_origin_url_is_dropped() {
        assert_eq!(from(&[("ORIGIN_URL", "http://x:1/ ")]).origin_url, "http://x:1");
    }

    #[test]
    fn bad_numbers_fall_back_to_defaults_and_are_reported() {
        let s = with_tokens(&[("KV_EXPIRATION_SECS", "10"), ("MAX_BODY_BYTES", "-1"), ("ORIGIN_TIMEOUT_MS", "soon")]);
        assert_eq!(s.kv_expiration_secs, 3600);
        assert_eq!(s.max_body_bytes, 1024 * 1024);
        assert_eq!(s.origin_timeout_ms, 5_000);
        assert_eq!(s.problems.len(), 3);
    }

    #[test]
    fn kv_copies_are_kept_a_month_and_never_shorter_than_they_count_as_fresh() {
        let s = with_tokens(&[]);
        assert_eq!((s.kv_expiration_secs, s.kv_retention_secs), (3600, 30 * 24 * 3600));
        let short = with_tokens(&[("KV_EXPIRATION_SECS", "7200"), ("KV_RETENTION_SECS", "3600")]);
        assert_eq!(short.kv_retention_secs, 30 * 24 * 3600, "a retention below the freshness is refused");
        assert_eq!(short.problems.len(), 1, "{:?}", short.problems);
        let long = with_tokens(&[("KV_EXPIRATION_SECS", "7200"), ("KV_RETENTION_SECS", "86400")]);
        assert_eq!(long.kv_retention_secs, 86_400);
    }

    #[test]
    fn sync_limits_default_well_under_the_platform_limit_and_are_bounded() {
        assert_eq!(with_tokens(&[]).sync, SyncLimits { max_kv_ops: 500, max_origin_calls: 10 });
        let s = with_tokens(&[("SYNC_MAX_KV_OPS", "12"), ("SYNC_MAX_ORIGIN_CALLS", "3")]);
        assert_eq!(s.sync, SyncLimits { max_kv_ops: 12, max_origin_calls: 3 });
        assert!(s.problems.is_empty(), "{:?}", s.problems);
        for (kv, calls) in [("3", "0"), ("901", "101"), ("many", "-1")] {
            let s = with_tokens(&[("SYNC_MAX_KV_OPS", kv), ("SYNC_MAX_ORIGIN_CALLS", calls)]);
            assert_eq!(s.sync, SyncLimits::default(), "{kv} {calls}");
            assert_eq!(s.problems.len(), 2, "{:?}", s.problems);
        }
    }

    #[test]
    fn the_body_limit_may_be_lowered_but_never_raised_past_the_origins() {
        assert_eq!(with_tokens(&[("MAX_BODY_BYTES", "4096")]).max_body_bytes, 4096);
        let s = with_tokens(&[("MAX_BODY_BYTES", "2097152")]);
        assert_eq!(s.max_body_bytes, crate::core::limits::MAX_BODY_BYTES);
        assert_eq!(s.problems.len(), 1, "{:?}", s.problems);
    }

    #[test]
    fn problems_never_quote_a_token() {
        let s = from(&[("READ_TOKEN", "sekrit-123"), ("ADMIN_TOKEN", "sekrit-123"), ("ORIGIN_TOKEN", "sekrit-9")]);
        assert_eq!(s.problems.len(), 1);
        assert!(!s.problems[0].contains("sekrit"));
    }

    #[test]
    fn empty_values_count_as_unset() {
        assert_eq!(from(&[("READ_TOKEN", "  ")]).read_token, None);
    }
}
