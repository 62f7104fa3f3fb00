//! The sync job: page through the origin's change feed by version, from
//! where the last run stopped, and re-write into KV what changed.
//!
//! It repairs KV after cache writes that failed (`cache_updated: false`) and
//! after writes that bypassed the edge. Runs from the cron trigger,
//! `POST /v1/admin/sync` and the npm package's `sync()`. One run stays
//! inside a Worker invocation's 1,000 subrequests (`budget`): it counts
//! every KV operation and origin call before making it, stops when the
//! next would not fit, and saves its cursor (`cursor`) so the next run
//! continues there. The rules it keeps:
//!
//! - the cursor only moves past changes actually written into KV or
//!   deliberately skipped, so a run cut short loses nothing;
//! - it never writes an older version over a newer one it holds
//!   (`version`): isolate memory refuses older versions, and before
//!   writing a page it reads what KV holds for the page's keys (one bulk
//!   read) and skips those KV already has at the same or a newer version
//!   (a second full pass writes nothing). KV has no compare-and-set, so a
//!   write by another isolate between that read and this put can still be
//!   overwritten; the next read or write of the key settles it;
//! - unknown and `nostore` option names are skipped; rows nobody can read
//!   are passed over and counted.
//!
//! Isolate memory is updated too, and so is the last-known-good snapshot
//! (`snapshot`): every change a run pages through is merged into it, and a
//! run starts at the lower of the cursor and the snapshot's own version.

mod budget;
mod cursor;
mod report;
mod snapshot;

pub use budget::{SyncLimits, MAX_KV_OPS, MAX_ORIGIN_CALLS, MIN_KV_OPS};
pub use report::SyncReport;

use budget::Budget;

use super::envelope;
use super::error::{Error, Reason};
use super::key::CacheKey;
use super::lifecycle::Policy;
use super::options::Options;
use super::ports::{ChangePage, Changed, Clock, DurableStore, Io, NetworkCache, TierError, KV_BULK_KEYS};
use super::tiered::TieredCache;
use super::version;

/// The lifecycle of the kinds sync re-writes besides options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindPolicies {
    /// Option maps.
    pub maps: Policy,
    /// Ownership records.
    pub ownership: Policy,
}

/// Most changes asked for in one page: what one KV bulk read covers.
const PAGE_LIMIT: u32 = KV_BULK_KEYS as u32;

/// Re-writes into KV what the origin changed after the saved cursor, within
/// `limits`, and saves the cursor where it stopped.
///
/// # Errors
/// `unavailable` when KV cannot read the cursor or the origin is
/// unreachable, `origin_timeout` / `origin_error` when the origin cannot
/// list its changes: nothing was written then. Failures after the first
/// page only cut the run short (`more`, `problems`).
pub async fn sync<K, O, C>(
    options: &Options,
    kinds: &KindPolicies,
    cache: &TieredCache,
    io: &Io<'_, K, O, C>,
    limits: SyncLimits,
) -> Result<SyncReport, Error>
where
    K: NetworkCache,
    O: DurableStore,
    C: Clock,
{
    let mut run =
        Run { options, kinds, cache, io, budget: Budget::new(limits), report: SyncReport::default(), snapshot: None };
    let cursor = run.read_cursor().await?;
    run.snapshot = match snapshot::load(io.kv, &mut run.budget).await {
        Ok(working) => Some(working),
        Err(problem) => {
            run.problem(problem);
            None
        }
    };
    let start = run.snapshot.as_ref().map_or(cursor, |w| cursor.min(w.snapshot.version));
    let mut done = start;
    let mut more = true;
    // Room for a page: its bulk read and at least one write.
    while run.budget.kv_left() >= 2 && run.budget.take_origin_call() {
        let limit = (run.budget.kv_left() - 1).min(PAGE_LIMIT);
        let page = match io.origin.changes_after(done, limit).await {
            Ok(page) => page,
            Err(e) if run.budget.origin_calls() == 1 => return Err(origin_error(&e)),
            Err(e) => {
                run.problem(format!("the origin stopped listing its changes ({}); the next run goes on", e.kind()));
                break;
            }
        };
        run.report.unreadable += page.unreadable;
        match run.apply(&page, done).await {
            Some(through) => {
                done = through;
                break;
            }
            None => {
                done = page.next;
                more = page.more;
                if !more {
                    break;
                }
            }
        }
    }
    if let Some(working) = run.snapshot.take() {
        if let Some(problem) = snapshot::save(io.kv, &mut run.budget, working, done, io.clock.now_ms()).await {
            run.problem(problem);
        }
    }
    // A run that started below the cursor (catching the snapshot up) never
    // moves the cursor back.
    let (cursor, more) = run.save_cursor(cursor, done.max(cursor), more).await;
    let mut report = run.report;
    report.synced = report.total();
    report.kv_ops = run.budget.kv_ops();
    report.origin_calls = run.budget.origin_calls();
    report.cursor = cursor;
    report.more = more;
    Ok(report)
}

/// Which counter a written change adds to.
#[derive(Debug, Clone, Copy)]
enum Counted {
    Option,
    Map,
    Ownership,
}

/// Where a change goes: its key, its lifecycle, its counter.
struct Target {
    key: CacheKey,
    policy: Policy,
    counted: Counted,
}

/// One run's state.
struct Run<'r, 'io, K, O, C> {
    options: &'r Options,
    kinds: &'r KindPolicies,
    cache: &'r TieredCache,
    io: &'r Io<'io, K, O, C>,
    budget: Budget,
    report: SyncReport,
    /// The snapshot being brought up to date (`None`: not this run).
    snapshot: Option<snapshot::Working>,
}

impl<K: NetworkCache, O: DurableStore, C: Clock> Run<'_, '_, K, O, C> {
    /// The saved cursor; 0 when there is none or it is unreadable.
    async fn read_cursor(&mut self) -> Result<u64, Error> {
        if !self.budget.take_kv(1) {
            return Err(Error::Unavailable(
                format!("the sync needs at least {MIN_KV_OPS} KV operations per run").into(),
            ));
        }
        match self.io.kv.get(CacheKey::sync_cursor().as_str()).await {
            Ok(None) => Ok(0),
            Ok(Some(text)) => Ok(cursor::decode(&text).unwrap_or_else(|why| {
                self.problem(format!("the saved sync cursor was unreadable ({why}); started again from version 0"));
                0
            })),
            Err(e) => Err(Error::Unavailable(Reason::with_detail(
                format!("KV could not be read ({}), so the sync did not run; nothing was written", e.kind()),
                &e,
            ))),
        }
    }

    /// Saves the cursor if it moved: answers where the next run starts and
    /// whether anything is left for it.
    async fn save_cursor(&mut self, start: u64, done: u64, more: bool) -> (u64, bool) {
        if done == start {
            return (start, more);
        }
        if !self.budget.take_cursor_save() {
            return (start, true);
        }
        let key = CacheKey::sync_cursor();
        match self.io.kv.put(key.as_str(), cursor::encode(done), cursor::EXPIRATION_SECS).await {
            Ok(()) => (done, more),
            Err(e) => {
                self.problem(format!(
                    "the sync cursor could not be saved ({}); the next run repeats this one's work",
                    e.kind()
                ));
                (start, true)
            }
        }
    }

    /// Writes one page into KV. `None`: the whole page is done; `Some(v)`:
    /// the run stops, everything up to `v` done (budget spent, a write
    /// refused, KV unreadable).
    async fn apply(&mut self, page: &ChangePage, after: u64) -> Option<u64> {
        let targets: Vec<Option<Target>> = page.changes.iter().map(|c| self.target(&c.thing)).collect();
        let keys: Vec<String> = targets.iter().flatten().map(|t| t.key.as_str().to_string()).collect();
        let held = match self.held_versions(&keys).await {
            Ok(held) => held,
            Err(()) => return Some(after),
        };
        let mut through = after;
        let mut blocked = false;
        let mut index = 0;
        for (change, target) in page.changes.iter().zip(targets) {
            let version = change.entry.version;
            let Some(target) = target else {
                self.report.skipped += 1;
                through = if blocked { through } else { version };
                continue;
            };
            let in_kv = match &held {
                Some(held) => held.get(index).copied().flatten(),
                None => match self.held_version(&target.key).await {
                    Ok(found) => found,
                    Err(()) => return Some(through),
                },
            };
            index += 1;
            if let Some(working) = self.snapshot.as_mut() {
                let entry = change.entry.clone().given_at(self.io.clock.now_ms());
                working.changed |= working.snapshot.merge(&target.key, entry);
            }
            // KV already holds this version or a newer one: nothing to write.
            if in_kv.is_some_and(|held| !version::is_older(held, version)) {
                self.report.skipped += 1;
                through = if blocked { through } else { version };
                continue;
            }
            if !self.budget.take_kv(1) {
                return Some(through);
            }
            let io = self.io;
            let entry = change.entry.clone().given_at(io.clock.now_ms());
            if self.cache.after_write(&target.key, entry, target.policy, io.kv, io.clock).await {
                self.count(target.counted);
                through = if blocked { through } else { version };
            } else {
                self.report.failed += 1;
                blocked = true;
            }
        }
        blocked.then_some(through)
    }

    /// The versions KV holds for `keys` (`None` inside: nothing readable),
    /// from one bulk read; `Ok(None)` when the store has no bulk read.
    /// `Err` when KV failed or the budget is spent (the run stops).
    async fn held_versions(&mut self, keys: &[String]) -> Result<Option<Vec<Option<u64>>>, ()> {
        if keys.is_empty() {
            return Ok(Some(Vec::new()));
        }
        if !self.budget.take_kv(1) {
            return Err(());
        }
        match self.io.kv.get_bulk(keys).await {
            Ok(Some(texts)) if texts.len() == keys.len() => Ok(Some(texts.iter().map(held).collect())),
            Ok(_) => Ok(None),
            Err(e) => {
                self.problem(format!("KV could not be read ({}); the next run goes on", e.kind()));
                Err(())
            }
        }
    }

    /// The version KV holds for `key`, read alone (a store without bulk reads).
    async fn held_version(&mut self, key: &CacheKey) -> Result<Option<u64>, ()> {
        if !self.budget.take_kv(1) {
            return Err(());
        }
        match self.io.kv.get(key.as_str()).await {
            Ok(text) => Ok(held(&text)),
            Err(e) => {
                self.problem(format!("KV could not be read ({}); the next run goes on", e.kind()));
                Err(())
            }
        }
    }

    /// Where a change goes, or `None` when the edge does not store it.
    fn target(&self, thing: &Changed) -> Option<Target> {
        Some(match thing {
            Changed::Option(name) => {
                let spec = self.options.stored_spec(name)?;
                Target { key: CacheKey::option(&spec.name), policy: spec.policy, counted: Counted::Option }
            }
            Changed::Map(scope) => Target { key: CacheKey::map(scope), policy: self.kinds.maps, counted: Counted::Map },
            Changed::Ownership(project) => {
                Target { key: CacheKey::ownership(*project), policy: self.kinds.ownership, counted: Counted::Ownership }
            }
        })
    }

    fn count(&mut self, counted: Counted) {
        match counted {
            Counted::Option => self.report.options += 1,
            Counted::Map => self.report.maps += 1,
            Counted::Ownership => self.report.ownership += 1,
        }
    }

    fn problem(&mut self, problem: String) {
        self.report.problems.push(problem);
    }
}

/// The version of what KV holds, if it is readable.
fn held(text: &Option<String>) -> Option<u64> {
    text.as_deref().and_then(|t| envelope::decode(t).ok()).map(|entry| entry.version)
}

/// The error of a run whose first page the origin could not list. The
/// caller is told the kind of failure only; what the origin or the runtime
/// said goes to the operator's log (`Reason::detail`).
fn origin_error(e: &TierError) -> Error {
    match e {
        TierError::Timeout => Error::OriginTimeout(Reason::with_detail(
            "the origin did not list its changes in time; nothing was synced",
            e,
        )),
        TierError::Unreachable(_) => {
            Error::Unavailable(Reason::with_detail("the origin is unreachable; nothing was synced", e))
        }
        other => Error::OriginError(Reason::with_detail(
            format!("the origin could not list its changes ({}); nothing was synced", other.kind()),
            other,
        )),
    }
}

#[cfg(test)]
mod tests;
