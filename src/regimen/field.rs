//! Field validation and derived facts for [`Builder::finish`].

use crate::text::Trim;
use std::sync::Arc;

use rust_decimal::Decimal;

use super::{
    Builder, Field, InputProblem, MAX_ID_BYTES, PhaseField, Raw, Regimen, Row, SpanRow, div,
};
use crate::date::Date;
use crate::diagnostic::excerpt;
use crate::facts::{
    EnumDomain, FACT_COUNT, FORMULATION, Fact, INDICATION, PREGNANCY_TEST, RENAL, ROUTE, SEVERITY,
    SEX, Val,
};
use crate::source::{SourceFile, Span, Spanned};
use crate::suggest;
use crate::units::{self, Dim, Family, Unit};

/// A field value as a reader found it, before validation.
#[derive(Clone, Debug, PartialEq)]
pub enum RawValue {
    /// Written empty.
    Null,
    /// A boolean.
    Bool(bool),
    /// A bare number, as decimal text.
    Number(String),
    /// A number that is not finite (`.nan`, `1e400` read as a float).
    NonFinite(String),
    /// A string.
    Text(String),
    /// A number with its unit given separately: a FHIR-style
    /// `{value: 70, unit: kg}`, or a CSV cell under `weight_kg`.
    Quantity {
        /// The number, as decimal text.
        value: String,
        /// The unit text (UCUM codes accepted).
        unit: String,
    },
    /// A list or mapping where a single value belongs (`patient: [1, 2]`).
    Other(&'static str),
    /// A value that cannot be used, and why (a bound with a comparator, a
    /// quantity whose unit and code disagree).
    Unusable(String),
}

struct Ctx {
    problems: Vec<InputProblem>,
}

impl Ctx {
    fn problem(
        &mut self,
        code: &'static str,
        field: &dyn std::fmt::Display,
        raw: &Raw,
        message: String,
        label: &str,
        help: Option<String>,
    ) {
        self.problems.push(InputProblem {
            code,
            field: field.to_string(),
            message,
            span: raw.span,
            label: label.to_owned(),
            help,
        });
    }
}

/// What a quantity field accepts.
struct QuantitySpec {
    /// Dimension after conversion.
    dim: Dim,
    /// Unit families accepted.
    families: &'static [Family],
    /// Unit assumed for a bare number, if any (only age: years by convention).
    bare: Option<&'static str>,
    /// Smallest value accepted, and whether it is itself accepted.
    min: (Decimal, bool),
    /// Largest value accepted (in canonical units), shown as text.
    max: (Decimal, &'static str),
    /// Smallest plausible value, when above zero (a weight of 1e-28 kg is
    /// positive but not a patient), shown as text.
    floor: Option<(Decimal, &'static str)>,
    /// An example for help text.
    example: &'static str,
    /// The unit to show values in.
    show: &'static str,
}

const fn dec(n: i64) -> Decimal {
    Decimal::from_parts(n as u32, (n >> 32) as u32, 0, n < 0, 0)
}

const WEIGHT: QuantitySpec = QuantitySpec {
    dim: Dim::BODY_MASS,
    families: &[Family::Mass],
    bare: None,
    min: (dec(0), false),
    max: (dec(700), "700 kg"),
    floor: Some((Decimal::from_parts(3, 0, 0, false, 1), "0.3 kg")),
    example: "70 kg",
    show: "kg",
};
const DOSE: QuantitySpec = QuantitySpec {
    dim: Dim::MASS,
    families: &[Family::Mass],
    bare: None,
    min: (dec(0), false),
    max: (dec(100_000), "100 g"),
    floor: None,
    example: "20 mg",
    show: "mg",
};
const DAILY_DOSE: QuantitySpec = QuantitySpec {
    dim: Dim::DOSE_RATE,
    families: &[Family::Mass],
    bare: None,
    min: (dec(0), false),
    max: (dec(100_000), "100 g/day"),
    floor: None,
    example: "40 mg",
    show: "mg/day",
};
const DURATION: QuantitySpec = QuantitySpec {
    dim: Dim::TIME,
    families: &[Family::Time],
    bare: None,
    min: (dec(0), false),
    max: (dec(3650), "3650 days"),
    floor: None,
    example: "16 weeks",
    show: "weeks",
};
const AGE: QuantitySpec = QuantitySpec {
    dim: Dim::TIME,
    families: &[Family::Time, Family::CalendarTime],
    bare: Some("years"),
    min: (dec(0), true),
    max: (dec(54_787), "150 years"),
    floor: None,
    example: "24",
    show: "years",
};
const EGFR: QuantitySpec = QuantitySpec {
    dim: Dim::FLOW,
    families: &[Family::Volume],
    bare: None,
    min: (dec(0), true),
    max: (dec(720_000), "500 mL/min"),
    floor: None,
    example: "95 mL/min/1.73m2",
    show: "mL/min/1.73m2",
};

fn quantity(
    ctx: &mut Ctx,
    field: &dyn std::fmt::Display,
    raw: &Raw,
    spec: &QuantitySpec,
) -> Option<Val> {
    // The number as written, its unit, and its value when already read.
    let (number, unit_text, read): (&str, &str, Option<Decimal>) = match &raw.value {
        RawValue::Text(text) => match units::split_quantity(text) {
            Ok((value, unit)) => {
                let number = text.trimmed();
                (
                    number[..number.len() - unit.len()].trimmed(),
                    unit,
                    Some(value),
                )
            }
            Err(_) => {
                ctx.problem(
                    "input.invalid-number",
                    field,
                    raw,
                    format!("`{}` is not a number with a unit", excerpt(text.trimmed())),
                    "not a quantity",
                    Some(format!(
                        "write a number and a unit, e.g. `{}`",
                        spec.example
                    )),
                );
                return None;
            }
        },
        RawValue::Number(n) => (n.as_str(), "", None),
        RawValue::Quantity { value, unit } => (value.as_str(), unit.as_str(), None),
        RawValue::NonFinite(n) => {
            ctx.problem(
                "input.invalid-number",
                field,
                raw,
                format!("`{n}` is not a finite number"),
                "not a number",
                Some(format!("e.g. `{}`", spec.example)),
            );
            return None;
        }
        RawValue::Null => return None,
        RawValue::Unusable(why) => {
            ctx.problem(
                "input.invalid-quantity",
                field,
                raw,
                format!("`{field}` cannot be used: {why}"),
                "not a usable quantity",
                None,
            );
            return None;
        }
        RawValue::Bool(_) | RawValue::Other(_) => {
            ctx.problem(
                "input.wrong-type",
                field,
                raw,
                format!("`{field}` must be a quantity such as `{}`", spec.example),
                "not a quantity",
                None,
            );
            return None;
        }
    };
    let number = number.trimmed();
    if units::significant_digits(number) > units::MAX_SIGNIFICANT_DIGITS {
        ctx.problem(
            "input.invalid-number",
            field,
            raw,
            format!(
                "`{}` has more than {} significant digits",
                excerpt(number),
                units::MAX_SIGNIFICANT_DIGITS
            ),
            "implausibly precise",
            Some("no dose, weight or duration is known to that precision; round it".into()),
        );
        return None;
    }
    let Some(value) = read.or_else(|| units::parse_decimal(number)) else {
        ctx.problem(
            "input.invalid-number",
            field,
            raw,
            format!("`{}` is not a decimal number", excerpt(number)),
            "not a number",
            Some(format!("e.g. `{}`", spec.example)),
        );
        return None;
    };
    let unit_text = if unit_text.trimmed().is_empty() {
        match spec.bare {
            Some(unit) => unit,
            None => {
                ctx.problem(
                    "input.missing-unit",
                    field,
                    raw,
                    format!(
                        "`{field}` has no unit: `{}`; did you mean `{} {}`?",
                        units::display_number(value),
                        units::display_number(value),
                        spec.show
                    ),
                    "no unit",
                    Some("in medication safety an unstated unit is an error, not a default".into()),
                );
                return None;
            }
        }
    } else {
        unit_text
    };
    let unit = match Unit::parse(unit_text) {
        Ok(unit) => unit,
        Err(err) => {
            let help = match &err {
                units::UnitError::Unknown {
                    suggestion: Some(s),
                    ..
                } => format!("did you mean `{} {s}`?", units::display_number(value)),
                _ => format!("e.g. `{}`", spec.example),
            };
            ctx.problem(
                "input.unknown-unit",
                field,
                raw,
                err.to_string(),
                "unknown unit",
                Some(help),
            );
            return None;
        }
    };
    // A mass in a field that wants a daily dose is per day; a mass in a
    // field that wants a body weight is a body weight.
    let unit = match spec.dim {
        Dim::BODY_MASS => unit.as_body_mass().unwrap_or(unit),
        Dim::DOSE_RATE if unit.dim == Dim::MASS => Unit {
            dim: Dim::DOSE_RATE,
            ..unit
        },
        _ => unit,
    };
    // The eGFR annotation fits only an eGFR; months and years only an age.
    let stray_annotation = unit.annotated && spec.dim != Dim::FLOW;
    let stray_calendar = unit.calendar && !spec.families.contains(&Family::CalendarTime);
    if stray_annotation || stray_calendar {
        let why = if stray_calendar {
            "months and years are ambiguous here; use days or weeks".to_owned()
        } else {
            "`1.73m2` (body-surface normalisation) belongs only to an eGFR".to_owned()
        };
        ctx.problem(
            "input.wrong-unit",
            field,
            raw,
            format!("`{field}` cannot be in `{}`: {why}", unit.text),
            "wrong unit",
            Some(format!("e.g. `{}`", spec.example)),
        );
        return None;
    }
    if unit.dim != spec.dim || !spec.families.contains(&unit.family) {
        let why = match unit.family {
            Family::CalendarTime if spec.dim == Dim::TIME => {
                "months and years are ambiguous as treatment durations".to_owned()
            }
            _ => format!("`{}` is not a unit of {}", unit.text, spec.dim.describe()),
        };
        ctx.problem(
            "input.wrong-unit",
            field,
            raw,
            format!("`{field}` is {}, but {why}", spec.dim.describe()),
            "wrong unit",
            Some(format!("e.g. `{}`", spec.example)),
        );
        return None;
    }
    let Some(canonical) = unit.factor.to_canonical(value) else {
        ctx.problem(
            "input.out-of-range",
            field,
            raw,
            format!("`{field}` is too large"),
            "too large",
            None,
        );
        return None;
    };
    let (min, min_ok) = spec.min;
    if canonical < min || (canonical == min && !min_ok) {
        let bound = if min_ok {
            "negative"
        } else {
            "zero or negative"
        };
        ctx.problem(
            "input.out-of-range",
            field,
            raw,
            format!("`{field}` is {bound}"),
            "must be positive",
            Some(format!("e.g. `{}`", spec.example)),
        );
        return None;
    }
    if let Some((floor, text)) = spec.floor
        && canonical < floor
    {
        ctx.problem(
            "input.out-of-range",
            field,
            raw,
            format!(
                "`{field}` of {} {} is below the plausible minimum of {text}",
                units::display_number(value),
                unit.text
            ),
            "implausible",
            Some("check the number and the unit".into()),
        );
        return None;
    }
    if canonical > spec.max.0 {
        ctx.problem(
            "input.out-of-range",
            field,
            raw,
            format!(
                "`{field}` of {} {} is beyond the plausible maximum of {}",
                units::display_number(value),
                unit.text,
                spec.max.1
            ),
            "implausible",
            Some("check the number and the unit".into()),
        );
        return None;
    }
    Some(Val::Num(canonical))
}

/// Reads a frequency as administrations per day.
/// Reads a frequency as (administrations, period in days).
fn frequency(
    ctx: &mut Ctx,
    field: &dyn std::fmt::Display,
    raw: &Raw,
) -> Option<(Decimal, Decimal)> {
    let parsed = match &raw.value {
        RawValue::Number(n) => units::parse_decimal(n).map(|n| (n, Decimal::ONE)),
        RawValue::Text(text) => parse_frequency(text),
        RawValue::Quantity { value, unit } if unit == "/d" || unit == "1/d" || unit == "/day" => {
            units::parse_decimal(value).map(|n| (n, Decimal::ONE))
        }
        RawValue::Quantity { value, unit }
            if unit == "/wk" || unit == "1/wk" || unit == "/week" =>
        {
            units::parse_decimal(value).map(|n| (n, Decimal::from(7)))
        }
        RawValue::Null => return None,
        _ => None,
    };
    let Some((times, period)) = parsed else {
        let shown = match &raw.value {
            RawValue::Text(t) => format!("`{}`", excerpt(t.trimmed())),
            other => describe(other),
        };
        ctx.problem(
            "input.invalid-frequency",
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
            "input.out-of-range",
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

fn boolean(ctx: &mut Ctx, field: &dyn std::fmt::Display, raw: &Raw) -> Option<Val> {
    match &raw.value {
        RawValue::Bool(b) => Some(Val::Bool(*b)),
        RawValue::Null => None,
        RawValue::Text(t) => match t.trimmed() {
            v if v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("yes") => {
                Some(Val::Bool(true))
            }
            v if v.eq_ignore_ascii_case("false") || v.eq_ignore_ascii_case("no") => {
                Some(Val::Bool(false))
            }
            _ => {
                ctx.problem(
                    "input.wrong-type",
                    field,
                    raw,
                    format!(
                        "`{field}` must be true or false, not `{}`",
                        excerpt(t.trimmed())
                    ),
                    "not true/false",
                    None,
                );
                None
            }
        },
        other => {
            ctx.problem(
                "input.wrong-type",
                field,
                raw,
                format!("`{field}` must be true or false, not {}", describe(other)),
                "not true/false",
                None,
            );
            None
        }
    }
}

fn describe(value: &RawValue) -> String {
    match value {
        RawValue::Null => "empty".into(),
        RawValue::Bool(b) => format!("`{b}`"),
        RawValue::Number(n) | RawValue::NonFinite(n) => format!("the number `{n}`"),
        RawValue::Text(t) => format!("`{}`", excerpt(t)),
        RawValue::Quantity { value, unit } => format!("`{value} {unit}`"),
        RawValue::Other(kind) => (*kind).to_owned(),
        RawValue::Unusable(why) => why.clone(),
    }
}

fn enumeration(
    ctx: &mut Ctx,
    field: &dyn std::fmt::Display,
    raw: &Raw,
    domain: &'static EnumDomain,
) -> Option<Val> {
    // The exact spelling needs no copy; others are normalised first.
    if let RawValue::Text(t) = &raw.value
        && let Some(i) = domain.index(t.trimmed())
    {
        return Some(Val::Enum(i));
    }
    let text = match &raw.value {
        RawValue::Text(t) => t.trimmed().to_lowercase().replace([' ', '-'], "_"),
        RawValue::Null => return None,
        other => {
            ctx.problem(
                "input.wrong-type",
                field,
                raw,
                format!(
                    "`{field}` must be one of {}, not {}",
                    domain.values.join(", "),
                    describe(other)
                ),
                "not a value",
                None,
            );
            return None;
        }
    };
    let text = match (domain.name, text.as_str()) {
        ("sex", "f") => "female".to_owned(),
        ("sex", "m") => "male".to_owned(),
        _ => text,
    };
    if let Some(i) = domain.index(&text) {
        return Some(Val::Enum(i));
    }
    let help = suggest::closest(&text, domain.values.iter().copied()).map_or_else(
        || format!("one of {}", domain.values.join(", ")),
        |s| format!("did you mean `{s}`?"),
    );
    ctx.problem(
        "input.invalid-value",
        field,
        raw,
        format!(
            "`{}` is not a {}; {help}",
            match &raw.value {
                RawValue::Text(t) => excerpt(t.trimmed()),
                _ => String::new(),
            },
            domain.name
        ),
        &format!("expected {}", domain.values.join(" | ")),
        Some(help),
    );
    None
}

fn date(ctx: &mut Ctx, field: &dyn std::fmt::Display, raw: &Raw) -> Option<Val> {
    let text = match &raw.value {
        RawValue::Text(t) => t.trimmed(),
        RawValue::Null => return None,
        other => {
            ctx.problem(
                "input.wrong-type",
                field,
                raw,
                format!(
                    "`{field}` must be a date such as 2026-03-02, not {}",
                    describe(other)
                ),
                "not a date",
                None,
            );
            return None;
        }
    };
    // A date-time (FHIR `authoredOn`) is read as its calendar date.
    // A date-time (FHIR `authoredOn`) is read as its date, but only when the
    // time part is one: `2026-03-02Tjunk` is refused.
    let day = match text.split_once('T') {
        Some((d, time)) if is_time(time) => d,
        Some(_) => "",
        None => text,
    };
    match Date::parse(day) {
        Ok(d) => Some(Val::Date(d)),
        Err(why) => {
            ctx.problem(
                "input.invalid-date",
                field,
                raw,
                why,
                "not a calendar date",
                Some("write dates as YYYY-MM-DD".into()),
            );
            None
        }
    }
}

/// `hh:mm[:ss[.fff]]` with an optional `Z` or `±hh:mm` offset.
fn is_time(text: &str) -> bool {
    let (clock, _offset) = match text.find(['Z', '+', '-']) {
        Some(i) => text.split_at(i),
        None => (text, ""),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    (2..=3).contains(&parts.len())
        && parts.iter().enumerate().all(|(i, p)| {
            let digits = p.split('.').next().unwrap_or("");
            digits.len() == 2
                && digits.bytes().all(|b| b.is_ascii_digit())
                && (i == 2 || !p.contains('.'))
        })
}

fn field_value(ctx: &mut Ctx, field: Field, path: &'static str, raw: &Raw) -> Option<Val> {
    let path: &dyn std::fmt::Display = &path;
    match field {
        Field::Weight => quantity(ctx, path, raw, &WEIGHT),
        Field::Age => quantity(ctx, path, raw, &AGE),
        Field::Egfr => quantity(ctx, path, raw, &EGFR),
        // `unknown` is the absence of the fact, not a value of it: a rule
        // that needs the sex is then unevaluated, never silently skipped.
        Field::Sex => enumeration(ctx, path, raw, &SEX)
            .filter(|v| *v != Val::Enum(SEX.index("unknown").unwrap_or(u8::MAX))),
        Field::PregnancyTest => enumeration(ctx, path, raw, &PREGNANCY_TEST),
        Field::RenalImpairment => enumeration(ctx, path, raw, &RENAL),
        Field::Severity => enumeration(ctx, path, raw, &SEVERITY),
        Field::Pregnant
        | Field::ChildbearingPotential
        | Field::Contraception
        | Field::Scarring
        | Field::Truncal => boolean(ctx, path, raw),
        Field::Start | Field::PreviousCourseEnd => date(ctx, path, raw),
        Field::Formulation => enumeration(ctx, path, raw, &FORMULATION),
        Field::Route => enumeration(ctx, path, raw, &ROUTE),
        Field::Indication => enumeration(ctx, path, raw, &INDICATION),
        Field::Initiation => boolean(ctx, path, raw),
    }
}

fn text_of(raw: &Raw) -> Option<String> {
    match &raw.value {
        RawValue::Text(t) => Some(t.trimmed().to_owned()),
        RawValue::Number(n) => Some(n.clone()),
        _ => None,
    }
}

/// Renal impairment from eGFR (mL/min/1.73m2): >= 90 none, 60-89 mild,
/// 30-59 moderate, < 30 severe. The value is held in mL/day.
fn renal_from_egfr(egfr_ml_per_day: Decimal) -> u8 {
    let per_min = egfr_ml_per_day / Decimal::from(1440);
    let level = if per_min >= Decimal::from(90) {
        "none"
    } else if per_min >= Decimal::from(60) {
        "mild"
    } else if per_min >= Decimal::from(30) {
        "moderate"
    } else {
        "severe"
    };
    RENAL.index(level).unwrap_or(0)
}

pub(super) fn finish(
    mut b: Builder,
    default_id: String,
    input: String,
    source: Option<Arc<SourceFile>>,
) -> Regimen {
    // An id is echoed in every report; one over the limit is refused like
    // any oversized value, and the record is named by its position.
    if let Some(raw) =
        b.id.take_if(|raw| text_of(raw).is_some_and(|t| t.len() > MAX_ID_BYTES))
    {
        let bytes = text_of(&raw).map_or(0, |t| t.len());
        b.problems.push(InputProblem {
            code: "input.too-large",
            field: "id".into(),
            message: format!("the id is {bytes} bytes long; the limit is {MAX_ID_BYTES}"),
            span: raw.span,
            label: "id too long".into(),
            help: Some("give each regimen a short identifier".into()),
        });
    }
    // Something that is not a regimen at all has nothing else worth reporting.
    let unreadable = b.problems.iter().any(|p| {
        matches!(
            p.code,
            "input.not-a-regimen"
                | "input.syntax"
                | "input.not-utf8"
                | "input.too-large"
                | "input.csv-ragged-row"
                | "input.csv-empty"
                | "input.unreadable-file"
        )
    });
    if unreadable {
        let id = b.id.as_ref().and_then(text_of).unwrap_or(default_id);
        return Regimen {
            id,
            input,
            drug: None,
            product: None,
            source,
            rows: Vec::new(),
            spans: Vec::new(),
            anchors: b.anchors,
            problems: b.problems,
        };
    }
    let mut ctx = Ctx {
        problems: b.problems,
    };
    let id =
        b.id.as_ref()
            .and_then(text_of)
            .filter(|s| !s.is_empty())
            .unwrap_or(default_id);
    let drug = match &b.drug {
        Some(raw) => match &raw.value {
            RawValue::Text(t) if !t.trimmed().is_empty() => Some(Spanned::new(
                t.trimmed().to_owned(),
                raw.span.unwrap_or_default(),
            )),
            _ => {
                ctx.problem(
                    "input.wrong-type",
                    &"drug",
                    raw,
                    "`drug` must be the name of a drug".into(),
                    "not a drug name",
                    Some("e.g. `drug: isotretinoin`".into()),
                );
                None
            }
        },
        None => {
            ctx.problems.push(InputProblem {
                code: "input.missing-field",
                field: "drug".into(),
                message: "the regimen names no drug".into(),
                span: Some(b.anchors.document),
                label: "no `drug` field".into(),
                help: Some("add e.g. `drug: isotretinoin`".into()),
            });
            None
        }
    };

    let mut course: Row = [None; FACT_COUNT];
    let mut course_spans: SpanRow = [None; FACT_COUNT];
    for (field, raw) in &b.fields {
        let fact = field.fact();
        let path = fact.info().path;
        if let Some(v) = field_value(&mut ctx, *field, path, raw) {
            course[fact as usize] = Some(v);
            course_spans[fact as usize] = raw.span;
        }
    }
    if course[Fact::RenalImpairment as usize].is_none()
        && let Some(Val::Num(egfr)) = course[Fact::Egfr as usize]
    {
        course[Fact::RenalImpairment as usize] = Some(Val::Enum(renal_from_egfr(egfr)));
        course_spans[Fact::RenalImpairment as usize] = course_spans[Fact::Egfr as usize];
    }

    if b.phases.is_empty() {
        ctx.problems.push(InputProblem {
            code: "input.missing-field",
            field: "course.phases".into(),
            message: "the regimen has no phases".into(),
            span: Some(b.anchors.course.unwrap_or(b.anchors.document)),
            label: "no `phases`".into(),
            help: Some(
                "add `course: {phases: [{dose: 20 mg, frequency: 2/day, duration: 16 weeks}]}`"
                    .into(),
            ),
        });
    }
    // The regimen's rows, built in place: the course at 0, then a row per
    // phase (a row is ~700 bytes and its spans ~400: copying them per
    // record showed in profiles).
    let mut rows: Vec<Row> = Vec::with_capacity(b.phases.len() + 1);
    let mut span_rows: Vec<SpanRow> = Vec::with_capacity(b.phases.len() + 1);
    rows.push(course);
    span_rows.push(course_spans);
    // (administrations, period in days) per phase, kept exact for the
    // daily dose: dose x count / period, one division, as a unit literal.
    let mut schedules: Vec<(Decimal, Decimal)> = Vec::with_capacity(b.phases.len());
    for (i, phase) in b.phases.iter().enumerate() {
        let index = i + 1;
        let anchor = b
            .anchors
            .phases
            .get(i)
            .copied()
            .unwrap_or(b.anchors.document);
        rows.push([None; FACT_COUNT]);
        span_rows.push([None; FACT_COUNT]);
        let (row, spans) = (&mut rows[index], &mut span_rows[index]);
        row[Fact::PhaseIndex as usize] = Some(Val::Num(Decimal::from(index)));
        spans[Fact::PhaseIndex as usize] = Some(anchor);
        let mut dose_raw: Option<&Raw> = None;
        let mut daily_raw: Option<&Raw> = None;
        for (field, raw) in &phase.fields {
            let path = PhasePath(index, phase_field_name(*field));
            let (fact, value) = match field {
                PhaseField::Dose => {
                    dose_raw = Some(raw);
                    (Fact::Dose, quantity(&mut ctx, &path, raw, &DOSE))
                }
                PhaseField::DailyDose => {
                    daily_raw = Some(raw);
                    (Fact::DailyDose, quantity(&mut ctx, &path, raw, &DAILY_DOSE))
                }
                PhaseField::Frequency => {
                    let schedule = frequency(&mut ctx, &path, raw);
                    if let Some((count, period)) = schedule {
                        schedules.push((count, period));
                        row[Fact::Period as usize] = Some(Val::Num(period));
                        spans[Fact::Period as usize] = raw.span;
                        // 7/week is a dose every day: one spacing, however written.
                        row[Fact::Interval as usize] =
                            div(period, count).map(|t| Val::Num(t.normalize()));
                        spans[Fact::Interval as usize] = raw.span;
                    }
                    (
                        Fact::TimesPerDay,
                        schedule
                            .and_then(|(count, period)| div(count, period))
                            .map(|t| Val::Num(t.normalize())),
                    )
                }
                PhaseField::Duration => (Fact::Duration, quantity(&mut ctx, &path, raw, &DURATION)),
                PhaseField::WithFood => (Fact::WithFood, boolean(&mut ctx, &path, raw)),
            };
            if let Some(v) = value {
                row[fact as usize] = Some(v);
                spans[fact as usize] = raw.span;
            }
        }
        let here = |what: &str, help: &str| InputProblem {
            code: "input.missing-field",
            field: format!("course.phases[{index}].{what}"),
            message: format!("phase {index} has no {what}"),
            span: Some(anchor),
            label: format!("no `{what}`"),
            help: Some(help.to_owned()),
        };
        match (dose_raw, daily_raw) {
            (Some(_), Some(daily)) => ctx.problem(
                "input.conflicting-fields",
                &format!("course.phases[{index}].daily_dose"),
                daily,
                format!("phase {index} gives both `dose` and `daily_dose`"),
                "give one of the two",
                Some("`dose` is per administration, `daily_dose` the total per day; keep exactly one".into()),
            ),
            (None, None) => ctx.problems.push(here("dose", "add `dose: 20 mg` (per administration) or `daily_dose: 40 mg`")),
            _ => {}
        }
        if !phase
            .fields
            .iter()
            .any(|(f, _)| *f == PhaseField::Frequency)
        {
            ctx.problems
                .push(here("frequency", "add e.g. `frequency: 2/day`"));
        }
        if !phase.fields.iter().any(|(f, _)| *f == PhaseField::Duration) {
            ctx.problems
                .push(here("duration", "add e.g. `duration: 16 weeks`"));
        }
    }

    let product = b.product.as_ref().and_then(|raw| match &raw.value {
        RawValue::Text(t) if !t.trimmed().is_empty() => Some(Spanned::new(
            t.trimmed().to_owned(),
            raw.span.unwrap_or_default(),
        )),
        _ => None,
    });
    let mut regimen = Regimen {
        id,
        input,
        drug,
        product,
        source,
        rows: Vec::new(),
        spans: Vec::new(),
        anchors: b.anchors,
        problems: Vec::new(),
    };
    if ctx.problems.is_empty()
        && let (Some((course, phases)), Some((course_spans, phase_spans))) =
            (rows.split_first_mut(), span_rows.split_first_mut())
        && let Err(problem) = derive(
            course,
            course_spans,
            phases,
            phase_spans,
            &schedules,
            &regimen.anchors,
        )
    {
        ctx.problems.push(*problem);
    }
    regimen.problems = ctx.problems;
    if regimen.problems.is_empty()
        && let (Some((course, phases)), Some((course_spans, phase_spans))) =
            (rows.split_first_mut(), span_rows.split_first_mut())
    {
        // A phase row holds the course facts too, so phase rules read both.
        for (row, spans) in phases.iter_mut().zip(phase_spans.iter_mut()) {
            for i in 0..FACT_COUNT {
                if row[i].is_none() {
                    row[i] = course[i];
                    spans[i] = spans[i].or(course_spans[i]);
                }
            }
        }
        regimen.rows = rows;
        regimen.spans = span_rows;
    }
    regimen
}

/// `course.phases[N].field`, formatted only when a problem names it.
struct PhasePath(usize, &'static str);

impl std::fmt::Display for PhasePath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "course.phases[{}].{}", self.0, self.1)
    }
}

fn phase_field_name(field: PhaseField) -> &'static str {
    super::PHASE_FIELDS
        .iter()
        .find(|(_, f)| *f == field)
        .map_or("?", |(n, _)| n)
}

fn num(row: &Row, fact: Fact) -> Option<Decimal> {
    match row[fact as usize] {
        Some(Val::Num(n)) => Some(n),
        _ => None,
    }
}

/// Computes the derived facts of the spec. Fails only on arithmetic overflow.
fn derive(
    course: &mut Row,
    course_spans: &mut SpanRow,
    phases: &mut [Row],
    phase_spans: &mut [SpanRow],
    schedules: &[(Decimal, Decimal)],
    anchors: &super::Anchors,
) -> Result<(), Box<InputProblem>> {
    let overflow = || {
        Box::new(InputProblem {
            code: "input.out-of-range",
            field: "course.phases".into(),
            message: "the course's totals are too large to compute exactly".into(),
            span: Some(anchors.course.unwrap_or(anchors.document)),
            label: "too large".into(),
            help: None,
        })
    };
    let weight = num(course, Fact::Weight);
    let mut total_days = Decimal::ZERO;
    let mut cumulative = Decimal::ZERO;
    let mut max_daily: Option<(Decimal, Option<Span>)> = None;
    for (i, (row, spans)) in phases.iter_mut().zip(phase_spans.iter_mut()).enumerate() {
        let &(count, period) = schedules.get(i).ok_or_else(overflow)?;
        let dose_span = spans[Fact::Dose as usize].or(spans[Fact::DailyDose as usize]);
        let daily = match (num(row, Fact::Dose), num(row, Fact::DailyDose)) {
            (Some(dose), _) => {
                div(dose.checked_mul(count).ok_or_else(overflow)?, period).ok_or_else(overflow)?
            }
            (None, Some(daily)) => {
                row[Fact::Dose as usize] =
                    div(daily.checked_mul(period).ok_or_else(overflow)?, count).map(Val::Num);
                daily
            }
            (None, None) => return Err(overflow()),
        };
        // Each field may be plausible while their product is not: 60 g
        // twice a day is 120 g a day.
        if daily > DAILY_DOSE.max.0 {
            return Err(Box::new(InputProblem {
                code: "input.out-of-range",
                field: format!("course.phases[{}].dose", i + 1),
                message: format!(
                    "phase {} gives {} a day, beyond the plausible maximum of {}",
                    i + 1,
                    units::display_number(daily / Decimal::from(1000)) + " g",
                    DAILY_DOSE.max.1
                ),
                span: dose_span,
                label: "implausible daily dose".into(),
                help: Some("check the dose, its unit and the frequency".into()),
            }));
        }
        row[Fact::DailyDose as usize] = Some(Val::Num(daily));
        row[Fact::WeeklyDose as usize] = Some(Val::Num(daily));
        spans[Fact::WeeklyDose as usize] = dose_span;
        spans[Fact::Dose as usize] = dose_span;
        spans[Fact::DailyDose as usize] = dose_span;
        spans[Fact::DailyDosePerKg as usize] = dose_span;
        if let Some(w) = weight {
            row[Fact::DailyDosePerKg as usize] =
                Some(Val::Num(div(daily, w).ok_or_else(overflow)?));
        }
        let days = num(row, Fact::Duration).ok_or_else(overflow)?;
        total_days = total_days.checked_add(days).ok_or_else(overflow)?;
        cumulative = cumulative
            .checked_add(daily.checked_mul(days).ok_or_else(overflow)?)
            .ok_or_else(overflow)?;
        if i == 0 {
            course[Fact::StartDailyDose as usize] = Some(Val::Num(daily));
            course_spans[Fact::StartDailyDose as usize] = dose_span;
        }
        if max_daily.is_none_or(|(m, _)| daily > m) {
            max_daily = Some((daily, dose_span));
        }
    }
    let block = anchors.course.or(Some(anchors.document));
    course[Fact::TotalDuration as usize] = Some(Val::Num(total_days));
    course_spans[Fact::TotalDuration as usize] = block;
    course[Fact::CumulativeDose as usize] = Some(Val::Num(cumulative));
    course_spans[Fact::CumulativeDose as usize] = block;
    course[Fact::PhaseCount as usize] = Some(Val::Num(Decimal::from(phases.len())));
    if let Some((max, span)) = max_daily {
        course[Fact::MaxDailyDose as usize] = Some(Val::Num(max));
        course_spans[Fact::MaxDailyDose as usize] = span;
        if let Some(w) = weight {
            course[Fact::MaxDailyDosePerKg as usize] =
                Some(Val::Num(div(max, w).ok_or_else(overflow)?));
            course_spans[Fact::MaxDailyDosePerKg as usize] = span;
        }
    }
    if let Some(w) = weight {
        course[Fact::CumulativeDosePerKg as usize] =
            Some(Val::Num(div(cumulative, w).ok_or_else(overflow)?));
        course_spans[Fact::CumulativeDosePerKg as usize] = block;
    }
    if let (Some(Val::Date(start)), Some(Val::Date(prev))) = (
        course[Fact::Start as usize],
        course[Fact::PreviousCourseEnd as usize],
    ) {
        let gap = i64::from(start.days()) - i64::from(prev.days());
        course[Fact::GapSincePreviousCourse as usize] = Some(Val::Num(Decimal::from(gap)));
        course_spans[Fact::GapSincePreviousCourse as usize] = course_spans[Fact::Start as usize];
    }
    Ok(())
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
