//! Global options: `/options/{name}` and the change feed.

mod common;

use common::{enc, tempdir, Backend, Origin};
use serde_json::{json, Value};

on_both_backends!(
    option_put_get_delete_roundtrip,
    deleted_option_answers_404_with_tombstone_version,
    option_values_keep_any_json_but_null,
    null_or_missing_value_is_invalid_body,
    option_names_are_percent_decoded_and_may_hold_slashes_and_odd_unicode,
    option_name_must_be_1_to_1024_bytes,
    names_that_are_not_utf8_are_invalid_body,
    updated_since_lists_writes_and_deletes,
    updated_since_missing_or_bad_is_invalid_body,
);

fn option_put_get_delete_roundtrip(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);

    o.get("/options/system.url-prefix").assert_error(404, "not_found");
    let put = o.put("/options/system.url-prefix", &json!({"value": "https://example.com"})).ok();
    assert_eq!(put["name"], "system.url-prefix");
    assert_eq!(put["value"], "https://example.com");
    assert!(put["version"].as_i64().is_some_and(|v| v > 0));
    assert!(put["updated_at"].is_i64());

    let got = o.get("/options/system.url-prefix").ok();
    assert_eq!(got, put, "GET answers exactly what PUT stored");

    let overwritten = o.put("/options/system.url-prefix", &json!({"value": "https://b.example"})).ok();
    assert!(overwritten["version"].as_i64() > put["version"].as_i64());
    assert_eq!(o.get("/options/system.url-prefix").ok()["value"], "https://b.example");

    let del = o.delete("/options/system.url-prefix").ok();
    assert!(del["version"].as_i64() > overwritten["version"].as_i64());
    o.get("/options/system.url-prefix").assert_error(404, "not_found");
}

fn deleted_option_answers_404_with_tombstone_version(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);

    let never = o.get("/options/never-written");
    never.assert_error(404, "not_found");
    assert!(never.body.get("version").is_none(), "no tombstone for a name never written");
    o.delete("/options/never-written").assert_error(404, "not_found");

    o.put("/options/gone", &json!({"value": 1})).ok();
    let deleted_at = o.delete("/options/gone").ok()["version"].as_i64();
    assert!(deleted_at.is_some());

    let after = o.get("/options/gone");
    after.assert_error(404, "not_found");
    assert_eq!(after.body["version"].as_i64(), deleted_at);
    let again = o.delete("/options/gone");
    again.assert_error(404, "not_found");
    assert_eq!(again.body["version"].as_i64(), deleted_at, "a second delete takes no version");

    let revived = o.put("/options/gone", &json!({"value": 2})).ok();
    assert!(revived["version"].as_i64() > deleted_at);
    assert_eq!(o.get("/options/gone").ok()["value"], 2);
}

fn option_values_keep_any_json_but_null(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    let values = [
        json!(""),
        json!("naïve ☃ 😀 \u{202e}rtl \u{0} nul"),
        json!(0),
        json!(-1),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(1.5e300),
        json!(false),
        json!([]),
        json!({}),
        json!([1, "two", {"three": [null, 3.0]}]),
        json!({"nested": {"deep": {"er": [true, null]}}}),
    ];
    for (i, value) in values.iter().enumerate() {
        let path = format!("/options/v{i}");
        assert_eq!(o.put(&path, &json!({"value": value})).ok()["value"], *value);
        assert_eq!(o.get(&path).ok()["value"], *value, "value {i} round-trips");
    }
    // Extra fields are ignored.
    assert_eq!(o.put("/options/extra", &json!({"value": 1, "other": 2})).ok()["value"], 1);
}

fn null_or_missing_value_is_invalid_body(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    for body in [json!({"value": null}), json!({}), json!({"Value": 1}), json!([1]), json!("x"), json!(null)] {
        o.put("/options/x", &body).assert_error(400, "invalid_body");
    }
    o.get("/options/x").assert_error(404, "not_found");
}

fn option_names_are_percent_decoded_and_may_hold_slashes_and_odd_unicode(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    let names = [
        "a/b",
        "with space",
        "sentry:option-name",
        "ünïcödé",
        "😀🎉",
        "\u{202e}reversed",
        "nul\u{0}inside",
        "tab\tnewline\n",
        "%41 literal percent",
        "?query#hash",
        "dots..in..name",
    ];
    for name in names {
        let path = format!("/options/{}", enc(name));
        let put = o.put(&path, &json!({"value": name})).ok();
        assert_eq!(put["name"], name);
        let got = o.get(&path).ok();
        assert_eq!(got["name"], name);
        assert_eq!(got["value"], name);
    }
    // An unencoded slash also lands in the name.
    assert_eq!(o.get("/options/a/b").ok()["value"], "a/b");
    // Distinct names never collide.
    assert_eq!(o.get(&format!("/options/{}", enc("%41 literal percent"))).ok()["value"], "%41 literal percent");
    o.get("/options/A%20literal%20percent").assert_error(404, "not_found");
}

fn option_name_must_be_1_to_1024_bytes(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    let longest = "n".repeat(1024);
    o.put(&format!("/options/{longest}"), &json!({"value": 1})).ok();
    assert_eq!(o.get(&format!("/options/{longest}")).ok()["name"], longest);

    let too_long = "n".repeat(1025);
    o.put(&format!("/options/{too_long}"), &json!({"value": 1})).assert_error(400, "invalid_body");
    o.get(&format!("/options/{too_long}")).assert_error(400, "invalid_body");
    o.delete(&format!("/options/{too_long}")).assert_error(400, "invalid_body");
    // 257 four-byte characters are 1028 bytes.
    o.get(&format!("/options/{}", enc(&"😀".repeat(257)))).assert_error(400, "invalid_body");

    o.put("/options/", &json!({"value": 1})).assert_error(400, "invalid_body");
    o.get("/options/").assert_error(400, "invalid_body");
}

fn names_that_are_not_utf8_are_invalid_body(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    for raw in ["%FF", "%C3%28", "a%80b", "%ED%A0%80"] {
        o.get(&format!("/options/{raw}")).assert_error(400, "invalid_body");
        o.put(&format!("/options/{raw}"), &json!({"value": 1})).assert_error(400, "invalid_body");
    }
}

fn names(list: &Value) -> Vec<String> {
    list.as_array().map(|a| a.iter().filter_map(|e| e["name"].as_str().map(String::from)).collect()).unwrap_or_default()
}

fn updated_since_lists_writes_and_deletes(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    let start = o.put("/options/first", &json!({"value": 1})).ok()["updated_at"].as_i64().unwrap_or(0);
    o.put("/options/second", &json!({"value": [2]})).ok();
    o.put("/options/third", &json!({"value": "3"})).ok();
    o.delete("/options/second").ok();
    o.put("/options/first", &json!({"value": 11})).ok();

    let feed = o.get(&format!("/options?updated_since={start}")).ok();
    assert_eq!(names(&feed["options"]), ["third", "first"], "ordered by version: {feed}");
    assert_eq!(feed["options"][1]["value"], 11);
    assert_eq!(names(&feed["deleted"]), ["second"]);
    let versions: Vec<i64> =
        feed["options"].as_array().into_iter().flatten().filter_map(|e| e["version"].as_i64()).collect();
    assert!(versions.windows(2).all(|w| w[0] < w[1]));
    for entry in
        feed["options"].as_array().into_iter().flatten().chain(feed["deleted"].as_array().into_iter().flatten())
    {
        assert!(entry["updated_at"].as_i64() >= Some(start));
        assert!(entry["version"].is_i64());
    }
    assert!(feed["deleted"][0].get("value").is_none());

    let all = o.get("/options?updated_since=0").ok();
    assert_eq!(names(&all["options"]).len(), 2);

    let future = o.get(&format!("/options?updated_since={}", start + 3600)).ok();
    assert_eq!(future["options"], json!([]));
    assert_eq!(future["deleted"], json!([]));
}

fn updated_since_missing_or_bad_is_invalid_body(backend: Backend) {
    let dir = tempdir();
    let o = Origin::on(backend, &dir);
    for query in [
        "",
        "?",
        "?updated_since=",
        "?updated_since=abc",
        "?updated_since=-5",
        "?updated_since=1.5",
        "?updated_since=99999999999999999999999",
        "?since=0",
        "?updated_since=1&updated_since=2",
        "?updated_since=%FF",
    ] {
        o.get(&format!("/options{query}")).assert_error(400, "invalid_body");
    }
    o.get("/options?updated_since=9223372036854775807").ok();
}
