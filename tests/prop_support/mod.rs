//! Generators shared by the property tests (`tests/prop_*.rs`).

use proptest::prelude::*;
use proptest::strategy::Union;
use serde_json::Value;

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
