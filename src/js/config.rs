//! A `Store`'s configuration from JS: `{ kv, origin: { url, token,
//! timeoutMs? }, registry?, config?, legacyPrefixes?, limits?, settings? }`, turned into the
//! Worker's own vars so one parser (`core::settings`) gives both front ends
//! the same defaults and the same validation.

use std::collections::HashMap;
use std::rc::Rc;

use js_sys::Array;
use wasm_bindgen::{JsCast, JsValue};

use super::clock::JsClock;
use super::interop::{method, prop};
use super::kv::JsKv;
use super::origin::OriginConfig;
use super::Inner;
use crate::core::error::Error;
use crate::core::registry::Registry;
use crate::core::service::Service;
use crate::core::settings::Settings;

/// Builds a store's state from its JS config.
///
/// # Errors
/// `invalid_body` when `kv` or `origin` is missing or malformed.
pub fn build(config: &JsValue) -> Result<Inner, Error> {
    let bad = |what: &str| Error::InvalidBody(format!("Store config: {what}"));
    if !config.is_object() {
        return Err(bad("expected an object { kv, origin: { url, token } }"));
    }
    let kv = prop(config, "kv");
    if !kv.is_object() || method(&kv, "get").is_none() {
        return Err(bad("`kv` must be a KV binding (an object with get/put/delete)"));
    }
    let origin = prop(config, "origin");
    let url = prop(&origin, "url").as_string().map(|u| u.trim().trim_end_matches('/').to_string());
    let Some(url) = url.filter(|u| u.starts_with("http://") || u.starts_with("https://")) else {
        return Err(bad("`origin.url` must be an http(s) URL"));
    };
    let Some(token) = prop(&origin, "token").as_string().filter(|t| !t.is_empty()) else {
        return Err(bad("`origin.token` must be a non-empty string"));
    };

    let mut vars: HashMap<String, String> = HashMap::new();
    let settings = prop(config, "settings");
    if settings.is_object() {
        for entry in js_sys::Object::entries(settings.unchecked_ref()).iter() {
            let pair: Array = entry.unchecked_into();
            let (Some(name), value) = (pair.get(0).as_string(), pair.get(1)) else { continue };
            let text = value.as_string().or_else(|| value.as_f64().map(|n| n.to_string()));
            if let Some(text) = text {
                vars.insert(name, text);
            }
        }
    }
    vars.insert("ORIGIN_URL".into(), url);
    vars.insert("ORIGIN_TOKEN".into(), token.clone());
    let timeout = prop(&origin, "timeoutMs");
    if let Some(ms) = timeout.as_f64() {
        vars.insert("ORIGIN_TIMEOUT_MS".into(), ms.to_string());
    } else if !timeout.is_undefined() && !timeout.is_null() {
        return Err(bad("`origin.timeoutMs` must be a number"));
    }
    let options_config = prop(config, "config");
    if let Some(text) = options_config.as_string() {
        vars.insert("OPTIONS_CONFIG".into(), text);
    } else if options_config.is_object() {
        let text = js_sys::JSON::stringify(&options_config).map_err(|_| bad("`config` is not JSON-serialisable"))?;
        vars.insert("OPTIONS_CONFIG".into(), String::from(text));
    }
    let limits = prop(config, "limits");
    for (field, var) in [("maxEntries", "MEMORY_MAX_ENTRIES"), ("maxBytes", "MEMORY_MAX_BYTES")] {
        let value = prop(&limits, field);
        if let Some(n) = value.as_f64() {
            vars.insert(var.into(), n.to_string());
        } else if !value.is_undefined() && !value.is_null() {
            return Err(bad(&format!("`limits.{field}` must be a number")));
        }
    }
    let prefixes = prop(config, "legacyPrefixes");
    if let Some(text) = prefixes.as_string() {
        vars.insert("LEGACY_PREFIXES".into(), text);
    } else if Array::is_array(&prefixes) {
        let list: Vec<String> = Array::from(&prefixes).iter().filter_map(|p| p.as_string()).collect();
        vars.insert("LEGACY_PREFIXES".into(), list.join(","));
    }

    // The Worker's own settings parser: the same defaults and the same
    // validation (a Store has no read/admin tokens: it answers its caller).
    let settings = Settings::from_vars(|name| vars.get(name).cloned());
    let service = match registry(config)? {
        Some(registry) => Service::with_registry(&settings, registry),
        None => Service::new(&settings)?,
    };
    Ok(Inner {
        service,
        kv: JsKv::new(kv),
        origin: Rc::new(OriginConfig {
            base_url: settings.origin_url.clone(),
            token,
            timeout_ms: settings.origin_timeout_ms,
        }),
        clock: JsClock,
    })
}

/// The `registry` option: a registry document (object or JSON text, the
/// format of the repository's `registry.json`) replacing the built-in one.
fn registry(config: &JsValue) -> Result<Option<Registry>, Error> {
    let given = prop(config, "registry");
    let text = if given.is_undefined() || given.is_null() {
        return Ok(None);
    } else if let Some(text) = given.as_string() {
        text
    } else if given.is_object() {
        let text = js_sys::JSON::stringify(&given)
            .map_err(|_| Error::InvalidBody("Store config: `registry` is not JSON-serialisable".into()))?;
        String::from(text)
    } else {
        return Err(Error::InvalidBody("Store config: `registry` must be a registry document or its JSON text".into()));
    };
    Registry::from_json(&text).map(Some).map_err(|e| Error::InvalidBody(format!("Store config `registry`: {e}")))
}
