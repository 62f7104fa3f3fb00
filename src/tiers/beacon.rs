//! The version beacon over its Durable Object stub (`BEACON` binding):
//! the core's `Beacon` port for the Worker. The object itself is
//! `http::beacon_object`, defined by the beacon Worker (feature
//! `beacon-entry`) and bound here with `script_name`; the paths and bodies
//! it answers are the few below, JSON of the core's `propagation` types.

use worker::{Env, Stub};

use super::request;
use crate::core::ports::{Beacon, TierError};
use crate::core::propagation::{BeaconAnswer, LoggedChange};

/// The Durable Object namespace binding in `wrangler.toml`.
pub const BEACON_BINDING: &str = "BEACON";

/// The name of the one beacon object (one object to start: docs/design.md
/// "Propagation", scale).
pub const BEACON_NAME: &str = "beacon";

/// A client of the beacon object for one request's background work.
pub struct BeaconStub {
    stub: Stub,
}

impl BeaconStub {
    /// The beacon bound to this Worker, if it has one (a Worker without the
    /// binding simply has no beacon: the time-based lifecycle applies).
    pub fn from_env(env: &Env) -> Option<BeaconStub> {
        let namespace = env.durable_object(BEACON_BINDING).ok()?;
        namespace.get_by_name(BEACON_NAME).ok().map(|stub| BeaconStub { stub })
    }

    /// The object's own counters (`GET /stats`), for `GET /v1/admin/beacon`.
    ///
    /// # Errors
    /// As every call to the object.
    pub async fn stats(&self) -> Result<serde_json::Value, TierError> {
        let text = self.call("GET", "/stats", None).await?;
        serde_json::from_str(&text).map_err(|e| TierError::Garbage(e.to_string()))
    }

    async fn call(&self, method: &str, path: &str, body: Option<String>) -> Result<String, TierError> {
        let url = format!("https://beacon.internal{path}");
        let request = request::build(method, &url, &[], body.as_deref()).map_err(TierError::Unreachable)?;
        let mut response =
            self.stub.fetch_with_request(request).await.map_err(|e| TierError::Unreachable(e.to_string()))?;
        let status = response.status_code();
        let text = response.text().await.map_err(|e| TierError::Interrupted(e.to_string()))?;
        if status != 200 {
            return Err(TierError::Status(status, text.chars().take(200).collect()));
        }
        Ok(text)
    }
}

impl Beacon for BeaconStub {
    async fn changes_after(&self, after: u64) -> Result<BeaconAnswer, TierError> {
        let text = self.call("GET", &format!("/changes?after={after}"), None).await?;
        serde_json::from_str(&text).map_err(|e| TierError::Garbage(e.to_string()))
    }

    async fn announce(&self, changes: &[(u64, String)]) -> Result<(), TierError> {
        let changes: Vec<LoggedChange> =
            changes.iter().map(|(version, key)| LoggedChange { version: *version, key: key.clone() }).collect();
        let body = serde_json::to_string(&changes).map_err(|e| TierError::Garbage(e.to_string()))?;
        self.call("POST", "/announce", Some(body)).await.map(|_| ())
    }
}
