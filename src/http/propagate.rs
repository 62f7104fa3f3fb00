//! The isolate's side of the version beacon, all in the background
//! (`wait_until`), never on a request's critical path: a check when one is
//! due (at most one per `BEACON_CHECK_MS`, one in flight), and telling the
//! beacon of the writes this request made. A Worker without the `BEACON`
//! binding, or with `BEACON_CHECK_MS=0`, checks nothing: the time-based
//! lifecycle applies.

use std::rc::Rc;

use worker::{Context, Env};

use super::isolate::Isolate;
use crate::core::ports::Beacon;
use crate::tiers::beacon::BeaconStub;
use crate::tiers::clock::WorkerClock;

/// Starts a beacon check in the background if one is due.
pub fn check_if_due(isolate: &Rc<Isolate>, env: &Env, worker_ctx: &Context) {
    let now = worker::Date::now().as_millis();
    if isolate.settings.beacon_check_ms == 0 || !isolate.service.cache.beacon_check_due(now) {
        return;
    }
    let Some(beacon) = BeaconStub::from_env(env) else { return };
    let isolate = Rc::clone(isolate);
    worker_ctx.wait_until(async move {
        isolate.service.cache.check_beacon(&beacon, &WorkerClock).await;
    });
}

/// Tells the beacon, in the background, of the writes this isolate made
/// since the last call (the request's own write, normally).
pub fn announce_writes(isolate: &Rc<Isolate>, env: &Env, worker_ctx: &Context) {
    let changes = isolate.service.cache.take_announcements();
    if changes.is_empty() || isolate.settings.beacon_check_ms == 0 {
        return;
    }
    let Some(beacon) = BeaconStub::from_env(env) else { return };
    worker_ctx.wait_until(async move {
        if let Err(e) = beacon.announce(&changes).await {
            worker::console_warn!("edge-options: the beacon was not told of a write (its poll will find it): {e}");
        }
    });
}
