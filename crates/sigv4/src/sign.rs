//! Signing requests, for our own clients (Fleetward calling itself, the benchmark client)
//! and for tests. Produces what botocore would for the same request.

use crate::amzdate::format_basic;
use crate::canonical::{CanonicalParts, canonical_headers, canonical_request, string_to_sign};
use crate::crypto::{ALGORITHM, sha256_hex, signature_hex, signing_key};
use crate::query::canonical_query;
use crate::uri::canonical_uri;
use crate::{RequestParts, SigV4Error};

/// Headers never signed: ours to add (`authorization`, `x-amz-date`), or ones proxies and
/// HTTP stacks change on the way (the list botocore and `aws-sigv4` skip).
const UNSIGNED_HEADERS: [&str; 6] = [
    "authorization",
    "x-amz-date",
    "user-agent",
    "expect",
    "transfer-encoding",
    "x-amzn-trace-id",
];

/// Who signs, for which scope, and when.
#[derive(Debug, Clone, Copy)]
pub struct SigningParams<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub region: &'a str,
    pub service: &'a str,
    /// The signing time in milliseconds since the Unix epoch (truncated to the second).
    pub time_ms: i64,
}

/// The result of [`sign`]: the two headers to set on the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// The `Authorization` header value.
    pub authorization: String,
    /// The `X-Amz-Date` header value, `YYYYMMDDTHHMMSSZ`.
    pub amz_date: String,
    /// The hex signature (also inside `authorization`).
    pub signature: String,
    /// The lowercase names that were signed, sorted.
    pub signed_headers: Vec<String>,
}

impl SignedRequest {
    /// The `(name, value)` headers to add, replacing any already present.
    pub fn headers(&self) -> [(&'static str, &str); 2] {
        [
            ("authorization", &self.authorization),
            ("x-amz-date", &self.amz_date),
        ]
    }
}

/// Signs `req` in the `Authorization` header form.
///
/// Every header in `req.headers` is signed except `authorization`, `x-amz-date`,
/// `user-agent`, `expect`, `transfer-encoding` and `x-amzn-trace-id`; `req.headers` must
/// include `host` (as the client will send it, with the port unless it is the default).
/// Any `authorization` or `x-amz-date` in `req.headers` is ignored: set the returned
/// [`SignedRequest::headers`] instead. The path is signed as it will be sent, so pass it
/// already percent-encoded; the payload hash is that of `req.body`.
pub fn sign(
    req: &RequestParts<'_>,
    params: &SigningParams<'_>,
) -> Result<SignedRequest, SigV4Error> {
    let amz_date = format_basic(params.time_ms).ok_or_else(|| {
        SigV4Error::IncompleteSignature(format!(
            "The signing time {} ms cannot be written as an ISO-8601 'basic format' date.",
            params.time_ms
        ))
    })?;
    let date = amz_date.get(..8).unwrap_or(&amz_date);

    let mut headers: Vec<(&str, &str)> = req
        .headers
        .iter()
        .filter(|(name, _)| {
            !UNSIGNED_HEADERS
                .iter()
                .any(|u| name.eq_ignore_ascii_case(u))
        })
        .copied()
        .collect();
    if !headers
        .iter()
        .any(|(name, _)| name.eq_ignore_ascii_case("host"))
    {
        return Err(SigV4Error::IncompleteSignature(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".into(),
        ));
    }
    headers.push(("x-amz-date", &amz_date));

    let mut signed_headers: Vec<String> = headers
        .iter()
        .map(|(name, _)| name.to_ascii_lowercase())
        .collect();
    signed_headers.sort_unstable();
    signed_headers.dedup();
    let signed_headers_line = signed_headers.join(";");

    let query = canonical_query(req.raw_query);
    let canonical = canonical_headers(&headers, &signed_headers);
    let payload_hash = sha256_hex(req.body);
    let parts = CanonicalParts {
        method: req.method,
        query: &query,
        headers: &canonical,
        signed_headers: &signed_headers_line,
        payload_hash: &payload_hash,
    };
    let creq = canonical_request(&parts, &canonical_uri(req.raw_path));
    let scope = format!("{date}/{}/{}/aws4_request", params.region, params.service);
    let key = signing_key(
        params.secret_access_key,
        date,
        params.region,
        params.service,
    );
    let signature = signature_hex(&key, &string_to_sign(&amz_date, &scope, &creq));
    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers_line}, Signature={signature}",
        params.access_key_id
    );
    Ok(SignedRequest {
        authorization,
        amz_date,
        signature,
        signed_headers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_get_vanilla() {
        // AWS SigV4 test suite, get-vanilla.
        let req = RequestParts {
            method: "GET",
            raw_path: "/",
            raw_query: "",
            headers: &[("Host", "example.amazonaws.com")],
            body: b"",
        };
        let params = SigningParams {
            access_key_id: "AKIDEXAMPLE",
            secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            region: "us-east-1",
            service: "service",
            time_ms: 1_440_938_160_000,
        };
        let signed = sign(&req, &params).expect("signs");
        assert_eq!(
            signed.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
        assert_eq!(signed.amz_date, "20150830T123600Z");
        assert_eq!(signed.headers()[1], ("x-amz-date", "20150830T123600Z"));
    }

    #[test]
    fn skips_unsigned_headers_and_requires_host() {
        let params = SigningParams {
            access_key_id: "AK",
            secret_access_key: "s",
            region: "r",
            service: "s",
            time_ms: 0,
        };
        let headers = [
            ("Host", "h"),
            ("User-Agent", "x"),
            ("X-Amz-Date", "stale"),
            ("Content-Type", "application/json"),
            ("authorization", "stale"),
        ];
        let req = RequestParts {
            method: "POST",
            raw_path: "/",
            raw_query: "",
            headers: &headers,
            body: b"{}",
        };
        let signed = sign(&req, &params).expect("signs");
        assert_eq!(
            signed.signed_headers,
            ["content-type", "host", "x-amz-date"]
        );
        assert_eq!(signed.amz_date, "19700101T000000Z");

        let no_host = RequestParts {
            headers: &headers[1..],
            ..req
        };
        assert!(matches!(
            sign(&no_host, &params),
            Err(SigV4Error::IncompleteSignature(_))
        ));
        let bad_time = SigningParams {
            time_ms: i64::MAX,
            ..params
        };
        assert!(sign(&req, &bad_time).is_err());
    }
}
