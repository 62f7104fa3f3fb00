//! What an isolate's first request builds, natively: `Settings::from_vars`,
//! the registry (from the build-time table, and parsed from registry.json
//! as it was before), `Service::new` (registry + config + caches), timed over
//! many builds (each a new isolate's work). For finding what start costs;
//! bench/run measures the start itself under `wrangler dev`.
use std::time::Instant;

use edge_options::core::registry::{Registry, BUILTIN_REGISTRY_JSON};
use edge_options::core::service::Service;
use edge_options::core::settings::Settings;

fn time(label: &str, n: u32, mut f: impl FnMut()) {
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    println!("{label}: {:.1} µs", t.elapsed().as_secs_f64() * 1e6 / f64::from(n));
}

fn main() {
    let vars = |name: &str| match name {
        "READ_TOKEN" => Some("r".to_string()),
        "ADMIN_TOKEN" => Some("a".to_string()),
        "ORIGIN_TOKEN" => Some("o".to_string()),
        _ => None,
    };
    let n = 2_000;
    time("settings", n, || drop(std::hint::black_box(Settings::from_vars(vars))));
    for _ in 0..3 {
        time("registry: the build-time table (Registry::builtin)", n, || drop(std::hint::black_box(Registry::builtin())));
        time("registry: parsing registry.json (as before)", n, || {
            drop(std::hint::black_box(Registry::from_json(BUILTIN_REGISTRY_JSON)))
        });
    }
    let settings = Settings::from_vars(vars);
    time("service (settings given)", n, || drop(std::hint::black_box(Service::new(&settings))));
}
