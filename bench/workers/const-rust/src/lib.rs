//! A Worker that answers every request with the same small JSON body: the
//! most a Rust Worker can do per request under the same runtime.

use worker::{event, Context, Env, Request, Response, Result};

#[event(fetch)]
async fn fetch(_req: Request, _env: Env, _ctx: Context) -> Result<Response> {
    let mut response = Response::ok(r#"{"name":"mail.host","value":"smtp.example.com","source":"local"}"#)?;
    response.headers_mut().set("content-type", "application/json")?;
    Ok(response)
}
