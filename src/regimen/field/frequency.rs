//! Frequencies: `2/day`, `BID`, `once weekly`, `every 8 hours` to
//! (administrations, period in days), exact, so that a weekly schedule
//! stays a whole number per week.

use rust_decimal::Decimal;

use super::validate::{Ctx, describe};
use crate::codes::InputCode;
use crate::diagnostic::excerpt;
use crate::regimen::{Given, GivenAt};
use crate::text::Trim;
use crate::units;

/// Reads a frequency as administrations per day.
/// Reads a frequency as (administrations, period in days).
pub(super) fn frequency(
    ctx: &mut Ctx,
    field: &dyn std::fmt::Display,
    raw: &GivenAt,
) -> Option<(Decimal, Decimal)> {
    let parsed = match &raw.value {
        Given::Number(n) => units::parse_decimal(n).map(|n| (n, Decimal::ONE)),
        Given::Text(text) => parse_frequency(text),
        Given::Quantity { value, unit } if unit == "/d" || unit == "1/d" || unit == "/day" => {
            units::parse_decimal(value).map(|n| (n, Decimal::ONE))
        }
        Given::Quantity { value, unit } if unit == "/wk" || unit == "1/wk" || unit == "/week" => {
            units::parse_decimal(value).map(|n| (n, Decimal::from(7)))
        }
        Given::Null => return None,
        _ => None,
    };
    let Some((times, period)) = parsed else {
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
            Some("write `1/day`, `2/day`, `once daily`, `twice daily`, `QD`, `BID`, `TID`, `QID`, `1/week` or `once weekly`".into()),
        );
        return None;
    };
    let per_day_max = Decimal::from(24) * period;
    if times <= Decimal::ZERO || times > per_day_max {
        ctx.problem(
            InputCode::OutOfRange,
            field,
            raw,
            format!(
                "a frequency of {times} per {} is not possible",
                if period == Decimal::ONE {
                    "day"
                } else {
                    "week"
                }
            ),
            "must be 1-24 per day",
            None,
        );
        return None;
    }
    Some((times.normalize(), period))
}

/// A frequency as (administrations, period in days): `2/day` is (2, 1),
/// `once weekly` (1, 7).
fn parse_frequency(text: &str) -> Option<(Decimal, Decimal)> {
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
    let day = Decimal::ONE;
    let week = Decimal::from(7);
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
            | "x daily" | "x/day" => Some((times, day)),
            "/week" | "/wk" | "/w" | "per week" | "times weekly" | "times a week"
            | "times per week" | "x weekly" | "x/week" => Some((times, week)),
            _ => None,
        };
    }
    let t = lower.replace(['.', '-'], " ");
    let t = t.split_whitespace().collect::<Vec<_>>().join(" ");
    let (n, period) = match t.as_str() {
        "once daily" | "once a day" | "daily" | "qd" | "od" | "once per day" | "q24h" => (1, day),
        "twice daily" | "twice a day" | "bid" | "b i d" | "twice per day" | "q12h" => (2, day),
        "three times daily" | "three times a day" | "tid" | "t i d" | "q8h" => (3, day),
        "four times daily" | "four times a day" | "qid" | "q i d" | "q6h" => (4, day),
        "once weekly" | "once a week" | "weekly" | "qw" | "q1w" | "once per week" => (1, week),
        "twice weekly" | "twice a week" | "biw" => (2, week),
        _ => {
            let hours: u32 = t
                .strip_prefix("every ")?
                .strip_suffix(" hours")?
                .trimmed()
                .parse()
                .ok()?;
            return (hours > 0 && 24 % hours == 0).then(|| (Decimal::from(24 / hours), day));
        }
    };
    Some((Decimal::from(n), period))
}

#[cfg(test)]
mod tests {
    use super::parse_frequency;
    use rust_decimal::Decimal;

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
            ("every 12 hours", 2),
            ("1/d", 1),
        ] {
            assert_eq!(
                parse_frequency(text),
                Some((Decimal::from(n), Decimal::ONE)),
                "{text}"
            );
        }
        for (text, n) in [
            ("once weekly", 1),
            ("1/week", 1),
            ("QW", 1),
            ("2/wk", 2),
            ("twice weekly", 2),
        ] {
            assert_eq!(
                parse_frequency(text),
                Some((Decimal::from(n), Decimal::from(7))),
                "{text}"
            );
        }
        for text in ["sometimes", "every 5 hours", "", "-1/week", "2/month"] {
            assert_eq!(parse_frequency(text), None, "{text}");
        }
    }
}
