//! Parsed rules kept beside the cached record: one parse per (project,
//! version), not one per `owners` call.
//!
//! `POST …/owners` is a hot path, and parsing a rules text is linear in its
//! length but not free (a 1,000-rule text costs more than evaluating an
//! ordinary event against it; `bench/run` measures both). A version of a
//! record never changes, so its parse is kept here, keyed by project and
//! checked against the record's version: a second call on the same version
//! reuses it, a new version (a write, a sync, a refresh that found a newer
//! record) is parsed afresh. A record whose rules do not parse keeps its
//! error the same way.
//!
//! Memory: a map of its own, bounded like isolate memory (the least recently
//! used go first past an entry or an estimated-byte bound, `memory`), with
//! bounds derived from isolate memory's ([`parse_limits`]: a quarter of its
//! bytes) and figures shown in `/v1/stats` (`parsed_rules`,
//! `parsed_rules_bytes`, `rules_parses`). A parse lives at most an hour, and
//! dead ones are swept a few per call.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use crate::core::key::CacheKey;
use crate::core::lifecycle::{Millis, Policy};
use crate::core::memory::{Limits, Lookup, MemoryCache, Weigh, SWEEP_BUDGET};
use crate::core::ownership::{parse_rules, MatcherKind, Owner, Rule, RulesError};
use crate::core::scope::Id;

/// How long a parse is kept after it was made (whatever its use): long
/// enough that a hot project's rules are parsed about once an hour, short
/// enough that a project nobody asks about frees its parse.
const KEEP: Policy = Policy::from_secs(3600, 0);

/// The parse cache's bounds for isolate-memory bounds `memory`: as many
/// entries, a quarter of the bytes.
pub fn parse_limits(memory: Limits) -> Limits {
    Limits { max_entries: memory.max_entries, max_bytes: memory.max_bytes / 4 }
}

/// The rules of one version of a project's record, or why they do not parse.
#[derive(Debug, PartialEq)]
pub struct ParsedRules {
    /// The record version the rules were parsed from.
    pub version: u64,
    /// The rules in order, or the grammar error.
    pub rules: Result<Vec<Rule>, RulesError>,
}

impl ParsedRules {
    /// The rules to match: none when the text does not parse.
    pub fn rules(&self) -> &[Rule] {
        self.rules.as_deref().unwrap_or_default()
    }
}

impl Weigh for ParsedRules {
    fn weight(&self) -> usize {
        let rules = match &self.rules {
            Ok(rules) => rules.iter().map(rule_weight).sum(),
            Err(e) => e.message.len(),
        };
        std::mem::size_of::<Self>() + rules
    }

    fn version(&self) -> u64 {
        self.version
    }
}

/// Approximate heap bytes of one parsed rule.
fn rule_weight(rule: &Rule) -> usize {
    let key = match &rule.matcher.kind {
        MatcherKind::Tag(key) => key.len(),
        _ => 0,
    };
    let owners: usize = rule.owners.iter().map(|o| std::mem::size_of::<Owner>() + o.identifier().len()).sum();
    std::mem::size_of::<Rule>() + rule.matcher.pattern.len() + key + owners
}

/// The kept parses, and how many parses were made.
pub struct RulesCache {
    memory: RefCell<MemoryCache<ParsedRules>>,
    parses: Cell<u64>,
}

impl RulesCache {
    /// An empty cache within `limits`.
    pub fn new(limits: Limits) -> Self {
        RulesCache { memory: RefCell::new(MemoryCache::new(limits)), parses: Cell::new(0) }
    }

    /// The rules of `project`'s record at `version`, whose text is `raw`:
    /// the kept parse of that version, or a new one (then kept).
    pub fn get(&self, project: Id, version: u64, raw: &str, now: Millis) -> Rc<ParsedRules> {
        let key = CacheKey::ownership(project);
        {
            let mut memory = self.memory.borrow_mut();
            memory.sweep(now, SWEEP_BUDGET);
            if let Lookup::Fresh(held) = memory.get(&key, now) {
                if held.version == version {
                    return held;
                }
            }
        }
        self.parses.set(self.parses.get().saturating_add(1));
        let parsed = Rc::new(ParsedRules { version, rules: parse_rules(raw) });
        self.memory.borrow_mut().insert(key, Rc::clone(&parsed), KEEP, now);
        parsed
    }

    /// Keeps `rules`, already parsed from the text the origin stored as
    /// `version` (a write checks the rules before sending them).
    pub fn keep(&self, project: Id, version: u64, rules: Vec<Rule>, now: Millis) {
        let parsed = Rc::new(ParsedRules { version, rules: Ok(rules) });
        self.memory.borrow_mut().insert(CacheKey::ownership(project), parsed, KEEP, now);
    }

    /// Parses made since the isolate started.
    pub fn parses(&self) -> u64 {
        self.parses.get()
    }

    /// Parses held now and their estimated bytes.
    pub fn held(&self) -> (usize, usize) {
        let memory = self.memory.borrow();
        (memory.len(), memory.bytes())
    }

    /// Counts a parse made elsewhere (a write checking its rules).
    pub fn count_parse(&self) {
        self.parses.set(self.parses.get().saturating_add(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &str = "path:src/* #backend\nurl:*/checkout/* alice@example.com";

    #[test]
    fn one_parse_per_project_and_version() {
        let cache = RulesCache::new(Limits::default());
        let first = cache.get(1, 7, RAW, 1_000);
        assert_eq!(first.rules().len(), 2);
        assert!(Rc::ptr_eq(&first, &cache.get(1, 7, RAW, 2_000)), "the same version is the same parse");
        assert_eq!(cache.parses(), 1);
        let newer = cache.get(1, 8, "path:* #t", 3_000);
        assert_eq!((newer.version, newer.rules().len(), cache.parses()), (8, 1, 2), "a new version is parsed afresh");
        cache.get(2, 7, RAW, 3_000);
        assert_eq!(cache.parses(), 3, "projects do not share parses");
        assert_eq!(cache.held().0, 2);
    }

    #[test]
    fn a_text_that_does_not_parse_keeps_its_error_and_matches_nothing() {
        let cache = RulesCache::new(Limits::default());
        let bad = cache.get(1, 3, "nonsense", 0);
        assert!(bad.rules.is_err());
        assert!(bad.rules().is_empty());
        cache.get(1, 3, "nonsense", 1);
        assert_eq!(cache.parses(), 1);
    }

    #[test]
    fn parses_are_bounded_by_bytes_and_die_after_an_hour() {
        let one = ParsedRules { version: 1, rules: parse_rules(RAW) }.weight();
        let limits = Limits { max_entries: 100, max_bytes: 3 * (one + 300) };
        let cache = RulesCache::new(limits);
        for project in 1..=10 {
            cache.get(project, 1, RAW, 0);
        }
        let (held, bytes) = cache.held();
        assert!(held < 10 && bytes <= limits.max_bytes, "{held} parses, {bytes} bytes");
        cache.get(10, 1, RAW, 3_599_999);
        assert_eq!(cache.parses(), 10, "the most recent is still held");
        cache.get(10, 1, RAW, 3_600_000);
        assert_eq!(cache.parses(), 11, "an hour later it is parsed again");
    }

    #[test]
    fn weight_grows_with_the_rules() {
        let small = ParsedRules { version: 1, rules: parse_rules("path:a #t") }.weight();
        let text = "path:a/very/long/pattern/* #team alice@example.com\n".repeat(100);
        let large = ParsedRules { version: 1, rules: parse_rules(&text) }.weight();
        assert!(large > 100 * small / 2, "{small} vs {large}");
    }

    #[test]
    fn parse_limits_take_a_quarter_of_isolate_memory() {
        let limits = parse_limits(Limits { max_entries: 10, max_bytes: 4_000 });
        assert_eq!(limits, Limits { max_entries: 10, max_bytes: 1_000 });
    }
}
