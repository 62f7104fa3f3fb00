//! The state one isolate keeps between requests: settings, the registry and
//! config, and the isolate-memory cache with its counters.
//!
//! Built on the first request (vars are fixed for an isolate's life) and
//! held in a thread-local: an isolate runs one thread, and every request it
//! serves shares this one cache. No `RefCell` borrow inside is ever held
//! across an `.await`.

use std::cell::RefCell;
use std::rc::Rc;

use worker::Env;

use crate::core::config::ConfigValues;
use crate::core::error::Error;
use crate::core::last_event::LastEvents;
use crate::core::maps::OptionMaps;
use crate::core::options::Options;
use crate::core::project_ownership::ProjectOwnership;
use crate::core::registry::{parse_legacy_prefixes, Registry};
use crate::core::settings::Settings;
use crate::core::sync::KindPolicies;
use crate::core::tiered::TieredCache;

/// Everything an isolate keeps.
pub struct Isolate {
    /// The Worker's configuration.
    pub settings: Settings,
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
    /// Settings and config values that were bad and replaced by defaults.
    pub problems: Vec<String>,
}

thread_local! {
    static ISOLATE: RefCell<Option<Rc<Isolate>>> = const { RefCell::new(None) };
}

/// This isolate's state, built from `env` on first use.
pub fn get(env: &Env) -> Result<Rc<Isolate>, Error> {
    if let Some(isolate) = ISOLATE.with(|cell| cell.borrow().clone()) {
        return Ok(isolate);
    }
    let isolate = Rc::new(build(env)?);
    ISOLATE.with(|cell| *cell.borrow_mut() = Some(Rc::clone(&isolate)));
    Ok(isolate)
}

fn build(env: &Env) -> Result<Isolate, Error> {
    let settings = Settings::from_vars(|name| read_var(env, name));
    let registry = Registry::builtin()
        .map_err(|e| Error::Unavailable(format!("the built-in registry is invalid: {e}")))?
        .with_legacy_prefixes(parse_legacy_prefixes(&settings.legacy_prefixes));
    let (config, config_problems) = ConfigValues::parse(&settings.options_config, &registry);
    let mut problems = settings.problems.clone();
    problems.extend(config_problems.into_iter().map(|p| p.to_string()));
    for problem in &problems {
        worker::console_warn!("edge-options configuration: {problem}");
    }
    let cache = TieredCache::new(settings.memory, settings.kv_expiration_secs)
        .with_timeouts(settings.timeouts)
        .with_throttle(settings.throttle);
    let kinds = KindPolicies { maps: settings.map_policy, ownership: settings.ownership_policy };
    Ok(Isolate {
        options: Options::new(registry, config),
        cache,
        maps: OptionMaps::new(settings.map_policy),
        ownership: ProjectOwnership::new(settings.ownership_policy),
        last_events: LastEvents::new(settings.last_event_expiration_secs),
        kinds,
        settings,
        problems,
    })
}

/// A var or secret by name (`.dev.vars` and `--var` give vars locally,
/// `wrangler secret put` gives secrets in production).
fn read_var(env: &Env, name: &str) -> Option<String> {
    env.var(name).map(|v| v.to_string()).ok().or_else(|| env.secret(name).map(|s| s.to_string()).ok())
}
