//! Generators shared by the property tests (`tests/prop_*.rs`).

use proptest::prelude::*;
use proptest::strategy::Union;
use serde_json::Value;

/// `default` cases, unless `PROPTEST_CASES` says otherwise; no regression
/// files are written into the work tree.
pub fn cases(default: u32) -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() }
}

/// Strings of up to `max` characters: any character, and one in four from
/// `specials` (the characters a parser under test cares about).
#[allow(dead_code)] // each property test compiles this module; not all use it
pub fn text_with(max: usize, specials: &'static [char]) -> impl Strategy<Value = String> {
    let c = prop_oneof![3 => any::<char>(), 1 => prop::sample::select(specials)];
    prop::collection::vec(c, 0..max).prop_map(|chars| chars.into_iter().collect())
}

/// JSON values of depth at most `depth`: null, bools, every `i64`/`u64`,
/// strings from `text`, floats from `floats` when given (a float may not
/// survive a JSON round trip exactly, so tests of exact round trips leave
/// them out), and arrays and objects of up to 6 items keyed by `text`.
pub fn json_tree(depth: u32, text: BoxedStrategy<String>, floats: Option<BoxedStrategy<f64>>) -> BoxedStrategy<Value> {
    let mut leaves: Vec<BoxedStrategy<Value>> = vec![
        Just(Value::Null).boxed(),
        any::<bool>().prop_map(Value::Bool).boxed(),
        any::<i64>().prop_map(Value::from).boxed(),
        any::<u64>().prop_map(Value::from).boxed(),
        text.clone().prop_map(Value::String).boxed(),
    ];
    if let Some(floats) = floats {
        leaves.push(floats.prop_map(Value::from).boxed());
    }
    Union::new(leaves)
        .prop_recursive(depth, 64, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((text.clone(), inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
        .boxed()
}
