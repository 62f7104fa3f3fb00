//! What crosses between JS and the core: arguments checked before any
//! conversion that could misbehave (wasm-bindgen's own string conversion
//! of a non-string must never run), and answers as plain JS objects.
//!
//! Every check gives the error the HTTP API gives for the same mistake, so
//! a caller sees the same `code` either way.

use js_sys::Array;
use serde::Serialize;
use serde_json::Value;
use wasm_bindgen::{JsCast, JsValue};

use super::interop::{js_error, prop};
use crate::core::error::Error;
use crate::core::limits;
use crate::core::project_ownership::OwnershipInput;
use crate::core::scope::{parse_id, Id, Scope};

/// The largest integer a JS number holds exactly.
const MAX_SAFE_INTEGER: f64 = 9_007_199_254_740_991.0;

/// A JSON value as plain JS (objects, not `Map`s).
pub fn to_js(value: &Value) -> Result<JsValue, JsValue> {
    value
        .serialize(&serde_wasm_bindgen::Serializer::json_compatible())
        .map_err(|e| js_error(&Error::Unavailable(format!("converting the answer to JS: {e}").into())))
}

/// A JS value as JSON; what JSON cannot hold is `invalid_type`.
pub fn from_js(value: &JsValue) -> Result<Value, Error> {
    if value.is_undefined() {
        return Err(Error::InvalidType("a value is required (undefined given)".into()));
    }
    serde_wasm_bindgen::from_value(value.clone()).map_err(|e| Error::InvalidType(format!("the value is not JSON: {e}")))
}

/// A string passed from JS (an event id): strings only.
pub fn text(value: &JsValue, what: &str) -> Result<String, Error> {
    value.as_string().ok_or_else(|| Error::InvalidBody(format!("{what} must be a string")))
}

/// An option name or map key passed from JS: a string within `limits`
/// (non-empty, at most 1,024 bytes), as the HTTP API's paths are.
pub fn name(value: &JsValue, what: &str) -> Result<String, Error> {
    let name = text(value, what)?;
    limits::check_name(what, &name)?;
    Ok(name)
}

/// An id: a positive integer number, or a decimal string / bigint for ids
/// beyond `Number.MAX_SAFE_INTEGER` (the origin's range is 1 ..= i64::MAX).
pub fn id(value: &JsValue, what: &str) -> Result<Id, Error> {
    if let Some(n) = value.as_f64() {
        if n.fract() == 0.0 && (1.0..=MAX_SAFE_INTEGER).contains(&n) {
            // Exact: an integer within the safe range.
            return Ok(n as Id);
        }
        return Err(Error::InvalidId(format!("{what} must be a whole number from 1 (a string beyond 2^53), got {n}")));
    }
    match decimal_text(value) {
        Some(text) => parse_id(&text, what),
        None => Err(Error::InvalidId(format!("{what} must be a number, a decimal string or a bigint"))),
    }
}

/// The `minVersion` of a read's options (`undefined`/`null`: none): a
/// whole number ≥ 0 within 2^53, or a decimal string or bigint.
pub fn min_version(options: &JsValue) -> Result<Option<u64>, Error> {
    if options.is_undefined() || options.is_null() {
        return Ok(None);
    }
    let value = js_sys::Reflect::get(options, &JsValue::from_str("minVersion"))
        .map_err(|_| Error::InvalidBody("read options must be an object".into()))?;
    if value.is_undefined() || value.is_null() {
        return Ok(None);
    }
    let bad = || Error::InvalidBody("minVersion must be a whole number ≥ 0".into());
    if let Some(n) = value.as_f64() {
        if n.fract() == 0.0 && (0.0..=MAX_SAFE_INTEGER).contains(&n) {
            return Ok(Some(n as u64));
        }
        return Err(bad());
    }
    decimal_text(&value).and_then(|text| text.parse::<u64>().ok()).map(Some).ok_or_else(bad)
}

/// A scope object: `{ organization }`, `{ project }`, or `{ user }` with an
/// optional `project` or `organization` (not both: `Scope::from_ids`).
pub fn scope(value: &JsValue) -> Result<Scope, Error> {
    if !value.is_object() {
        return Err(Error::InvalidScope(
            "a scope is { organization: id } | { project: id } | { user: id, project?: id | organization?: id }".into(),
        ));
    }
    let field = |name: &str| {
        let v = prop(value, name);
        if v.is_undefined() || v.is_null() {
            Ok(None)
        } else {
            id(&v, name).map(Some)
        }
    };
    Scope::from_ids(field("organization")?, field("project")?, field("user")?)
}

/// Group hash ids: an array of at most `max` integers (numbers, decimal
/// strings or bigints; a longer array is refused before any is read).
/// Range checks are the core's, as for the HTTP API.
pub fn hash_ids(value: &JsValue, max: usize) -> Result<Vec<i64>, Error> {
    if !Array::is_array(value) {
        return Err(Error::InvalidBody("hash ids must be an array of integers".into()));
    }
    let array: &Array = value.unchecked_ref();
    limits::check_batch("hash ids", array.length() as usize, max)?;
    array
        .iter()
        .map(|item| {
            if let Some(n) = item.as_f64() {
                if n.fract() == 0.0 && n.abs() <= MAX_SAFE_INTEGER {
                    return Ok(n as i64);
                }
            } else if let Some(parsed) = decimal_text(&item).and_then(|t| t.parse::<i64>().ok()) {
                return Ok(parsed);
            }
            Err(Error::InvalidId("hash ids must be whole numbers (decimal strings or bigints beyond 2^53)".into()))
        })
        .collect()
}

/// `{ raw, fallthrough?, autoAssignment?, isActive? }`.
pub fn ownership_input(value: &JsValue) -> Result<OwnershipInput, Error> {
    let shape = "ownership is { raw: string, fallthrough?: boolean, autoAssignment?: boolean, isActive?: boolean }";
    if !value.is_object() {
        return Err(Error::InvalidBody(shape.into()));
    }
    let raw = prop(value, "raw").as_string().ok_or_else(|| Error::InvalidBody(shape.into()))?;
    let flag = |name: &str| {
        let v = prop(value, name);
        if v.is_undefined() || v.is_null() {
            Ok(None)
        } else {
            v.as_bool().map(Some).ok_or_else(|| Error::InvalidBody(format!("`{name}` must be a boolean")))
        }
    };
    Ok(OwnershipInput {
        raw,
        fallthrough: flag("fallthrough")?,
        auto_assignment: flag("autoAssignment")?,
        is_active: flag("isActive")?,
    })
}

/// Decimal text of a string or bigint argument.
fn decimal_text(value: &JsValue) -> Option<String> {
    if let Some(text) = value.as_string() {
        return Some(text);
    }
    if value.is_bigint() {
        let big: &js_sys::BigInt = value.unchecked_ref();
        return big.to_string(10).ok().map(String::from);
    }
    None
}

/// The core's answer as the package shows it: the edge API's JSON with its
/// top-level keys in camelCase (`cache_updated` → `cacheUpdated`), and an
/// ownership record under `ownership` shown as the record itself is when
/// it is the answer (`putOwnership`). Data inside (values, maps, schemas,
/// matched rules) is as the HTTP API shows it.
pub fn render(body: Value) -> Value {
    let mut out = camel_case_keys(body);
    if let Value::Object(map) = &mut out {
        if let Some(record) = map.remove("ownership") {
            map.insert("ownership".into(), camel_case_keys(record));
        }
    }
    out
}

/// `hits_local` → `hitsLocal`, for the top-level keys of an object: the
/// package's answers are camelCase at the top, the edge API's data inside.
pub fn camel_case_keys(value: Value) -> Value {
    let Value::Object(map) = value else { return value };
    let renamed = map.into_iter().map(|(key, v)| {
        let mut out = String::with_capacity(key.len());
        let mut upper = false;
        for c in key.chars() {
            if c == '_' {
                upper = true;
            } else if upper {
                out.extend(c.to_uppercase());
                upper = false;
            } else {
                out.push(c);
            }
        }
        (out, v)
    });
    Value::Object(renamed.collect())
}
