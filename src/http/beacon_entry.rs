//! The beacon Worker's `fetch`: the Worker exists to define the version
//! beacon's Durable Object (`beacon_object`), which edge Workers reach
//! through their `BEACON` binding, never over this URL. Anything sent here
//! gets a JSON 404 that says so, instead of the runtime's bare error.

use serde_json::json;
use worker::{event, Context, Env, Request, Response};

#[event(fetch)]
async fn fetch(_req: Request, _env: Env, _ctx: Context) -> worker::Result<Response> {
    let body = json!({
        "error": {
            "code": "not_found",
            "message": "this is the edge-options beacon Worker: its Durable Object is reached through an edge \
                        Worker's BEACON binding; the API is served by the edge-options Worker",
        }
    });
    Ok(Response::from_json(&body)?.with_status(404))
}
