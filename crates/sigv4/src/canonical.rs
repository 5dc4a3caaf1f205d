//! The canonical request and the string to sign (steps 1 and 2 of SigV4 signing).

use crate::crypto::{ALGORITHM, sha256_hex};
use crate::header_values;

/// The canonical headers block: one `name:value\n` line per signed header, in the order of
/// `signed_headers` (which the client sorted). A header sent several times contributes all
/// its values, each trimmed, joined with `,`. A signed header that is absent contributes an
/// empty value, so the signature fails unless the client signed it that way too.
pub(crate) fn canonical_headers(headers: &[(&str, &str)], signed_headers: &[String]) -> String {
    let mut out = String::new();
    for name in signed_headers {
        out.push_str(name);
        out.push(':');
        for (i, value) in header_values(headers, name).enumerate() {
            if i > 0 {
                out.push(',');
            }
            push_trimmed(&mut out, value);
        }
        out.push('\n');
    }
    out
}

/// Appends `value` without leading and trailing spaces and with each run of spaces
/// collapsed to one ("Trimall" in the SigV4 documentation). Only the space character is
/// meant, as in AWS's text and `aws-sigv4`; botocore also folds tabs, which no SDK puts in
/// the headers it signs.
fn push_trimmed(out: &mut String, value: &str) {
    let mut previous_space = false;
    for c in value.trim_matches(' ').chars() {
        if c == ' ' {
            if previous_space {
                continue;
            }
            previous_space = true;
        } else {
            previous_space = false;
        }
        out.push(c);
    }
}

/// The pieces of a canonical request that do not depend on the path.
pub(crate) struct CanonicalParts<'a> {
    pub method: &'a str,
    pub query: &'a str,
    pub headers: &'a str,
    pub signed_headers: &'a str,
    pub payload_hash: &'a str,
}

/// `Method \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n Hash`,
/// where the canonical headers block already ends in a newline.
pub(crate) fn canonical_request(parts: &CanonicalParts<'_>, canonical_uri: &str) -> String {
    format!(
        "{}\n{}\n{}\n{}\n{}\n{}",
        parts.method,
        canonical_uri,
        parts.query,
        parts.headers,
        parts.signed_headers,
        parts.payload_hash
    )
}

/// `AWS4-HMAC-SHA256 \n X-Amz-Date \n scope \n hex(sha256(canonical request))`.
pub(crate) fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn headers_are_trimmed_joined_and_looked_up_in_any_case() {
        // AWS test suite: get-header-value-trim, get-header-key-duplicate.
        let headers = [
            ("Host", "example.amazonaws.com"),
            ("My-Header1", " value1"),
            ("My-Header2", " \"a   b   c\"  "),
            ("my-header1", "value2 "),
            ("X-Amz-Date", "20150830T123600Z"),
            ("Unsigned", "x"),
        ];
        let signed = names(&["host", "my-header1", "my-header2", "x-amz-date"]);
        assert_eq!(
            canonical_headers(&headers, &signed),
            "host:example.amazonaws.com\nmy-header1:value1,value2\n\
             my-header2:\"a b c\"\nx-amz-date:20150830T123600Z\n"
        );
        assert_eq!(
            canonical_headers(&headers, &names(&["absent"])),
            "absent:\n"
        );
        let mut tab = String::new();
        push_trimmed(&mut tab, "\ta  \t b ");
        assert_eq!(tab, "\ta \t b");
    }

    #[test]
    fn get_vanilla_canonical_request_and_string_to_sign() {
        // AWS SigV4 test suite, get-vanilla (header form).
        let headers = "host:example.amazonaws.com\nx-amz-date:20150830T123600Z\n";
        let parts = CanonicalParts {
            method: "GET",
            query: "",
            headers,
            signed_headers: "host;x-amz-date",
            payload_hash: &sha256_hex(b""),
        };
        let creq = canonical_request(&parts, "/");
        assert_eq!(
            creq,
            "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n\
             host;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            string_to_sign(
                "20150830T123600Z",
                "20150830/us-east-1/service/aws4_request",
                &creq
            ),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n\
             bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
        );
    }
}
