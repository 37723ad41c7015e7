//! Calendar dates and instants as the store writes them, without a date library.
//!
//! The store keeps dates as `YYYY-MM-DD` text, which sorts as it reads, and instants as RFC 3339
//! in UTC. Cards need only day arithmetic (intervals, "the last 90 days"), so a date is a count
//! of days since 1970-01-01 and the conversion is the usual civil-calendar arithmetic.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// A calendar date as a count of days since 1970-01-01.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Day(pub(crate) i64);

impl Day {
    /// Reads a strict `YYYY-MM-DD` date between the years 1900 and 2200.
    pub(crate) fn parse(text: &str) -> Option<Day> {
        let bytes = text.as_bytes();
        if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
            return None;
        }
        let year = digits(text.get(0..4)?)?;
        let month = digits(text.get(5..7)?)?;
        let day = digits(text.get(8..10)?)?;
        if !(1900..=2200).contains(&year) || !(1..=12).contains(&month) {
            return None;
        }
        if day < 1 || day > days_in_month(year, month) {
            return None;
        }
        Some(Day(days_from_civil(year, month, day)))
    }

    /// Today in UTC.
    pub(crate) fn today() -> Day {
        Day(unix_seconds().div_euclid(86_400))
    }

    /// The date `days` later (earlier when negative).
    pub(crate) fn plus(self, days: i64) -> Day {
        Day(self.0 + days)
    }
}

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(self.0);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

/// Seconds since the Unix epoch; 0 if the clock is before it.
pub(crate) fn unix_seconds() -> i64 {
    unix_millis() / 1000
}

/// Milliseconds since the Unix epoch; 0 if the clock is before it.
pub(crate) fn unix_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// The current instant as RFC 3339 in UTC, to the second.
pub(crate) fn now_rfc3339() -> String {
    let secs = unix_seconds();
    let day = Day(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!("{day}T{:02}:{:02}:{:02}Z", s / 3600, s / 60 % 60, s % 60)
}

fn digits(text: &str) -> Option<i64> {
    if text.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    }
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

/// Days since 1970-01-01 of a proleptic Gregorian date (eras of 400 years).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let year_of_era = y - era * 400;
    let shifted_month = (month + 9) % 12;
    let day_of_year = (153 * shifted_month + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_across_leap_years() {
        for text in [
            "1970-01-01",
            "2000-02-29",
            "2024-12-31",
            "2026-03-01",
            "1900-01-01",
        ] {
            assert_eq!(
                Day::parse(text).map(|d| d.to_string()).as_deref(),
                Some(text)
            );
        }
        assert_eq!(Day::parse("1970-01-02"), Some(Day(1)));
    }

    #[test]
    fn impossible_dates_are_refused() {
        for text in [
            "2025-02-29",
            "2025-13-01",
            "2025-00-10",
            "2025-1-1",
            "20250101",
            "２０２５-01-01",
            "",
        ] {
            assert_eq!(Day::parse(text), None, "{text}");
        }
    }

    #[test]
    fn intervals_are_day_counts() {
        let a = Day::parse("2024-02-28").unwrap();
        let b = Day::parse("2024-03-01").unwrap();
        assert_eq!(b.0 - a.0, 2);
        assert_eq!(a.plus(2), b);
    }
}
