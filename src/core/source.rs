//! Which tier answered a read: the `x-cache` header and the `source` field.

/// Where an answer came from. One enum for every kind of lookup, turned into
/// the `x-cache` header by the HTTP layer and into `source` by the JS layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// Fresh in isolate memory; no I/O.
    Local,
    /// Workers KV.
    Kv,
    /// The origin API.
    Origin,
    /// A copy past its freshness (isolate memory past its ttl, or a KV copy
    /// older than `KV_EXPIRATION_SECS`), served because the origin failed.
    Stale,
    /// The last-known-good snapshot the sync job keeps in KV: memory and
    /// KV held no copy of the key and the origin failed.
    Snapshot,
    /// The config ("settings") tier: the stores had nothing, or failed.
    Config,
    /// The registered default: the stores had nothing, or failed.
    Default,
}

impl Source {
    /// Whether the answer is past its freshness: it carries `stale: true`
    /// and its age (`age_ms`).
    pub fn is_stale(self) -> bool {
        matches!(self, Source::Stale | Source::Snapshot)
    }

    /// The stable lowercase word of the edge API (`x-cache`, `source`).
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Local => "local",
            Source::Kv => "kv",
            Source::Origin => "origin",
            Source::Stale => "stale",
            Source::Snapshot => "snapshot",
            Source::Config => "config",
            Source::Default => "default",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_the_ones_the_edge_api_fixes() {
        let all = [
            Source::Local,
            Source::Kv,
            Source::Origin,
            Source::Stale,
            Source::Snapshot,
            Source::Config,
            Source::Default,
        ];
        let words: Vec<_> = all.iter().map(|s| s.as_str()).collect();
        assert_eq!(words, ["local", "kv", "origin", "stale", "snapshot", "config", "default"]);
    }
}
