//! Ownership rules text: parsing it into [`Rule`]s, and the JSON schema form.
//!
//! See the module docs of [`super`] for the grammar. Parsing never panics and
//! never does unbounded work: a line longer than [`MAX_LINE_CHARS`] or more
//! than [`MAX_RULES`] rules is an error, and every error names the line and
//! column (1-based, counted in characters) of the offending token.

use serde::ser::{Serialize, SerializeStruct, Serializer};

use crate::core::error::{Error, Position, RulesReason};

/// Longest line accepted, in characters (comment lines included), and most
/// rules accepted in one rules text (comments and blank lines not counted):
/// `limits`, with the size of the whole text.
pub use crate::core::limits::{MAX_RULES, MAX_RULE_LINE_CHARS as MAX_LINE_CHARS};

/// The `$version` of the schema [`schema`] produces.
pub const SCHEMA_VERSION: u64 = 1;

/// Longest token quoted back in an error message, in characters.
const QUOTE_CHARS: usize = 60;

/// What a rule's pattern is matched against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MatcherKind {
    /// `path:` — the `filename` or `abs_path` of any stack frame.
    Path,
    /// `url:` — the event's `request.url`.
    Url,
    /// `module:` — the `module` of any stack frame.
    Module,
    /// `tags.<key>:` — the value of the event tag named exactly `<key>`.
    Tag(String),
}

impl MatcherKind {
    /// The type as written in rules text and in the schema: `path`, `url`,
    /// `module` or `tags.<key>`.
    pub fn type_name(&self) -> String {
        match self {
            MatcherKind::Path => "path".to_string(),
            MatcherKind::Url => "url".to_string(),
            MatcherKind::Module => "module".to_string(),
            MatcherKind::Tag(key) => format!("tags.{key}"),
        }
    }
}

/// The left side of a rule: what to look at and the glob it must match.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Matcher {
    /// What the pattern is matched against.
    pub kind: MatcherKind,
    /// The glob (see [`super::glob_match`]), never empty.
    pub pattern: String,
}

/// Who owns what a rule matches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Owner {
    /// A user, by email (`alice@example.com`), lowercased.
    User(String),
    /// A team, by slug (`#backend` gives `backend`), as written.
    Team(String),
}

impl Owner {
    /// `"user"` or `"team"`, as in the JSON form.
    pub fn type_name(&self) -> &'static str {
        match self {
            Owner::User(_) => "user",
            Owner::Team(_) => "team",
        }
    }

    /// The email of a user or the slug (without `#`) of a team.
    pub fn identifier(&self) -> &str {
        match self {
            Owner::User(id) | Owner::Team(id) => id,
        }
    }
}

/// One line of rules text: a matcher and the owners of what it matches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rule {
    /// What the rule matches.
    pub matcher: Matcher,
    /// Its owners, in the order written; never empty.
    pub owners: Vec<Owner>,
}

/// Rules text that does not parse, with where (1-based line and column, in
/// characters) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct RulesError {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column of the offending token, in characters.
    pub column: usize,
    /// What is wrong, naming the token.
    pub message: String,
}

impl From<RulesError> for Error {
    fn from(err: RulesError) -> Error {
        Error::InvalidRules(RulesReason {
            message: err.to_string(),
            position: Some(Position { line: err.line, column: err.column }),
        })
    }
}

impl Serialize for Owner {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Owner", 2)?;
        s.serialize_field("type", self.type_name())?;
        s.serialize_field("identifier", self.identifier())?;
        s.end()
    }
}

impl Serialize for Matcher {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Matcher", 2)?;
        s.serialize_field("type", &self.kind.type_name())?;
        s.serialize_field("pattern", &self.pattern)?;
        s.end()
    }
}

impl Serialize for Rule {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Rule", 2)?;
        s.serialize_field("matcher", &self.matcher)?;
        s.serialize_field("owners", &self.owners)?;
        s.end()
    }
}

/// The schema form of parsed rules, as stored and answered by the API:
/// `{"$version": 1, "rules": [{"matcher": {"type", "pattern"}, "owners": [{"type", "identifier"}]}]}`.
pub fn schema(rules: &[Rule]) -> serde_json::Value {
    // Serializing these types to a `Value` cannot fail (string keys, no
    // non-finite floats); the fallback only keeps this free of `unwrap`.
    let rules = serde_json::to_value(rules).unwrap_or_else(|_| serde_json::Value::Array(Vec::new()));
    let mut map = serde_json::Map::new();
    map.insert("$version".to_string(), serde_json::Value::from(SCHEMA_VERSION));
    map.insert("rules".to_string(), rules);
    serde_json::Value::Object(map)
}

/// Parses rules text into rules, in the order written.
///
/// Blank lines and comment lines (first non-whitespace character `#`) are
/// skipped; every other line must be one rule. The first problem found is the
/// error. A leading byte order mark is ignored; lines end at `\n`, `\r\n` or
/// a lone `\r`.
pub fn parse_rules(raw: &str) -> Result<Vec<Rule>, RulesError> {
    let raw = raw.strip_prefix('\u{feff}').unwrap_or(raw);
    let mut rules = Vec::new();
    for (index, line) in lines(raw).enumerate() {
        let number = index + 1;
        if line.chars().nth(MAX_LINE_CHARS).is_some() {
            return Err(RulesError {
                line: number,
                column: MAX_LINE_CHARS + 1,
                message: format!("line too long: at most {MAX_LINE_CHARS} characters"),
            });
        }
        let tokens = tokens(line);
        let Some(&(column, first)) = tokens.first() else {
            continue; // blank line
        };
        if first.starts_with('#') {
            continue; // comment line
        }
        if rules.len() >= MAX_RULES {
            return Err(RulesError { line: number, column, message: format!("too many rules: at most {MAX_RULES}") });
        }
        let at = |column: usize, message: String| RulesError { line: number, column, message };
        let matcher = parse_matcher(first).map_err(|message| at(column, message))?;
        let owners = tokens
            .get(1..)
            .unwrap_or_default()
            .iter()
            .map(|&(column, token)| parse_owner(token).map_err(|message| at(column, message)))
            .collect::<Result<Vec<_>, _>>()?;
        if owners.is_empty() {
            return Err(at(
                column,
                format!("rule {} has no owners: add #team or user@domain after the pattern", quote(first)),
            ));
        }
        rules.push(Rule { matcher, owners });
    }
    Ok(rules)
}

/// The lines of `raw`, without their terminators (`\n`, `\r\n` or `\r`).
fn lines(raw: &str) -> impl Iterator<Item = &str> {
    raw.split('\n').flat_map(|line| line.strip_suffix('\r').unwrap_or(line).split('\r'))
}

/// The whitespace-separated tokens of `line`, each with its 1-based column
/// in characters.
fn tokens(line: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    // Byte offset and column of the token being read.
    let mut start: Option<(usize, usize)> = None;
    for (column, (offset, ch)) in line.char_indices().enumerate() {
        match (ch.is_whitespace(), start) {
            (true, Some((from, col))) => {
                if let Some(token) = line.get(from..offset) {
                    out.push((col, token));
                }
                start = None;
            }
            (false, None) => start = Some((offset, column + 1)),
            _ => {}
        }
    }
    if let Some((from, col)) = start {
        if let Some(token) = line.get(from..) {
            out.push((col, token));
        }
    }
    out
}

/// `path:<glob>`, `url:<glob>`, `module:<glob>` or `tags.<key>:<glob>`; the
/// pattern is everything after the first `:`.
fn parse_matcher(token: &str) -> Result<Matcher, String> {
    let Some((kind, pattern)) = token.split_once(':') else {
        return Err(format!(
            "matcher {} has no type: expected path:, url:, module: or tags.<key>: before the pattern",
            quote(token)
        ));
    };
    let kind = match kind {
        "path" => MatcherKind::Path,
        "url" => MatcherKind::Url,
        "module" => MatcherKind::Module,
        _ => match kind.strip_prefix("tags.") {
            Some("") => return Err(format!("matcher {} has an empty tag key after tags.", quote(token))),
            Some(key) => MatcherKind::Tag(key.to_string()),
            None => {
                return Err(format!(
                    "unknown matcher type {} in {}: expected path, url, module or tags.<key>",
                    quote(kind),
                    quote(token)
                ))
            }
        },
    };
    if pattern.is_empty() {
        return Err(format!("matcher {} has an empty pattern", quote(token)));
    }
    Ok(Matcher { kind, pattern: pattern.to_string() })
}

/// `#slug` (a team; letters, digits, `-`, `_`) or `user@domain` (exactly one
/// `@`, non-empty on both sides; lowercased).
fn parse_owner(token: &str) -> Result<Owner, String> {
    if let Some(slug) = token.strip_prefix('#') {
        let valid = !slug.is_empty() && slug.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        return if valid {
            Ok(Owner::Team(slug.to_string()))
        } else {
            Err(format!("malformed team owner {}: expected # followed by letters, digits, - or _", quote(token)))
        };
    }
    let mut parts = token.split('@');
    let valid = match (parts.next(), parts.next(), parts.next()) {
        (Some(user), Some(domain), None) => !user.is_empty() && !domain.is_empty(),
        _ => false,
    };
    if valid {
        Ok(Owner::User(token.to_lowercase()))
    } else {
        Err(format!("malformed owner {}: expected #team or user@domain", quote(token)))
    }
}

/// `token` in double quotes for a message, cut to [`QUOTE_CHARS`] characters.
fn quote(token: &str) -> String {
    if token.chars().nth(QUOTE_CHARS).is_some() {
        let head: String = token.chars().take(QUOTE_CHARS).collect();
        format!("{:?}", format!("{head}…"))
    } else {
        format!("{token:?}")
    }
}

#[cfg(test)]
mod tests {
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
        let raw =
            "path:src/* #a\nurl:https://example.com/checkout/* #b\nmodule:app.billing.* #c\ntags.browser:Firefox #d";
        let kinds: Vec<_> =
            parse_rules(raw).unwrap().into_iter().map(|r| (r.matcher.kind, r.matcher.pattern)).collect();
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
    fn schema_shape_is_stable() {
        let rules = parse_rules(
            "path:src/* #backend alice@example.com\nurl:https://x.test/* #web\nmodule:a.* #m\ntags.browser:Fire* b@x.y",
        )
        .unwrap();
        assert_eq!(
            schema(&rules),
            serde_json::json!({
                "$version": 1,
                "rules": [
                    {"matcher": {"type": "path", "pattern": "src/*"},
                     "owners": [{"type": "team", "identifier": "backend"},
                                {"type": "user", "identifier": "alice@example.com"}]},
                    {"matcher": {"type": "url", "pattern": "https://x.test/*"},
                     "owners": [{"type": "team", "identifier": "web"}]},
                    {"matcher": {"type": "module", "pattern": "a.*"},
                     "owners": [{"type": "team", "identifier": "m"}]},
                    {"matcher": {"type": "tags.browser", "pattern": "Fire*"},
                     "owners": [{"type": "user", "identifier": "b@x.y"}]},
                ]
            })
        );
        assert_eq!(schema(&[]), serde_json::json!({"$version": 1, "rules": []}));
        assert_eq!(serde_json::to_value(&rules[0]).unwrap(), schema(&rules)["rules"][0]);
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
}
