//! Epoch milliseconds (the project's clock) to and from the dates X.509 stores.

use time::OffsetDateTime;

use crate::error::CaError;

/// 2049-12-31T23:59:59Z: the notAfter AWS IoT puts on the device certificates it issues, and
/// the last instant a UTCTime can hold, so every X.509 stack reads it.
pub const AWS_DEVICE_NOT_AFTER_MS: i64 = 2_524_607_999_000;

const DAY_MS: i64 = 86_400_000;

/// `days` in milliseconds.
pub(crate) const fn days_ms(days: i64) -> i64 {
    days * DAY_MS
}

/// Converts epoch milliseconds to a date, dropping the milliseconds X.509 cannot hold.
pub(crate) fn from_ms(ms: i64) -> Result<OffsetDateTime, CaError> {
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map_err(|e| CaError::invalid("The time is out of range for a certificate").with_detail(e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aws_device_not_after_is_the_end_of_2049() {
        let date = from_ms(AWS_DEVICE_NOT_AFTER_MS).unwrap();
        assert_eq!(date, time::macros::datetime!(2049-12-31 23:59:59 UTC));
    }

    #[test]
    fn milliseconds_are_truncated_toward_the_past() {
        assert_eq!(from_ms(1_999).unwrap().unix_timestamp(), 1);
        assert_eq!(from_ms(-1).unwrap().unix_timestamp(), -1);
    }
}
