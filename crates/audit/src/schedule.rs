//! When a scheduled audit is due (spec 1.6). AWS picks the time of day itself; Fleetward runs
//! scheduled audits at 00:00 UTC of their day: every day (DAILY), on `dayOfWeek` every week
//! (WEEKLY) or every other week (BIWEEKLY, counted from the first such day after the audit's
//! creation or last change), on `dayOfMonth` every month (MONTHLY; 29–31 in a shorter month
//! and `LAST` mean the month's last day).

use time::{Date, Month, OffsetDateTime, Weekday};

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frequency {
    Daily,
    Weekly,
    Biweekly,
    Monthly,
}

impl Frequency {
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "DAILY" => Self::Daily,
            "WEEKLY" => Self::Weekly,
            "BIWEEKLY" => Self::Biweekly,
            "MONTHLY" => Self::Monthly,
            _ => return None,
        })
    }
}

pub fn parse_weekday(text: &str) -> Option<Weekday> {
    Some(match text {
        "SUN" => Weekday::Sunday,
        "MON" => Weekday::Monday,
        "TUE" => Weekday::Tuesday,
        "WED" => Weekday::Wednesday,
        "THU" => Weekday::Thursday,
        "FRI" => Weekday::Friday,
        "SAT" => Weekday::Saturday,
        _ => return None,
    })
}

/// `^([1-9]|[12][0-9]|3[01])$|^LAST$`: a day number, or 0 for LAST.
pub fn parse_day_of_month(text: &str) -> Option<u8> {
    if text == "LAST" {
        return Some(0);
    }
    if text.starts_with('0') || text.len() > 2 {
        return None;
    }
    text.parse::<u8>().ok().filter(|d| (1..=31).contains(d))
}

fn midnight_ms(date: Date) -> i64 {
    date.midnight().assume_utc().unix_timestamp() * 1000
}

fn date_of(ms: i64) -> Date {
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .map(|t| t.date())
        .unwrap_or(Date::MIN)
}

/// The first due time strictly after `after_ms`. `phase_ms`, for BIWEEKLY, is a due time of
/// the series (its weeks alternate from there).
pub fn next_run(
    frequency: Frequency,
    day_of_week: Option<Weekday>,
    day_of_month: Option<u8>,
    phase_ms: Option<i64>,
    after_ms: i64,
) -> i64 {
    let first_day = date_of(after_ms);
    let next_midnight = |d: Date| {
        let m = midnight_ms(d);
        if m > after_ms { m } else { m + DAY_MS }
    };
    match frequency {
        Frequency::Daily => next_midnight(first_day),
        Frequency::Weekly | Frequency::Biweekly => {
            let weekday = day_of_week.unwrap_or(Weekday::Monday);
            let mut candidate = next_midnight(first_day);
            while date_of(candidate).weekday() != weekday {
                candidate += DAY_MS;
            }
            if frequency == Frequency::Biweekly
                && let Some(phase) = phase_ms
            {
                let weeks = (candidate - phase).div_euclid(7 * DAY_MS);
                if weeks.rem_euclid(2) == 1 {
                    candidate += 7 * DAY_MS;
                }
            }
            candidate
        }
        Frequency::Monthly => {
            let wanted = day_of_month.unwrap_or(1);
            let (mut year, mut month) = (first_day.year(), first_day.month());
            for _ in 0..3 {
                let last = month.length(year);
                let day = if wanted == 0 { last } else { wanted.min(last) };
                if let Ok(date) = Date::from_calendar_date(year, month, day) {
                    let m = midnight_ms(date);
                    if m > after_ms {
                        return m;
                    }
                }
                if month == Month::December {
                    year += 1;
                }
                month = month.next();
            }
            next_midnight(first_day)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2024-01-10T12:00:00Z, a Wednesday.
    const WED_NOON: i64 = 1_704_888_000_000;
    const JAN_11: i64 = 1_704_931_200_000;

    #[test]
    fn daily_is_the_next_midnight() {
        assert_eq!(
            next_run(Frequency::Daily, None, None, None, WED_NOON),
            JAN_11
        );
        assert_eq!(
            next_run(Frequency::Daily, None, None, None, JAN_11),
            JAN_11 + DAY_MS
        );
    }

    #[test]
    fn weekly_and_biweekly() {
        // Next Monday: 2024-01-15.
        let monday = next_run(
            Frequency::Weekly,
            Some(Weekday::Monday),
            None,
            None,
            WED_NOON,
        );
        assert_eq!(monday, JAN_11 + 4 * DAY_MS);
        // Thursday is tomorrow.
        assert_eq!(
            next_run(
                Frequency::Weekly,
                Some(Weekday::Thursday),
                None,
                None,
                WED_NOON
            ),
            JAN_11
        );
        // Biweekly keeps its phase: after a run on the 15th the next is the 29th.
        assert_eq!(
            next_run(
                Frequency::Biweekly,
                Some(Weekday::Monday),
                None,
                Some(monday),
                monday
            ),
            monday + 14 * DAY_MS
        );
    }

    #[test]
    fn monthly_clamps_to_short_months_and_last() {
        // From 2024-01-31 after its midnight: the 31st becomes 2024-02-29 (leap year).
        let jan31 = midnight_ms(Date::from_calendar_date(2024, Month::January, 31).unwrap());
        let feb29 = midnight_ms(Date::from_calendar_date(2024, Month::February, 29).unwrap());
        assert_eq!(
            next_run(Frequency::Monthly, None, Some(31), None, jan31),
            feb29
        );
        assert_eq!(
            next_run(Frequency::Monthly, None, Some(0), None, jan31),
            feb29
        );
        assert_eq!(
            next_run(Frequency::Monthly, None, Some(10), None, WED_NOON),
            midnight_ms(Date::from_calendar_date(2024, Month::February, 10).unwrap())
        );
    }

    #[test]
    fn day_of_month_pattern() {
        assert_eq!(parse_day_of_month("LAST"), Some(0));
        assert_eq!(parse_day_of_month("31"), Some(31));
        for bad in ["0", "32", "01", "last", "", "100"] {
            assert_eq!(parse_day_of_month(bad), None, "{bad}");
        }
    }
}
