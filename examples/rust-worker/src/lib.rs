//! A Rust Worker of your own that embeds edge-options: its routes answer
//! from its own isolate cache (then its KV namespace, then the origin),
//! with no hop to the edge-options Worker.
//!
//! | route | answers |
//! |---|---|
//! | `GET /greeting` | a greeting built from the option `mail.from`, and the tier that answered |
//! | `POST /projects/{id}/triage` | the owners of the posted event under the project's ownership rules |
//! | `GET /options/{name}` / `PUT /options/{name}` `{"value": …}` | an option read / write |
//! | `GET /stats` | this isolate's counters |
//! | `GET /healthz` | `{"ok": true, "problems": [...]}` |
//!
//! Errors are edge-options' typed errors: `{"error": {"code", "message"}}`
//! with the code's status, as the edge API answers them.

use edge_options::embed::{EdgeOptions, Error, Id};
use serde_json::{json, Value};
use worker::{event, Context, Env, Method, Request, Response};

#[event(fetch)]
async fn fetch(mut req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    // One handle per request; the cache behind it is the isolate's.
    let options = match EdgeOptions::from_env(&env) {
        Ok(options) => options,
        Err(e) => return error(&e),
    };
    let path = req.path();
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let answer = match (req.method(), segments.as_slice()) {
        (Method::Get, ["healthz"]) => Ok(json!({ "ok": true, "problems": options.problems() })),
        (Method::Get, ["greeting"]) => greeting(&options, &ctx).await,
        (Method::Post, ["projects", id, "triage"]) => match (project_id(id), req.json::<Value>().await) {
            (Ok(project), Ok(event)) => triage(&options, project, &event, &ctx).await,
            (Err(e), _) => Err(e),
            (_, Err(e)) => Err(Error::InvalidBody(format!("the event must be JSON: {e}"))),
        },
        (Method::Get, ["options", name]) => options.option(name, &ctx).await.map(|answer| answer.to_json(true)),
        (Method::Put, ["options", name]) => match req.json::<Value>().await {
            Ok(Value::Object(mut body)) if body.contains_key("value") => {
                let value = body.remove("value").unwrap_or(Value::Null);
                options.set_option(name, value).await.map(|written| {
                    json!({
                        "name": written.name,
                        "value": written.value,
                        "version": written.version,
                        "cache_updated": written.cache_updated,
                    })
                })
            }
            _ => Err(Error::InvalidBody("expected {\"value\": <json>}".into())),
        },
        (Method::Get, ["stats"]) => {
            serde_json::to_value(options.stats()).map_err(|e| Error::InvalidBody(e.to_string()))
        }
        _ => Err(Error::NotFound(format!("no route {path}"))),
    };
    match answer {
        Ok(body) => Response::from_json(&body),
        Err(e) => error(&e),
    }
}

/// `GET /greeting`: the option `mail.from` (store → config → default), and
/// which tier answered: `local` once this isolate holds it fresh.
async fn greeting(options: &EdgeOptions, ctx: &Context) -> Result<Value, Error> {
    let from = options.option("mail.from", ctx).await?;
    let address = from.value.as_str().unwrap_or_default();
    Ok(json!({
        "greeting": format!("Hello! Write to us at {address}."),
        "source": from.source.as_str(),
        "option": from.to_json(true),
    }))
}

/// `POST /projects/{id}/triage`: who owns the posted event.
async fn triage(options: &EdgeOptions, project: Id, event: &Value, ctx: &Context) -> Result<Value, Error> {
    let answer = options.owners(project, event, ctx).await?;
    let mut body = serde_json::to_value(&answer.evaluation).map_err(|e| Error::InvalidBody(e.to_string()))?;
    if let Value::Object(map) = &mut body {
        map.insert("source".into(), json!(answer.source.as_str()));
    }
    Ok(body)
}

fn project_id(text: &str) -> Result<Id, Error> {
    text.parse::<Id>()
        .ok()
        .filter(|id| *id > 0)
        .ok_or_else(|| Error::InvalidId(format!("the project id must be a positive integer, got {text:?}")))
}

/// The edge API's error shape, with the status of the error's code.
fn error(e: &Error) -> worker::Result<Response> {
    let body = json!({ "error": { "code": e.code(), "message": e.to_string() } });
    Ok(Response::from_json(&body)?.with_status(e.status()))
}
