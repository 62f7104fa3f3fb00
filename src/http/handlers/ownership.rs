//! `/v1/projects/{id}/ownership` and `/v1/projects/{id}/owners`.

use serde_json::{json, Value};
use worker::Response;

use super::{Ctx, Refresh};
use crate::core::error::Error;
use crate::core::project_ownership::OwnershipInput;
use crate::core::scope::Id;
use crate::http::reply;

/// `GET …/ownership`: `{ownership: record | null, source}`.
pub async fn get(ctx: &Ctx<'_>, project: Id) -> Result<Response, Error> {
    let service = &ctx.isolate.service;
    let read = service.ownership.get(&service.cache, &ctx.io, project).await?;
    if read.refresh {
        ctx.refresh_later(Refresh::Ownership(project));
    }
    let answer = json!({ "ownership": read.record, "source": read.source.as_str() });
    Ok(reply::json(200, &answer, Some(read.source)))
}

/// `PUT …/ownership`: the stored record plus `cache_updated`.
pub async fn put(ctx: &Ctx<'_>, project: Id, input: OwnershipInput) -> Result<Response, Error> {
    let service = &ctx.isolate.service;
    let (mut record, cache_updated) = service.ownership.put(&service.cache, &ctx.io, project, input).await?;
    if let Value::Object(map) = &mut record {
        map.insert("cache_updated".into(), Value::Bool(cache_updated));
    }
    Ok(reply::json(200, &record, None))
}

/// `DELETE …/ownership`: `{cache_updated}`.
pub async fn delete(ctx: &Ctx<'_>, project: Id) -> Result<Response, Error> {
    let service = &ctx.isolate.service;
    let cache_updated = service.ownership.delete(&service.cache, &ctx.io, project).await?;
    Ok(reply::json(200, &json!({ "cache_updated": cache_updated }), None))
}

/// `POST …/owners` with event data: `{owners, rules, auto_assign, source}`.
pub async fn owners(ctx: &Ctx<'_>, project: Id, event: Value) -> Result<Response, Error> {
    let service = &ctx.isolate.service;
    let answer = service.ownership.owners(&service.cache, &ctx.io, project, &event).await?;
    if answer.refresh {
        ctx.refresh_later(Refresh::Ownership(project));
    }
    let mut body = serde_json::to_value(&answer.evaluation).unwrap_or_else(|_| json!({}));
    if let Value::Object(map) = &mut body {
        map.insert("source".into(), json!(answer.source.as_str()));
    }
    Ok(reply::json(200, &body, Some(answer.source)))
}
