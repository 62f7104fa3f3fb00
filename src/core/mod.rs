//! The core: everything edge-options decides, with no I/O and no JavaScript.
//!
//! Like quinn-proto, the core never touches the network or the clock: time is
//! passed in, and the tiers it reads and writes are traits (`crate::tiers`)
//! that the Worker implements over KV and `fetch`, and the tests implement
//! with fakes that fail on command. It compiles and is tested natively.

pub mod error;
pub mod lifecycle;
