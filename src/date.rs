//! Calendar dates: ISO parsing with validation, and day arithmetic.
//!
//! Dates are days since 1970-01-01 in the proleptic Gregorian calendar. The
//! conversion is Howard Hinnant's `days_from_civil`, which is exact for every
//! date rxlint accepts (years 1900 to 2200).

use crate::text::Trim;
use std::fmt;

/// A calendar date.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(i32);

impl Date {
    /// Parses `YYYY-MM-DD`, refusing impossible dates.
    ///
    /// Errors: `2026-02-30`, `2026-13-01`, `02/03/2026`, `2026-3-2`.
    pub fn parse(text: &str) -> Result<Date, String> {
        let text = text.trimmed();
        let shown = || crate::diagnostic::excerpt(text);
        let not_a_date = || format!("`{}` is not a date; write it as YYYY-MM-DD", shown());
        let mut parts = text.split('-');
        let (Some(y), Some(m), Some(d), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(not_a_date());
        };
        if y.len() != 4 || m.len() != 2 || d.len() != 2 {
            return Err(not_a_date());
        }
        let num = |s: &str| {
            s.parse::<u32>()
                .ok()
                .filter(|_| s.bytes().all(|b| b.is_ascii_digit()))
        };
        let (Some(y), Some(m), Some(d)) = (num(y), num(m), num(d)) else {
            return Err(not_a_date());
        };
        if !(1900..=2200).contains(&y) {
            return Err(format!("year {y} is outside 1900-2200"));
        }
        if !(1..=12).contains(&m) {
            return Err(format!("`{}` has no month {m}", shown()));
        }
        let last = days_in_month(y, m);
        if d == 0 || d > last {
            return Err(format!(
                "`{text}` does not exist: that month has {last} days"
            ));
        }
        Ok(Date(days_from_civil(y as i32, m, d)))
    }

    /// Days since 1970-01-01.
    pub fn days(self) -> i32 {
        self.0
    }

    /// The date `days` days later, if it falls in years 1 to 9999.
    pub fn add_days(self, days: i64) -> Option<Date> {
        // 0001-01-01 and 9999-12-31, as days since 1970-01-01.
        const FIRST: i64 = -719_162;
        const LAST: i64 = 2_932_896;
        let day = i64::from(self.0).checked_add(days)?;
        if !(FIRST..=LAST).contains(&day) {
            return None;
        }
        i32::try_from(day).ok().map(Date)
    }
}

fn days_in_month(y: u32, m: u32) -> u32 {
    match m {
        2 if (y.is_multiple_of(4) && !y.is_multiple_of(100)) || y.is_multiple_of(400) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = m as i32;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i32 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(self.0);
        write!(f, "{y:04}-{m:02}-{d:02}")
    }
}

#[cfg(test)]
mod tests {
    use super::Date;

    #[test]
    fn parses_and_round_trips() {
        for text in ["1970-01-01", "2024-02-29", "2026-03-02", "2199-12-31"] {
            assert_eq!(
                Date::parse(text).map(|d| d.to_string()),
                Ok(text.to_owned())
            );
        }
        assert_eq!(Date::parse("1970-01-01").map(Date::days), Ok(0));
    }

    #[test]
    fn refuses_impossible_dates() {
        for text in [
            "2026-02-30",
            "2025-02-29",
            "2026-13-01",
            "2026-3-2",
            "02/03/2026",
            "",
        ] {
            assert!(Date::parse(text).is_err(), "{text}");
        }
    }

    #[test]
    fn differences_count_days() {
        let a = Date::parse("2025-11-01").map(Date::days).unwrap_or(0);
        let b = Date::parse("2025-12-27").map(Date::days).unwrap_or(0);
        assert_eq!(b - a, 56);
    }
}
