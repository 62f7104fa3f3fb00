//! Cache keys: one namespace per kind of cached thing, safe for Workers KV.
//!
//! KV keys are at most 512 bytes and some characters read badly in tooling,
//! while option names come from the world (legacy prefixes accept any name).
//! Short, plain names keep a readable key (`opt:mail.host`) so an operator can
//! find them in KV; anything long or unusual is hashed (`opt#<sha256>`). The
//! two forms can never collide: `:` marks the readable form, `#` the hashed.

use sha2::{Digest, Sha256};

use super::scope::{Id, Scope};

/// Longest name kept readable in a key; longer names are hashed.
const MAX_READABLE: usize = 200;

/// The kinds of cached thing, each with its own key namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A registered (global) option, by name.
    Option,
    /// A scoped option map (organization, project, user).
    Map,
    /// A project's ownership record.
    Ownership,
    /// The last processed event of a group hash (KV only).
    LastEvent,
    /// The sync job's own state (KV only).
    Sync,
}

impl Kind {
    fn prefix(self) -> &'static str {
        match self {
            Kind::Option => "opt",
            Kind::Map => "map",
            Kind::Ownership => "own",
            Kind::LastEvent => "evt",
            Kind::Sync => "sync",
        }
    }
}

/// A key naming one cached thing in isolate memory and in KV.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CacheKey(String);

impl CacheKey {
    /// The key of a registered option.
    pub fn option(name: &str) -> CacheKey {
        CacheKey::build(Kind::Option, name)
    }

    /// The key of a scoped option map.
    pub fn map(scope: &Scope) -> CacheKey {
        CacheKey(format!("{}:{}", Kind::Map.prefix(), scope.key_suffix()))
    }

    /// The key of a project's ownership record.
    pub fn ownership(project: Id) -> CacheKey {
        CacheKey(format!("{}:{project}", Kind::Ownership.prefix()))
    }

    /// The key of a group hash's last processed event.
    pub fn last_event(project: Id, hash: Id) -> CacheKey {
        CacheKey(format!("{}:{project}:{hash}", Kind::LastEvent.prefix()))
    }

    /// The key of the sync job's cursor: the last origin version it completed.
    pub fn sync_cursor() -> CacheKey {
        CacheKey(format!("{}:cursor", Kind::Sync.prefix()))
    }

    /// The key of the last-known-good snapshot's head (`snapshot`): its
    /// version, write time, completeness and how many parts it has.
    pub fn snapshot_head() -> CacheKey {
        CacheKey(format!("{}:snapshot", Kind::Sync.prefix()))
    }

    /// The key of part `index` of a snapshot split into `parts` parts. The
    /// count is in the name, so a reader of an older head never mixes parts
    /// of two different splits.
    pub fn snapshot_part(parts: u32, index: u32) -> CacheKey {
        CacheKey(format!("{}:snapshot:{parts}:{index}", Kind::Sync.prefix()))
    }

    /// Whether the key names something the origin's change feed lists (an
    /// option, an option map, an ownership record): what a complete
    /// snapshot can answer "absent" for when it does not hold it.
    pub fn in_change_feed(&self) -> bool {
        [Kind::Option, Kind::Map, Kind::Ownership]
            .iter()
            .any(|kind| self.0.strip_prefix(kind.prefix()).is_some_and(|rest| rest.starts_with([':', '#'])))
    }

    fn build(kind: Kind, name: &str) -> CacheKey {
        let readable = !name.is_empty()
            && name.len() <= MAX_READABLE
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-:/@".contains(&b));
        if readable {
            CacheKey(format!("{}:{}", kind.prefix(), name))
        } else {
            let digest = Sha256::digest(name.as_bytes());
            let mut hex = String::with_capacity(64);
            for byte in digest {
                hex.push_str(&format!("{byte:02x}"));
            }
            CacheKey(format!("{}#{}", kind.prefix(), hex))
        }
    }

    /// A key as stored (in KV, or in the beacon's change log), taken as it
    /// is: it names what a change was about, and is never built from input.
    pub fn from_stored(stored: &str) -> CacheKey {
        CacheKey(stored.to_string())
    }

    /// The key as stored in KV.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_option_names_stay_readable() {
        assert_eq!(CacheKey::option("mail.host").as_str(), "opt:mail.host");
        assert_eq!(CacheKey::option("sentry:latest_version").as_str(), "opt:sentry:latest_version");
    }

    #[test]
    fn long_or_odd_names_are_hashed_and_fit_kv() {
        let long = "x".repeat(10_000);
        for name in [long.as_str(), "with space", "ünïcode", "", "a\nb", "🙂"] {
            let key = CacheKey::option(name);
            assert!(key.as_str().starts_with("opt#"), "{name:?} -> {}", key.as_str());
            assert!(key.as_str().len() <= 512);
        }
    }

    #[test]
    fn readable_and_hashed_forms_never_collide() {
        // A name that spells another name's digest, or its whole hashed key,
        // must not get that key: `:` marks the readable form, `#` the hashed.
        let hashed = CacheKey::option("with space");
        let digest = hashed.as_str().strip_prefix("opt#").expect("the hashed form");
        assert_eq!(digest.len(), 64, "a sha256 in hex");
        let readable = CacheKey::option(digest);
        assert_eq!(readable.as_str(), format!("opt:{digest}"), "a digest is a plain name: kept readable");
        for name in [digest.to_string(), hashed.as_str().to_string(), format!("#{digest}")] {
            assert_ne!(CacheKey::option(&name), hashed, "{name}");
        }
    }

    #[test]
    fn kinds_never_share_keys() {
        let keys = [
            CacheKey::option("1"),
            CacheKey::map(&Scope::Project(1)),
            CacheKey::ownership(1),
            CacheKey::last_event(1, 1),
            CacheKey::map(&Scope::Organization(1)),
            CacheKey::sync_cursor(),
            CacheKey::snapshot_head(),
            CacheKey::snapshot_part(1, 0),
            CacheKey::snapshot_part(2, 0),
        ];
        let unique: std::collections::HashSet<_> = keys.iter().map(CacheKey::as_str).collect();
        assert_eq!(unique.len(), keys.len());
        assert_eq!(CacheKey::map(&Scope::UserInProject(2, 3)).as_str(), "map:user:2:proj:3");
        assert_eq!(CacheKey::sync_cursor().as_str(), "sync:cursor");
    }

    #[test]
    fn different_names_get_different_keys() {
        assert_ne!(CacheKey::option("a b"), CacheKey::option("a  b"));
        assert_ne!(CacheKey::option("a"), CacheKey::option("b"));
    }

    #[test]
    fn only_what_the_change_feed_lists_is_in_it() {
        for key in [
            CacheKey::option("a"),
            CacheKey::option("with space"),
            CacheKey::map(&Scope::Project(1)),
            CacheKey::ownership(2),
        ] {
            assert!(key.in_change_feed(), "{}", key.as_str());
        }
        for key in [
            CacheKey::last_event(1, 1),
            CacheKey::sync_cursor(),
            CacheKey::snapshot_head(),
            CacheKey::snapshot_part(1, 0),
        ] {
            assert!(!key.in_change_feed(), "{}", key.as_str());
        }
    }
}
