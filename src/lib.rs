//! edge-options: option and ownership lookups at the edge.
pub mod core;
