//! Answer shaping: what every front end sends back for a call, decided once
//! (docs/design.md "Answers").
//!
//! The core produces each answer's JSON, with the edge API's snake_case
//! keys; the tier that answered a read (the `x-cache` header, the `source`
//! field); the key to refresh in the background once a stale answer is
//! sent ([`Refresh`]); and, for an option read from a fresh memory entry,
//! until when the same answer holds ([`Kept`], the npm package's hot path).
//! The front ends only render and transport it: the HTTP API as it is,
//! the npm package with its top-level keys in camelCase. A Rust Worker
//! (`embed`) takes the typed answers with the same refresh decision
//! ([`Answered`]). The calls themselves are in `calls`.

use serde_json::{json, Map, Value};

use super::lifecycle::Millis;
use super::maps::{MapKeyRead, MapRead, MapWrite};
use super::options::{OptionValue, OptionWrite};
use super::project_ownership::{OwnersAnswer, OwnershipRead, OwnershipWrite};
use super::scope::{Id, Scope};
use super::source::Source;
use super::sync::SyncReport;

/// A key to refresh in the background after a stale answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Refresh {
    /// A registered option.
    Option(String),
    /// An option map.
    Map(Scope),
    /// A project's ownership record.
    Ownership(Id),
}

/// A typed answer and what to refresh once it is sent (a Rust Worker's
/// view of a read; the HTTP API and the npm package get an [`Answer`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Answered<T> {
    /// The answer.
    pub answer: T,
    /// The key to refresh in the background, after a stale answer.
    pub refresh: Option<Refresh>,
}

/// One answer as a front end sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// The body, with the edge API's snake_case keys.
    pub body: Value,
    /// The tier that answered a read (`x-cache`); none for a write.
    pub source: Option<Source>,
    /// The key to refresh in the background once the answer is sent.
    pub refresh: Option<Refresh>,
    /// Until when reads of the same option answer the same (an option read
    /// from a fresh isolate-memory entry).
    pub keep: Option<Kept>,
}

/// An option answer that holds until a moment: what every read of the
/// option gives until then (the answer of a memory hit), so a front end may
/// keep it and answer without calling the core (npm's `hot.js`).
#[derive(Debug, Clone, PartialEq)]
pub struct Kept {
    /// Milliseconds since the epoch when the memory entry stops being fresh.
    pub until: Millis,
    /// The body of a read answered from memory until then.
    pub body: Value,
}

impl Answer {
    /// The answer to a read.
    pub fn read(body: Value, source: Source, refresh: Option<Refresh>) -> Answer {
        Answer { body, source: Some(source), refresh, keep: None }
    }

    /// The answer to a write (or a call that reads no cached thing).
    pub fn write(body: Value) -> Answer {
        Answer { body, source: None, refresh: None, keep: None }
    }
}

impl OptionValue {
    /// The answer as the API shows it: `{name, value, source, degraded,
    /// lookup?, version?}`. A credential's value is replaced by `null` and
    /// `redacted: true` unless `reveal_credentials` (admins, and the npm
    /// package, whose caller is the Worker's own code).
    pub fn to_json(&self, reveal_credentials: bool) -> Value {
        let hidden = self.credential && !reveal_credentials;
        let mut body = Map::new();
        body.insert("name".into(), Value::String(self.name.clone()));
        body.insert("value".into(), if hidden { Value::Null } else { self.value.clone() });
        body.insert("source".into(), Value::from(self.source.as_str()));
        body.insert("degraded".into(), Value::Bool(self.degraded));
        if hidden {
            body.insert("redacted".into(), Value::Bool(true));
        }
        if let Some(lookup) = self.lookup {
            body.insert("lookup".into(), Value::from(lookup.as_str()));
        }
        if let Some(version) = self.version {
            body.insert("version".into(), Value::from(version));
        }
        mark_stale(&mut body, self.lookup.is_some_and(Source::is_stale), self.age_ms);
        Value::Object(body)
    }

    /// The same answer as a read answered from isolate memory gives it: a
    /// stored value's source is `local` (config and default keep theirs),
    /// the lookup is `local`, nothing to refresh.
    pub fn as_memory_hit(&self) -> OptionValue {
        let source = match self.source {
            Source::Config | Source::Default => self.source,
            Source::Local | Source::Kv | Source::Origin | Source::Stale | Source::Snapshot => Source::Local,
        };
        OptionValue { source, lookup: Some(Source::Local), refresh: false, age_ms: None, ..self.clone() }
    }
}

impl OptionWrite {
    /// `{name, value, version, cache_updated}` (no `value` after a delete).
    pub fn to_json(&self) -> Value {
        let mut body = Map::new();
        body.insert("name".into(), Value::String(self.name.clone()));
        if let Some(value) = &self.value {
            body.insert("value".into(), value.clone());
        }
        body.insert("version".into(), Value::from(self.version));
        body.insert("cache_updated".into(), Value::Bool(self.cache_updated));
        Value::Object(body)
    }
}

/// A stale answer says so, and how old it is: `stale: true` and `age_ms`
/// (when known: copies written before ages were recorded have none).
fn mark_stale(body: &mut Map<String, Value>, stale: bool, age_ms: Option<Millis>) {
    if stale {
        body.insert("stale".into(), Value::Bool(true));
        if let Some(age) = age_ms {
            body.insert("age_ms".into(), Value::from(age));
        }
    }
}

/// `body` (an object) marked stale when `source` is.
fn with_staleness(body: Value, source: Source, age_ms: Option<Millis>) -> Value {
    match body {
        Value::Object(mut map) => {
            mark_stale(&mut map, source.is_stale(), age_ms);
            Value::Object(map)
        }
        other => other,
    }
}

impl MapRead {
    /// `{values, source, version}`, and `stale`, `age_ms` when stale,
    /// `degraded: true` when the map is known not to be current.
    pub fn to_json(&self) -> Value {
        let body = json!({ "values": self.values, "source": self.source.as_str(), "version": self.version });
        with_degraded(with_staleness(body, self.source, self.age_ms), self.degraded)
    }
}

impl MapKeyRead {
    /// `{key, value, source, version}`, `value: null` when the key is unset;
    /// `stale`, `age_ms` when stale, `degraded: true` when the map is known
    /// not to be current.
    pub fn to_json(&self) -> Value {
        let body =
            json!({ "key": self.key, "value": self.value, "source": self.source.as_str(), "version": self.version });
        with_degraded(with_staleness(body, self.source, self.age_ms), self.degraded)
    }
}

/// `body` with `degraded: true` added when `degraded` (a read that could
/// not reach the version it should: `propagation`); unchanged otherwise.
fn with_degraded(mut body: Value, degraded: bool) -> Value {
    if let (true, Value::Object(map)) = (degraded, &mut body) {
        map.insert("degraded".into(), Value::Bool(true));
    }
    body
}

/// A write of one map key: `{key, value, version, cache_updated}`, the value
/// as written (none after a delete).
pub fn map_key_write(key: &str, value: Option<&Value>, written: &MapWrite) -> Value {
    let mut body = Map::new();
    body.insert("key".into(), Value::from(key));
    if let Some(value) = value {
        body.insert("value".into(), value.clone());
    }
    body.insert("version".into(), Value::from(written.version));
    body.insert("cache_updated".into(), Value::Bool(written.cache_updated));
    Value::Object(body)
}

impl OwnershipRead {
    /// `{ownership: record | null, source}`, and `stale`, `age_ms` when
    /// stale, `degraded: true` when the record is known not to be current.
    pub fn to_json(&self) -> Value {
        let body = json!({ "ownership": self.record, "source": self.source.as_str() });
        with_degraded(with_staleness(body, self.source, self.age_ms), self.degraded)
    }
}

impl OwnershipWrite {
    /// The stored record plus `cache_updated`.
    pub fn to_json(&self) -> Value {
        let mut body = match &self.record {
            Value::Object(record) => record.clone(),
            _ => Map::new(),
        };
        body.insert("cache_updated".into(), Value::Bool(self.cache_updated));
        Value::Object(body)
    }
}

/// A delete of an ownership record: `{version, cache_updated}`.
pub fn ownership_delete(version: u64, cache_updated: bool) -> Value {
    json!({ "version": version, "cache_updated": cache_updated })
}

/// A record of last processed events: `{recorded}`, how many hashes.
pub fn recorded(hashes: usize) -> Value {
    json!({ "recorded": hashes })
}

/// The last processed events asked for, aligned with the ids: `{event_ids}`.
pub fn event_ids(found: &[Option<String>]) -> Value {
    json!({ "event_ids": found })
}

impl SyncReport {
    /// `{synced, options, maps, ownership, failed, skipped, unreadable,
    /// kv_ops, origin_calls, cursor, more, problems}`.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or_else(|_| json!({}))
    }
}

impl OwnersAnswer {
    /// `{owners, rules, auto_assign, source}`.
    pub fn to_json(&self) -> Value {
        let mut body = match serde_json::to_value(&self.evaluation) {
            Ok(Value::Object(evaluation)) => evaluation,
            _ => Map::new(),
        };
        body.insert("source".into(), Value::from(self.source.as_str()));
        mark_stale(&mut body, self.source.is_stale(), self.age_ms);
        Value::Object(body)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn option(source: Source, credential: bool) -> OptionValue {
        OptionValue {
            name: "mail.password".into(),
            value: json!("hunter2"),
            source,
            degraded: false,
            lookup: Some(source),
            version: Some(4),
            credential,
            refresh: false,
            age_ms: None,
        }
    }

    #[test]
    fn a_credential_is_redacted_unless_revealed_and_other_options_never_are() {
        let secret = option(Source::Origin, true);
        let hidden = secret.to_json(false);
        assert_eq!((&hidden["value"], &hidden["redacted"]), (&Value::Null, &json!(true)));
        assert!(!hidden.to_string().contains("hunter2"), "{hidden}");
        let shown = secret.to_json(true);
        assert_eq!((&shown["value"], shown.get("redacted")), (&json!("hunter2"), None));
        assert_eq!(option(Source::Origin, false).to_json(false)["value"], json!("hunter2"));
    }

    #[test]
    fn a_memory_hit_answers_a_stored_value_as_local_and_keeps_config_and_defaults() {
        for source in [Source::Origin, Source::Kv, Source::Local, Source::Stale] {
            let hit = option(source, false).as_memory_hit();
            assert_eq!((hit.source, hit.lookup, hit.refresh), (Source::Local, Some(Source::Local), false));
        }
        let configured = OptionValue { lookup: Some(Source::Origin), ..option(Source::Config, false) };
        assert_eq!(configured.as_memory_hit().source, Source::Config);
        assert_eq!(configured.as_memory_hit().lookup, Some(Source::Local));
    }

    #[test]
    fn writes_show_the_value_written_and_deletes_none() {
        let set = OptionWrite { name: "a".into(), value: Some(json!(1)), version: 3, cache_updated: true };
        assert_eq!(set.to_json(), json!({"name": "a", "value": 1, "version": 3, "cache_updated": true}));
        let gone = OptionWrite { value: None, cache_updated: false, ..set };
        assert_eq!(gone.to_json(), json!({"name": "a", "version": 3, "cache_updated": false}));
        let map = MapWrite { values: Map::new(), version: 9, cache_updated: true };
        assert_eq!(
            map_key_write("k", Some(&json!([1])), &map),
            json!({"key": "k", "value": [1], "version": 9, "cache_updated": true})
        );
        assert_eq!(map_key_write("k", None, &map), json!({"key": "k", "version": 9, "cache_updated": true}));
        let record = OwnershipWrite { record: json!({"raw": "", "version": 2}), cache_updated: false };
        assert_eq!(record.to_json(), json!({"raw": "", "version": 2, "cache_updated": false}));
    }

    #[test]
    fn reads_carry_their_source_and_an_unset_map_key_is_null() {
        let read =
            MapKeyRead { key: "k".into(), value: None, source: Source::Kv, version: 2, age_ms: None, degraded: false };
        assert_eq!(read.to_json(), json!({"key": "k", "value": null, "source": "kv", "version": 2}));
        let none = OwnershipRead { record: None, source: Source::Local, refresh: false, age_ms: None, degraded: false };
        assert_eq!(none.to_json(), json!({"ownership": null, "source": "local"}));
        assert_eq!(event_ids(&[None, Some("e".into())]), json!({"event_ids": [null, "e"]}));
        assert_eq!(recorded(2), json!({"recorded": 2}));
        let behind = MapKeyRead { degraded: true, ..read };
        assert_eq!(behind.to_json()["degraded"], json!(true), "a read known not to be current says so");
    }

    #[test]
    fn stale_answers_say_so_with_their_age_and_fresh_ones_carry_neither() {
        let stale = OptionValue { age_ms: Some(7_200_000), ..option(Source::Stale, false) };
        assert_eq!(
            (&stale.to_json(false)["stale"], &stale.to_json(false)["age_ms"]),
            (&json!(true), &json!(7_200_000))
        );
        let fresh = option(Source::Kv, false).to_json(false);
        assert_eq!((fresh.get("stale"), fresh.get("age_ms")), (None, None));
        let snapshot =
            OwnershipRead { record: None, source: Source::Snapshot, refresh: false, age_ms: Some(5), degraded: false };
        assert_eq!(snapshot.to_json(), json!({"ownership": null, "source": "snapshot", "stale": true, "age_ms": 5}));
        let unknown_age = MapRead {
            values: Map::new(),
            source: Source::Stale,
            version: 1,
            refresh: false,
            age_ms: None,
            degraded: false,
        };
        assert_eq!(unknown_age.to_json(), json!({"values": {}, "source": "stale", "version": 1, "stale": true}));
        // An unset option behind a stale lookup answers its default, marked stale.
        let default = OptionValue { lookup: Some(Source::Snapshot), age_ms: Some(9), ..option(Source::Default, false) };
        assert_eq!((&default.to_json(false)["stale"], &default.to_json(false)["age_ms"]), (&json!(true), &json!(9)));
    }
}
