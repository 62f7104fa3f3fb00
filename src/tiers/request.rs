//! Outgoing requests (to the origin, to the beacon object) built straight
//! on the runtime's `Request`, not through workers-rs's `RequestInit`: its
//! conversion also carries Cloudflare's `cf` options (a dozen fields,
//! compared and converted on every request), about 12 KB of the Worker's
//! wasm for options these requests never set.

use worker::wasm_bindgen::JsValue;
use worker::web_sys;

/// A request of `method` to `url` with `headers` and a text `body`.
///
/// # Errors
/// What the runtime said when it refused the URL or a header.
pub fn build(method: &str, url: &str, headers: &[(&str, &str)], body: Option<&str>) -> Result<worker::Request, String> {
    let init = web_sys::RequestInit::new();
    init.set_method(method);
    if !headers.is_empty() {
        let set = web_sys::Headers::new().map_err(js_message)?;
        for (name, value) in headers {
            set.set(name, value).map_err(js_message)?;
        }
        init.set_headers(&set);
    }
    if let Some(body) = body {
        init.set_body(&JsValue::from_str(body));
    }
    web_sys::Request::new_with_str_and_init(url, &init).map(worker::Request::from).map_err(js_message)
}

/// The text of a JS error (or its debug form when it is not a string).
fn js_message(error: JsValue) -> String {
    error.as_string().unwrap_or_else(|| format!("{error:?}"))
}
