//! The calls of the edge API over one isolate's [`Service`], once for every
//! front end: the HTTP API (`http::handlers`) and the npm package (`js`)
//! turn a request into a [`Call`] and send back its [`Answer`]; a Rust
//! Worker (`embed`) takes the typed reads ([`Answered`]). Each call checks
//! what the core checks (names, keys, values, rules) before any I/O; the
//! front ends check only what their own transport can get wrong (JSON
//! shapes, JS types).

use serde_json::Value;

use super::answer::{event_ids, map_key_write, ownership_delete, recorded, Answer, Answered, Kept, Refresh};
use super::error::Error;
use super::lifecycle::Millis;
use super::maps::{MapKeyRead, MapRead};
use super::options::OptionValue;
use super::ports::{Clock, DurableStore, Io, NetworkCache};
use super::project_ownership::{OwnersAnswer, OwnershipInput, OwnershipRead, OwnershipWrite};
use super::scope::{Id, Scope};
use super::service::Service;

/// One call of the edge API, its arguments converted by the front end.
#[derive(Debug, Clone, PartialEq)]
pub enum Call {
    /// `GET /v1/options/{name}`. `reveal_credentials`: the admin token, or
    /// the npm package (its caller is the Worker's own code). `keep`: the
    /// front end keeps fresh answers (the npm package): say until when.
    GetOption { name: String, reveal_credentials: bool, keep: bool },
    /// `PUT /v1/options/{name}`.
    SetOption { name: String, value: Value },
    /// `DELETE /v1/options/{name}`.
    DeleteOption { name: String },
    /// `GET …/options`: a scope's whole map.
    GetMap { scope: Scope },
    /// `GET …/options/{key}`: one key of the cached map.
    GetMapKey { scope: Scope, key: String },
    /// `PUT …/options/{key}`.
    SetMapKey { scope: Scope, key: String, value: Value },
    /// `DELETE …/options/{key}`.
    DeleteMapKey { scope: Scope, key: String },
    /// `GET /v1/projects/{id}/ownership`.
    GetOwnership { project: Id },
    /// `PUT /v1/projects/{id}/ownership`.
    PutOwnership { project: Id, input: OwnershipInput },
    /// `DELETE /v1/projects/{id}/ownership`.
    DeleteOwnership { project: Id },
    /// `POST /v1/projects/{id}/owners` with event data.
    Owners { project: Id, event: Value },
    /// `POST …/event-hashes/last-processed`.
    RecordLastProcessed { project: Id, hash_ids: Vec<i64>, event_id: String },
    /// `GET …/event-hashes/last-processed?ids=…`.
    LastProcessed { project: Id, hash_ids: Vec<i64> },
    /// `POST /v1/admin/sync`: one run of the sync job.
    Sync,
    /// A read (any of the above) answered at `min_version` or later while
    /// the origin can answer, else the best copy held marked degraded: the
    /// `min_version` query / `x-min-version` header, npm's `minVersion`
    /// (docs/design.md "Propagation"). Writes ignore it.
    AtLeast { min_version: u64, call: Box<Call> },
}

impl Service {
    /// Resolves an option: store value (memory → KV → origin → stale) →
    /// config → default, `degraded` when the stores could not be asked.
    ///
    /// # Errors
    /// `unknown_option` (and a name over the limits) only.
    pub async fn read_option<K, O, C>(
        &self,
        io: &Io<'_, K, O, C>,
        name: &str,
        min_version: Option<u64>,
    ) -> Result<Answered<OptionValue>, Error>
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        let answer = self.options.get_at_least(&self.cache, io, name, min_version).await?;
        let refresh = answer.refresh.then(|| Refresh::Option(answer.name.clone()));
        Ok(Answered { answer, refresh })
    }

    /// A scope's whole option map.
    ///
    /// # Errors
    /// `unavailable` / `origin_timeout` when nothing is cached and the stores fail.
    pub async fn read_map<K, O, C>(
        &self,
        io: &Io<'_, K, O, C>,
        scope: &Scope,
        min_version: Option<u64>,
    ) -> Result<Answered<MapRead>, Error>
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        let answer = self.maps.get_at_least(&self.cache, io, scope, min_version).await?;
        let refresh = answer.refresh.then_some(Refresh::Map(*scope));
        Ok(Answered { answer, refresh })
    }

    /// One key of a scope's map, read from the cached map.
    ///
    /// # Errors
    /// As [`Service::read_map`].
    pub async fn read_map_key<K, O, C>(
        &self,
        io: &Io<'_, K, O, C>,
        scope: &Scope,
        key: &str,
        min_version: Option<u64>,
    ) -> Result<Answered<MapKeyRead>, Error>
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        let Answered { answer: map, refresh } = self.read_map(io, scope, min_version).await?;
        let value = map.values.get(key).cloned();
        Ok(Answered {
            answer: MapKeyRead {
                key: key.to_string(),
                value,
                source: map.source,
                version: map.version,
                age_ms: map.age_ms,
                degraded: map.degraded,
            },
            refresh,
        })
    }

    /// A project's ownership record (`record: None`: it has none).
    ///
    /// # Errors
    /// `unavailable` / `origin_timeout` when nothing is cached and the stores fail.
    pub async fn read_ownership<K, O, C>(
        &self,
        io: &Io<'_, K, O, C>,
        project: Id,
        min_version: Option<u64>,
    ) -> Result<Answered<OwnershipRead>, Error>
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        let answer = self.ownership.get_at_least(&self.cache, io, project, min_version).await?;
        let refresh = answer.refresh.then_some(Refresh::Ownership(project));
        Ok(Answered { answer, refresh })
    }

    /// Who owns `event` under the project's cached rules.
    ///
    /// # Errors
    /// `invalid_body` for an event that is not a JSON object; as
    /// [`Service::read_ownership`].
    pub async fn read_owners<K, O, C>(
        &self,
        io: &Io<'_, K, O, C>,
        project: Id,
        event: &Value,
        min_version: Option<u64>,
    ) -> Result<Answered<OwnersAnswer>, Error>
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        let answer = self.ownership.owners_at_least(&self.cache, io, project, event, min_version).await?;
        let refresh = answer.refresh.then_some(Refresh::Ownership(project));
        Ok(Answered { answer, refresh })
    }

    /// Stores a project's rules (checked first: `invalid_rules` names the
    /// line and column) and answers the stored record.
    ///
    /// # Errors
    /// `too_large` / `invalid_rules` before the origin is asked; origin
    /// failures as for every write.
    pub async fn write_ownership<K, O, C>(
        &self,
        io: &Io<'_, K, O, C>,
        project: Id,
        input: OwnershipInput,
    ) -> Result<OwnershipWrite, Error>
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        let (record, cache_updated) = self.ownership.put(&self.cache, io, project, input).await?;
        Ok(OwnershipWrite { record, cache_updated })
    }

    /// Makes `call` and answers it as every front end sends it.
    ///
    /// # Errors
    /// The call's error, with its stable code.
    pub async fn answer<K, O, C>(&self, io: &Io<'_, K, O, C>, call: Call) -> Result<Answer, Error>
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        match call {
            Call::AtLeast { min_version, call } => self.answer_at_least(io, *call, Some(min_version)).await,
            call => self.answer_at_least(io, call, None).await,
        }
    }

    async fn answer_at_least<K, O, C>(
        &self,
        io: &Io<'_, K, O, C>,
        call: Call,
        min_version: Option<u64>,
    ) -> Result<Answer, Error>
    where
        K: NetworkCache,
        O: DurableStore,
        C: Clock,
    {
        Ok(match call {
            // Nested: the highest asked for.
            Call::AtLeast { min_version: inner, call } => {
                return Box::pin(self.answer_at_least(io, *call, min_version.max(Some(inner)))).await;
            }
            Call::GetOption { name, reveal_credentials, keep } => {
                let Answered { answer, refresh } = self.read_option(io, &name, min_version).await?;
                let mut sent = Answer::read(answer.to_json(reveal_credentials), answer.source, refresh);
                if keep {
                    sent.keep = self.kept(&answer, reveal_credentials, io.clock.now_ms());
                }
                sent
            }
            Call::SetOption { name, value } => {
                Answer::write(self.options.set(&self.cache, io, &name, value).await?.to_json())
            }
            Call::DeleteOption { name } => Answer::write(self.options.delete(&self.cache, io, &name).await?.to_json()),
            Call::GetMap { scope } => {
                let Answered { answer, refresh } = self.read_map(io, &scope, min_version).await?;
                Answer::read(answer.to_json(), answer.source, refresh)
            }
            Call::GetMapKey { scope, key } => {
                let Answered { answer, refresh } = self.read_map_key(io, &scope, &key, min_version).await?;
                Answer::read(answer.to_json(), answer.source, refresh)
            }
            Call::SetMapKey { scope, key, value } => {
                let written = self.maps.set(&self.cache, io, &scope, &key, value.clone()).await?;
                Answer::write(map_key_write(&key, Some(&value), &written))
            }
            Call::DeleteMapKey { scope, key } => {
                let written = self.maps.delete(&self.cache, io, &scope, &key).await?;
                Answer::write(map_key_write(&key, None, &written))
            }
            Call::GetOwnership { project } => {
                let Answered { answer, refresh } = self.read_ownership(io, project, min_version).await?;
                Answer::read(answer.to_json(), answer.source, refresh)
            }
            Call::PutOwnership { project, input } => {
                Answer::write(self.write_ownership(io, project, input).await?.to_json())
            }
            Call::DeleteOwnership { project } => {
                let (version, cache_updated) = self.ownership.delete_versioned(&self.cache, io, project).await?;
                Answer::write(ownership_delete(version, cache_updated))
            }
            Call::Owners { project, event } => {
                let Answered { answer, refresh } = self.read_owners(io, project, &event, min_version).await?;
                Answer::read(answer.to_json(), answer.source, refresh)
            }
            Call::RecordLastProcessed { project, hash_ids, event_id } => {
                Answer::write(recorded(self.last_events.record(io.kv, io.clock, project, &hash_ids, &event_id).await?))
            }
            Call::LastProcessed { project, hash_ids } => {
                Answer::write(event_ids(&self.last_events.fetch(io.kv, project, &hash_ids).await?))
            }
            Call::Sync => Answer::write(self.sync(io).await?.to_json()),
        })
    }

    /// Until when `answer` holds, when isolate memory holds its store
    /// lookup fresh at `now`: what every read of the option gives until
    /// then. Not for a degraded answer, nor one that never asked the store.
    fn kept(&self, answer: &OptionValue, reveal_credentials: bool, now: Millis) -> Option<Kept> {
        if answer.lookup.is_none() || answer.degraded {
            return None;
        }
        let (_, key) = self.options.registry().lookup_keyed(&answer.name).ok()?;
        let until = self.cache.fresh_until(&key, now)?;
        Some(Kept { until, body: answer.as_memory_hit().to_json(reveal_credentials) })
    }
}

#[cfg(test)]
mod tests;
