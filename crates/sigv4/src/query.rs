//! The query string: its pairs decoded, and the canonical query string.
//!
//! Each `name=value` pair is decoded (`+` as a space, as form decoding and our routers do),
//! re-encoded keeping only unreserved characters, and the pairs are sorted by encoded name,
//! then encoded value. A name without `=` has an empty value; empty pairs (`a&&b`) are
//! skipped. For the canonically encoded queries SDKs send this is the identity, which is
//! what botocore relies on when it signs the raw query pairs without decoding them.
//!
//! A presigned URL signs every parameter but `X-Amz-Signature`, which cannot sign itself:
//! [`canonical_query_without`] leaves it out.

use std::borrow::Cow;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode, percent_encode};

/// Everything but the RFC 3986 unreserved characters `A-Za-z0-9-_.~` is encoded.
pub(crate) const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// The `(name, value)` pairs of a raw query, decoded; bytes that are not UTF-8 become
/// U+FFFD, which is harmless for reading parameters since the signature is computed over
/// the bytes ([`canonical_query`]), not over these strings.
pub(crate) fn decoded_pairs(raw_query: &str) -> impl Iterator<Item = (String, String)> + '_ {
    raw_pairs(raw_query).map(|(name, value)| (decode_lossy(name), decode_lossy(value)))
}

/// The canonical query string for a raw query (without `?`).
pub(crate) fn canonical_query(raw_query: &str) -> String {
    canonical_pairs(raw_query, None)
}

/// [`canonical_query`] without the pairs whose decoded name is exactly `excluded`.
pub(crate) fn canonical_query_without(raw_query: &str, excluded: &str) -> String {
    canonical_pairs(raw_query, Some(excluded))
}

fn canonical_pairs(raw_query: &str, excluded: Option<&str>) -> String {
    let mut pairs: Vec<(String, String)> = raw_pairs(raw_query)
        .filter_map(|(name, value)| {
            let name = decode(name);
            if excluded.is_some_and(|e| e.as_bytes() == name.as_slice()) {
                return None;
            }
            Some((encode(&name), encode(&decode(value))))
        })
        .collect();
    pairs.sort_unstable();
    let mut out = String::with_capacity(raw_query.len() + 8);
    for (i, (name, value)) in pairs.iter().enumerate() {
        if i > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

fn raw_pairs(raw_query: &str) -> impl Iterator<Item = (&str, &str)> {
    raw_query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
}

/// Decodes one query name or value. Works on bytes so invalid UTF-8 survives unchanged; a
/// `%` not followed by two hex digits is kept as a literal `%` (and so encoded as `%25`),
/// as every URL decoder does.
fn decode(raw: &str) -> Vec<u8> {
    let plus_as_space = raw.replace('+', " ");
    percent_decode(plus_as_space.as_bytes()).collect()
}

fn decode_lossy(raw: &str) -> String {
    match String::from_utf8_lossy(&decode(raw)) {
        Cow::Borrowed(s) => s.to_owned(),
        Cow::Owned(s) => s,
    }
}

fn encode(bytes: &[u8]) -> String {
    percent_encode(bytes, UNRESERVED).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_is_decoded_reencoded_and_sorted() {
        assert_eq!(canonical_query(""), "");
        // AWS test suite: get-vanilla-query-order-encoded and get-vanilla-empty-query-key.
        assert_eq!(
            canonical_query("Param-3=Value3&Param=Value2&%E1%88%B4=Value1"),
            "%E1%88%B4=Value1&Param=Value2&Param-3=Value3"
        );
        assert_eq!(canonical_query("Param1=value1"), "Param1=value1");
        assert_eq!(canonical_query("Param1"), "Param1=");
        // Repeated names sort by value; '+' is a space; ':' and '/' get encoded; '~' not.
        assert_eq!(
            canonical_query("b=2&a=z&a=y&c=x+y&d=a:b/c~&e=%7e"),
            "a=y&a=z&b=2&c=x%20y&d=a%3Ab%2Fc~&e=~"
        );
        assert_eq!(canonical_query("a&&b="), "a=&b=");
        assert_eq!(canonical_query("a=%zz&b=%"), "a=%25zz&b=%25");
        assert_eq!(canonical_query("a=%FF"), "a=%FF");
        assert_eq!(canonical_query("x=1=2"), "x=1%3D2");
    }

    #[test]
    fn exclusion_matches_the_decoded_name_exactly() {
        let raw =
            "X-Amz-Signature=ab&b=1&X%2DAmz-Signature=cd&x-amz-signature=ef&X-Amz-Signatures=gh";
        assert_eq!(
            canonical_query_without(raw, "X-Amz-Signature"),
            "X-Amz-Signatures=gh&b=1&x-amz-signature=ef"
        );
        assert_eq!(canonical_query_without("", "X-Amz-Signature"), "");
    }

    #[test]
    fn pairs_are_decoded() {
        let pairs: Vec<(String, String)> =
            decoded_pairs("X-Amz-Credential=AK%2F2026%2Fr&a+b=c+d&flag&&bad=%FF%zz").collect();
        assert_eq!(
            pairs,
            [
                ("X-Amz-Credential", "AK/2026/r"),
                ("a b", "c d"),
                ("flag", ""),
                ("bad", "\u{FFFD}%zz"),
            ]
            .map(|(n, v)| (n.to_owned(), v.to_owned()))
        );
    }
}
