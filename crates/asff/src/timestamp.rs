//! ASFF timestamp strings: the accepted RFC 3339 subset and the stored form.
//!
//! Spec §1.2: a finding timestamp ends in `Z` or a numeric offset `±HH[:MM]`, also written
//! without the colon (`-1759`); up to nine fractional digits; the offset is bounded by ±18:00.
//! The `time` crate's RFC 3339 parser rejects `+05` and `-1759`, so the subset is parsed here.
//! AWS stores and returns UTC with milliseconds (`2024-01-04T15:25:10.123Z`), rounding away the
//! sub-millisecond digits.
//!
//! Decisions where AWS is silent: the date/time separator may be `T`, `t` or a space and `Z` may
//! be lower case (the JSON-Schema `date-time` format AWS validates with accepts them); leap
//! seconds (`:60`) are rejected; years must have four digits and stay within 0000–9999 after the
//! offset is applied.

use fleetward_model::timestamp::format_ms;

const MS_PER_DAY: i64 = 86_400_000;
/// Largest offset AWS accepts, in minutes (18:00).
const MAX_OFFSET_MINUTES: i64 = 18 * 60;

/// Parses an ASFF timestamp into epoch milliseconds (rounded half up), or `None` if it is not in
/// the accepted subset.
pub fn parse_timestamp(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 {
        return None;
    }
    let year = digits(b, 0, 4)?;
    let month = digits(b, 5, 2)?;
    let day = digits(b, 8, 2)?;
    let hour = digits(b, 11, 2)?;
    let minute = digits(b, 14, 2)?;
    let second = digits(b, 17, 2)?;
    if b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    if hour > 23 || minute > 59 || second > 59 {
        return None;
    }

    let mut i = 19;
    let mut nanos: i64 = 0;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        let n = i - start;
        if n == 0 || n > 9 {
            return None;
        }
        nanos = digits(b, start, n)? * 10_i64.pow((9 - n) as u32);
    }

    let offset_minutes = parse_offset(b.get(i..)?)?;

    let days = days_from_civil(year, month, day);
    let secs = days * 86_400 + hour * 3600 + minute * 60 + second - offset_minutes * 60;
    let ms = secs * 1000 + (nanos + 500_000) / 1_000_000;
    let min = days_from_civil(0, 1, 1) * MS_PER_DAY;
    let max = days_from_civil(10_000, 1, 1) * MS_PER_DAY - 1;
    (min..=max).contains(&ms).then_some(ms)
}

/// The stored form of epoch milliseconds: `YYYY-MM-DDTHH:MM:SS.mmmZ`. Hand-rolled because it
/// runs several times per imported finding; years outside 0000–9999 fall back to the model's
/// general formatter.
pub fn format_timestamp(ms: i64) -> String {
    let days = ms.div_euclid(MS_PER_DAY);
    let in_day = ms.rem_euclid(MS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return format_ms(ms);
    }
    let mut out = [0_u8; 24];
    put_digits(&mut out[0..4], year);
    out[4] = b'-';
    put_digits(&mut out[5..7], month);
    out[7] = b'-';
    put_digits(&mut out[8..10], day);
    out[10] = b'T';
    put_digits(&mut out[11..13], in_day / 3_600_000);
    out[13] = b':';
    put_digits(&mut out[14..16], in_day / 60_000 % 60);
    out[16] = b':';
    put_digits(&mut out[17..19], in_day / 1000 % 60);
    out[19] = b'.';
    put_digits(&mut out[20..23], in_day % 1000);
    out[23] = b'Z';
    String::from_utf8(out.to_vec()).unwrap_or_else(|_| format_ms(ms))
}

/// Writes `n` (non-negative, fitting) as zero-padded decimal filling `buf`.
fn put_digits(buf: &mut [u8], mut n: i64) {
    for b in buf.iter_mut().rev() {
        *b = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// The stored form of an accepted timestamp, or `None` if `s` is not in the accepted subset.
pub fn normalize_timestamp(s: &str) -> Option<String> {
    parse_timestamp(s).map(format_timestamp)
}

/// True when `s` already has the stored shape `YYYY-MM-DDTHH:MM:SS.mmmZ` (digits not range-checked),
/// so that normalising it again would be a no-op for any valid value.
pub fn has_stored_shape(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 24
        && b.iter().enumerate().all(|(i, &c)| match i {
            4 | 7 => c == b'-',
            10 => c == b'T',
            13 | 16 => c == b':',
            19 => c == b'.',
            23 => c == b'Z',
            _ => c.is_ascii_digit(),
        })
}

/// `Z`, `±HH`, `±HH:MM` or `±HHMM`, bounded by ±18:00; returns the offset east of UTC in minutes.
fn parse_offset(b: &[u8]) -> Option<i64> {
    match b {
        [b'Z' | b'z'] => Some(0),
        [sign @ (b'+' | b'-'), rest @ ..] => {
            let (hours, minutes) = match rest.len() {
                2 => (digits(rest, 0, 2)?, 0),
                4 => (digits(rest, 0, 2)?, digits(rest, 2, 2)?),
                5 if rest[2] == b':' => (digits(rest, 0, 2)?, digits(rest, 3, 2)?),
                _ => return None,
            };
            let total = hours * 60 + minutes;
            if minutes > 59 || total > MAX_OFFSET_MINUTES {
                return None;
            }
            Some(if *sign == b'-' { -total } else { total })
        }
        _ => None,
    }
}

/// The decimal value of `b[at..at + n]` if all are ASCII digits (n ≤ 9 keeps it in range).
fn digits(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let slice = b.get(at..at + n)?;
    slice.iter().try_fold(0_i64, |acc, &c| {
        c.is_ascii_digit().then(|| acc * 10 + i64::from(c - b'0'))
    })
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The proleptic Gregorian date of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: i64 = 1_704_381_910_000; // 2024-01-04T15:25:10Z

    #[test]
    fn documented_examples_are_accepted() {
        assert_eq!(
            parse_timestamp("2019-01-31T23:00:00Z"),
            Some(1_548_975_600_000)
        );
        assert_eq!(
            normalize_timestamp("2019-01-31T23:00:00.123456789Z").as_deref(),
            Some("2019-01-31T23:00:00.123Z")
        );
        let east = BASE - (17 * 60 + 59) * 60_000;
        let west = BASE + (17 * 60 + 59) * 60_000;
        assert_eq!(parse_timestamp("2024-01-04T15:25:10+17:59"), Some(east));
        assert_eq!(parse_timestamp("2024-01-04T15:25:10-1759"), Some(west));
        assert_eq!(
            parse_timestamp("2024-01-04T15:25:10.123456789+17:59"),
            Some(east + 123)
        );
    }

    #[test]
    fn offsets_convert_to_utc() {
        assert_eq!(
            normalize_timestamp("2024-01-04T15:25:10+05").as_deref(),
            Some("2024-01-04T10:25:10.000Z")
        );
        assert_eq!(
            normalize_timestamp("2024-01-04T00:25:10-01:30").as_deref(),
            Some("2024-01-04T01:55:10.000Z")
        );
        assert_eq!(
            parse_timestamp("2024-01-04T15:25:10+18:00"),
            Some(BASE - 18 * 3_600_000)
        );
        assert_eq!(
            parse_timestamp("2024-01-04T15:25:10-18:00"),
            Some(BASE + 18 * 3_600_000)
        );
    }

    #[test]
    fn rounds_to_milliseconds() {
        assert_eq!(
            parse_timestamp("2024-01-04T15:25:10.1234Z"),
            Some(BASE + 123)
        );
        assert_eq!(
            parse_timestamp("2024-01-04T15:25:10.1235Z"),
            Some(BASE + 124)
        );
        assert_eq!(parse_timestamp("2024-01-04T15:25:10.5Z"), Some(BASE + 500));
        assert_eq!(
            normalize_timestamp("2024-12-31T23:59:59.9999999Z").as_deref(),
            Some("2025-01-01T00:00:00.000Z")
        );
    }

    #[test]
    fn rejects_everything_outside_the_subset() {
        for bad in [
            "",
            "2024-01-04",
            "2024-01-04T15:25:10",             // no offset
            "2024-01-04T15:25:10.Z",           // empty fraction
            "2024-01-04T15:25:10.1234567890Z", // ten fractional digits
            "2024-01-04T15:25:10+18:01",       // beyond ±18:00
            "2024-01-04T15:25:10+19",
            "2024-01-04T15:25:10+05:60",
            "2024-01-04T15:25:10+5",
            "2024-01-04T15:25:10+05:0",
            "2024-01-04T15:25:10+0500Z",
            "2024-01-04T15:25:10 Z",
            "2024-13-04T15:25:10Z",
            "2024-02-30T15:25:10Z",
            "2023-02-29T15:25:10Z",
            "2024-01-04T24:00:00Z",
            "2024-01-04T23:59:60Z",
            "2024-01-04X15:25:10Z",
            "24-01-04T15:25:10Z",
            "+2024-01-04T15:25:10Z",
            "2024-01-04T15:25:10ZZ",
            "0000-01-01T00:00:00+01:00", // before year 0 in UTC
            "２０２４-01-04T15:25:10Z",
        ] {
            assert_eq!(parse_timestamp(bad), None, "{bad}");
        }
    }

    #[test]
    fn accepts_lenient_separators_and_extremes() {
        assert_eq!(parse_timestamp("2024-01-04t15:25:10z"), Some(BASE));
        assert_eq!(parse_timestamp("2024-01-04 15:25:10Z"), Some(BASE));
        assert_eq!(
            parse_timestamp("2024-02-29T00:00:00Z"),
            Some(1_709_164_800_000)
        );
        assert_eq!(
            normalize_timestamp("9999-12-31T23:59:59.999Z").as_deref(),
            Some("9999-12-31T23:59:59.999Z")
        );
        assert_eq!(
            normalize_timestamp("0000-01-01T00:00:00Z").as_deref(),
            Some("0000-01-01T00:00:00.000Z")
        );
        assert_eq!(parse_timestamp("1969-12-31T23:59:59.999Z"), Some(-1));
    }

    #[test]
    fn formatting_matches_the_model_and_round_trips() {
        let min = days_from_civil(0, 1, 1) * MS_PER_DAY;
        let max = days_from_civil(10_000, 1, 1) * MS_PER_DAY - 1;
        let mut samples = vec![0, -1, 1, min, max, 951_782_400_000, 1_709_164_800_000];
        let mut x: i64 = 0x2545_f491_4f6c_dd1d;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            samples.push(min + x.rem_euclid(max - min + 1));
        }
        for ms in samples {
            let text = format_timestamp(ms);
            assert_eq!(text, format_ms(ms), "{ms}");
            assert!(has_stored_shape(&text), "{text}");
            assert_eq!(parse_timestamp(&text), Some(ms), "{text}");
        }
        assert_eq!(format_timestamp(max + 1), format_ms(max + 1));
    }

    #[test]
    fn stored_shape_is_recognised() {
        assert!(has_stored_shape("2024-01-04T15:25:10.123Z"));
        assert!(!has_stored_shape("2024-01-04T15:25:10Z"));
        assert!(!has_stored_shape("2024-01-04T15:25:10.123+00"));
        assert_eq!(
            normalize_timestamp("2024-01-04T15:25:10.123Z").as_deref(),
            Some("2024-01-04T15:25:10.123Z")
        );
    }

    #[test]
    fn extreme_instants_do_not_panic() {
        for ms in [i64::MIN, i64::MIN + 1, i64::MAX, -62_167_219_200_001] {
            let _ = format_timestamp(ms);
        }
    }

    mod properties {
        use super::*;
        use fleetward_model::timestamp::parse_rfc3339_ms;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn arbitrary_text_never_panics(s in ".{0,40}") {
                let _ = parse_timestamp(&s);
            }

            /// Agrees with the `time` crate (via the model) wherever both accept the text.
            #[test]
            fn agrees_with_the_time_crate(
                y in 0_i64..=9999, mo in 1_i64..=12, d in 1_i64..=31, h in 0_i64..=23,
                mi in 0_i64..=59, sec in 0_i64..=59, frac in prop::option::of("[0-9]{1,9}"),
                offset in prop::option::of((any::<bool>(), 0_i64..=18, 0_i64..=59)),
            ) {
                prop_assume!(d <= days_in_month(y, mo));
                let frac = frac.map(|f| format!(".{f}")).unwrap_or_default();
                let zone = match offset {
                    None => "Z".to_string(),
                    Some((west, oh, om)) => {
                        prop_assume!(oh * 60 + om <= MAX_OFFSET_MINUTES);
                        format!("{}{oh:02}:{om:02}", if west { '-' } else { '+' })
                    }
                };
                let text = format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{sec:02}{frac}{zone}");
                let ours = parse_timestamp(&text);
                let theirs = parse_rfc3339_ms(&text);
                if let Some(ms) = ours {
                    prop_assert_eq!(Some(ms), theirs, "{}", text);
                    prop_assert_eq!(parse_timestamp(&format_timestamp(ms)), Some(ms));
                } else {
                    // Only instants outside years 0000-9999 in UTC are refused.
                    let utc = theirs.map(format_ms).unwrap_or_default();
                    prop_assert!(!(utc.len() == 24 && has_stored_shape(&utc)), "{} -> {}", text, utc);
                }
            }
        }
    }
}
