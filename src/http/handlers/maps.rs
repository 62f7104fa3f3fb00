//! `/v1/{organizations|projects|users}/{id}/options`: scoped option maps.

use serde_json::{json, Value};
use worker::Response;

use super::options::SetBody;
use super::{Ctx, Refresh};
use crate::core::error::Error;
use crate::core::scope::Scope;
use crate::http::reply;

/// `GET …/options` (the whole map) or `GET …/options/{key}` (one key,
/// `value: null` when unset); both read the cached map.
pub async fn get(ctx: &Ctx<'_>, scope: &Scope, key: Option<&str>) -> Result<Response, Error> {
    let service = &ctx.isolate.service;
    let read = service.maps.get(&service.cache, &ctx.io, scope).await?;
    if read.refresh {
        ctx.refresh_later(Refresh::Map(*scope));
    }
    let source = read.source.as_str();
    let answer = match key {
        None => json!({ "values": read.values, "source": source, "version": read.version }),
        Some(key) => {
            let value = read.values.get(key).cloned().unwrap_or(Value::Null);
            json!({ "key": key, "value": value, "source": source, "version": read.version })
        }
    };
    Ok(reply::json(200, &answer, Some(read.source)))
}

/// `PUT …/options/{key}`.
pub async fn set(ctx: &Ctx<'_>, scope: &Scope, key: &str, body: SetBody) -> Result<Response, Error> {
    let service = &ctx.isolate.service;
    let value = body.into_value();
    let written = service.maps.set(&service.cache, &ctx.io, scope, key, value.clone()).await?;
    let answer =
        json!({ "key": key, "value": value, "version": written.version, "cache_updated": written.cache_updated });
    Ok(reply::json(200, &answer, None))
}

/// `DELETE …/options/{key}`.
pub async fn delete(ctx: &Ctx<'_>, scope: &Scope, key: &str) -> Result<Response, Error> {
    let service = &ctx.isolate.service;
    let written = service.maps.delete(&service.cache, &ctx.io, scope, key).await?;
    let answer = json!({ "key": key, "version": written.version, "cache_updated": written.cache_updated });
    Ok(reply::json(200, &answer, None))
}
