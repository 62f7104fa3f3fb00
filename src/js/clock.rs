//! `Clock` over `Date.now()` and `setTimeout`.
//!
//! Every `sleep` is a timer of the calling request's own (on Workers a
//! request that waits with no I/O of its own is cancelled as hung), and
//! is cleared when the sleep is dropped (a race won by the other side), so
//! no stray timer keeps Node alive or fires for nothing.

use js_sys::{Function, Promise};
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;

use super::interop::{global, method};
use crate::core::lifecycle::Millis;
use crate::core::ports::Clock;

/// The JS clock.
pub struct JsClock;

impl Clock for JsClock {
    fn now_ms(&self) -> Millis {
        let now = js_sys::Date::now();
        if now.is_finite() && now > 0.0 {
            now as Millis
        } else {
            0
        }
    }

    async fn sleep(&self, ms: Millis) {
        sleep(ms).await;
    }
}

/// A pending `setTimeout`, cleared when dropped.
struct Timer {
    id: JsValue,
}

impl Drop for Timer {
    fn drop(&mut self) {
        if let Some(clear) = method(&global(), "clearTimeout") {
            let _ = clear.call1(&global(), &self.id);
        }
    }
}

/// Resolves after `ms` milliseconds (at once if there is no `setTimeout`).
pub async fn sleep(ms: Millis) {
    let Some(set_timeout) = method(&global(), "setTimeout") else { return };
    let mut id = JsValue::UNDEFINED;
    let promise = Promise::new(&mut |resolve: Function, _reject: Function| {
        // Timers take a double; anything beyond 2^31 ms is clamped by JS anyway.
        let delay = JsValue::from_f64(ms.min(i32::MAX as Millis) as f64);
        match set_timeout.call2(&global(), &resolve, &delay) {
            Ok(handle) => id = handle,
            Err(_) => {
                let _ = resolve.call0(&JsValue::UNDEFINED);
            }
        }
    });
    let _timer = Timer { id };
    let _ = JsFuture::from(promise).await;
}
