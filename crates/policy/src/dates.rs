//! Dates as IAM's `Date*` operators accept them: ISO 8601 (date, date-time, optional fraction
//! and offset) or whole seconds since the epoch. Parsing and formatting never allocate, so they
//! can run while deciding.

use std::fmt;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

/// Parses a date into milliseconds since the Unix epoch.
pub(crate) fn parse_date_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    if let Ok(secs) = s.parse::<i64>() {
        return secs.checked_mul(1000);
    }
    let mut p = Cursor { s: s.as_bytes() };
    let year = p.digits(4)?;
    p.expect(b'-')?;
    let month = p.digits(2)?;
    p.expect(b'-')?;
    let day = p.digits(2)?;
    let date = Date::from_calendar_date(
        i32::try_from(year).ok()?,
        Month::try_from(u8::try_from(month).ok()?).ok()?,
        u8::try_from(day).ok()?,
    )
    .ok()?;

    let (mut hour, mut minute, mut second, mut nanos) = (0, 0, 0, 0);
    if matches!(p.peek(), Some(b'T' | b't' | b' ')) {
        p.s = &p.s[1..];
        hour = p.digits(2)?;
        p.expect(b':')?;
        minute = p.digits(2)?;
        if p.peek() == Some(b':') {
            p.s = &p.s[1..];
            second = p.digits(2)?;
            if p.peek() == Some(b'.') {
                p.s = &p.s[1..];
                nanos = p.fraction_nanos()?;
            }
        }
    }
    let offset = match p.peek() {
        None | Some(b'Z' | b'z') => {
            p.s = p.s.get(1..).unwrap_or_default();
            UtcOffset::UTC
        }
        Some(sign @ (b'+' | b'-')) => {
            p.s = &p.s[1..];
            let oh = p.digits(2)?;
            if p.peek() == Some(b':') {
                p.s = &p.s[1..];
            }
            let om = if p.s.is_empty() { 0 } else { p.digits(2)? };
            let k = if sign == b'-' { -1 } else { 1 };
            UtcOffset::from_hms(k * i8::try_from(oh).ok()?, k * i8::try_from(om).ok()?, 0).ok()?
        }
        Some(_) => return None,
    };
    if !p.s.is_empty() {
        return None;
    }
    let time = Time::from_hms_nano(
        u8::try_from(hour).ok()?,
        u8::try_from(minute).ok()?,
        u8::try_from(second).ok()?,
        nanos,
    )
    .ok()?;
    let at = PrimitiveDateTime::new(date, time).assume_offset(offset);
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).ok()
}

/// Writes `ms` as an ISO 8601 UTC date-time with whole seconds, e.g. `2024-05-01T12:00:00Z`.
pub(crate) fn write_iso(ms: i64, out: &mut impl fmt::Write) -> fmt::Result {
    let at = OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|_| fmt::Error)?;
    write!(
        out,
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        at.year(),
        u8::from(at.month()),
        at.day(),
        at.hour(),
        at.minute(),
        at.second()
    )
}

struct Cursor<'a> {
    s: &'a [u8],
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.first().copied()
    }

    fn expect(&mut self, b: u8) -> Option<()> {
        (self.peek()? == b).then(|| self.s = &self.s[1..])
    }

    fn digits(&mut self, n: usize) -> Option<u32> {
        let head = self.s.get(..n)?;
        let mut v = 0u32;
        for &d in head {
            if !d.is_ascii_digit() {
                return None;
            }
            v = v * 10 + u32::from(d - b'0');
        }
        self.s = &self.s[n..];
        Some(v)
    }

    fn fraction_nanos(&mut self) -> Option<u32> {
        let len = self.s.iter().take_while(|d| d.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        let mut nanos = 0u32;
        for i in 0..9 {
            let d = self.s.get(i).filter(|_| i < len).map_or(0, |d| d - b'0');
            nanos = nanos * 10 + u32::from(d);
        }
        self.s = &self.s[len..];
        Some(nanos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms() {
        let t = 1_719_835_200_000; // 2024-07-01T12:00:00Z
        assert_eq!(parse_date_ms("2024-07-01T12:00:00Z"), Some(t));
        assert_eq!(parse_date_ms("2024-07-01T12:00:00.250Z"), Some(t + 250));
        assert_eq!(parse_date_ms("2024-07-01T14:00:00+02:00"), Some(t));
        assert_eq!(parse_date_ms("2024-07-01T07:00-0500"), Some(t));
        assert_eq!(parse_date_ms("2024-07-01T12:00"), Some(t));
        assert_eq!(parse_date_ms("2024-07-01"), Some(t - 12 * 3_600_000));
        assert_eq!(parse_date_ms("1719835200"), Some(t));
        assert_eq!(parse_date_ms("-1"), Some(-1000));
    }

    #[test]
    fn rejected_forms() {
        for bad in [
            "",
            "2024-13-01",
            "2024-02-30",
            "2024-07-01T25:00Z",
            "2024-07-01X",
            "July",
        ] {
            assert_eq!(parse_date_ms(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_iso() {
        let mut s = String::new();
        write_iso(1_719_835_200_999, &mut s).unwrap();
        assert_eq!(s, "2024-07-01T12:00:00Z");
        assert_eq!(parse_date_ms(&s), Some(1_719_835_200_000));
    }
}
