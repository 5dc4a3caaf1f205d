//! AWS Signature Version 4 verification for incoming API requests.
//!
//! Both forms AWS accepts for every service are supported, with the rules AWS applies to
//! every service except S3 (the canonical URI is the path as sent, encoded once more,
//! "double encoding"):
//!
//! - the `Authorization` header, with the time in `X-Amz-Date` (or `Date`);
//! - presigned URLs ("query-string authentication"): `X-Amz-Algorithm`, `X-Amz-Credential`,
//!   `X-Amz-Date`, `X-Amz-Expires`, `X-Amz-SignedHeaders` and `X-Amz-Signature` query
//!   parameters, optionally `X-Amz-Security-Token`, as botocore's `generate_presigned_url`
//!   and `aws-sigv4`'s `SignatureLocation::QueryParams` produce them.
//!
//! A request with both is refused, as AWS does ([`SigV4Error::HeaderAndQueryAuthentication`]).
//! Chunked `aws-chunked` payloads are not supported.
//!
//! Verification is two steps so that the caller can look up the secret in between:
//!
//! 1. [`parse`] reads the signing information without a secret and returns an
//!    [`Authorization`]: the access key id selects the secret and the credential scope's
//!    service selects the API.
//! 2. [`verify`] checks the scope date, the time (within 15 minutes of now for a header
//!    signature; for a presigned URL, no later than `X-Amz-Expires` seconds after its date
//!    and at most 15 minutes ahead) and the signature itself against the secret.
//!
//! [`sign`] produces the headers for a request, for our own clients and tests.
//!
//! ```
//! use fleetward_sigv4::{RequestParts, SigV4Error, SigningParams, parse, sign, verify};
//!
//! let now_ms = 1_767_225_600_000; // 2026-01-01T00:00:00Z
//! let body = br#"{"MaxResults":10}"#;
//! let request_headers = [("host", "localhost:8443"), ("content-type", "application/json")];
//! let unsigned = RequestParts {
//!     method: "POST",
//!     raw_path: "/findings",
//!     raw_query: "",
//!     headers: &request_headers,
//!     body,
//! };
//! let params = SigningParams {
//!     access_key_id: "AKIDEXAMPLE",
//!     secret_access_key: "secret",
//!     region: "us-east-1",
//!     service: "securityhub",
//!     time_ms: now_ms,
//! };
//! let signed = sign(&unsigned, &params)?;
//! let mut headers = request_headers.to_vec();
//! headers.extend(signed.headers());
//!
//! let req = RequestParts { headers: &headers, ..unsigned };
//! let auth = parse(&req)?;
//! assert_eq!(auth.service, "securityhub");
//! let secret = match auth.access_key_id.as_str() {
//!     "AKIDEXAMPLE" => "secret",
//!     _ => return Err(SigV4Error::UnrecognizedClient),
//! };
//! verify(&req, &auth, secret, now_ms)?;
//! # Ok::<(), SigV4Error>(())
//! ```
//!
//! The protocol is described in the AWS IAM User Guide, "Create a signed AWS API request"
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html>).
//! Where clients deviate from that text (path normalisation, query decoding) we follow
//! what botocore and `aws-sigv4` actually send; the `uri` module explains how.

mod amzdate;
mod canonical;
mod crypto;
mod error;
mod parse;
mod query;
mod sign;
mod uri;
mod validity;
mod verify;

pub use error::SigV4Error;
pub use parse::parse;
pub use sign::{SignedRequest, SigningParams, sign};
pub use validity::{MAX_CLOCK_SKEW_MS, MAX_PRESIGNED_EXPIRES_S};
pub use verify::verify;

/// What the verifier needs of a request.
///
/// Header names may be in any case and a header may repeat; values must be the text
/// received (header values that are not valid UTF-8 cannot be signed by SDKs anyway).
/// Over HTTP/2 there is no `Host` header: pass the `:authority` as a `host` entry.
#[derive(Debug, Clone, Copy)]
pub struct RequestParts<'a> {
    /// The method as received, e.g. `POST`.
    pub method: &'a str,
    /// The path exactly as received, still percent-encoded,
    /// e.g. `/insights/arn%3Aaws%3Asecurityhub%3A...`.
    pub raw_path: &'a str,
    /// The query exactly as received, without the `?`; may be empty.
    pub raw_query: &'a str,
    pub headers: &'a [(&'a str, &'a str)],
    pub body: &'a [u8],
}

/// The signing information of a request, read from `Authorization` and `X-Amz-Date`, or
/// from a presigned URL's `X-Amz-*` query parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key_id: String,
    /// The credential scope date, `YYYYMMDD`.
    pub date: String,
    pub region: String,
    pub service: String,
    /// The `SignedHeaders` list, in the client's order and spelling.
    pub signed_headers: Vec<String>,
    /// The signature as sent (lowercase hex for every known client).
    pub signature: String,
    /// The request time as signed, `YYYYMMDDTHHMMSSZ`.
    pub amz_date: String,
    /// [`Authorization::amz_date`] in milliseconds since the Unix epoch.
    pub request_time_ms: i64,
    /// Where the signature was found, which decides how [`verify`] checks it.
    pub location: SignatureLocation,
}

/// Where a request carries its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureLocation {
    /// The `Authorization` header.
    Header,
    /// The query string of a presigned URL, valid for `expires_s` seconds
    /// (`X-Amz-Expires`, 1 to [`MAX_PRESIGNED_EXPIRES_S`]) from [`Authorization::amz_date`].
    Query { expires_s: u32 },
}

impl Authorization {
    /// The credential scope, `date/region/service/aws4_request`.
    pub fn credential_scope(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.date,
            self.region,
            self.service,
            crypto::SCOPE_TERMINATOR
        )
    }
}

/// All values of header `name` (any case), in the order received.
fn header_values<'a>(
    headers: &'a [(&'a str, &'a str)],
    name: &'a str,
) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
}
