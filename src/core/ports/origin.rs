//! The origin as the core sees it: the durable store, the only tier that
//! takes writes, and its change feed.

use serde_json::Value;

use super::TierError;
use crate::core::scope::{Id, Scope};
use crate::core::slot::Versioned;

/// The origin API (openapi/origin.yaml): options, option maps, ownership
/// records and the change feed.
#[allow(async_fn_in_trait)]
pub trait DurableStore {
    /// The option's value, or absent (404) with the tombstone version if any.
    async fn get_option(&self, name: &str) -> Result<Versioned, TierError>;
    /// Stores a value; answers what was stored with its new version.
    async fn put_option(&self, name: &str, value: &Value) -> Result<Versioned, TierError>;
    /// Removes a value; answers absent with the delete's version (or the
    /// tombstone's, or 0, when there was nothing to delete).
    async fn delete_option(&self, name: &str) -> Result<Versioned, TierError>;
    /// One page of the change feed: the changes with a version above
    /// `after`, in version order, at most `limit` (`GET /changes`).
    async fn changes_after(&self, after: u64, limit: u32) -> Result<ChangePage, TierError>;
    /// A whole option map (empty with version 0 when nothing was ever set).
    async fn get_map(&self, scope: &Scope) -> Result<Versioned, TierError>;
    /// Sets one key; answers the whole map after the write.
    async fn put_map_key(&self, scope: &Scope, key: &str, value: &Value) -> Result<Versioned, TierError>;
    /// Unsets one key; answers the whole map after the write, or `None` when
    /// the key was not set.
    async fn delete_map_key(&self, scope: &Scope, key: &str) -> Result<Option<Versioned>, TierError>;
    /// A project's ownership record, or absent.
    async fn get_ownership(&self, project: Id) -> Result<Versioned, TierError>;
    /// Replaces a project's ownership record (`{raw, fallthrough, auto_assignment, is_active}`).
    async fn put_ownership(&self, project: Id, record: &Value) -> Result<Versioned, TierError>;
    /// Removes a project's ownership record; answers absent with the delete's version.
    async fn delete_ownership(&self, project: Id) -> Result<Versioned, TierError>;
}

/// What one change is about: the thing whose cache entry it replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Changed {
    /// A global option, by name.
    Option(String),
    /// An option map.
    Map(Scope),
    /// A project's ownership record.
    Ownership(Id),
}

/// One change of the feed: a thing and its latest state (present or
/// absent) at its version.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// What changed.
    pub thing: Changed,
    /// Its state and version.
    pub entry: Versioned,
}

/// One page of the origin's change feed (`GET /changes`): what the sync
/// job re-writes into KV.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ChangePage {
    /// The changes the edge can read, in version order.
    pub changes: Vec<Change>,
    /// Rows the origin reported it could not read (`skipped`) plus entries
    /// of `changes` that break the contract: left out, counted.
    pub unreadable: usize,
    /// The version to ask after next (never below the one asked after).
    pub next: u64,
    /// Whether the origin holds changes after `next` already.
    pub more: bool,
}
