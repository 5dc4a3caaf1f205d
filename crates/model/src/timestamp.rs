//! The ISO-8601 form AWS JSON APIs answer with: UTC, millisecond precision, `Z` suffix.

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Formats epoch milliseconds as `2024-01-04T15:25:10.123Z`.
pub fn format_ms(ms: i64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    let Ok(dt) = OffsetDateTime::from_unix_timestamp_nanos(nanos) else {
        return "1970-01-01T00:00:00.000Z".to_string();
    };
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        dt.year(),
        u8::from(dt.month()),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        dt.millisecond()
    )
}

/// Parses any RFC 3339 timestamp into epoch milliseconds, rounding sub-millisecond digits.
pub fn parse_rfc3339_ms(s: &str) -> Option<i64> {
    let dt = OffsetDateTime::parse(s, &Rfc3339).ok()?;
    let nanos = dt.unix_timestamp_nanos();
    Some(((nanos + 500_000).div_euclid(1_000_000)) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_milliseconds() {
        assert_eq!(format_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(format_ms(1_704_381_910_123), "2024-01-04T15:25:10.123Z");
    }

    #[test]
    fn parses_and_rounds() {
        assert_eq!(
            parse_rfc3339_ms("2024-01-04T15:25:10.1234567Z"),
            Some(1_704_381_910_123)
        );
        assert_eq!(parse_rfc3339_ms("not a date"), None);
    }
}
