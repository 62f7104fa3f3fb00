//! Small, panic-free helpers over `js_sys`: properties, method calls,
//! awaiting whatever a JS function returns, messages of thrown values, and
//! the `Error`s (with a `code`) this package throws.

use js_sys::{Function, Object, Promise, Reflect};
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::core::error::Error;

/// `obj[name]`, or `undefined` when `obj` is not an object or the getter throws.
pub fn prop(obj: &JsValue, name: &str) -> JsValue {
    if !obj.is_object() && !obj.is_function() {
        return JsValue::UNDEFINED;
    }
    Reflect::get(obj, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// Sets `obj[name] = value` on an object this package created.
pub fn set(obj: &Object, name: &str, value: &JsValue) {
    // Setting a data property on a fresh plain object cannot fail; if it
    // somehow did, the field is simply missing.
    let _ = Reflect::set(obj, &JsValue::from_str(name), value);
}

/// Sets a non-enumerable, read-only `obj[name] = value` on an object this
/// package created: readable by the package's own JS, invisible to
/// `JSON.stringify`, spreading and deep-equality checks.
pub fn define_hidden(obj: &JsValue, name: &str, value: &JsValue) {
    let Some(obj) = obj.dyn_ref::<Object>() else { return };
    let descriptor = Object::new();
    set(&descriptor, "value", value);
    let _ = Reflect::define_property(obj, &JsValue::from_str(name), &descriptor);
}

/// The method `name` of `obj`, if it is a function.
pub fn method(obj: &JsValue, name: &str) -> Option<Function> {
    prop(obj, name).dyn_into::<Function>().ok()
}

/// Calls `f` with `this` and `args`, then awaits what it returned (a
/// promise or a plain value). A synchronous throw and a rejection are both `Err`.
pub async fn call_and_await(f: &Function, this: &JsValue, args: &[JsValue]) -> Result<JsValue, JsValue> {
    let array: js_sys::Array = args.iter().collect();
    let returned = f.apply(this, &array)?;
    JsFuture::from(Promise::resolve(&returned)).await
}

/// A readable message for a thrown or rejected JS value.
pub fn message(thrown: &JsValue) -> String {
    if let Some(text) = thrown.as_string() {
        return text;
    }
    let message = prop(thrown, "message").as_string();
    let name = prop(thrown, "name").as_string();
    let cause = prop(&prop(thrown, "cause"), "message").as_string();
    match (name, message, cause) {
        (Some(name), Some(message), Some(cause)) => format!("{name}: {message} ({cause})"),
        (Some(name), Some(message), None) => format!("{name}: {message}"),
        (None, Some(message), _) => message,
        _ => format!("{thrown:?}"),
    }
}

/// A JS `Error` with the fields the HTTP API's error has (`Error::to_json`:
/// `code`, and `line` / `column` for rules text the edge placed), its
/// `status`, and `detail` for the caller's logs.
pub fn js_error(error: &Error) -> JsValue {
    let js = js_sys::Error::new(&error.to_string());
    if let Value::Object(fields) = error.to_json() {
        for (name, value) in fields {
            let value = match value {
                Value::String(text) => JsValue::from_str(&text),
                Value::Number(n) => JsValue::from_f64(n.as_f64().unwrap_or_default()),
                _ => continue,
            };
            if name != "message" {
                set(&js, &name, &value);
            }
        }
    }
    set(&js, "status", &JsValue::from(error.status()));
    if let Some(detail) = error.detail() {
        set(&js, "detail", &JsValue::from_str(detail));
    }
    js.into()
}

/// The global object (`globalThis`).
pub fn global() -> JsValue {
    js_sys::global().into()
}
