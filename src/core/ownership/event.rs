//! What ownership matchers look at in an event, taken leniently from its JSON.
//!
//! Event data comes from anyone holding a read token, in the usual
//! error-event shape. Only the top level must be a JSON object; every field
//! below it is optional, and a field of the wrong type is skipped, never an
//! error. The work is bounded whatever the body holds: at most
//! [`MAX_FRAMES`] frame entries and [`MAX_TAGS`] tag entries are considered.

use serde_json::Value;

use crate::core::error::Error;

/// Most stack frame entries considered in one event, all stack traces
/// together (the top-level one first, then each exception's in order), and
/// most tag entries: `limits`.
pub use crate::core::limits::{MAX_EVENT_FRAMES as MAX_FRAMES, MAX_EVENT_TAGS as MAX_TAGS};

/// The parts of one stack frame that matchers look at. Each is present only
/// when the event gave a non-empty string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frame {
    /// `filename`, matched by `path:`.
    pub filename: Option<String>,
    /// `abs_path`, matched by `path:`.
    pub abs_path: Option<String>,
    /// `module`, matched by `module:`.
    pub module: Option<String>,
}

/// The parts of an event that ownership matchers look at.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Event {
    /// Frames of `stacktrace.frames[]`, then of each
    /// `exception.values[].stacktrace.frames[]`, in order.
    pub frames: Vec<Frame>,
    /// `request.url`, when a non-empty string.
    pub url: Option<String>,
    /// `tags` as (key, value) pairs, in the order given (for the object form,
    /// the order of the parsed map).
    pub tags: Vec<(String, String)>,
}

/// Takes what the matchers need from an event body.
///
/// The body must be a JSON object ([`Error::InvalidBody`] otherwise); nothing
/// inside it can make this fail. Frames are objects whose `filename`,
/// `abs_path` and `module` are strings (other types and empty strings are
/// treated as absent; entries that are not objects are skipped). Tags are
/// `[[key, value], …]` or `{key: value, …}`; a key or value that is a number
/// or a boolean is turned into its JSON text (`42`, `true`), any other
/// non-string (null, array, object) skips the tag, and a pair must be an array
/// of exactly two.
pub fn event_from_json(value: &Value) -> Result<Event, Error> {
    let Value::Object(body) = value else {
        return Err(Error::InvalidBody("event data must be a JSON object".to_string()));
    };
    let mut event = Event::default();
    let mut budget = MAX_FRAMES;

    collect_frames(body.get("stacktrace"), &mut event.frames, &mut budget);
    if let Some(values) = body.get("exception").and_then(|e| e.get("values")).and_then(Value::as_array) {
        for exception in values {
            if budget == 0 {
                break;
            }
            collect_frames(exception.get("stacktrace"), &mut event.frames, &mut budget);
        }
    }

    event.url = body.get("request").and_then(|r| r.get("url")).and_then(non_empty_str).map(str::to_string);

    match body.get("tags") {
        Some(Value::Array(pairs)) => {
            event.tags = pairs.iter().take(MAX_TAGS).filter_map(pair).collect();
        }
        Some(Value::Object(map)) => {
            event.tags =
                map.iter().take(MAX_TAGS).filter_map(|(key, value)| Some((key.clone(), tag_text(value)?))).collect();
        }
        _ => {}
    }
    Ok(event)
}

/// Appends the frames of `stacktrace.frames[]` (if `stacktrace` is an object
/// holding such an array), considering at most `budget` entries.
fn collect_frames(stacktrace: Option<&Value>, frames: &mut Vec<Frame>, budget: &mut usize) {
    let Some(entries) = stacktrace.and_then(|s| s.get("frames")).and_then(Value::as_array) else {
        return;
    };
    let considered = entries.len().min(*budget);
    *budget -= considered;
    for entry in entries.iter().take(considered) {
        let Value::Object(frame) = entry else {
            continue;
        };
        let field = |name: &str| frame.get(name).and_then(non_empty_str).map(str::to_string);
        frames.push(Frame { filename: field("filename"), abs_path: field("abs_path"), module: field("module") });
    }
}

/// A `[key, value]` tag pair, if it is one.
fn pair(entry: &Value) -> Option<(String, String)> {
    match entry.as_array()?.as_slice() {
        [key, value] => Some((tag_text(key)?, tag_text(value)?)),
        _ => None,
    }
}

/// A tag key or value as text: strings as they are, numbers and booleans as
/// their JSON text, anything else nothing.
fn tag_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

fn non_empty_str(value: &Value) -> Option<&str> {
    value.as_str().filter(|s| !s.is_empty())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn frame(filename: Option<&str>, abs_path: Option<&str>, module: Option<&str>) -> Frame {
        Frame {
            filename: filename.map(str::to_string),
            abs_path: abs_path.map(str::to_string),
            module: module.map(str::to_string),
        }
    }

    fn tags(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn non_object_event_is_invalid_body() {
        for body in [json!(null), json!([]), json!("x"), json!(1), json!(true), json!([{"stacktrace": {}}])] {
            match event_from_json(&body) {
                Err(Error::InvalidBody(_)) => {}
                other => panic!("{body}: {other:?}"),
            }
        }
        assert_eq!(event_from_json(&json!({})).unwrap(), Event::default());
    }

    #[test]
    fn frames_url_and_tags_are_collected() {
        let body = json!({
            "stacktrace": {"frames": [
                {"filename": "src/a.py", "abs_path": "/app/src/a.py", "module": "app.a", "lineno": 3},
                {"filename": "src/b.py"},
            ]},
            "exception": {"values": [
                {"type": "E", "stacktrace": {"frames": [{"module": "app.c"}]}},
                {"type": "F"},
                {"stacktrace": {"frames": [{"abs_path": "/d.py"}]}},
            ]},
            "request": {"url": "https://example.com/checkout/1", "method": "GET"},
            "tags": [["browser", "Firefox"], ["level", "error"]],
        });
        let event = event_from_json(&body).unwrap();
        assert_eq!(
            event.frames,
            vec![
                frame(Some("src/a.py"), Some("/app/src/a.py"), Some("app.a")),
                frame(Some("src/b.py"), None, None),
                frame(None, None, Some("app.c")),
                frame(None, Some("/d.py"), None),
            ]
        );
        assert_eq!(event.url.as_deref(), Some("https://example.com/checkout/1"));
        assert_eq!(event.tags, tags(&[("browser", "Firefox"), ("level", "error")]));
    }

    #[test]
    fn tags_as_pairs_and_as_object_both_parse() {
        let pairs = event_from_json(&json!({"tags": [["browser", "Firefox"], ["n", 42], ["ok", true]]})).unwrap();
        assert_eq!(pairs.tags, tags(&[("browser", "Firefox"), ("n", "42"), ("ok", "true")]));
        let object = event_from_json(&json!({"tags": {"browser": "Firefox", "n": 4.5, "ok": false}})).unwrap();
        let mut got = object.tags;
        got.sort();
        assert_eq!(got, tags(&[("browser", "Firefox"), ("n", "4.5"), ("ok", "false")]));
    }

    #[test]
    fn garbage_event_fields_are_ignored_not_errors() {
        let bodies = [
            json!({"stacktrace": "nope", "exception": 3, "request": [], "tags": "x"}),
            json!({"stacktrace": {"frames": {"0": {}}}, "exception": {"values": "v"}, "request": {"url": 5}}),
            json!({"stacktrace": {"frames": [null, 1, "s", [], {"filename": 7, "abs_path": null, "module": {}}]}}),
            json!({"exception": {"values": [null, 1, {"stacktrace": null}, {"stacktrace": {"frames": null}}]}}),
            json!({"exception": [{"stacktrace": {"frames": [{"filename": "a"}]}}]}),
            json!({"request": {"url": ""}, "stacktrace": {"frames": [{"filename": "", "module": ""}]}}),
            json!({"tags": [null, 1, [], ["k"], ["k", "v", "extra"], [null, "v"], ["k", null], ["k", {}], {"k": "v"}]}),
            json!({"tags": {"a": null, "b": [], "c": {}}}),
        ];
        for body in bodies {
            let event = event_from_json(&body).unwrap_or_else(|e| panic!("{body}: {e}"));
            assert_eq!(event.url, None, "{body}");
            assert_eq!(event.tags, vec![], "{body}");
            assert!(event.frames.iter().all(|f| *f == Frame::default()), "{body}");
        }
    }

    #[test]
    fn work_is_bounded_by_frame_and_tag_limits() {
        let frames: Vec<_> = (0..MAX_FRAMES + 50).map(|i| json!({"filename": format!("f{i}")})).collect();
        let body = json!({
            "stacktrace": {"frames": frames},
            "exception": {"values": [{"stacktrace": {"frames": [{"filename": "late"}]}}]},
        });
        let event = event_from_json(&body).unwrap();
        assert_eq!(event.frames.len(), MAX_FRAMES);
        assert!(event.frames.iter().all(|f| f.filename.as_deref() != Some("late")));

        // The budget is shared across all stack traces.
        let half: Vec<_> = (0..MAX_FRAMES / 2 + 1).map(|_| json!({"module": "m"})).collect();
        let body = json!({
            "stacktrace": {"frames": half.clone()},
            "exception": {"values": [{"stacktrace": {"frames": half.clone()}}, {"stacktrace": {"frames": half}}]},
        });
        assert_eq!(event_from_json(&body).unwrap().frames.len(), MAX_FRAMES);

        let many: Vec<_> = (0..MAX_TAGS + 10).map(|i| json!([format!("k{i}"), "v"])).collect();
        assert_eq!(event_from_json(&json!({ "tags": many })).unwrap().tags.len(), MAX_TAGS);
        let map: serde_json::Map<String, Value> = (0..MAX_TAGS + 10).map(|i| (format!("k{i}"), json!("v"))).collect();
        assert_eq!(event_from_json(&json!({ "tags": map })).unwrap().tags.len(), MAX_TAGS);
    }

    #[test]
    fn unicode_in_rules_and_events_never_panics() {
        let body = json!({
            "stacktrace": {"frames": [{"filename": "日本語/🦀.rs", "abs_path": "\u{0}\u{feff}", "module": "İ.ß"}]},
            "request": {"url": "https://例え.jp/パス?q=\u{301}"},
            "tags": {"ключ": "значение", "🦀": 1e300},
        });
        let event = event_from_json(&body).unwrap();
        assert_eq!(event.frames[0].filename.as_deref(), Some("日本語/🦀.rs"));
        assert_eq!(event.url.as_deref(), Some("https://例え.jp/パス?q=\u{301}"));
        assert_eq!(event.tags.len(), 2);
    }
}
