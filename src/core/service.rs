//! Everything one isolate keeps between requests, built from `Settings`:
//! the registry and config, isolate memory, and one handle per kind of
//! cached thing.
//!
//! The Worker (`http::isolate`) and the npm package (`js`) both hold one
//! `Service` per isolate, so the two front ends cannot drift apart in how
//! they build the registry, apply config or size memory. Building it does
//! no I/O; every method that does takes the caller's `Io`.

use super::config::ConfigValues;
use super::error::Error;
use super::last_event::LastEvents;
use super::lifecycle::Millis;
use super::maps::OptionMaps;
use super::options::Options;
use super::ports::{Clock, DurableStore, Io, NetworkCache};
use super::project_ownership::{parse_limits, ProjectOwnership};
use super::registry::{parse_legacy_prefixes, Registry};
use super::settings::Settings;
use super::stats::StatsSnapshot;
use super::sync::{self, KindPolicies, SyncLimits, SyncReport};
use super::tiered::TieredCache;

/// The state of one isolate.
pub struct Service {
    /// The registry and config tier.
    pub options: Options,
    /// Isolate memory and counters.
    pub cache: TieredCache,
    /// Scoped option maps.
    pub maps: OptionMaps,
    /// Project ownership records.
    pub ownership: ProjectOwnership,
    /// Last processed events per group hash (KV only).
    pub last_events: LastEvents,
    /// Lifecycles of maps and ownership, for the sync job.
    pub kinds: KindPolicies,
    /// What one sync run may spend.
    pub sync_limits: SyncLimits,
    /// Settings and config values that were bad and replaced by defaults.
    pub problems: Vec<String>,
}

/// A key to refresh in the background after a stale answer (`answer`,
/// kept at this path).
pub use super::answer::Refresh;

impl Service {
    /// Builds the state `settings` describe. Bad config values are not
    /// errors: they are reported in `problems` and replaced by defaults.
    ///
    /// # Errors
    /// `unavailable` only when the registry compiled into the build is
    /// invalid (a build defect, caught by the tests).
    pub fn new(settings: &Settings) -> Result<Service, Error> {
        let registry = Registry::builtin()
            .map_err(|e| Error::Unavailable(format!("the built-in registry is invalid: {e}").into()))?;
        Ok(Service::with_registry(settings, registry))
    }

    /// Builds the state `settings` describe over `registry` instead of the
    /// built-in one (the npm package's `registry` option). The settings'
    /// legacy prefixes are added to it.
    pub fn with_registry(settings: &Settings, registry: Registry) -> Service {
        let registry = registry.with_legacy_prefixes(parse_legacy_prefixes(&settings.legacy_prefixes));
        let (config, config_problems) = ConfigValues::parse(&settings.options_config, &registry);
        let mut problems = settings.problems.clone();
        problems.extend(config_problems.into_iter().map(|p| p.to_string()));
        let cache = TieredCache::new(settings.memory, settings.kv_expiration_secs)
            .with_kv_retention(settings.kv_retention_secs)
            .with_timeouts(settings.timeouts)
            .with_throttle(settings.throttle)
            .with_beacon_check_ms(settings.beacon_check_ms);
        Service {
            options: Options::new(registry, config),
            cache,
            maps: OptionMaps::new(settings.map_policy),
            ownership: ProjectOwnership::new(settings.ownership_policy)
                .with_parse_limits(parse_limits(settings.memory)),
            last_events: LastEvents::new(settings.last_event_expiration_secs),
            kinds: KindPolicies { maps: settings.map_policy, ownership: settings.ownership_policy },
            sync_limits: settings.sync,
            problems,
        }
    }

    /// This isolate's counters and memory figures at `now`, with the kept
    /// ownership parses.
    pub fn stats(&self, now: Millis) -> StatsSnapshot {
        let mut stats = self.cache.stats(now);
        let rules = self.ownership.rules_cache();
        let (held, bytes) = rules.held();
        stats.parsed_rules = held as u64;
        stats.parsed_rules_bytes = bytes as u64;
        stats.rules_parses = rules.parses();
        stats
    }

    /// Refreshes one key from the origin after a stale answer; `true` when
    /// the caches took a newer value.
    pub async fn revalidate<K, O, C>(&self, io: &Io<'_, K, O, C>, what: &Refresh) -> bool
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        match what {
            Refresh::Option(name) => self.options.revalidate(&self.cache, io, name).await,
            Refresh::Map(scope) => self.maps.revalidate(&self.cache, io, scope).await,
            Refresh::Ownership(project) => self.ownership.revalidate(&self.cache, io, *project).await,
        }
    }

    /// Re-writes into KV what the origin changed since the last run, within
    /// this isolate's sync limits (the cron trigger, `POST /v1/admin/sync`
    /// and the npm package's `sync()`).
    ///
    /// # Errors
    /// As `sync::sync`: KV could not read the cursor, or the origin could
    /// not list its changes.
    pub async fn sync<K, O, C>(&self, io: &Io<'_, K, O, C>) -> Result<SyncReport, Error>
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        sync::sync(&self.options, &self.kinds, &self.cache, io, self.sync_limits).await
    }
}

#[cfg(test)]
mod outage_tests;

#[cfg(test)]
mod tests {
    use futures::executor::block_on;

    use super::*;
    use crate::core::key::CacheKey;
    use crate::core::ports::fake::FakeTiers;

    fn settings(vars: &[(&str, &str)]) -> Settings {
        Settings::from_vars(|name| vars.iter().find(|(n, _)| *n == name).map(|(_, v)| v.to_string()))
    }

    #[test]
    fn bad_config_values_are_reported_not_fatal() {
        let service = Service::new(&settings(&[("OPTIONS_CONFIG", r#"{"mail.port": "not a number"}"#)]));
        let service = service.expect("the built-in registry is valid");
        assert!(service.problems.iter().any(|p| p.contains("mail.port")), "{:?}", service.problems);
    }

    #[test]
    fn legacy_prefixes_from_settings_become_untyped_options() {
        let service = Service::new(&settings(&[("LEGACY_PREFIXES", "legacy.")])).expect("valid registry");
        assert!(service.options.stored_spec("legacy.anything").is_some());
        assert!(service.options.stored_spec("other.anything").is_none());
    }

    #[test]
    fn a_given_registry_replaces_the_builtin_one_and_keeps_legacy_prefixes() {
        let registry =
            Registry::from_json(r#"{"options": [{"name": "app.colour", "type": "string", "default": "red"}]}"#)
                .expect("a valid registry");
        let service = Service::with_registry(&settings(&[("LEGACY_PREFIXES", "old.")]), registry);
        assert!(service.options.stored_spec("app.colour").is_some());
        assert!(service.options.stored_spec("mail.host").is_none(), "the built-in options are gone");
        assert!(service.options.stored_spec("old.x").is_some());
    }

    #[test]
    fn stats_show_the_kept_ownership_parses_within_a_quarter_of_isolate_memory() {
        let world = FakeTiers::at(10_000_000);
        let service = Service::new(&settings(&[("MEMORY_MAX_BYTES", "400000")])).expect("valid registry");
        let record =
            serde_json::json!({"raw": "path:* #t", "fallthrough": true, "auto_assignment": false, "is_active": true});
        world.origin.ownership.borrow_mut().insert(3, crate::core::slot::Versioned::present(record, 5));
        let (io, event) = (world.io(), serde_json::json!({}));
        for _ in 0..3 {
            block_on(service.ownership.owners(&service.cache, &io, 3, &event)).expect("owners");
        }
        let stats = service.stats(world.clock.now_ms());
        assert_eq!((stats.rules_parses, stats.parsed_rules), (1, 1));
        assert!(stats.parsed_rules_bytes > 0 && stats.parsed_rules_bytes <= 100_000, "{stats:?}");
        assert_eq!(stats.max_bytes, 400_000);
    }

    #[test]
    fn sync_rewrites_what_the_origin_changed_within_the_settings_limits() {
        let world = FakeTiers::at(10_000_000);
        let service = Service::new(&settings(&[])).expect("valid registry");
        world.origin.store("mail.host", serde_json::json!("smtp.example.com"));
        let report = block_on(service.sync(&world.io())).expect("origin lists its changes");
        assert_eq!((report.options, report.cursor, report.more), (1, 1, false));
        let tight = Service::new(&settings(&[("SYNC_MAX_KV_OPS", "4"), ("SYNC_MAX_ORIGIN_CALLS", "1")]));
        world.origin.store("mail.from", serde_json::json!("a@example.com"));
        world.origin.store("mail.port", serde_json::json!(2525));
        let report = block_on(tight.expect("valid registry").sync(&world.io())).expect("a run");
        assert_eq!((report.kv_ops, report.origin_calls, report.options, report.more), (4, 1, 1, true));
        let key = CacheKey::option("mail.host");
        assert!(world.kv.data.borrow().contains_key(key.as_str()), "KV holds the synced value");
    }
}
