//! A rule's numeric limit, read from its `violation` text: the quantities
//! its primary fact is compared with (`phase.daily_dose_per_kg > 2
//! mg/kg/day`, `course.total_duration in 15 weeks ..= 20 weeks`).
//!
//! Only literal quantities count: a bound that is another fact or an
//! expression draws no line, and the page says the rule has no drawn limit.

/// The limits of one rule, all in one unit.
#[derive(Clone, Debug, PartialEq)]
pub struct Limit {
    /// The compared fact's name as findings key their values (`daily_dose_per_kg`).
    pub key: String,
    /// The limit values, ascending, without repeats.
    pub values: Vec<f64>,
    /// Their unit as written (`mg/kg/day`); empty for a plain number.
    pub unit: String,
}

impl Limit {
    /// The literal bounds that `text` compares the fact at `path` with.
    pub fn find(text: &str, path: &str) -> Option<Limit> {
        let mut values: Vec<f64> = Vec::new();
        let mut unit: Option<String> = None;
        let mut rest = text;
        while let Some(at) = rest.find(path) {
            let before_ok = rest[..at]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'));
            let after = &rest[at + path.len()..];
            rest = after;
            if !before_ok || after.starts_with(|c: char| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let after = after.trim_start();
            let bounds: Vec<&str> = if let Some(range) = after.strip_prefix("in ") {
                let range = range.trim_start().trim_start_matches('[');
                let end = range.find([')', ']']).unwrap_or(range.len());
                range[..end]
                    .splitn(2, "..")
                    .map(|b| b.trim_start_matches('=').trim_start_matches('<'))
                    .collect()
            } else {
                let op = [">=", "<=", "==", "!=", ">", "<"]
                    .into_iter()
                    .find(|op| after.starts_with(op));
                match op {
                    Some(op) => vec![&after[op.len()..]],
                    None => continue,
                }
            };
            for bound in bounds {
                if let Some((value, u)) = quantity(bound) {
                    if unit.as_ref().is_some_and(|known| *known != u) {
                        // Two units for one fact: the page cannot draw both
                        // on one axis, so it draws none.
                        return None;
                    }
                    unit = Some(u);
                    values.push(value);
                }
            }
        }
        values.sort_by(f64::total_cmp);
        values.dedup();
        let key = path.rsplit('.').next().unwrap_or(path).to_owned();
        Some(Limit {
            key,
            values,
            unit: unit?,
        })
        .filter(|l| !l.values.is_empty())
    }

    /// The limits of two variants of a rule, when they compare the same
    /// fact in the same unit; none when they cannot share an axis.
    pub fn merge(a: Option<Limit>, b: Option<Limit>) -> Option<Limit> {
        match (a, b) {
            (Some(mut a), Some(b)) if a.key == b.key && a.unit == b.unit => {
                a.values.extend(b.values);
                a.values.sort_by(f64::total_cmp);
                a.values.dedup();
                Some(a)
            }
            (Some(a), None) => Some(a),
            (None, Some(b)) => Some(b),
            _ => None,
        }
    }

    /// The greatest limit.
    pub fn max(&self) -> f64 {
        self.values.last().copied().unwrap_or(0.0)
    }
}

/// The number and unit at the start of `text` (`2 mg/kg/day and ...`):
/// the unit runs to the next space, closing bracket or end.
pub fn quantity(text: &str) -> Option<(f64, String)> {
    let text = text.trim_start();
    let end = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
        .unwrap_or(text.len());
    let value: f64 = text[..end].parse().ok()?;
    let rest = text[end..].trim_start();
    let unit_end = rest
        .find(|c: char| c.is_whitespace() || c == ')' || c == ']' || c == ',')
        .unwrap_or(rest.len());
    let unit = &rest[..unit_end];
    // A bound followed by `and`/`or` has no unit of its own.
    let unit = if matches!(unit, "and" | "or" | "") || unit.starts_with("..") {
        ""
    } else {
        unit
    };
    Some((value, unit.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A violation text, the fact, and the bounds and unit expected.
    type Case<'a> = (&'a str, &'a str, Option<(&'a [f64], &'a str)>);

    #[test]
    fn reads_the_bounds_of_the_primary_fact() {
        let cases: &[Case] = &[
            (
                "phase.daily_dose_per_kg > 2 mg/kg/day",
                "phase.daily_dose_per_kg",
                Some((&[2.0], "mg/kg/day")),
            ),
            (
                "phase.daily_dose_per_kg > 1 mg/kg/day and phase.daily_dose_per_kg <= 2 mg/kg/day",
                "phase.daily_dose_per_kg",
                Some((&[1.0, 2.0], "mg/kg/day")),
            ),
            (
                "not (course.total_duration in 15 weeks ..= 20 weeks)",
                "course.total_duration",
                Some((&[15.0, 20.0], "weeks")),
            ),
            (
                "phase.times_per_day != 2",
                "phase.times_per_day",
                Some((&[2.0], "")),
            ),
            ("phase.dose > patient.max_dose", "phase.dose", None),
            // `phase.dose_per_kg` is another fact than `phase.dose`.
            ("phase.dose_per_kg > 15 mg/kg", "phase.dose", None),
        ];
        for (text, path, expected) in cases {
            let got = Limit::find(text, path);
            let got = got.as_ref().map(|l| (l.values.as_slice(), l.unit.as_str()));
            assert_eq!(got, *expected, "{text}");
        }
    }
}
