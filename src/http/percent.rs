//! Percent-decoding of path segments and query strings: anything that does
//! not decode to UTF-8 is the caller's error (`invalid_body`), never a
//! panic. Pure, tested natively.
//!
//! The query string is cut out of the request's URL text here too, not by
//! the `url` crate: the runtime hands the Worker an already parsed and
//! serialized URL, and `url`'s parser brings its IDNA tables into the
//! module (about a fifth of the Worker's wasm) for nothing.

use crate::core::error::Error;

/// The query string of a request's URL, without `?` and still encoded
/// (empty when there is none); a fragment, if any, is not part of it.
pub fn query_of(url: &str) -> &str {
    let before_fragment = url.split_once('#').map_or(url, |(head, _)| head);
    before_fragment.split_once('?').map_or("", |(_, query)| query)
}

/// Parses a query string into decoded `(name, value)` pairs (`+` is a space).
///
/// # Errors
/// `invalid_body` when a name or value does not decode to UTF-8.
pub fn parse_query(query: &str) -> Result<Vec<(String, String)>, Error> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((percent_decode(&name.replace('+', " "))?, percent_decode(&value.replace('+', " "))?))
        })
        .collect()
}

/// Decodes `%XX` escapes; the result must be UTF-8.
pub fn percent_decode(segment: &str) -> Result<String, Error> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match hex {
                Some(byte) => {
                    out.push(byte);
                    i += 3;
                    continue;
                }
                None => return Err(Error::InvalidBody("malformed percent-escape in the path".into())),
            }
        }
        out.push(byte);
        i += 1;
    }
    String::from_utf8(out).map_err(|_| Error::InvalidBody("the path does not decode to UTF-8".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_decode_and_never_panic() {
        assert_eq!(
            parse_query("a=1&b=x+y&c=%C3%BC&d"),
            Ok(vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y".into()),
                ("c".into(), "ü".into()),
                ("d".into(), "".into())
            ])
        );
        assert_eq!(parse_query("a=%FF").map_err(|e| e.code()), Err("invalid_body"));
        assert_eq!(parse_query(""), Ok(vec![]));
    }

    #[test]
    fn the_query_is_what_follows_the_first_question_mark_up_to_a_fragment() {
        assert_eq!(query_of("https://x.example/v1/options/a?x=1&y=%3F?z"), "x=1&y=%3F?z");
        assert_eq!(query_of("https://x.example/v1/options/a?"), "");
        assert_eq!(query_of("https://x.example/v1/options/a"), "");
        assert_eq!(query_of("https://x.example/a?x=1#frag?y=2"), "x=1");
        assert_eq!(query_of("https://x.example/a#frag?y=2"), "");
    }

    #[test]
    fn escapes_decode_to_utf8_and_broken_ones_are_invalid_not_panics() {
        assert_eq!(percent_decode("sentry%3Aa%20b"), Ok("sentry:a b".to_string()));
        assert_eq!(percent_decode("%C3%BC"), Ok("ü".to_string()));
        for bad in ["%", "%zz", "%C3", "%FF%FE", "%E2%82"] {
            assert_eq!(percent_decode(bad).map_err(|e| e.code()), Err("invalid_body"), "{bad}");
        }
    }
}
