//! Frequencies: `2/day`, `BID`, `once weekly`, `every 8 hours`, `q21d`,
//! `once` to a [`Schedule`] (administrations every so many hours), exact,
//! so that a weekly schedule stays a whole number per week.

use rust_decimal::Decimal;

use super::derive::Schedule;
use super::validate::{Ctx, describe};
use crate::codes::InputCode;
use crate::diagnostic::excerpt;
use crate::regimen::{Given, GivenAt};
use crate::text::Trim;
use crate::units;

/// The forms a frequency may take, for the help of an unreadable one.
pub(super) const FORMS: &str = "write `N/day` or `N/week` (`2/day`), `once daily`, `twice daily`, `QD`, `BID`, `TID`, `QID`, `once weekly`, `every N hours` or `qNh` (`every 6 hours`, `q6h`), `every N days` or `qNd` (`every 21 days`), or `once` for a single administration";

/// Reads a frequency as a [`Schedule`].
pub(super) fn frequency(
    ctx: &mut Ctx,
    field: &dyn std::fmt::Display,
    raw: &GivenAt,
) -> Option<Schedule> {
    let day = Decimal::from(24);
    let week = Decimal::from(168);
    let parsed = match &raw.value {
        Given::Number(n) => units::parse_decimal(n).map(|n| every(n, day)),
        Given::Text(text) => parse_frequency(text),
        Given::Quantity { value, unit } if unit == "/d" || unit == "1/d" || unit == "/day" => {
            units::parse_decimal(value).map(|n| every(n, day))
        }
        Given::Quantity { value, unit } if unit == "/wk" || unit == "1/wk" || unit == "/week" => {
            units::parse_decimal(value).map(|n| every(n, week))
        }
        Given::Null => return None,
        _ => None,
    };
    let Some(schedule) = parsed else {
        let shown = match &raw.value {
            Given::Text(t) => format!("`{}`", excerpt(t.trimmed())),
            other => describe(other),
        };
        ctx.problem(
            InputCode::InvalidFrequency,
            field,
            raw,
            format!("{shown} is not a frequency rxlint understands"),
            "unknown frequency",
            Some(FORMS.into()),
        );
        return None;
    };
    if let Schedule::Every { count, hours } = schedule {
        // At most one administration an hour; at least one a year.
        let too_often = count > hours;
        if count <= Decimal::ZERO || too_often || hours > Decimal::from(24 * 366) {
            let message = if hours == day || hours == week {
                format!(
                    "a frequency of {count} per {} is not possible",
                    if hours == day { "day" } else { "week" }
                )
            } else {
                format!(
                    "a dose every {} hours is not a schedule rxlint can check",
                    units::display_number(hours / count.max(Decimal::ONE))
                )
            };
            ctx.problem(
                InputCode::OutOfRange,
                field,
                raw,
                message,
                "must be at most 24 per day",
                None,
            );
            return None;
        }
    }
    Some(schedule)
}

fn every(count: Decimal, hours: Decimal) -> Schedule {
    Schedule::Every {
        count: count.normalize(),
        hours,
    }
}

/// A frequency as a schedule: `2/day` is 2 every 24 hours, `once weekly`
/// 1 every 168, `q6h` 1 every 6, `every 21 days` 1 every 504.
fn parse_frequency(text: &str) -> Option<Schedule> {
    let text = text.trimmed();
    // Lower-cased, copied only when that changes it.
    let lower = if text
        .bytes()
        .all(|b| b.is_ascii() && !b.is_ascii_uppercase())
    {
        std::borrow::Cow::Borrowed(text)
    } else {
        std::borrow::Cow::Owned(text.to_lowercase())
    };
    let day = Decimal::from(24);
    let week = Decimal::from(168);
    // Dots and hyphens belong to named forms (`b.i.d.`, `twice-daily`), never
    // to numbers: `-2/day` and `2./day` are refused, not read as 2/day.
    if lower.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+' || c == '.') {
        let number_end = lower
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(lower.len());
        let (number, rest) = lower.split_at(number_end);
        let times = units::parse_decimal(number)?;
        return match rest.trimmed() {
            "/day" | "/d" | "per day" | "times daily" | "times a day" | "times per day"
            | "x daily" | "x/day" => Some(every(times, day)),
            "/week" | "/wk" | "/w" | "per week" | "times weekly" | "times a week"
            | "times per week" | "x weekly" | "x/week" => Some(every(times, week)),
            _ => None,
        };
    }
    let t = lower.replace(['.', '-'], " ");
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    let (n, hours) = match t.as_str() {
        "once" | "once only" | "single dose" | "one time" | "one dose" => {
            return Some(Schedule::Once);
        }
        "once daily" | "once a day" | "daily" | "qd" | "od" | "once per day" | "every day" => {
            (1, day)
        }
        "twice daily" | "twice a day" | "bid" | "b i d" | "twice per day" => (2, day),
        "three times daily" | "three times a day" | "tid" | "t i d" => (3, day),
        "four times daily" | "four times a day" | "qid" | "q i d" => (4, day),
        "once weekly" | "once a week" | "weekly" | "qw" | "q1w" | "once per week"
        | "every week" => (1, week),
        "twice weekly" | "twice a week" | "biw" => (2, week),
        "every other day" | "qod" => (1, Decimal::from(48)),
        // Numbers keep their dots and signs: `every 1.5 hours`, and
        // `every -6 hours` refused.
        _ => return every_n(&lower.split_whitespace().collect::<Vec<_>>().join(" ")),
    };
    Some(every(Decimal::from(n), hours))
}

/// `every 6 hours`, `every 21 days`, `q6h`, `q 6 h`, `q21d`: one
/// administration every N hours or days.
fn every_n(t: &str) -> Option<Schedule> {
    let (number, unit) = if let Some(rest) = t.strip_prefix("every ") {
        rest.split_once(' ')?
    } else {
        let rest = t.strip_prefix('q')?.trim_start();
        let split = rest.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
        rest.split_at(split)
    };
    let n = units::parse_decimal(number.trimmed())?;
    if n <= Decimal::ZERO {
        return None;
    }
    let per = match unit.trimmed() {
        "h" | "hr" | "hrs" | "hour" | "hours" => Decimal::ONE,
        "d" | "day" | "days" => Decimal::from(24),
        "wk" | "w" | "week" | "weeks" => Decimal::from(168),
        _ => return None,
    };
    Some(every(Decimal::ONE, n.checked_mul(per)?))
}

#[cfg(test)]
mod tests {
    use super::{Schedule, parse_frequency};
    use rust_decimal::Decimal;

    fn every(count: i64, hours: i64) -> Option<Schedule> {
        Some(Schedule::Every {
            count: Decimal::from(count),
            hours: Decimal::from(hours),
        })
    }

    #[test]
    fn frequencies() {
        for (text, n) in [
            ("2/day", 2),
            ("twice daily", 2),
            ("BID", 2),
            ("b.i.d.", 2),
            ("QD", 1),
            ("once daily", 1),
            ("TID", 3),
            ("QID", 4),
            ("3 times daily", 3),
            ("1/d", 1),
        ] {
            assert_eq!(parse_frequency(text), every(n, 24), "{text}");
        }
        for (text, n) in [
            ("once weekly", 1),
            ("1/week", 1),
            ("QW", 1),
            ("2/wk", 2),
            ("twice weekly", 2),
        ] {
            assert_eq!(parse_frequency(text), every(n, 168), "{text}");
        }
        for (text, hours) in [
            ("every 12 hours", 12),
            ("every 6 hours", 6),
            ("q6h", 6),
            ("Q 6 H", 6),
            ("q4h", 4),
            ("every 5 hours", 5),
            ("every 21 days", 504),
            ("q21d", 504),
            ("every 2 weeks", 336),
            ("every other day", 48),
        ] {
            assert_eq!(parse_frequency(text), every(1, hours), "{text}");
        }
        assert_eq!(parse_frequency("once"), Some(Schedule::Once));
        assert_eq!(parse_frequency("single dose"), Some(Schedule::Once));
        for text in [
            "sometimes",
            "",
            "-1/week",
            "2/month",
            "every 0 hours",
            "every -6 hours",
            "q",
            "qh",
            "every hours",
            "every 6 fortnights",
        ] {
            assert_eq!(parse_frequency(text), None, "{text}");
        }
    }
}
