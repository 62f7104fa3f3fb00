//! Ownership rules text: parsing it into [`Rule`]s (`rules`), and where an
//! error is.
//!
//! See the module docs of [`super`] for the grammar. Parsing never panics and
//! never does unbounded work: a line longer than [`MAX_LINE_CHARS`] or more
//! than [`MAX_RULES`] rules is an error, and every error names the line and
//! column (1-based, counted in characters) of the offending token.

use super::rules::{Matcher, MatcherKind, Owner, Rule};
use crate::core::error::{Error, Position, RulesReason};

/// Longest line accepted, in characters (comment lines included), and most
/// rules accepted in one rules text (comments and blank lines not counted):
/// `limits`, with the size of the whole text.
pub use crate::core::limits::{MAX_RULES, MAX_RULE_LINE_CHARS as MAX_LINE_CHARS};

/// Longest token quoted back in an error message, in characters.
const QUOTE_CHARS: usize = 60;

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
mod tests;
