//! The grammar: what parses, and where every error points.

use super::*;

fn err(raw: &str) -> RulesError {
    match parse_rules(raw) {
        Ok(rules) => panic!("expected an error, parsed {rules:?}"),
        Err(e) => e,
    }
}

fn team(slug: &str) -> Owner {
    Owner::Team(slug.to_string())
}

fn user(email: &str) -> Owner {
    Owner::User(email.to_string())
}

#[test]
fn comments_and_blank_lines_are_ignored() {
    let raw = "# a comment\n\n   \n\t# indented comment\npath:src/* #backend\r\n  # trailing comment\n";
    let rules = parse_rules(raw).unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].matcher, Matcher { kind: MatcherKind::Path, pattern: "src/*".into() });
    assert_eq!(parse_rules("").unwrap(), vec![]);
    assert_eq!(parse_rules("\u{feff}# bom then comment").unwrap(), vec![]);
}

#[test]
fn team_and_user_owners_parse() {
    let rules = parse_rules("path:src/app/* #backend alice@example.com #web_team-2 Bob@Example.COM").unwrap();
    assert_eq!(
        rules[0].owners,
        vec![team("backend"), user("alice@example.com"), team("web_team-2"), user("bob@example.com")]
    );
}

#[test]
fn every_matcher_type_parses() {
    let raw = "path:src/* #a\nurl:https://example.com/checkout/* #b\nmodule:app.billing.* #c\ntags.browser:Firefox #d";
    let kinds: Vec<_> = parse_rules(raw).unwrap().into_iter().map(|r| (r.matcher.kind, r.matcher.pattern)).collect();
    assert_eq!(
        kinds,
        vec![
            (MatcherKind::Path, "src/*".to_string()),
            (MatcherKind::Url, "https://example.com/checkout/*".to_string()),
            (MatcherKind::Module, "app.billing.*".to_string()),
            (MatcherKind::Tag("browser".into()), "Firefox".to_string()),
        ]
    );
}

#[test]
fn url_pattern_keeps_colons_after_the_first() {
    let rules = parse_rules("url:https://example.com:8443/a:b/* #web").unwrap();
    assert_eq!(rules[0].matcher.kind, MatcherKind::Url);
    assert_eq!(rules[0].matcher.pattern, "https://example.com:8443/a:b/*");
    let rules = parse_rules("tags.server_name:db:1 #ops").unwrap();
    assert_eq!(rules[0].matcher.kind, MatcherKind::Tag("server_name".into()));
    assert_eq!(rules[0].matcher.pattern, "db:1");
}

#[test]
fn whitespace_of_any_kind_separates_tokens() {
    let rules = parse_rules("  \tpath:src/*\t\t#backend   alice@example.com  ").unwrap();
    assert_eq!(rules[0].owners, vec![team("backend"), user("alice@example.com")]);
}

#[test]
fn hash_after_the_matcher_is_a_team_not_a_comment() {
    let rules = parse_rules("path:src/* #backend #frontend").unwrap();
    assert_eq!(rules[0].owners, vec![team("backend"), team("frontend")]);
    let e = err("path:src/* #backend # not a comment");
    assert_eq!((e.line, e.column), (1, 21), "{e}");
}

#[test]
fn unknown_matcher_is_an_error_naming_line_and_column() {
    let e = err("# ok\npath:src/* #a\n   file:src/* #backend");
    assert_eq!((e.line, e.column), (3, 4));
    assert!(e.message.contains("\"file\""), "{}", e.message);
    let error = Error::from(e.clone());
    assert_eq!(error.to_string(), format!("line 3, column 4: {}", e.message));
    assert_eq!(error.position(), Some(Position { line: 3, column: 4 }));
    assert_eq!(e.to_string(), format!("line 3, column 4: {}", e.message));
    // Matcher types are case-sensitive, like the original grammar.
    assert_eq!(err("PATH:src/* #a").column, 1);
}

#[test]
fn matcher_without_type_is_an_error() {
    let e = err("src/* #backend");
    assert_eq!((e.line, e.column), (1, 1));
    assert!(e.message.contains("\"src/*\""), "{}", e.message);
}

#[test]
fn empty_pattern_and_empty_tag_key_are_errors() {
    let e = err("path: #backend");
    assert_eq!((e.line, e.column), (1, 1));
    assert!(e.message.contains("empty pattern"), "{}", e.message);
    let e = err("\n  tags.:Firefox #frontend");
    assert_eq!((e.line, e.column), (2, 3));
    assert!(e.message.contains("empty tag key"), "{}", e.message);
    let e = err("tags.browser: #frontend");
    assert!(e.message.contains("empty pattern"), "{}", e.message);
}

#[test]
fn rule_without_owners_is_an_error() {
    let e = err("path:src/* #a\npath:lib/*   ");
    assert_eq!((e.line, e.column), (2, 1));
    assert!(e.message.contains("no owners") && e.message.contains("\"path:lib/*\""), "{}", e.message);
}

#[test]
fn malformed_owners_are_errors_pointing_at_the_owner() {
    for (raw, column) in [
        ("path:a #", 8),
        ("path:a #back.end", 8),
        ("path:a #team alice", 14),
        ("path:a @example.com", 8),
        ("path:a alice@", 8),
        ("path:a a@b@c", 8),
        ("path:a #é", 8),
    ] {
        let e = err(raw);
        assert_eq!((e.line, e.column), (1, column), "{raw}: {e}");
        assert!(e.message.contains("malformed"), "{raw}: {e}");
    }
}

#[test]
fn columns_count_characters_not_bytes() {
    let e = err("path:日本語/* bad");
    assert_eq!((e.line, e.column), (1, 12));
}

#[test]
fn line_endings_crlf_and_lone_cr_both_end_lines() {
    let rules = parse_rules("path:a #x\r\npath:b #y\rpath:c #z").unwrap();
    assert_eq!(rules.len(), 3);
    let e = err("path:a #x\r\n\rnope");
    assert_eq!(e.line, 3);
}

#[test]
fn too_long_line_is_an_error() {
    let ok = format!("path:{} #a", "x".repeat(MAX_LINE_CHARS - 8));
    assert_eq!(ok.chars().count(), MAX_LINE_CHARS);
    assert!(parse_rules(&ok).is_ok());
    let long = format!("path:a #a\n# {}", "é".repeat(MAX_LINE_CHARS));
    let e = err(&long);
    assert_eq!((e.line, e.column), (2, MAX_LINE_CHARS + 1));
    assert!(e.message.contains("too long"), "{}", e.message);
}

#[test]
fn too_many_rules_is_an_error() {
    let ok = "path:a #a\n# c\n".repeat(MAX_RULES);
    assert_eq!(parse_rules(&ok).unwrap().len(), MAX_RULES);
    let e = err(&format!("{ok}path:b #b"));
    assert_eq!((e.line, e.column), (2 * MAX_RULES + 1, 1));
    assert!(e.message.contains("too many rules"), "{}", e.message);
}

#[test]
fn long_tokens_are_cut_in_messages() {
    let e = err(&format!("{}:x #a", "z".repeat(3000)));
    assert!(e.message.len() < 300, "{}", e.message.len());
}

#[test]
fn unicode_in_rules_and_events_never_panics() {
    let samples = [
        "path:日本語/* #チーム",
        "path:🦀 🦀@🦀",
        "tags.ключ:значение ünïcödé@exämple.com",
        "\u{feff}\u{feff}path:x #a",
        "path:x\u{00a0}#a",
        "path:x\u{2028}#a",
        "\u{0}:\u{0} \u{0}@\u{0}",
        "İ:İ #İ",
        "tags.\u{301}:\u{301} a@b",
    ];
    for raw in samples {
        let _ = parse_rules(raw);
    }
    let rules = parse_rules("path:日本語/* ユーザー@例え.jp").unwrap();
    assert_eq!(rules[0].owners, vec![user("ユーザー@例え.jp")]);
    // Non-breaking space is whitespace, so this is a rule with one owner.
    assert_eq!(parse_rules("path:x\u{00a0}#a").unwrap()[0].owners, vec![team("a")]);
}
