//! Checking a parsed signature against the secret, the clock and the request.

use subtle::{Choice, ConstantTimeEq};

use crate::canonical::{CanonicalParts, canonical_headers, canonical_request, string_to_sign};
use crate::crypto::{sha256_hex, signature_hex, signing_key};
use crate::parse::SIGNATURE_PARAM;
use crate::query::{canonical_query, canonical_query_without};
use crate::uri::canonical_uris;
use crate::validity::check_time;
use crate::{Authorization, RequestParts, SigV4Error, SignatureLocation, header_values};

/// The payload hash that stands for "the body is not signed".
const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// Step 2 of verification: checks `auth` (from [`crate::parse`] on the same request) with
/// the secret of its access key, at time `now_ms` (milliseconds since the Unix epoch).
///
/// In order: the credential scope date must be the day of `X-Amz-Date`; the request time
/// must be within [`crate::MAX_CLOCK_SKEW_MS`] of `now_ms` (for a presigned URL: at most
/// that far ahead, and `now_ms` no later than `X-Amz-Date` + `X-Amz-Expires`); an
/// `x-amz-content-sha256` header, if sent, must be the hex SHA-256 of the body; and the
/// signature must match the one computed over the canonical request.
///
/// The payload hash in the canonical request is that of the body, except that a presigned
/// URL with an empty body may also have been signed with `UNSIGNED-PAYLOAD`; a presigned
/// URL's canonical query leaves out `X-Amz-Signature`. Region and service checks are the
/// caller's ([`SigV4Error::WrongRegion`], [`SigV4Error::WrongService`]).
pub fn verify(
    req: &RequestParts<'_>,
    auth: &Authorization,
    secret_access_key: &str,
    now_ms: i64,
) -> Result<(), SigV4Error> {
    check_scope_date(auth)?;
    check_time(auth.location, auth.request_time_ms, now_ms)?;

    let body_hash = sha256_hex(req.body);
    // botocore copies this header into the canonical request instead of hashing the body
    // (S3 relies on that for UNSIGNED-PAYLOAD); we sign the body we actually received and
    // refuse a header that claims anything else.
    if header_values(req.headers, "x-amz-content-sha256").any(|v| v.trim() != body_hash) {
        return Err(SigV4Error::ContentSha256Mismatch);
    }

    let (query, payload_hashes) = match auth.location {
        SignatureLocation::Header => (canonical_query(req.raw_query), vec![body_hash.as_str()]),
        SignatureLocation::Query { .. } => {
            let query = canonical_query_without(req.raw_query, SIGNATURE_PARAM);
            // botocore hashes the body (which it has moved into the query, so it is empty),
            // and the Rust SDK's presigners sign `UNSIGNED-PAYLOAD`. The latter is only
            // accepted when there is no body, so no body ever goes through unsigned.
            if req.body.is_empty() {
                (query, vec![body_hash.as_str(), UNSIGNED_PAYLOAD])
            } else {
                (query, vec![body_hash.as_str()])
            }
        }
    };
    let headers = canonical_headers(req.headers, &auth.signed_headers);
    let signed_headers = auth.signed_headers.join(";");
    let key = signing_key(secret_access_key, &auth.date, &auth.region, &auth.service);
    let scope = auth.credential_scope();

    // Every path form a client may have signed is tried (see `uri`), with every accepted
    // payload hash; the comparison is constant-time and does not stop at the first match.
    let provided = auth.signature.as_bytes();
    let mut matched = Choice::from(0);
    for payload_hash in payload_hashes {
        let parts = CanonicalParts {
            method: req.method,
            query: &query,
            headers: &headers,
            signed_headers: &signed_headers,
            payload_hash,
        };
        for uri in canonical_uris(req.raw_path) {
            let creq = canonical_request(&parts, &uri);
            let expected = signature_hex(&key, &string_to_sign(&auth.amz_date, &scope, &creq));
            matched |= expected.as_bytes().ct_eq(provided);
        }
    }
    if bool::from(matched) {
        Ok(())
    } else {
        Err(SigV4Error::SignatureMismatch)
    }
}

fn check_scope_date(auth: &Authorization) -> Result<(), SigV4Error> {
    let request_date = auth.amz_date.get(..8).unwrap_or(&auth.amz_date);
    if auth.date == request_date {
        Ok(())
    } else {
        Err(SigV4Error::ScopeDateMismatch {
            scope_date: auth.date.clone(),
            request_date: request_date.to_owned(),
            amz_date: auth.amz_date.clone(),
        })
    }
}
