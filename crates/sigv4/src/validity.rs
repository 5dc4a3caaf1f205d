//! When a signature may be used: the time windows around the signed request time.

use crate::amzdate::display_basic;
use crate::{SigV4Error, SignatureLocation};

/// How far the signed request time may be from the server's clock, either way. AWS allows
/// 15 minutes for SigV4 header signatures ("Signature expired: … - 15 min."); a presigned
/// URL may be used this far ahead of its date too, but not later than it expires.
pub const MAX_CLOCK_SKEW_MS: i64 = 15 * 60 * 1000;

/// The longest `X-Amz-Expires` a presigned URL may have: 7 days, the limit AWS enforces
/// and that both botocore and `aws-sigv4` document.
pub const MAX_PRESIGNED_EXPIRES_S: u32 = 7 * 24 * 60 * 60;

/// Checks the request time `request_ms` against `now_ms` for a signature found at
/// `location`.
pub(crate) fn check_time(
    location: SignatureLocation,
    request_ms: i64,
    now_ms: i64,
) -> Result<(), SigV4Error> {
    match location {
        SignatureLocation::Header => check_clock_skew(request_ms, now_ms),
        SignatureLocation::Query { expires_s } => {
            check_not_yet_current(request_ms, now_ms)?;
            check_not_expired(request_ms, expires_s, now_ms)
        }
    }
}

/// Exactly 15 minutes away is still accepted; one millisecond more is not.
fn check_clock_skew(request_ms: i64, now_ms: i64) -> Result<(), SigV4Error> {
    let earliest = now_ms.saturating_sub(MAX_CLOCK_SKEW_MS);
    if request_ms < earliest {
        return Err(SigV4Error::SignatureExpired {
            request_time: display_basic(request_ms),
            earliest: display_basic(earliest),
            now: display_basic(now_ms),
        });
    }
    check_not_yet_current(request_ms, now_ms)
}

fn check_not_yet_current(request_ms: i64, now_ms: i64) -> Result<(), SigV4Error> {
    let latest = now_ms.saturating_add(MAX_CLOCK_SKEW_MS);
    if request_ms > latest {
        return Err(SigV4Error::SignatureNotYetCurrent {
            request_time: display_basic(request_ms),
            latest: display_basic(latest),
            now: display_basic(now_ms),
        });
    }
    Ok(())
}

/// A presigned URL is still valid at exactly `X-Amz-Date` + `X-Amz-Expires`, and refused
/// from the next millisecond on.
fn check_not_expired(request_ms: i64, expires_s: u32, now_ms: i64) -> Result<(), SigV4Error> {
    let expires_at = request_ms.saturating_add(i64::from(expires_s).saturating_mul(1000));
    if expires_at < now_ms {
        return Err(SigV4Error::RequestExpired {
            expires_at: display_basic(expires_at),
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
    const HEADER: SignatureLocation = SignatureLocation::Header;

    fn query(expires_s: u32) -> SignatureLocation {
        SignatureLocation::Query { expires_s }
    }

    #[test]
    fn clock_skew_boundaries() {
        assert!(check_time(HEADER, T0, T0).is_ok());
        assert!(check_time(HEADER, T0 - 15 * MINUTE, T0).is_ok());
        assert!(check_time(HEADER, T0 + 15 * MINUTE, T0).is_ok());
        assert!(matches!(
            check_time(HEADER, T0 - 15 * MINUTE - 1, T0),
            Err(SigV4Error::SignatureExpired { .. })
        ));
        assert!(matches!(
            check_time(HEADER, T0 + 15 * MINUTE + 1, T0),
            Err(SigV4Error::SignatureNotYetCurrent { .. })
        ));
        assert!(check_time(HEADER, 0, i64::MAX).is_err());
        assert!(check_time(HEADER, 0, i64::MIN).is_err());
    }

    #[test]
    fn clock_skew_messages_in_aws_form() {
        let expired = check_time(HEADER, T0, T0 + 20 * MINUTE).expect_err("expired");
        assert_eq!(
            expired.message(),
            "Signature expired: 20240101T000000Z is now earlier than 20240101T000500Z \
             (20240101T002000Z - 15 min.)"
        );
        let future = check_time(HEADER, T0 + 20 * MINUTE, T0).expect_err("future");
        assert_eq!(
            future.message(),
            "Signature not yet current: 20240101T002000Z is still later than \
             20240101T001500Z (20240101T000000Z + 15 min.)"
        );
        assert_eq!(future.code(), "InvalidSignatureException");
        assert_eq!(future.status(), 403);
    }

    #[test]
    fn presigned_window_boundaries() {
        // Valid well past the 15-minute skew, up to and including date + expires.
        let hour = query(3600);
        assert!(check_time(hour, T0, T0).is_ok());
        assert!(check_time(hour, T0, T0 + 16 * MINUTE).is_ok());
        assert!(check_time(hour, T0, T0 + 60 * MINUTE).is_ok());
        assert_eq!(
            check_time(hour, T0, T0 + 60 * MINUTE + 1),
            Err(SigV4Error::RequestExpired {
                expires_at: "20240101T010000Z".into(),
                now: "20240101T010000Z".into(),
            })
        );
        // Usable up to 15 minutes before its date (a client clock running ahead), no earlier.
        assert!(check_time(hour, T0 + 15 * MINUTE, T0).is_ok());
        assert!(matches!(
            check_time(hour, T0 + 15 * MINUTE + 1, T0),
            Err(SigV4Error::SignatureNotYetCurrent { .. })
        ));
        // Shorter than the skew: its own expiry applies, not the 15 minutes.
        assert!(check_time(query(1), T0, T0 + 1000).is_ok());
        assert!(matches!(
            check_time(query(1), T0, T0 + 1001),
            Err(SigV4Error::RequestExpired { .. })
        ));
        let week = query(MAX_PRESIGNED_EXPIRES_S);
        assert!(check_time(week, T0, T0 + 7 * 24 * 60 * MINUTE).is_ok());
        assert!(check_time(week, T0, T0 + 7 * 24 * 60 * MINUTE + 1).is_err());
    }

    #[test]
    fn presigned_window_never_overflows() {
        for (request, now) in [
            (i64::MAX, i64::MAX),
            (i64::MIN, i64::MAX),
            (i64::MAX, i64::MIN),
            (i64::MIN, i64::MIN),
        ] {
            let _ = check_time(query(u32::MAX), request, now);
        }
        assert!(check_time(query(u32::MAX), i64::MAX - 1, i64::MAX).is_ok());
    }
}
