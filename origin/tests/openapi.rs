//! `openapi/origin.yaml` documents every route the origin serves, with the
//! methods it accepts — checked against the live server's own route
//! templates (from `/_origin/stats`), so the document cannot drift silently.

mod common;

use common::{tempdir, Origin};
use serde_json::json;

/// The methods listed under `path:` in the document (a plain-text walk of
/// the YAML: path keys are indented 2 spaces, methods 4).
fn documented_methods(doc: &str, path: &str) -> Vec<String> {
    let header = format!("  {path}:");
    let mut lines = doc.lines().skip_while(|l| *l != header);
    if lines.next().is_none() {
        return Vec::new();
    }
    lines
        .take_while(|l| l.starts_with("    ") || l.is_empty())
        .filter_map(|l| l.strip_prefix("    "))
        .filter(|l| !l.starts_with(' '))
        .filter_map(|l| l.strip_suffix(':'))
        .map(str::to_string)
        .collect()
}

#[test]
fn openapi_documents_every_served_route_and_method() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../openapi/origin.yaml"))
        .expect("openapi/origin.yaml exists");
    assert!(doc.starts_with("openapi: 3."));

    let dir = tempdir();
    let o = Origin::start(&dir);
    let v = json!({"value": 1});
    let rules = json!({"raw": "x"});
    o.get("/healthz");
    o.get("/readyz");
    o.get("/options?updated_since=0");
    o.get("/changes?after=0&limit=10");
    o.put("/options/a", &v);
    o.get("/options/a");
    o.delete("/options/a");
    for base in ["/organizations/1/options", "/projects/1/options", "/users/1/options"] {
        o.get(base);
        o.put(&format!("{base}/k"), &v);
        o.delete(&format!("{base}/k"));
    }
    o.put("/projects/1/ownership", &rules);
    o.get("/projects/1/ownership");
    o.delete("/projects/1/ownership");

    let stats = o.get("/_origin/stats").ok();
    let routes: Vec<String> = stats["by_route"].as_object().map(|m| m.keys().cloned().collect()).unwrap_or_default();
    assert_eq!(routes.len(), 19, "{routes:?}");
    let mut checked = routes;
    checked.push("GET /_origin/stats".into());
    checked.push("POST /_origin/stats/reset".into());
    for route in checked {
        let (method, path) = route.split_once(' ').expect("METHOD /path");
        let methods = documented_methods(&doc, path);
        assert!(
            methods.iter().any(|m| m.eq_ignore_ascii_case(method)),
            "{method} {path} is not documented (found {methods:?})"
        );
    }
}
