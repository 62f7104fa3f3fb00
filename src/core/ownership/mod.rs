//! Project ownership: who owns an event, from rules text a project keeps.
//!
//! A project may hold an ownership record: rules text (`raw`), whether events
//! no rule matches fall through to "everyone" (`fallthrough`), and whether the
//! owner of the most specific match is auto-assigned (`auto_assignment`). The
//! Worker caches the record (or its absence) like any value; this module is
//! the pure part: parsing the text ([`parse_rules`], [`schema`]), taking what
//! matters from an event body ([`event_from_json`]) and deciding its owners
//! ([`evaluate`]). It does no I/O.
//!
//! # Grammar
//!
//! One rule a line, tokens separated by whitespace (any Unicode whitespace):
//!
//! ```text
//! # a comment line
//! path:src/app/*             #backend alice@example.com
//! url:https://example.com/checkout/*  #web
//! module:app.billing.*       #billing
//! tags.browser:Firefox       #frontend
//! ```
//!
//! - Blank lines, and lines whose first non-whitespace character is `#`, are
//!   skipped. Lines end at `\n`, `\r\n` or a lone `\r`; a leading byte order
//!   mark is ignored.
//! - The first token is the matcher, `<type>:<pattern>`. The type is `path`,
//!   `url`, `module` or `tags.<key>` (key non-empty), spelled exactly so
//!   (`PATH:` is unknown). The pattern is everything after the *first* `:`, so
//!   `url:https://example.com:8443/*` has the pattern
//!   `https://example.com:8443/*`. A token without a `:` is an error (the
//!   original design read a bare pattern as a path; here the type is required).
//! - Every further token is an owner, and a rule needs at least one. A token
//!   starting with `#` is always a team, never a comment: `#slug` with a slug
//!   of ASCII letters, digits, `-` and `_`, kept as written. Any other token
//!   is a user: an email with exactly one `@` and something on both sides,
//!   lowercased (emails are case-insensitive; lowercasing lets them dedupe).
//! - Limits: at most [`MAX_LINE_CHARS`] characters a line (comments included)
//!   and [`MAX_RULES`] rules.
//!
//! Errors ([`RulesError`]) give the 1-based line and the 1-based column (in
//! characters) of the offending token: the matcher token for an unknown type,
//! an empty pattern, an empty tag key or a rule without owners; the owner
//! token for a malformed owner; column 4097 for a line too long; the rule's
//! first token for one rule too many. They become `invalid_rules` errors
//! whose message is "line L, column C: message" and which carry the line
//! and column as fields too (`Error::position`, `Error::to_json`).
//!
//! # Matching
//!
//! Patterns are globs ([`glob_match`]): `*` is any run of characters,
//! including `/`; `?` is one character; everything else is literal; the whole
//! text must match.
//!
//! | matcher | matches when the glob matches | case |
//! |---|---|---|
//! | `path:` | the `filename` or the `abs_path` of any frame | insensitive |
//! | `module:` | the `module` of any frame | sensitive |
//! | `url:` | `request.url` | sensitive |
//! | `tags.<key>:` | the value of any tag whose key is exactly `<key>` | sensitive (key and value) |
//!
//! Frames are those of `stacktrace.frames[]` and of every
//! `exception.values[].stacktrace.frames[]`. Paths ignore case (file systems
//! and SDKs disagree on it); modules, URLs and tags compare exactly, as the
//! original design's `fnmatch` did on a POSIX host. Absent or empty fields
//! match nothing, not even `*`. Unlike the original, which looked at `abs_path`
//! only when a frame had no `filename`, both are tried.
//!
//! [`evaluate`] answers every matching rule in rule order; the owners of those
//! rules, deduplicated keeping the first occurrence; or, when nothing matched,
//! [`Owners::Everyone`] if the project falls through and no owners otherwise.
//! With auto-assignment on and a match, the auto-assignee is the first owner
//! of the *last* matching rule: later rules are read as more specific, as in
//! the original design.
//!
//! # Costs
//!
//! Everything is bounded whatever the input (the bounds live in
//! `core::limits`). Parsing is linear in the text, and the text holds at most
//! 256 KiB, [`MAX_RULES`] rules of at most [`MAX_LINE_CHARS`] characters; the
//! Worker parses a record's text once per version and keeps the parse
//! (`project_ownership::parsed`), so an owners call pays for evaluation only.
//! An event contributes at most [`MAX_FRAMES`] frames and [`MAX_TAGS`] tags;
//! its texts are folded once and deduplicated. Each glob match is
//! O(len(pattern) × len(text)) in the worst case (no exponential
//! backtracking) and linear for ordinary patterns, so evaluation costs at
//! most one such match per rule per distinct text the rule looks at:
//! **rules × frames** for `path:` (a frame gives a filename and an abs_path)
//! and `module:` rules, rules × tags for `tags.*` rules, one per `url:` rule;
//! the body size limit bounds the total length of the texts. `bench/run
//! --owners` measures a 1,000-rule text against a 50-frame event.

mod event;
mod glob;
mod grammar;
mod matcher;
mod rules;

pub use event::{event_from_json, Event, Frame, MAX_FRAMES, MAX_TAGS};
pub use glob::glob_match;
pub use grammar::{parse_rules, RulesError, MAX_LINE_CHARS, MAX_RULES};
pub use matcher::{evaluate, Evaluation, Owners};
pub use rules::{schema, Matcher, MatcherKind, Owner, Rule, SCHEMA_VERSION};
