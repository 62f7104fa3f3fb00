//! `min_version` on reads: the query parameter or the `x-min-version`
//! header (read your writes: docs/design.md "Propagation"). Pure, tested
//! natively.

use super::percent::parse_query;
use crate::core::error::Error;

/// The header a read may carry instead of the query parameter.
pub const HEADER: &str = "x-min-version";

/// The `min_version` a read asks for: the query's `min_version`, else the
/// header's; the higher when both are given.
///
/// # Errors
/// `invalid_body` for a value that is not a whole number.
pub fn min_version(query: &str, header: Option<&str>) -> Result<Option<u64>, Error> {
    let params = parse_query(query)?;
    let from_query = params.iter().find(|(k, _)| k == "min_version").map(|(_, v)| v.as_str());
    let parse = |text: &str| {
        text.trim().parse::<u64>().map_err(|_| {
            let shown: String = text.chars().take(40).collect();
            Error::InvalidBody(format!("min_version must be a whole number ≥ 0, got {shown:?}"))
        })
    };
    let query = from_query.map(parse).transpose()?;
    let header = header.map(parse).transpose()?;
    Ok(query.max(header))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_or_the_header_gives_it_and_the_higher_wins() {
        assert_eq!(min_version("", None), Ok(None));
        assert_eq!(min_version("min_version=7", None), Ok(Some(7)));
        assert_eq!(min_version("project=3&min_version=7", Some("9")), Ok(Some(9)));
        assert_eq!(min_version("", Some(" 4 ")), Ok(Some(4)));
    }

    #[test]
    fn a_value_that_is_not_a_whole_number_is_the_callers_error() {
        for bad in ["min_version=-1", "min_version=x", "min_version=1.5", "min_version=99999999999999999999999"] {
            assert_eq!(min_version(bad, None).map_err(|e| e.code()), Err("invalid_body"), "{bad}");
        }
        assert_eq!(min_version("", Some("soon")).map_err(|e| e.code()), Err("invalid_body"));
    }
}
