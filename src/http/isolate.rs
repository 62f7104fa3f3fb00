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

use crate::core::error::Error;
use crate::core::service::Service;
use crate::core::settings::Settings;

/// Everything an isolate keeps: its settings (tokens, origin, limits) and
/// the core's state built from them.
pub struct Isolate {
    /// The Worker's configuration.
    pub settings: Settings,
    /// Registry, config, isolate memory, maps, ownership, last events.
    pub service: Service,
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
    let service = Service::new(&settings)?;
    for problem in &service.problems {
        worker::console_warn!("edge-options configuration: {problem}");
    }
    Ok(Isolate { settings, service })
}

/// A var or secret by name (`.dev.vars` and `--var` give vars locally,
/// `wrangler secret put` gives secrets in production).
fn read_var(env: &Env, name: &str) -> Option<String> {
    env.var(name).map(|v| v.to_string()).ok().or_else(|| env.secret(name).map(|s| s.to_string()).ok())
}
