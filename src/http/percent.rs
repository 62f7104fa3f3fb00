//! Percent-decoding of path segments and query strings: anything that does
//! not decode to UTF-8 is the caller's error (`invalid_body`), never a
//! panic. Pure, tested natively.

use crate::core::error::Error;

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
    fn escapes_decode_to_utf8_and_broken_ones_are_invalid_not_panics() {
        assert_eq!(percent_decode("sentry%3Aa%20b"), Ok("sentry:a b".to_string()));
        assert_eq!(percent_decode("%C3%BC"), Ok("ü".to_string()));
        for bad in ["%", "%zz", "%C3", "%FF%FE", "%E2%82"] {
            assert_eq!(percent_decode(bad).map_err(|e| e.code()), Err("invalid_body"), "{bad}");
        }
    }
}
