//! The Worker's entry points: `fetch` for the API, `scheduled` for the
//! cron-triggered sync.

use worker::{event, Context, Env, Request, Response, ScheduleContext, ScheduledEvent};

use super::handlers;

#[event(fetch)]
async fn fetch(req: Request, env: Env, ctx: Context) -> worker::Result<Response> {
    Ok(handlers::handle(req, env, ctx).await)
}

#[event(scheduled)]
async fn scheduled(_event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    handlers::scheduled_sync(env).await;
}
