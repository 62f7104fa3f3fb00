//! Glob matching for ownership patterns, in the manner of `fnmatch`.
//!
//! `*` matches any run of characters (including none, and including `/`),
//! `?` matches exactly one character, and every other character matches
//! itself. The whole text must match, not a part of it. There are no
//! character classes and no escapes: `[`, `]` and `\` are literal.
//!
//! The matcher is the classic two-pointer algorithm that remembers only the
//! last `*` seen: when a literal fails, it lets that star swallow one more
//! character and tries again from just after it. Backtracking never goes to
//! an earlier star (a later star can absorb anything an earlier one could), so
//! the worst case is O(len(pattern) × len(text)) steps and patterns like
//! `*a*a*a*a*b` cannot blow up. It works on `char`s, never bytes, so no
//! unicode input can split a character or panic.

/// Whether `pattern` matches the whole of `text`.
///
/// With `case_insensitive`, both sides are lowercased (full Unicode
/// lowercasing, `str::to_lowercase`) before matching. Lowercasing may turn one
/// character into two (`İ` becomes `i̇`); a `?` then matches one of the two.
pub fn glob_match(pattern: &str, text: &str, case_insensitive: bool) -> bool {
    match_chars(&fold(pattern, case_insensitive), &fold(text, case_insensitive))
}

/// The characters of `s`, lowercased when `case_insensitive`: the form
/// [`match_chars`] takes. Callers that test one text against many patterns
/// (or one pattern against many texts) fold each once.
pub(crate) fn fold(s: &str, case_insensitive: bool) -> Vec<char> {
    if case_insensitive {
        s.to_lowercase().chars().collect()
    } else {
        s.chars().collect()
    }
}

/// Whether the folded `pattern` matches the whole folded `text`.
pub(crate) fn match_chars(pattern: &[char], text: &[char]) -> bool {
    // Position in the pattern and in the text.
    let mut p = 0;
    let mut t = 0;
    // The last star seen: the pattern position just after it, and the text
    // position it has swallowed up to.
    let mut star: Option<(usize, usize)> = None;

    while let Some(&c) = text.get(t) {
        match pattern.get(p) {
            Some('*') => {
                // Let the star match nothing for now.
                p += 1;
                star = Some((p, t));
                continue;
            }
            Some(&q) if q == '?' || q == c => {
                p += 1;
                t += 1;
                continue;
            }
            _ => {}
        }
        match star {
            // Let the last star swallow one more character and retry.
            Some((after_star, swallowed)) => {
                p = after_star;
                t = swallowed + 1;
                star = Some((after_star, t));
            }
            None => return false,
        }
    }
    // The text is used up: only stars may remain in the pattern.
    pattern.get(p..).is_some_and(|rest| rest.iter().all(|&q| q == '*'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn star_matches_any_run_including_slashes_and_nothing() {
        assert!(glob_match("src/*", "src/app/views.py", false));
        assert!(glob_match("*.py", "src/app/views.py", false));
        assert!(glob_match("src/*", "src/", false));
        assert!(glob_match("*", "", false));
        assert!(glob_match("**", "anything/at/all", false));
        assert!(glob_match("a*b*c", "abc", false));
        assert!(glob_match("a*b*c", "aXXbYYbZZc", false));
        assert!(!glob_match("a*b*c", "aXXbYYbZZ", false));
    }

    #[test]
    fn question_mark_matches_exactly_one_character() {
        assert!(glob_match("a?c", "abc", false));
        assert!(!glob_match("a?c", "ac", false));
        assert!(!glob_match("a?c", "abbc", false));
        assert!(glob_match("?", "é", false));
        assert!(!glob_match("?", "", false));
    }

    #[test]
    fn the_whole_text_must_match() {
        assert!(!glob_match("src", "src/app.py", false));
        assert!(!glob_match("app.py", "src/app.py", false));
        assert!(!glob_match("", "x", false));
        assert!(glob_match("", "", false));
    }

    #[test]
    fn brackets_and_backslashes_are_literal() {
        assert!(glob_match("a[b]c", "a[b]c", false));
        assert!(!glob_match("a[b]c", "abc", false));
        assert!(glob_match(r"C:\src\*", r"C:\src\app.py", false));
    }

    #[test]
    fn case_is_folded_only_when_asked() {
        assert!(glob_match("SRC/*.PY", "src/app.py", true));
        assert!(glob_match("src/*.py", "SRC/APP.PY", true));
        assert!(!glob_match("SRC/*.PY", "src/app.py", false));
        assert!(glob_match("ÉTÉ*", "été.txt", true));
        assert!(!glob_match("ÉTÉ*", "été.txt", false));
    }

    #[test]
    fn pathological_glob_finishes_quickly() {
        // 30 stars separated by `a`, ending in `b`, against 10,000 `a`s: an
        // exponential backtracker never finishes; this one is bounded by
        // len(pattern) × len(text).
        let pattern = format!("{}b", "*a".repeat(30));
        let text = "a".repeat(10_000);
        assert!(!glob_match(&pattern, &text, false));
        assert!(!glob_match(&pattern, &text, true));
        let text_with_b = format!("{text}b");
        assert!(glob_match(&pattern, &text_with_b, false));
        let stars = "*".repeat(30);
        assert!(glob_match(&stars, &text, false));
        let many = format!("{}?", "*?".repeat(2_000));
        assert!(!glob_match(&many, &"x".repeat(1_500), false));
        assert!(glob_match(&many, &"x".repeat(3_000), false));
    }

    #[test]
    fn unicode_in_rules_and_events_never_panics() {
        let samples = ["", "é", "日本語", "🦀*🦀", "?🦀?", "İ", "ß*", "\u{0}", "\u{feff}*", "a\u{301}"];
        for p in samples {
            for t in samples {
                let _ = glob_match(p, t, false);
                let _ = glob_match(p, t, true);
            }
        }
        assert!(glob_match("🦀*🦀", "🦀 crab 🦀", false));
        assert!(glob_match("?", "🦀", false));
        assert!(glob_match("日本*", "日本語", true));
    }
}
