//! The ASFF timestamp forms (spec 1.2): RFC 3339 ending in `Z` or a numeric offset written
//! `±HH:MM`, `±HHMM` or `±HH`, offset at most 18:00, up to nine fractional digits (rounded to
//! milliseconds). Used for finding values and for DateFilter `Start`/`End`.

use fleetward_model::timestamp::parse_rfc3339_ms;

/// Parses an ASFF timestamp into epoch milliseconds.
pub fn parse_timestamp_ms(s: &str) -> Option<i64> {
    let t = s.find(['T', 't'])?;
    let time = &s[t..];
    if time.ends_with(['Z', 'z']) {
        return parse_rfc3339_ms(s);
    }
    let sign = time.rfind(['+', '-'])?;
    let (head, offset) = s.split_at(t + sign);
    let digits = &offset[1..];
    if !digits.is_ascii() {
        return None;
    }
    let (hh, mm) = match digits.len() {
        2 => (digits, "00"),
        4 => digits.split_at(2),
        5 if digits.as_bytes()[2] == b':' => (&digits[..2], &digits[3..]),
        _ => return None,
    };
    if !(hh.bytes().chain(mm.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let minutes = hh.parse::<u32>().ok()? * 60 + mm.parse::<u32>().ok()?;
    // Spec 1.2: the offset is bounded by ±18:00.
    if minutes > 18 * 60 || mm.parse::<u32>().ok()? > 59 {
        return None;
    }
    parse_rfc3339_ms(&format!("{head}{}{hh}:{mm}", &offset[..1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: i64 = 1_548_975_600_000; // 2019-01-31T23:00:00Z

    #[test]
    fn accepts_the_documented_forms() {
        assert_eq!(parse_timestamp_ms("2019-01-31T23:00:00Z"), Some(BASE));
        assert_eq!(
            parse_timestamp_ms("2019-01-31T23:00:00.123456789Z"),
            Some(BASE + 123)
        );
        let minus = parse_timestamp_ms("2024-01-04T15:25:10-1759").unwrap();
        let plus = parse_timestamp_ms("2024-01-04T15:25:10+17:59").unwrap();
        assert_eq!(minus - plus, 2 * (17 * 60 + 59) * 60_000);
        assert_eq!(
            parse_timestamp_ms("2024-01-04T15:25:10.123456789+17:59"),
            Some(plus + 123)
        );
        assert_eq!(
            parse_timestamp_ms("2019-01-31T23:00:00+01"),
            Some(BASE - 3_600_000)
        );
    }

    #[test]
    fn rejects_bad_forms() {
        for s in [
            "",
            "2019-01-31",
            "2019-01-31T23:00:00",
            "2019-01-31T23:00:00+19:00",
            "2019-01-31T23:00:00+01:60",
            "2019-01-31T23:00:00+1",
            "2019-01-31T23:00:00+ab:cd",
            "not a date",
            "2019-13-31T23:00:00Z",
        ] {
            assert_eq!(parse_timestamp_ms(s), None, "{s}");
        }
    }
}
