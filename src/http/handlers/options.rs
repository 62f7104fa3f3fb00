//! `/v1/options`: the registry and registered options.

use serde::Deserialize;
use serde_json::{json, Value};
use worker::Response;

use super::{Ctx, Refresh};
use crate::core::error::Error;
use crate::http::auth::Access;
use crate::http::reply;

/// `PUT` body: `{"value": …}`.
#[derive(Deserialize)]
pub struct SetBody {
    value: Value,
}

impl SetBody {
    /// The value to store.
    pub fn into_value(self) -> Value {
        self.value
    }
}

/// `GET /v1/options`: the registry; credential defaults only for admins.
pub fn list(ctx: &Ctx<'_>) -> Response {
    let service = &ctx.isolate.service;
    reply::json(200, &service.options.registry().listing(ctx.access == Access::Admin), None)
}

/// `GET /v1/options/{name}`.
pub async fn get(ctx: &Ctx<'_>, name: &str) -> Result<Response, Error> {
    let service = &ctx.isolate.service;
    let answer = service.options.get(&service.cache, &ctx.io, name).await?;
    if answer.refresh {
        ctx.refresh_later(Refresh::Option(answer.name.clone()));
    }
    Ok(reply::json(200, &answer.to_json(ctx.access == Access::Admin), Some(answer.source)))
}

/// `PUT /v1/options/{name}`.
pub async fn set(ctx: &Ctx<'_>, name: &str, body: SetBody) -> Result<Response, Error> {
    let service = &ctx.isolate.service;
    let written = service.options.set(&service.cache, &ctx.io, name, body.into_value()).await?;
    let answer = json!({
        "name": written.name,
        "value": written.value,
        "version": written.version,
        "cache_updated": written.cache_updated,
    });
    Ok(reply::json(200, &answer, None))
}

/// `DELETE /v1/options/{name}`.
pub async fn delete(ctx: &Ctx<'_>, name: &str) -> Result<Response, Error> {
    let service = &ctx.isolate.service;
    let written = service.options.delete(&service.cache, &ctx.io, name).await?;
    let answer = json!({ "name": written.name, "version": written.version, "cache_updated": written.cache_updated });
    Ok(reply::json(200, &answer, None))
}
