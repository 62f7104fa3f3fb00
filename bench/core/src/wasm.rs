//! The same workloads in wasm, plus the pieces a `Store.getOption` call is
//! made of, one export each, so bench/js/micro.mjs can time each piece:
//!
//! | export | what one call costs |
//! |---|---|
//! | `noop` | the bare JS → wasm → JS crossing |
//! | `take_name` | + passing the option name (a `JsValue` read as a Rust `String`) |
//! | `read_small`/`read_large` | + `Options::get` on a memory hit (no conversion) |
//! | `answer_small`/`answer_large` | + the answer as a JS object (serde-wasm-bindgen, as `src/js` does) |
//! | `answer_json_small`/`answer_json_large` | the answer as JSON text instead (JS then `JSON.parse`s it) |
//! | `answer_promise_small`/`answer_promise_large` | `answer_*` behind `future_to_promise`, as `getOption` is |
//! | `hit_loop` | `n` hits inside wasm (no crossing): the core's own cost in wasm |
//! | `fill_heap` | heap bytes per cached entry in wasm (32-bit pointers) |

use std::cell::OnceCell;

use edge_options::core::memory::Limits;
use edge_options::core::options::OptionValue;
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::future_to_promise;

use super::{block_on, fill, HitBench, Size};

thread_local! {
    static SMALL: OnceCell<HitBench> = const { OnceCell::new() };
    static LARGE: OnceCell<HitBench> = const { OnceCell::new() };
}

fn with_bench<R>(size: Size, f: impl FnOnce(&HitBench) -> R) -> R {
    let cell = match size {
        Size::Small => &SMALL,
        Size::Large => &LARGE,
    };
    cell.with(|cell| f(cell.get_or_init(|| HitBench::new(size))))
}

fn read(size: Size) -> Option<OptionValue> {
    with_bench(size, |b| block_on(b.options().get(b.cache(), &b.io(), b.name()))?.ok())
}

/// The object `getOption` resolves to (the same `to_json` as `src/js`).
fn option_json(answer: &OptionValue) -> Value {
    answer.to_json(true)
}

fn to_js(value: &Value) -> JsValue {
    value.serialize(&serde_wasm_bindgen::Serializer::json_compatible()).unwrap_or(JsValue::NULL)
}

fn answer(size: Size, name: &JsValue) -> JsValue {
    if name.as_string().is_none() {
        return JsValue::NULL;
    }
    read(size).map(|a| to_js(&option_json(&a))).unwrap_or(JsValue::NULL)
}

/// Builds both benches (the first origin fill) outside the timed loops.
#[wasm_bindgen]
pub fn warm() {
    with_bench(Size::Small, |_| ());
    with_bench(Size::Large, |_| ());
}

#[wasm_bindgen]
pub fn noop() {}

#[wasm_bindgen]
pub fn take_name(name: JsValue) -> usize {
    name.as_string().map_or(0, |s| s.len())
}

#[wasm_bindgen]
pub fn read_small(name: JsValue) -> bool {
    name.as_string().is_some() && read(Size::Small).is_some()
}

#[wasm_bindgen]
pub fn read_large(name: JsValue) -> bool {
    name.as_string().is_some() && read(Size::Large).is_some()
}

#[wasm_bindgen]
pub fn answer_small(name: JsValue) -> JsValue {
    answer(Size::Small, &name)
}

#[wasm_bindgen]
pub fn answer_large(name: JsValue) -> JsValue {
    answer(Size::Large, &name)
}

#[wasm_bindgen]
pub fn answer_json_small(name: JsValue) -> Option<String> {
    name.as_string()?;
    read(Size::Small).map(|a| option_json(&a).to_string())
}

#[wasm_bindgen]
pub fn answer_json_large(name: JsValue) -> Option<String> {
    name.as_string()?;
    read(Size::Large).map(|a| option_json(&a).to_string())
}

#[wasm_bindgen]
pub fn answer_promise_small(name: JsValue) -> js_sys::Promise {
    future_to_promise(async move { Ok(answer(Size::Small, &name)) })
}

#[wasm_bindgen]
pub fn answer_promise_large(name: JsValue) -> js_sys::Promise {
    future_to_promise(async move { Ok(answer(Size::Large, &name)) })
}

/// `n` memory hits inside wasm; `large` picks the value.
#[wasm_bindgen]
pub fn hit_loop(large: bool, n: u32) -> f64 {
    let size = if large { Size::Large } else { Size::Small };
    with_bench(size, |b| b.run(u64::from(n)) as f64)
}

/// Heap bytes per entry after reading `keys` small options once each:
/// `[entries, heap bytes, accounted bytes]`. `bounded`: the default limits.
#[wasm_bindgen]
pub fn fill_heap(keys: u32, bounded: bool) -> Vec<f64> {
    let limits = if bounded { Limits::default() } else { Limits { max_entries: usize::MAX, max_bytes: usize::MAX } };
    let f = fill(u64::from(keys), limits, 0);
    vec![f.entries as f64, f.heap_bytes as f64, f.accounted_bytes as f64]
}
