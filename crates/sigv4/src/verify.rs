//! Checking a parsed signature against the secret, the clock and the request.

use subtle::{Choice, ConstantTimeEq};

use crate::amzdate::display_basic;
use crate::canonical::{CanonicalParts, canonical_headers, canonical_request, string_to_sign};
use crate::crypto::{sha256_hex, signature_hex, signing_key};
use crate::uri::{canonical_query, canonical_uris};
use crate::{Authorization, RequestParts, SigV4Error, header_values};

/// How far the signed request time may be from the server's clock, either way. AWS allows
/// 15 minutes for SigV4 header signatures ("Signature expired: … - 15 min.").
pub const MAX_CLOCK_SKEW_MS: i64 = 15 * 60 * 1000;

/// Step 2 of verification: checks `auth` (from [`crate::parse`] on the same request) with
/// the secret of its access key, at time `now_ms` (milliseconds since the Unix epoch).
///
/// In order: the credential scope date must be the day of `X-Amz-Date`; the request time
/// must be within [`MAX_CLOCK_SKEW_MS`] of `now_ms`; an `x-amz-content-sha256` header, if
/// sent, must be the hex SHA-256 of the body; and the signature must match the one
/// computed over the canonical request, whose payload hash is always that of the body.
/// Region and service checks are the caller's ([`SigV4Error::WrongRegion`],
/// [`SigV4Error::WrongService`]).
pub fn verify(
    req: &RequestParts<'_>,
    auth: &Authorization,
    secret_access_key: &str,
    now_ms: i64,
) -> Result<(), SigV4Error> {
    check_scope_date(auth)?;
    check_clock_skew(auth.request_time_ms, now_ms)?;

    let payload_hash = sha256_hex(req.body);
    // botocore copies this header into the canonical request instead of hashing the body
    // (S3 relies on that for UNSIGNED-PAYLOAD); we sign the body we actually received and
    // refuse a header that claims anything else.
    if header_values(req.headers, "x-amz-content-sha256").any(|v| v.trim() != payload_hash) {
        return Err(SigV4Error::ContentSha256Mismatch);
    }

    let query = canonical_query(req.raw_query);
    let headers = canonical_headers(req.headers, &auth.signed_headers);
    let signed_headers = auth.signed_headers.join(";");
    let parts = CanonicalParts {
        method: req.method,
        query: &query,
        headers: &headers,
        signed_headers: &signed_headers,
        payload_hash: &payload_hash,
    };
    let key = signing_key(secret_access_key, &auth.date, &auth.region, &auth.service);
    let scope = auth.credential_scope();

    // Every path form a client may have signed is tried (see `uri`); the comparison is
    // constant-time and does not stop at the first match.
    let provided = auth.signature.as_bytes();
    let mut matched = Choice::from(0);
    for uri in canonical_uris(req.raw_path) {
        let creq = canonical_request(&parts, &uri);
        let expected = signature_hex(&key, &string_to_sign(&auth.amz_date, &scope, &creq));
        matched |= expected.as_bytes().ct_eq(provided);
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

/// Exactly 15 minutes away is still accepted; one millisecond more is not.
fn check_clock_skew(request_ms: i64, now_ms: i64) -> Result<(), SigV4Error> {
    let earliest = now_ms.saturating_sub(MAX_CLOCK_SKEW_MS);
    let latest = now_ms.saturating_add(MAX_CLOCK_SKEW_MS);
    if request_ms < earliest {
        return Err(SigV4Error::SignatureExpired {
            request_time: display_basic(request_ms),
            earliest: display_basic(earliest),
            now: display_basic(now_ms),
        });
    }
    if request_ms > latest {
        return Err(SigV4Error::SignatureNotYetCurrent {
            request_time: display_basic(request_ms),
            latest: display_basic(latest),
            now: display_basic(now_ms),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_704_067_200_000; // 2024-01-01T00:00:00Z
    const MINUTE: i64 = 60_000;

    #[test]
    fn clock_skew_boundaries() {
        assert!(check_clock_skew(T0, T0).is_ok());
        assert!(check_clock_skew(T0 - 15 * MINUTE, T0).is_ok());
        assert!(check_clock_skew(T0 + 15 * MINUTE, T0).is_ok());
        assert!(matches!(
            check_clock_skew(T0 - 15 * MINUTE - 1, T0),
            Err(SigV4Error::SignatureExpired { .. })
        ));
        assert!(matches!(
            check_clock_skew(T0 + 15 * MINUTE + 1, T0),
            Err(SigV4Error::SignatureNotYetCurrent { .. })
        ));
        assert!(check_clock_skew(0, i64::MAX).is_err());
        assert!(check_clock_skew(0, i64::MIN).is_err());
    }

    #[test]
    fn clock_skew_messages_in_aws_form() {
        let expired = check_clock_skew(T0, T0 + 20 * MINUTE).expect_err("expired");
        assert_eq!(
            expired.message(),
            "Signature expired: 20240101T000000Z is now earlier than 20240101T000500Z \
             (20240101T002000Z - 15 min.)"
        );
        let future = check_clock_skew(T0 + 20 * MINUTE, T0).expect_err("future");
        assert_eq!(
            future.message(),
            "Signature not yet current: 20240101T002000Z is still later than \
             20240101T001500Z (20240101T000000Z + 15 min.)"
        );
        assert_eq!(future.code(), "InvalidSignatureException");
        assert_eq!(future.status(), 403);
    }
}
