//! The ISO 8601 "basic format" timestamps SigV4 uses: `YYYYMMDDTHHMMSSZ`, always UTC.

use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

/// Parses `YYYYMMDDTHHMMSSZ` into milliseconds since the Unix epoch.
///
/// Strict on purpose: the string is copied verbatim into the string to sign, so any
/// other spelling of the same instant would be a different signature anyway.
pub(crate) fn parse_basic(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let year = digits(&b[0..4])?;
    let month = digits(&b[4..6])?;
    let day = digits(&b[6..8])?;
    let hour = digits(&b[9..11])?;
    let minute = digits(&b[11..13])?;
    let second = digits(&b[13..15])?;
    let month = Month::try_from(u8::try_from(month).ok()?).ok()?;
    let date =
        Date::from_calendar_date(i32::try_from(year).ok()?, month, u8::try_from(day).ok()?).ok()?;
    let time = Time::from_hms(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
    )
    .ok()?;
    let seconds = PrimitiveDateTime::new(date, time)
        .assume_utc()
        .unix_timestamp();
    seconds.checked_mul(1000)
}

/// Formats milliseconds since the epoch as `YYYYMMDDTHHMMSSZ` (truncated to the second);
/// `None` outside years 0000–9999, which the format cannot express.
pub(crate) fn format_basic(ms: i64) -> Option<String> {
    let t = OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000)).ok()?;
    if !(0..=9999).contains(&t.year()) {
        return None;
    }
    Some(format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    ))
}

/// Like [`format_basic`], for error messages, where any value must print.
pub(crate) fn display_basic(ms: i64) -> String {
    format_basic(ms).unwrap_or_else(|| format!("@{ms}ms"))
}

fn digits(b: &[u8]) -> Option<u32> {
    b.iter().try_fold(0u32, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0'))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_formats_the_basic_format() {
        // 2015-08-30T12:36:00Z, the date of AWS's SigV4 test suite.
        assert_eq!(parse_basic("20150830T123600Z"), Some(1_440_938_160_000));
        assert_eq!(
            format_basic(1_440_938_160_999).as_deref(),
            Some("20150830T123600Z")
        );
        assert_eq!(parse_basic("19700101T000000Z"), Some(0));
        assert_eq!(format_basic(-1).as_deref(), Some("19691231T235959Z"));
    }

    #[test]
    fn rejects_everything_else() {
        for bad in [
            "",
            "20150830T123600",
            "20150830 123600Z",
            "2015-08-30T12:36:00Z",
            "20150830T123600z",
            "20151330T123600Z",
            "20150230T123600Z",
            "20150830T243600Z",
            "20150830T126000Z",
            "20150830T123660Z",
            "+0150830T123600Z",
            "2015083OT123600Z",
            "Sun, 30 Aug 2015 12:36:00 GMT",
            "２0150830T123600Z",
        ] {
            assert_eq!(parse_basic(bad), None, "{bad}");
        }
    }

    #[test]
    fn format_is_total_for_messages() {
        assert_eq!(format_basic(i64::MAX), None);
        assert_eq!(display_basic(i64::MIN), format!("@{}ms", i64::MIN));
    }
}
