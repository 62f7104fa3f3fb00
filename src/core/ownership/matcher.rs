//! Evaluating an event against ownership rules: who owns it, by which rules,
//! and whom to auto-assign.
//!
//! The event's texts are folded into characters once per evaluation (and
//! deduplicated), each rule's pattern once, so the cost is one glob match per
//! rule per distinct text it looks at, each O(len(pattern) × len(text)).

use std::collections::HashSet;

use serde::ser::{Serialize, Serializer};

use super::event::Event;
use super::glob::{fold, match_chars};
use super::rules::{MatcherKind, Owner, Rule};

/// The owners of an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owners {
    /// No rule matched and the project falls through to everyone.
    /// JSON: `"everyone"`.
    Everyone,
    /// The owners of the matching rules, deduplicated in rule order; empty
    /// when nothing matched and the project does not fall through.
    /// JSON: `[{"type", "identifier"}, …]`.
    Owners(Vec<Owner>),
}

impl Serialize for Owners {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Owners::Everyone => serializer.serialize_str("everyone"),
            Owners::Owners(owners) => owners.serialize(serializer),
        }
    }
}

/// The answer for one event: `{"owners": "everyone" | […], "rules": […],
/// "auto_assign": {"type", "identifier"} | null}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Evaluation {
    /// Who owns the event.
    pub owners: Owners,
    /// Every matching rule, in rule order (each serialized as in the schema).
    pub rules: Vec<Rule>,
    /// Whom to auto-assign: the first owner of the last matching rule, when
    /// auto-assignment is on and some rule matched.
    pub auto_assign: Option<Owner>,
}

/// Evaluates `event` against `rules`.
///
/// - `rules`: every rule whose matcher matches (see the module docs of
///   [`super`] for what each matcher looks at), in rule order.
/// - `owners`: the owners of those rules in rule order, each kept at its first
///   occurrence; when none matched, [`Owners::Everyone`] if `fallthrough`, else
///   an empty list.
/// - `auto_assign`: when `auto_assignment` is on and a rule matched, the first
///   owner of the *last* matching rule (a later rule is taken as the more
///   specific one, as in the original design); otherwise `None`.
pub fn evaluate(rules: &[Rule], event: &Event, fallthrough: bool, auto_assignment: bool) -> Evaluation {
    let texts = Texts::new(rules, event);
    let matching: Vec<Rule> = rules.iter().filter(|rule| texts.matches(rule)).cloned().collect();

    let owners = if matching.is_empty() && fallthrough {
        Owners::Everyone
    } else {
        let mut seen = HashSet::new();
        let owners = matching.iter().flat_map(|rule| &rule.owners).filter(|owner| seen.insert(*owner)).cloned();
        Owners::Owners(owners.collect())
    };
    let auto_assign =
        if auto_assignment { matching.last().and_then(|rule| rule.owners.first()).cloned() } else { None };

    Evaluation { owners, rules: matching, auto_assign }
}

/// The event's texts, folded once for matching. Only the kinds some rule
/// looks at are prepared.
struct Texts<'a> {
    /// Distinct frame `filename`s and `abs_path`s, lowercased.
    paths: Vec<Vec<char>>,
    /// Distinct frame `module`s.
    modules: Vec<Vec<char>>,
    /// `request.url`.
    url: Option<Vec<char>>,
    /// Tags: key as given, value folded.
    tags: Vec<(&'a str, Vec<char>)>,
}

impl<'a> Texts<'a> {
    fn new(rules: &[Rule], event: &'a Event) -> Texts<'a> {
        let wants = |pred: fn(&MatcherKind) -> bool| rules.iter().any(|rule| pred(&rule.matcher.kind));
        let mut texts = Texts { paths: Vec::new(), modules: Vec::new(), url: None, tags: Vec::new() };
        if wants(|k| *k == MatcherKind::Path) {
            let paths = event.frames.iter().flat_map(|f| [f.filename.as_deref(), f.abs_path.as_deref()]);
            texts.paths = distinct(paths.flatten(), true);
        }
        if wants(|k| *k == MatcherKind::Module) {
            texts.modules = distinct(event.frames.iter().filter_map(|f| f.module.as_deref()), false);
        }
        if wants(|k| *k == MatcherKind::Url) {
            texts.url = event.url.as_deref().map(|url| fold(url, false));
        }
        if wants(|k| matches!(k, MatcherKind::Tag(_))) {
            texts.tags = event.tags.iter().map(|(key, value)| (key.as_str(), fold(value, false))).collect();
        }
        texts
    }

    fn matches(&self, rule: &Rule) -> bool {
        let matcher = &rule.matcher;
        match &matcher.kind {
            MatcherKind::Path => {
                let pattern = fold(&matcher.pattern, true);
                self.paths.iter().any(|text| match_chars(&pattern, text))
            }
            MatcherKind::Module => {
                let pattern = fold(&matcher.pattern, false);
                self.modules.iter().any(|text| match_chars(&pattern, text))
            }
            MatcherKind::Url => {
                let pattern = fold(&matcher.pattern, false);
                self.url.as_ref().is_some_and(|text| match_chars(&pattern, text))
            }
            MatcherKind::Tag(key) => {
                let pattern = fold(&matcher.pattern, false);
                self.tags.iter().any(|(k, value)| k == key && match_chars(&pattern, value))
            }
        }
    }
}

/// The distinct texts among `texts`, folded.
fn distinct<'t>(texts: impl Iterator<Item = &'t str>, case_insensitive: bool) -> Vec<Vec<char>> {
    let mut seen = HashSet::new();
    texts.filter(|text| seen.insert(*text)).map(|text| fold(text, case_insensitive)).collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::core::ownership::event::event_from_json;
    use crate::core::ownership::grammar::parse_rules;

    fn rules(raw: &str) -> Vec<Rule> {
        parse_rules(raw).unwrap()
    }

    fn event(body: serde_json::Value) -> Event {
        event_from_json(&body).unwrap()
    }

    fn team(slug: &str) -> Owner {
        Owner::Team(slug.to_string())
    }

    fn user(email: &str) -> Owner {
        Owner::User(email.to_string())
    }

    fn frames(frames: serde_json::Value) -> Event {
        event(json!({"stacktrace": {"frames": frames}}))
    }

    fn owners_of(raw: &str, event: &Event) -> Owners {
        evaluate(&rules(raw), event, false, false).owners
    }

    #[test]
    fn path_matches_filename_or_abs_path_of_any_frame_case_insensitively() {
        let raw = "path:src/app/*.py #backend";
        let by_filename = frames(json!([{"filename": "lib/x.js"}, {"filename": "SRC/App/Views.PY"}]));
        assert_eq!(owners_of(raw, &by_filename), Owners::Owners(vec![team("backend")]));
        let by_abs_path = frames(json!([{"filename": "views.py", "abs_path": "src/app/views.py"}]));
        assert_eq!(owners_of(raw, &by_abs_path), Owners::Owners(vec![team("backend")]));
        let neither = frames(json!([{"filename": "views.py", "abs_path": "/srv/src/app/views.py"}]));
        assert_eq!(owners_of(raw, &neither), Owners::Owners(vec![]));
        // A pattern in capitals matches lowercase paths too.
        assert_eq!(owners_of("path:*.PY #b", &by_abs_path), Owners::Owners(vec![team("b")]));
    }

    #[test]
    fn exception_frames_are_matched_too() {
        let e = event(json!({
            "exception": {"values": [
                {"stacktrace": {"frames": [{"filename": "other.py"}]}},
                {"stacktrace": {"frames": [{"filename": "src/billing/pay.py", "module": "app.billing.pay"}]}},
            ]}
        }));
        assert_eq!(owners_of("path:src/billing/* #billing", &e), Owners::Owners(vec![team("billing")]));
        assert_eq!(owners_of("module:app.billing.* #billing", &e), Owners::Owners(vec![team("billing")]));
    }

    #[test]
    fn module_and_url_match_case_sensitively() {
        let e = event(json!({
            "stacktrace": {"frames": [{"module": "app.Billing.pay"}]},
            "request": {"url": "https://example.com/Checkout/1"},
        }));
        assert_eq!(owners_of("module:app.Billing.* #m", &e), Owners::Owners(vec![team("m")]));
        assert_eq!(owners_of("module:app.billing.* #m", &e), Owners::Owners(vec![]));
        assert_eq!(owners_of("url:https://example.com/Checkout/* #w", &e), Owners::Owners(vec![team("w")]));
        assert_eq!(owners_of("url:https://example.com/checkout/* #w", &e), Owners::Owners(vec![]));
        assert_eq!(owners_of("url:*example.com* #w", &event(json!({}))), Owners::Owners(vec![]));
    }

    #[test]
    fn tags_as_pairs_and_as_object_both_match() {
        let raw = "tags.browser:Fire* #frontend";
        let pairs = event(json!({"tags": [["level", "error"], ["browser", "Firefox 120"]]}));
        let object = event(json!({"tags": {"level": "error", "browser": "Firefox 120"}}));
        for e in [&pairs, &object] {
            assert_eq!(owners_of(raw, e), Owners::Owners(vec![team("frontend")]));
        }
        // The key is matched exactly and case-sensitively, the value by a
        // case-sensitive glob; numbers and booleans match as their text.
        assert_eq!(owners_of("tags.Browser:Fire* #f", &pairs), Owners::Owners(vec![]));
        assert_eq!(owners_of("tags.browse*:Fire* #f", &pairs), Owners::Owners(vec![]));
        assert_eq!(owners_of("tags.browser:fire* #f", &pairs), Owners::Owners(vec![]));
        let numeric = event(json!({"tags": {"shard": 42, "beta": true}}));
        assert_eq!(
            owners_of("tags.shard:4? #s\ntags.beta:true #b", &numeric),
            Owners::Owners(vec![team("s"), team("b")])
        );
    }

    #[test]
    fn owners_are_deduplicated_in_rule_order() {
        let raw = "path:*.py #backend alice@example.com\n\
                   url:* #web\n\
                   path:src/* ALICE@example.com #python #backend\n\
                   module:nomatch #never";
        let e = event(json!({
            "stacktrace": {"frames": [{"filename": "src/a.py", "module": "a"}]},
            "request": {"url": "https://x.test/"},
        }));
        let evaluation = evaluate(&rules(raw), &e, true, false);
        assert_eq!(
            evaluation.owners,
            Owners::Owners(vec![team("backend"), user("alice@example.com"), team("web"), team("python")])
        );
        let matched: Vec<_> = evaluation.rules.iter().map(|r| r.matcher.pattern.as_str()).collect();
        assert_eq!(matched, vec!["*.py", "*", "src/*"]);
    }

    #[test]
    fn no_match_with_fallthrough_is_everyone() {
        let e = frames(json!([{"filename": "xxxx"}]));
        let evaluation = evaluate(&rules("path:src/* #backend"), &e, true, true);
        assert_eq!(evaluation, Evaluation { owners: Owners::Everyone, rules: vec![], auto_assign: None });
        assert_eq!(evaluate(&[], &Event::default(), true, true).owners, Owners::Everyone);
    }

    #[test]
    fn no_match_without_fallthrough_is_empty() {
        let e = frames(json!([{"filename": "xxxx"}]));
        let evaluation = evaluate(&rules("path:src/* #backend"), &e, false, true);
        assert_eq!(evaluation, Evaluation { owners: Owners::Owners(vec![]), rules: vec![], auto_assign: None });
        assert_eq!(evaluate(&[], &Event::default(), false, false).owners, Owners::Owners(vec![]));
    }

    #[test]
    fn auto_assign_is_first_owner_of_last_matching_rule_only_when_enabled() {
        let raw = "path:*.py #first bob@example.com\npath:src/* carol@example.com #second\npath:lib/* #never";
        let e = frames(json!([{"filename": "src/a.py"}]));
        let on = evaluate(&rules(raw), &e, true, true);
        assert_eq!(on.auto_assign, Some(user("carol@example.com")));
        let off = evaluate(&rules(raw), &e, true, false);
        assert_eq!(off.auto_assign, None);
        assert_eq!(on.owners, off.owners);
        let none = evaluate(&rules(raw), &frames(json!([{"filename": "x.js"}])), true, true);
        assert_eq!(none.auto_assign, None);
    }

    #[test]
    fn evaluation_serializes_as_the_api_answer() {
        let raw = "path:src/* #backend alice@example.com";
        let e = frames(json!([{"filename": "src/a.py"}]));
        let evaluation = evaluate(&rules(raw), &e, true, true);
        assert_eq!(
            serde_json::to_value(&evaluation).unwrap(),
            json!({
                "owners": [{"type": "team", "identifier": "backend"}, {"type": "user", "identifier": "alice@example.com"}],
                "rules": [{"matcher": {"type": "path", "pattern": "src/*"},
                           "owners": [{"type": "team", "identifier": "backend"},
                                      {"type": "user", "identifier": "alice@example.com"}]}],
                "auto_assign": {"type": "team", "identifier": "backend"},
            })
        );
        let everyone = evaluate(&rules(raw), &Event::default(), true, true);
        assert_eq!(
            serde_json::to_value(&everyone).unwrap(),
            json!({"owners": "everyone", "rules": [], "auto_assign": null})
        );
        let empty = evaluate(&rules(raw), &Event::default(), false, true);
        assert_eq!(serde_json::to_value(&empty).unwrap(), json!({"owners": [], "rules": [], "auto_assign": null}));
    }

    #[test]
    fn garbage_event_fields_are_ignored_not_errors() {
        let raw = "path:* #p\nmodule:* #m\nurl:* #u\ntags.k:* #t";
        let e = event(json!({
            "stacktrace": {"frames": [null, {"filename": 1, "module": ""}]},
            "request": {"url": null},
            "tags": [["k"], ["k", null], 5],
        }));
        // `*` matches nothing here: absent and empty fields are never matched.
        assert_eq!(evaluate(&rules(raw), &e, true, true).owners, Owners::Everyone);
    }

    #[test]
    fn pathological_glob_finishes_quickly() {
        let raw = format!("path:{}b #slow\nurl:{}b #slow", "*a".repeat(30), "*a".repeat(30));
        let long = "a".repeat(10_000);
        let e = event(json!({
            "stacktrace": {"frames": [{"filename": long, "abs_path": long}]},
            "request": {"url": long},
        }));
        assert_eq!(owners_of(&raw, &e), Owners::Owners(vec![]));
    }

    #[test]
    fn unicode_in_rules_and_events_never_panics() {
        let raw = "path:日本語/* #jp\nmodule:🦀.* 🦀@🦀\nurl:https://例え.jp/* #url\ntags.ключ:знач* #ru\npath:İ* #i";
        let e = event(json!({
            "stacktrace": {"frames": [{"filename": "日本語/x.rs", "module": "🦀.core"}, {"abs_path": "\u{130}STANBUL"}]},
            "request": {"url": "https://例え.jp/パス"},
            "tags": {"ключ": "значение"},
        }));
        let evaluation = evaluate(&rules(raw), &e, false, true);
        assert_eq!(
            evaluation.owners,
            Owners::Owners(vec![team("jp"), user("🦀@🦀"), team("url"), team("ru"), team("i")])
        );
        assert_eq!(evaluation.auto_assign, Some(team("i")));
    }
}
