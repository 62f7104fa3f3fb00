//! Project ownership records through the tiers (docs/design.md
//! "Ownership"), and owners of an event computed at the edge.
//!
//! Most projects have no ownership record, so "absent" is cached like a
//! record (negative cache): a project without rules costs the origin one
//! call, then none until the entry expires. A write caches the new record; a
//! delete caches "absent" (the original design's save/delete signals).
//!
//! The rules text is parsed at the edge (`ownership::grammar`): a write
//! with a grammar error (or over `limits::MAX_RULES_BYTES`) is refused
//! before it reaches the origin, and a record written around the edge with
//! bad rules is served with `schema: null` and the error, and matches no
//! rule.
//!
//! Costs of `owners`: the record comes from the tiers like any value; its
//! rules are parsed once per (project, version) and kept (`parsed`), so a
//! call costs the evaluation alone: at most one glob match per rule per
//! distinct text the rule looks at — rules × frames for `path:` and
//! `module:` rules, with at most `limits::MAX_RULES` (1,000) rules and
//! `limits::MAX_EVENT_FRAMES` (10,000) frames (each frame gives a
//! `filename` and an `abs_path`), rules × tags for `tags.*`, and one match
//! per `url:` rule. Each match is O(len(pattern) × len(text)) at worst and
//! linear for ordinary patterns; the body limit bounds the texts.

use serde_json::Value;

use super::error::Error;
use super::key::CacheKey;
use super::lifecycle::{Millis, Policy};
use super::limits;
use super::memory::Limits;
use super::ownership::{evaluate, event_from_json, parse_rules, Evaluation};
use super::ports::{Clock, DurableStore, Io, NetworkCache};
use super::scope::Id;
use super::source::Source;
use super::tiered::{read_failure_error, TieredCache};

/// A read: the record as the API shows it (`None`: the project has none).
#[derive(Debug, Clone, PartialEq)]
pub struct OwnershipRead {
    /// `{raw, schema, fallthrough, auto_assignment, is_active, version, updated_at}` or none.
    pub record: Option<Value>,
    /// The tier that answered.
    pub source: Source,
    /// A stale record was answered without waiting: refresh it in the background.
    pub refresh: bool,
    /// How old a stale record (`Stale`, `Snapshot`) is, ms, when known.
    pub age_ms: Option<Millis>,
    /// The record answered is known not to be current (`propagation`).
    pub degraded: bool,
}

/// The outcome of an ownership write the origin accepted.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnershipWrite {
    /// The stored record as the API shows it (`raw`, `schema`, `fallthrough`,
    /// `auto_assignment`, `is_active`, `version`, `updated_at`).
    pub record: Value,
    /// Whether KV took it too (if not, the sync job repairs it).
    pub cache_updated: bool,
}

/// Owners of an event, and the tier that answered for the rules.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnersAnswer {
    /// Owners, matched rules, auto-assignee.
    pub evaluation: Evaluation,
    /// The tier that answered for the ownership record.
    pub source: Source,
    /// A stale record was used without waiting: refresh it in the background.
    pub refresh: bool,
    /// How old a stale record (`Stale`, `Snapshot`) is, ms, when known.
    pub age_ms: Option<Millis>,
}

mod parsed;
mod record;

pub use parsed::{parse_limits, ParsedRules, RulesCache};
pub use record::{OwnershipInput, RecordFlags};

use record::{raw_of, to_store, view};

/// Project ownership records, cached with one ttl/grace, and the parsed
/// rules of the versions seen.
pub struct ProjectOwnership {
    policy: Policy,
    rules: RulesCache,
}

impl ProjectOwnership {
    /// Records cached with `policy`; parses kept within the default bounds
    /// ([`parse_limits`] of isolate memory's defaults).
    pub fn new(policy: Policy) -> Self {
        ProjectOwnership { policy, rules: RulesCache::new(parse_limits(Limits::default())) }
    }

    /// The same, with parses kept within `limits`.
    #[must_use]
    pub fn with_parse_limits(mut self, limits: Limits) -> Self {
        self.rules = RulesCache::new(limits);
        self
    }

    /// The kept parses (figures for stats, and tests counting parses).
    pub fn rules_cache(&self) -> &RulesCache {
        &self.rules
    }

    /// The project's record, or none.
    ///
    /// # Errors
    /// `unavailable` / `origin_timeout` when nothing is cached and the stores fail.
    pub async fn get<K, O, C>(
        &self,
        cache: &TieredCache,
        io: &Io<'_, K, O, C>,
        project: Id,
    ) -> Result<OwnershipRead, Error>
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        self.get_at_least(cache, io, project, None).await
    }

    /// The project's record, at `min_version` or later while the origin can
    /// answer (`propagation`).
    ///
    /// # Errors
    /// As [`ProjectOwnership::get`].
    pub async fn get_at_least<K, O, C>(
        &self,
        cache: &TieredCache,
        io: &Io<'_, K, O, C>,
        project: Id,
        min_version: Option<u64>,
    ) -> Result<OwnershipRead, Error>
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        let key = CacheKey::ownership(project);
        let fetch = || io.origin.get_ownership(project);
        let read = cache.read_at_least(&key, self.policy, min_version, io.kv, io.clock, fetch).await;
        let read = read.map_err(read_failure_error)?;
        let now = io.clock.now_ms();
        let record = read.entry.value().map(|r| {
            let parsed = self.rules.get(project, read.entry.version, raw_of(r), now);
            view(r, read.entry.version, &parsed)
        });
        Ok(OwnershipRead {
            record,
            source: read.source,
            refresh: read.refresh,
            age_ms: read.age_ms,
            degraded: read.degraded,
        })
    }

    /// Refreshes the project's record from the origin in the background.
    pub async fn revalidate<K, O, C>(&self, cache: &TieredCache, io: &Io<'_, K, O, C>, project: Id) -> bool
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        let key = CacheKey::ownership(project);
        cache.revalidate(&key, self.policy, io.kv, io.clock, || io.origin.get_ownership(project)).await
    }

    /// Replaces the project's record: rules checked here, then the origin,
    /// then the caches. Returns the stored record and whether KV took it.
    ///
    /// # Errors
    /// `too_large` for rules text over `limits::MAX_RULES_BYTES`;
    /// `invalid_rules` naming the line and column; origin failures as for
    /// every write (nothing changes).
    pub async fn put<K, O, C>(
        &self,
        cache: &TieredCache,
        io: &Io<'_, K, O, C>,
        project: Id,
        input: OwnershipInput,
    ) -> Result<(Value, bool), Error>
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        limits::check_rules_size(&input.raw)?;
        self.rules.count_parse();
        let rules = parse_rules(&input.raw).map_err(Error::from)?;
        let record = to_store(&input);
        limits::check_origin_body(&record)?;
        let key = CacheKey::ownership(project);
        let stored = cache.origin_first(&key, io, io.origin.put_ownership(project, &record)).await?;
        let now = io.clock.now_ms();
        let shown = match stored.value() {
            Some(r) => {
                // The origin stores the text as sent: keep this parse for
                // the stored version (and parse what it stored otherwise).
                if raw_of(r) == input.raw {
                    self.rules.keep(project, stored.version, rules, now);
                }
                view(r, stored.version, &self.rules.get(project, stored.version, raw_of(r), now))
            }
            None => Value::Null,
        };
        let cache_updated = cache.after_write(&key, stored, self.policy, io.kv, io.clock).await;
        Ok((shown, cache_updated))
    }

    /// Removes the project's record; the caches learn "absent".
    /// Returns whether KV took it.
    pub async fn delete<K, O, C>(&self, cache: &TieredCache, io: &Io<'_, K, O, C>, project: Id) -> Result<bool, Error>
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        Ok(self.delete_versioned(cache, io, project).await?.1)
    }

    /// [`ProjectOwnership::delete`], with the origin's version of the delete
    /// (what a caller passes as `min_version` to read its own write).
    pub async fn delete_versioned<K, O, C>(
        &self,
        cache: &TieredCache,
        io: &Io<'_, K, O, C>,
        project: Id,
    ) -> Result<(u64, bool), Error>
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        let key = CacheKey::ownership(project);
        let gone = cache.origin_first(&key, io, io.origin.delete_ownership(project)).await?;
        let version = gone.version;
        Ok((version, cache.after_write(&key, gone, self.policy, io.kv, io.clock).await))
    }

    /// The owners of `event` under the project's (cached) rules. A project
    /// with no record has no rules and falls through to everyone, as in the
    /// original design; an inactive record matches no rule.
    ///
    /// # Errors
    /// `invalid_body` for an event that is not a JSON object; read failures
    /// as for `get`.
    pub async fn owners<K, O, C>(
        &self,
        cache: &TieredCache,
        io: &Io<'_, K, O, C>,
        project: Id,
        event: &Value,
    ) -> Result<OwnersAnswer, Error>
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        self.owners_at_least(cache, io, project, event, None).await
    }

    /// Who owns `event`, under the record at `min_version` or later while
    /// the origin can answer (`propagation`).
    ///
    /// # Errors
    /// As [`ProjectOwnership::owners`].
    pub async fn owners_at_least<K, O, C>(
        &self,
        cache: &TieredCache,
        io: &Io<'_, K, O, C>,
        project: Id,
        event: &Value,
        min_version: Option<u64>,
    ) -> Result<OwnersAnswer, Error>
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        let event = event_from_json(event)?;
        let key = CacheKey::ownership(project);
        let fetch = || io.origin.get_ownership(project);
        let read = cache.read_at_least(&key, self.policy, min_version, io.kv, io.clock, fetch).await;
        let read = read.map_err(read_failure_error)?;
        let (parsed, flags) = match read.entry.value() {
            None => (None, RecordFlags::DEFAULT),
            Some(record) => {
                let flags = RecordFlags::of_record(record);
                let now = io.clock.now_ms();
                (flags.is_active.then(|| self.rules.get(project, read.entry.version, raw_of(record), now)), flags)
            }
        };
        let rules = parsed.as_deref().map(ParsedRules::rules).unwrap_or_default();
        let evaluation = evaluate(rules, &event, flags.fallthrough, flags.auto_assignment);
        Ok(OwnersAnswer { evaluation, source: read.source, refresh: read.refresh, age_ms: read.age_ms })
    }
}

#[cfg(test)]
mod tests;
