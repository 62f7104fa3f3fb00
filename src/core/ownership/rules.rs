//! What rules text parses into — rules, their matchers and owners — and
//! the JSON schema form the API answers (`{"$version": 1, "rules": [...]}`).

use serde::ser::{Serialize, SerializeStruct, Serializer};

/// The `$version` of the schema [`schema`] produces.
pub const SCHEMA_VERSION: u64 = 1;

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ownership::parse_rules;

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
}
