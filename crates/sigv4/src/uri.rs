//! The canonical URI, built from the path as received.
//!
//! AWS describes the canonical URI as "each path segment URI-encoded twice" for every
//! service but S3. What clients really do is take the path *as they send it* (already
//! percent-encoded once), remove dot segments and empty segments, and percent-encode the
//! result once more, keeping only the unreserved characters and `/`:
//!
//! - botocore: `quote(remove_dot_segments(path), safe='/~')` (`SigV4Auth._normalize_url_path`);
//! - `aws-sigv4` with `PercentEncodingMode::Double`: `normalize_uri_path`, then
//!   `label::fmt_string(path, Greedy)`.
//!
//! So `/a%3Ab` on the wire signs as `/a%253Ab`, a raw `@` as `%40`, and a lowercase
//! `%3a` as `%253a`: decoding first and encoding twice would get the last one wrong.
//!
//! The two normalisations differ in one corner: a path ending in a `.` or `..` segment
//! keeps a trailing `/` in `aws-sigv4` (`/a/b/.` → `/a/b/`) but not in botocore (→ `/a/b`,
//! which is also what AWS's own test suite expects). SDKs without normalisation (Go v2,
//! `aws-sigv4` with normalisation disabled) sign the path unchanged. [`canonical_uris`]
//! returns each distinct form, and the verifier accepts a signature over any of them. That
//! only makes two wire paths interchangeable when one of these clients already signs them
//! identically (`/a/b/.` and `/a/b/` for `aws-sigv4`); routes should not rely on dot or
//! empty segments, which every normalising client erases anyway.

use percent_encoding::{AsciiSet, percent_encode};

use crate::query::UNRESERVED;

/// Like [`UNRESERVED`] but `/` separates path segments and stays as it is.
const PATH: &AsciiSet = &UNRESERVED.remove(b'/');

/// The canonical URI botocore (and the AWS test suite) computes for `raw_path`.
pub(crate) fn canonical_uri(raw_path: &str) -> String {
    encode_path(&remove_dot_segments(raw_path))
}

/// The canonical URIs a client may have signed for `raw_path`: [`canonical_uri`] first,
/// then the other distinct forms (see the module documentation).
pub(crate) fn canonical_uris(raw_path: &str) -> Vec<String> {
    let mut forms = vec![canonical_uri(raw_path)];
    for path in [
        remove_dot_segments_keep_trailing_slash(raw_path),
        unnormalized(raw_path),
    ] {
        let encoded = encode_path(&path);
        if !forms.contains(&encoded) {
            forms.push(encoded);
        }
    }
    forms
}

fn encode_path(path: &str) -> String {
    percent_encode(path.as_bytes(), PATH).to_string()
}

/// Splits a path into the segments that survive RFC 3986 section 5.2.4 "Remove Dot
/// Segments", dropping empty segments too (AWS services collapse `//`).
fn surviving_segments(path: &str) -> Vec<&str> {
    let mut out: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    out
}

/// botocore's `remove_dot_segments`: a trailing `/` survives only if the path ends in `/`
/// and some segment is left.
fn remove_dot_segments(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    let segments = surviving_segments(path);
    let first = if path.starts_with('/') { "/" } else { "" };
    let last = if path.ends_with('/') && !segments.is_empty() {
        "/"
    } else {
        ""
    };
    format!("{first}{}{last}", segments.join("/"))
}

/// `aws-sigv4`'s `normalize_uri_path`: always absolute, and a final `.` or `..` segment
/// leaves a trailing `/` as RFC 3986 does.
fn remove_dot_segments_keep_trailing_slash(path: &str) -> String {
    let mut out = format!("/{}", surviving_segments(path).join("/"));
    let ends_in_directory = ["/", "/.", "/..", "/./", "/../"]
        .iter()
        .any(|end| path.ends_with(end));
    if ends_in_directory && !out.ends_with('/') {
        out.push('/');
    }
    out
}

fn unnormalized(path: &str) -> String {
    if path.is_empty() {
        "/".to_owned()
    } else {
        path.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_is_encoded_once_more_as_sent() {
        assert_eq!(canonical_uris(""), ["/"]);
        assert_eq!(canonical_uris("/"), ["/"]);
        assert_eq!(
            canonical_uris(
                "/productSubscriptions/arn%3Aaws%3Asecurityhub%3Aus-east-1%3A000000000000%3Aproduct-subscription/prowler/prowler"
            ),
            [
                "/productSubscriptions/arn%253Aaws%253Asecurityhub%253Aus-east-1%253A000000000000%253Aproduct-subscription/prowler/prowler"
            ]
        );
        // AWS test suite "double-encode-path": a raw '@' is encoded once, '%3D' twice.
        assert_eq!(
            canonical_uris("/test/@connections/JBDvjfGEIAMCERw%3D"),
            ["/test/%40connections/JBDvjfGEIAMCERw%253D"]
        );
        // Not decoded first: lowercase hex stays lowercase, '%7E' is not turned into '~'.
        assert_eq!(canonical_uris("/a%3ab%7E"), ["/a%253ab%257E"]);
        assert_eq!(canonical_uris("/-_.~/a b"), ["/-_.~/a%20b"]);
        assert_eq!(canonical_uris("/ሴ"), ["/%E1%88%B4"]);
    }

    #[test]
    fn dot_and_empty_segments_follow_the_clients() {
        // AWS test suite: get-slash-pointless-dot, get-slashes, get-relative-relative.
        assert_eq!(canonical_uris("/./example")[0], "/example");
        assert_eq!(canonical_uris("//example//")[0], "/example/");
        assert_eq!(canonical_uris("/example1/example2/../..")[0], "/");
        // botocore first, then aws-sigv4's trailing slash, then the path unnormalised.
        assert_eq!(
            canonical_uris("/a/b/."),
            ["/a/b", "/a/b/", "/a/b/."].map(String::from)
        );
        assert_eq!(
            canonical_uris("/a/b/../"),
            ["/a/", "/a/b/../"].map(String::from)
        );
        assert_eq!(canonical_uris("/a//b"), ["/a/b", "/a//b"].map(String::from));
        assert_eq!(canonical_uris("/.."), ["/", "/.."].map(String::from));
        // Encoded dots are not dot segments to either client.
        assert_eq!(canonical_uris("/a/%2E%2E/b"), ["/a/%252E%252E/b"]);
    }
}
