//! Property tests of the ownership rules grammar, the glob matcher, event
//! parsing and owner evaluation (`edge_options::core::ownership`), through the
//! crate's public API only.
//!
//! The default case counts keep this file well under a few seconds; run it
//! longer with e.g. `PROPTEST_CASES=100000 cargo test --test prop_grammar`
//! (the variable replaces every test's own count).

mod prop_support;

use edge_options::core::error::Error;
use edge_options::core::ownership::{
    evaluate, event_from_json, glob_match, parse_rules, schema, Event, MatcherKind, Owner, Owners, Rule,
    MAX_LINE_CHARS, MAX_RULES,
};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

use prop_support::cases;

// ---------------------------------------------------------------------------
// Generators
// ---------------------------------------------------------------------------

/// Characters the grammar cares about, plus any `char` at all.
fn any_char() -> impl Strategy<Value = char> {
    prop_oneof![
        3 => any::<char>(),
        2 => prop::sample::select(vec![
            ' ', '\t', '\n', '\r', '\u{0}', '\u{7}', '\u{b}', '\u{c}', '\u{85}', '\u{a0}', '\u{2028}', '\u{2029}',
            '\u{3000}', '\u{feff}', '\u{301}', '#', ':', '@', '*', '?', '.', '/', '-', '_', 'a', 'Z', '0', 'İ', 'é',
            'ß', '🦀', '日',
        ]),
    ]
}

fn any_text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(any_char(), 0..max).prop_map(|chars| chars.into_iter().collect())
}

/// Pieces that look like rules, so random lines get past the first checks.
fn rule_atom() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "path:",
            "url:",
            "module:",
            "tags.",
            "tags.k:",
            "tags.:",
            "PATH:",
            "path",
            ":",
            "#",
            "#team",
            "#te am",
            "#é",
            "a@b",
            "@",
            "a@",
            "@b",
            "a@b@c",
            "src/*",
            "*",
            "?",
            "**?",
            "https://x.test:8443/*",
            "# comment",
            " ",
            "\t",
            "\u{a0}",
            "\u{2028}",
            "\u{feff}",
            "\r",
            "\n",
            "\r\n",
        ])
        .prop_map(str::to_string),
        any_text(12),
    ]
}

fn rules_like_line() -> impl Strategy<Value = String> {
    prop::collection::vec(rule_atom(), 0..8).prop_map(|atoms| atoms.concat())
}

fn line_ending() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["\n", "\r\n", "\r"])
}

/// Whitespace that separates tokens (never a line ending).
fn separator() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![' ', '\t', '\u{a0}', '\u{b}', '\u{c}', '\u{85}', '\u{2003}', '\u{2028}', '\u{3000}']),
        1..3,
    )
    .prop_map(|chars| chars.into_iter().collect())
}

/// Any character that is not whitespace.
fn token_char() -> impl Strategy<Value = char> {
    prop_oneof![
        2 => any::<char>().prop_map(|c| if c.is_whitespace() { 'w' } else { c }),
        1 => prop::sample::select(vec!['*', '?', '/', '.', ':', '#', '@', '-', 'a', 'B', 'é', 'İ', '🦀', '\u{0}']),
    ]
}

fn token(allowed: fn(char) -> bool, len: std::ops::Range<usize>) -> impl Strategy<Value = String> {
    // `x` is allowed wherever a token is: a map, not a filter, so long runs
    // never run out of local rejects.
    prop::collection::vec(token_char().prop_map(move |c| if allowed(c) { c } else { 'x' }), len)
        .prop_map(|chars| chars.into_iter().collect())
}

/// A matcher type as the generator chose it.
#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Path,
    Url,
    Module,
    Tag(String),
}

impl Kind {
    fn type_name(&self) -> String {
        match self {
            Kind::Path => "path".into(),
            Kind::Url => "url".into(),
            Kind::Module => "module".into(),
            Kind::Tag(key) => format!("tags.{key}"),
        }
    }
}

/// An owner token as written in rules text.
#[derive(Debug, Clone)]
enum GenOwner {
    Team(String),
    User(String),
}

impl GenOwner {
    fn written(&self) -> String {
        match self {
            GenOwner::Team(slug) => format!("#{slug}"),
            GenOwner::User(email) => email.clone(),
        }
    }

    fn expected(&self) -> Value {
        match self {
            GenOwner::Team(slug) => json!({"type": "team", "identifier": slug}),
            GenOwner::User(email) => json!({"type": "user", "identifier": email.to_lowercase()}),
        }
    }
}

#[derive(Debug, Clone)]
struct GenRule {
    kind: Kind,
    pattern: String,
    owners: Vec<GenOwner>,
}

fn kind(tag_key: BoxedStrategy<String>) -> impl Strategy<Value = Kind> {
    prop_oneof![Just(Kind::Path), Just(Kind::Url), Just(Kind::Module), tag_key.prop_map(Kind::Tag)]
}

fn owner() -> impl Strategy<Value = GenOwner> {
    prop_oneof![
        "[A-Za-z0-9_-]{1,12}".prop_map(GenOwner::Team),
        (token(|c| c != '@' && c != '#', 1..2), token(|c| c != '@', 0..8), token(|c| c != '@', 1..8))
            .prop_map(|(first, rest, domain)| GenOwner::User(format!("{first}{rest}@{domain}"))),
    ]
}

/// A valid rule with any characters in its pattern and tag key.
fn valid_rule() -> impl Strategy<Value = GenRule> {
    (kind(token(|c| c != ':', 1..10).boxed()), token(|_| true, 1..24), prop::collection::vec(owner(), 1..4))
        .prop_map(|(kind, pattern, owners)| GenRule { kind, pattern, owners })
}

/// Rules text for `rules`, with random indentation, separators, line
/// endings, comment and blank lines between them, and maybe a BOM.
fn rules_text(rules: Vec<GenRule>) -> impl Strategy<Value = String> {
    let n = rules.len();
    (
        any::<bool>(),
        prop::collection::vec((separator(), separator(), separator(), line_ending()), n..=n),
        prop::collection::vec(
            prop::option::of(prop_oneof![
                (separator(), any_text(40)).prop_map(|(indent, text)| {
                    let text: String = text.chars().filter(|c| *c != '\n' && *c != '\r').collect();
                    format!("{indent}#{text}")
                }),
                separator(),
                Just(String::new()),
            ]),
            n + 1..=n + 1,
        ),
        prop::collection::vec(line_ending(), n + 1..=n + 1),
    )
        .prop_map(move |(bom, layout, extra, extra_endings)| {
            let mut text = String::new();
            if bom {
                text.push('\u{feff}');
            }
            for (i, rule) in rules.iter().enumerate() {
                if let Some(line) = &extra[i] {
                    text.push_str(line);
                    text.push_str(extra_endings[i]);
                }
                let (indent, between, trailing, ending) = &layout[i];
                let indent = if i % 2 == 0 { indent.as_str() } else { "" };
                text.push_str(indent);
                text.push_str(&format!("{}:{}", rule.kind.type_name(), rule.pattern));
                for owner in &rule.owners {
                    text.push_str(between);
                    text.push_str(&owner.written());
                }
                text.push_str(trailing);
                text.push_str(ending);
            }
            if let Some(line) = &extra[n] {
                text.push_str(line);
            }
            text
        })
}

fn expected_schema(rules: &[GenRule]) -> Value {
    let rules: Vec<Value> = rules
        .iter()
        .map(|r| {
            json!({
                "matcher": {"type": r.kind.type_name(), "pattern": r.pattern},
                "owners": r.owners.iter().map(GenOwner::expected).collect::<Vec<_>>(),
            })
        })
        .collect();
    json!({"$version": 1, "rules": rules})
}

/// Rules text rebuilt from a schema, one plain rule a line.
fn text_from_schema(schema: &Value) -> String {
    let mut text = String::new();
    for rule in schema["rules"].as_array().expect("rules array") {
        text.push_str(&format!(
            "{}:{}",
            rule["matcher"]["type"].as_str().expect("type"),
            rule["matcher"]["pattern"].as_str().expect("pattern")
        ));
        for owner in rule["owners"].as_array().expect("owners") {
            let id = owner["identifier"].as_str().expect("identifier");
            match owner["type"].as_str() {
                Some("team") => text.push_str(&format!(" #{id}")),
                _ => text.push_str(&format!(" {id}")),
            }
        }
        text.push('\n');
    }
    text
}

/// The lines of rules text as the grammar documents them: ends at `\n`,
/// `\r\n` or a lone `\r`, after a leading BOM is dropped.
fn doc_lines(raw: &str) -> Vec<String> {
    let raw = raw.strip_prefix('\u{feff}').unwrap_or(raw);
    raw.replace("\r\n", "\n").replace('\r', "\n").split('\n').map(str::to_string).collect()
}

// ---------------------------------------------------------------------------
// Reference glob: slow, recursive, obviously right on short inputs.
// ---------------------------------------------------------------------------

fn reference_chars(pattern: &[char], text: &[char], eq: &dyn Fn(char, char) -> bool) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some(('*', rest)) => (0..=text.len()).any(|i| reference_chars(rest, &text[i..], eq)),
        Some(('?', rest)) => !text.is_empty() && reference_chars(rest, &text[1..], eq),
        Some((&c, rest)) => text.first().is_some_and(|&t| eq(c, t)) && reference_chars(rest, &text[1..], eq),
    }
}

/// The documented semantics: `*` any run, `?` one character, the rest
/// literal; with `case_insensitive`, both sides lowercased first.
fn reference_glob(pattern: &str, text: &str, case_insensitive: bool) -> bool {
    let fold = |s: &str| -> Vec<char> {
        if case_insensitive {
            s.to_lowercase().chars().collect()
        } else {
            s.chars().collect()
        }
    };
    reference_chars(&fold(pattern), &fold(text), &|a, b| a == b)
}

fn glob_pattern() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(vec!['a', 'b', 'A', '*', '?', '/', 'é', 'É', 'İ', 'ß']), 0..9)
        .prop_map(|c| c.into_iter().collect())
}

fn glob_text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(vec!['a', 'b', 'A', 'B', '/', '*', '?', 'é', 'É', 'i', 'ß']), 0..11)
        .prop_map(|c| c.into_iter().collect())
}

/// A text the pattern must match: each `*` replaced by a random run, each
/// `?` by a random character.
fn instance_of(pattern: String) -> impl Strategy<Value = (String, String)> {
    let n = pattern.chars().count();
    prop::collection::vec(glob_text(), n..=n).prop_map(move |fills| {
        let mut text = String::new();
        for (c, fill) in pattern.chars().zip(fills) {
            match c {
                '*' => text.push_str(&fill),
                '?' => text.push(fill.chars().next().unwrap_or('x')),
                c => text.push(c),
            }
        }
        (pattern.clone(), text)
    })
}

// ---------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------

fn arb_json(depth: u32) -> impl Strategy<Value = Value> {
    prop_support::json_tree(
        depth,
        any_text(12).boxed(),
        Some(any::<f64>().prop_filter("finite", |f| f.is_finite()).boxed()),
    )
}

/// Short texts from a small alphabet, so rules and events meet often.
fn small_text() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(vec!['a', 'b', 'A', '/', '.', 'é', 'É']), 0..5)
        .prop_map(|c| c.into_iter().collect())
}

fn small_pattern() -> impl Strategy<Value = String> {
    prop::collection::vec(prop::sample::select(vec!['a', 'b', 'A', '/', '.', '*', '?', 'É']), 1..5)
        .prop_map(|c| c.into_iter().collect())
}

/// A field value: mostly a short string, sometimes another type.
fn field() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        6 => small_text().prop_map(|s| Some(Value::String(s))),
        1 => Just(None),
        1 => arb_json(1).prop_map(Some),
    ]
}

fn frame() -> impl Strategy<Value = Value> {
    prop_oneof![
        8 => (field(), field(), field()).prop_map(|(f, a, m)| {
            let mut frame = Map::new();
            for (name, v) in [("filename", f), ("abs_path", a), ("module", m)] {
                if let Some(v) = v {
                    frame.insert(name.to_string(), v);
                }
            }
            Value::Object(frame)
        }),
        1 => arb_json(1),
    ]
}

fn frames() -> impl Strategy<Value = Value> {
    prop::collection::vec(frame(), 0..4).prop_map(|f| json!({ "frames": f }))
}

fn tag_part() -> impl Strategy<Value = Value> {
    prop_oneof![
        6 => prop::sample::select(vec!["k", "browser", "a", "A", ""]).prop_map(|s| Value::String(s.to_string())),
        2 => small_text().prop_map(Value::String),
        1 => prop_oneof![Just(json!(42)), Just(json!(true)), Just(json!(-1.5)), Just(Value::Null), Just(json!([]))],
    ]
}

fn tags() -> impl Strategy<Value = Value> {
    prop_oneof![
        prop::collection::vec(
            prop_oneof![
                6 => (tag_part(), tag_part()).prop_map(|(k, v)| json!([k, v])),
                1 => arb_json(1),
            ],
            0..4
        )
        .prop_map(Value::Array),
        prop::collection::vec((prop::sample::select(vec!["k", "browser", "a", "A", ""]), tag_part()), 0..4)
            .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        arb_json(1),
    ]
}

/// Event data in the usual shape, with odd types mixed in.
fn event_json() -> impl Strategy<Value = Value> {
    (
        prop::option::of(frames()),
        prop::collection::vec(prop::option::of(frames()), 0..3),
        prop::option::of(field()),
        prop::option::of(tags()),
    )
        .prop_map(|(stacktrace, exceptions, url, tags)| {
            let mut event = Map::new();
            if let Some(st) = stacktrace {
                event.insert("stacktrace".into(), st);
            }
            if !exceptions.is_empty() {
                let values: Vec<Value> = exceptions
                    .into_iter()
                    .map(|st| st.map(|st| json!({ "stacktrace": st })).unwrap_or(json!({})))
                    .collect();
                event.insert("exception".into(), json!({ "values": values }));
            }
            if let Some(url) = url {
                event.insert("request".into(), json!({ "url": url }));
            }
            if let Some(tags) = tags {
                event.insert("tags".into(), tags);
            }
            Value::Object(event)
        })
}

/// Rules over small alphabets, so they match the events above often.
fn matching_rules() -> impl Strategy<Value = Vec<Rule>> {
    let kind = prop_oneof![
        Just(MatcherKind::Path),
        Just(MatcherKind::Url),
        Just(MatcherKind::Module),
        prop::sample::select(vec!["k", "browser", "a", "A"]).prop_map(|k| MatcherKind::Tag(k.to_string())),
    ];
    let owner = prop_oneof![
        prop::sample::select(vec!["t1", "t2", "t3"]).prop_map(|s| format!("#{s}")),
        prop::sample::select(vec!["a@x.y", "B@x.y", "b@x.y"]).prop_map(str::to_string),
    ];
    prop::collection::vec((kind, small_pattern(), prop::collection::vec(owner, 1..4)), 0..6).prop_map(|rules| {
        let text: String = rules
            .iter()
            .map(|(kind, pattern, owners)| format!("{}:{} {}\n", kind.type_name(), pattern, owners.join(" ")))
            .collect();
        parse_rules(&text).expect("generated rules parse")
    })
}

/// Which rules match, decided the slow way from the documented semantics.
fn reference_matches(rule: &Rule, event: &Event) -> bool {
    let pattern = &rule.matcher.pattern;
    match &rule.matcher.kind {
        MatcherKind::Path => event
            .frames
            .iter()
            .flat_map(|f| [&f.filename, &f.abs_path])
            .flatten()
            .any(|text| reference_glob(pattern, text, true)),
        MatcherKind::Module => {
            event.frames.iter().filter_map(|f| f.module.as_ref()).any(|text| reference_glob(pattern, text, false))
        }
        MatcherKind::Url => event.url.as_ref().is_some_and(|url| reference_glob(pattern, url, false)),
        MatcherKind::Tag(key) => event.tags.iter().any(|(k, v)| k == key && reference_glob(pattern, v, false)),
    }
}

// ---------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------

fn check_error_position(raw: &str, line: usize, column: usize) {
    let lines = doc_lines(raw);
    assert!(line >= 1 && line <= lines.len(), "line {line} of {} in {raw:?}", lines.len());
    let chars = lines[line - 1].chars().count();
    assert!(
        column >= 1 && (column <= chars || column == MAX_LINE_CHARS + 1),
        "column {column} on a line of {chars} characters in {raw:?}"
    );
}

proptest! {
    #![proptest_config(cases(512))]

    #[test]
    fn arbitrary_rules_text_never_panics(raw in prop_oneof![any_text(200), any::<String>()]) {
        match parse_rules(&raw) {
            Ok(rules) => prop_assert!(rules.iter().all(|r| !r.owners.is_empty() && !r.matcher.pattern.is_empty())),
            Err(e) => {
                check_error_position(&raw, e.line, e.column);
                let err = Error::from(e);
                prop_assert_eq!((err.code(), err.status()), ("invalid_rules", 400));
            }
        }
    }

    #[test]
    fn rule_like_lines_never_panic_and_errors_name_a_real_position(
        lines in prop::collection::vec((rules_like_line(), line_ending()), 0..12),
    ) {
        let raw: String = lines.iter().map(|(line, end)| format!("{line}{end}")).collect();
        match parse_rules(&raw) {
            Ok(rules) => {
                prop_assert!(rules.len() <= MAX_RULES);
                // What parsed is stable: its schema parses back to the same rules.
                let again = parse_rules(&text_from_schema(&schema(&rules))).expect("schema text parses");
                prop_assert_eq!(again, rules);
            }
            Err(e) => check_error_position(&raw, e.line, e.column),
        }
    }
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn valid_rule_sets_parse_and_schema_round_trips(
        (rules, raw) in prop::collection::vec(valid_rule(), 0..8)
            .prop_flat_map(|rules| (Just(rules.clone()), rules_text(rules))),
    ) {
        let parsed = parse_rules(&raw).map_err(|e| TestCaseError::fail(format!("{e} in {raw:?}")))?;
        prop_assert_eq!(parsed.len(), rules.len());
        for (got, want) in parsed.iter().zip(&rules) {
            let kind = match &got.matcher.kind {
                MatcherKind::Path => Kind::Path,
                MatcherKind::Url => Kind::Url,
                MatcherKind::Module => Kind::Module,
                MatcherKind::Tag(key) => Kind::Tag(key.clone()),
            };
            prop_assert_eq!(&kind, &want.kind);
            prop_assert_eq!(&got.matcher.pattern, &want.pattern);
            let owners: Vec<Value> = got.owners.iter().map(|o| json!({"type": o.type_name(), "identifier": o.identifier()})).collect();
            let expected: Vec<Value> = want.owners.iter().map(GenOwner::expected).collect();
            prop_assert_eq!(owners, expected);
        }
        let schema = schema(&parsed);
        prop_assert_eq!(&schema, &expected_schema(&rules));
        // The schema is enough to rebuild the rules.
        let again = parse_rules(&text_from_schema(&schema)).expect("schema text parses");
        prop_assert_eq!(again, parsed);
    }

    #[test]
    fn one_bad_owner_fails_the_rule_set_at_that_token(
        rules in prop::collection::vec(valid_rule(), 1..5),
        which in any::<prop::sample::Index>(),
        bad in prop::sample::select(vec!["#", "#a.b", "#é", "#a#", "@x", "x@", "a@b@c", "nobody", "#team!"]),
    ) {
        let at = which.index(rules.len());
        let mut text = String::new();
        let mut column = 0;
        for (i, rule) in rules.iter().enumerate() {
            let mut line = format!("{}:{}", rule.kind.type_name(), rule.pattern);
            for owner in &rule.owners {
                line.push(' ');
                line.push_str(&owner.written());
            }
            if i == at {
                column = line.chars().count() + 2;
                line.push(' ');
                line.push_str(bad);
            }
            text.push_str(&line);
            text.push('\n');
        }
        let e = parse_rules(&text).expect_err("a malformed owner is refused");
        prop_assert_eq!((e.line, e.column), (at + 1, column), "{}", e);
    }

    #[test]
    fn line_length_limit_is_exact(n in (MAX_LINE_CHARS - 12)..(MAX_LINE_CHARS + 4), c in token_char()) {
        // `path:` + n - 8 characters + ` #a` is n characters long.
        let pattern: String = std::iter::repeat_n(c, n - 8).collect();
        let raw = format!("path:{pattern} #a");
        prop_assert_eq!(raw.chars().count(), n);
        match parse_rules(&raw) {
            Ok(rules) => {
                prop_assert!(n <= MAX_LINE_CHARS);
                prop_assert_eq!(&rules[0].matcher.pattern, &pattern);
            }
            Err(e) => {
                prop_assert!(n > MAX_LINE_CHARS, "{}", e);
                prop_assert_eq!((e.line, e.column), (1, MAX_LINE_CHARS + 1));
            }
        }
    }

    #[test]
    fn glob_match_agrees_with_reference(p in glob_pattern(), t in glob_text(), ci in any::<bool>()) {
        prop_assert_eq!(glob_match(&p, &t, ci), reference_glob(&p, &t, ci), "pattern {:?} text {:?} ci {}", p, t, ci);
    }

    #[test]
    fn glob_matches_its_own_instances((p, t) in glob_pattern().prop_flat_map(instance_of), ci in any::<bool>()) {
        prop_assert!(glob_match(&p, &t, ci), "pattern {:?} text {:?}", p, t);
    }

    #[test]
    fn glob_case_insensitive_on_ascii_is_eq_ignore_ascii_case(
        p in "[abAB*?/]{0,8}",
        t in "[abAB/]{0,10}",
    ) {
        let p: Vec<char> = p.chars().collect();
        let t: Vec<char> = t.chars().collect();
        let want = reference_chars(&p, &t, &|a, b| a.eq_ignore_ascii_case(&b));
        let (p, t): (String, String) = (p.into_iter().collect(), t.into_iter().collect());
        prop_assert_eq!(glob_match(&p, &t, true), want, "pattern {:?} text {:?}", p, t);
    }

    #[test]
    fn glob_match_never_panics_on_arbitrary_text(p in any_text(40), t in any_text(60), ci in any::<bool>()) {
        let _ = glob_match(&p, &t, ci);
    }

    #[test]
    fn arbitrary_json_event_never_panics(body in prop_oneof![arb_json(4), event_json()]) {
        match event_from_json(&body) {
            Ok(event) => {
                prop_assert!(body.is_object());
                for f in &event.frames {
                    for v in [&f.filename, &f.abs_path, &f.module].into_iter().flatten() {
                        prop_assert!(!v.is_empty(), "an empty field is absent");
                    }
                }
                prop_assert!(event.url.as_ref().is_none_or(|u| !u.is_empty()));
                let rules = parse_rules("path:* #a\nurl:* #b\nmodule:* #c\ntags.k:* #d").expect("rules");
                let _ = evaluate(&rules, &event, true, true);
            }
            Err(e) => {
                prop_assert!(!body.is_object());
                prop_assert_eq!((e.code(), e.status()), ("invalid_body", 400));
            }
        }
    }

    #[test]
    fn evaluate_agrees_with_reference(
        rules in matching_rules(),
        body in event_json(),
        fallthrough in any::<bool>(),
        auto in any::<bool>(),
    ) {
        let event = event_from_json(&body).expect("an object is an event");
        let got = evaluate(&rules, &event, fallthrough, auto);
        let matching: Vec<Rule> = rules.iter().filter(|r| reference_matches(r, &event)).cloned().collect();
        prop_assert_eq!(&got.rules, &matching, "event {:?}", event);
        let mut owners: Vec<Owner> = Vec::new();
        for owner in matching.iter().flat_map(|r| &r.owners) {
            if !owners.contains(owner) {
                owners.push(owner.clone());
            }
        }
        let want = if matching.is_empty() && fallthrough { Owners::Everyone } else { Owners::Owners(owners) };
        prop_assert_eq!(&got.owners, &want);
        let auto_assign = if auto { matching.last().map(|r| r.owners[0].clone()) } else { None };
        prop_assert_eq!(&got.auto_assign, &auto_assign);
    }
}

proptest! {
    #![proptest_config(cases(16))]

    #[test]
    fn many_lines_never_panic_and_rules_are_capped(
        n in (MAX_RULES - 3)..(MAX_RULES + 3),
        comments in 0usize..50,
        ending in line_ending(),
        junk in prop::option::of((any::<prop::sample::Index>(), rules_like_line())),
    ) {
        let mut lines: Vec<String> = (0..n).map(|i| format!("path:src/{i}/* #t{i}")).collect();
        lines.extend((0..comments).map(|i| format!("# comment {i}")));
        let junk_at = junk.map(|(at, line)| {
            let at = at.index(lines.len() + 1);
            lines.insert(at, line);
            at
        });
        let raw = lines.join(ending);
        match parse_rules(&raw) {
            Ok(rules) => prop_assert!(rules.len() <= MAX_RULES),
            Err(e) => {
                check_error_position(&raw, e.line, e.column);
                prop_assert!(n > MAX_RULES || junk_at.is_some(), "{}", e);
            }
        }
        if junk_at.is_none() {
            prop_assert_eq!(parse_rules(&raw).is_ok(), n <= MAX_RULES);
        }
    }

    #[test]
    fn very_long_lines_never_panic(c in any_char(), n in 0usize..20_000, prefix in rules_like_line()) {
        let raw = format!("{prefix}{}", std::iter::repeat_n(c, n).collect::<String>());
        if let Err(e) = parse_rules(&raw) {
            check_error_position(&raw, e.line, e.column);
        }
    }
}
