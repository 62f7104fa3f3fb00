//! The core: everything edge-options decides, with no I/O and no JavaScript.
//!
//! Like quinn-proto, the core never touches the network or the clock: time is
//! passed in, and the tiers it reads and writes are traits it owns (`ports`)
//! that the Worker implements over KV and `fetch` (the `tiers` adapters), and
//! the tests implement with fakes that fail on command. It compiles and is tested natively.
//! docs/design.md opens with the map of every module and the rule it owns.
//!
//! | module | holds |
//! |---|---|
//! | `ports` | what the core needs: KV, the origin, a clock (traits), `TierError`; fakes for tests |
//! | `lifecycle` | fresh / stale / dead as pure functions of time |
//! | `memory` | the bounded isolate-memory map (L0) and its sweeping |
//! | `version` | a cache never moves to an older version |
//! | `tiered` | the read and write paths through memory, KV and origin |
//! | `coalesce`, `race` | coalescing (who leads, how waiters wait, abandoned reads finished); the first of two futures |
//! | `kv_writes` | one KV write per second per key; no KV fill older than this isolate's last write |
//! | `bounded` | the bounded table every per-key record uses |
//! | `throttle` | per-key backoff and the isolate-wide breaker |
//! | `slot`, `envelope` | value-or-absent with version; its KV format |
//! | `key` | cache keys, one namespace per kind, KV-safe |
//! | `key_hash` | a key's 64-bit hash, for the per-key records kept beside memory |
//! | `registry`, `value_type`, `flags`, `config` | registered options |
//! | `options` | option resolution and writes |
//! | `scope`, `maps` | organization / project / user option maps |
//! | `ownership` | the rules grammar, globs, event fields, owner matching |
//! | `propagation` | the beacon's change log, each isolate's minimum versions, `min_version` reads |
//! | `project_ownership` | ownership records and their flags through the tiers; owners of events |
//! | `last_event` | last processed event per group hash (KV only) |
//! | `sync` | re-writing what the origin changed into KV, and into the snapshot |
//! | `snapshot` | the last-known-good snapshot for isolates that start during an outage |
//! | `limits` | every input limit, shared with the npm package and the origin |
//! | `settings` | the Worker's vars, with defaults and reported problems |
//! | `service` | one isolate's state, built from settings; refreshes and sync |
//! | `calls`, `answer` | the API's calls, and the JSON of every answer with what to refresh after it |
//! | `source`, `stats`, `error` | what answered, counters, error codes and fields |

pub mod answer;
pub mod bounded;
pub mod calls;
pub mod coalesce;
pub mod config;
pub mod envelope;
pub mod error;
pub mod flags;
/// Who leads a fetch: `coalesce`, at its old path.
pub mod inflight {
    pub use super::coalesce::{InFlight, Lead, Role};
}
pub mod key;
pub mod key_hash;
pub mod kv_writes;
pub mod last_event;
pub mod lifecycle;
pub mod limits;
pub mod maps;
pub mod memory;
pub mod options;
pub mod ownership;
pub mod ports;
pub mod project_ownership;
pub mod propagation;
pub mod race;
pub mod registry;
pub mod scope;
pub mod service;
pub mod settings;
pub mod slot;
pub mod snapshot;
pub mod source;
pub mod stats;
pub mod sync;
pub mod throttle;
pub mod tiered;
pub mod value_type;
pub mod version;
