//! One field's written value to a checked fact value.
//!
//! Takes a [`GivenAt`] value a reader found for a field and the field's
//! vocabulary entry (its type, units and plausible limits), and gives its
//! [`Val`] in canonical units, or records why not (a wrong unit, a value out of
//! range, an unknown enum name, a bad date) and goes on: every problem of
//! a regimen is collected.

use rust_decimal::Decimal;

use crate::codes::InputCode;
use crate::date::Date;
use crate::diagnostic::excerpt;
use crate::facts::{Type, Val};
use crate::regimen::{Given, GivenAt, InputProblem};
use crate::suggest;
use crate::text::Trim;
use crate::units::{self, Dim, Family, Unit};
use crate::vocabulary::FactInfo;

pub(super) struct Ctx {
    pub(super) problems: Vec<InputProblem>,
}

impl Ctx {
    pub(super) fn problem(
        &mut self,
        code: InputCode,
        field: &dyn std::fmt::Display,
        raw: &GivenAt,
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

    /// A value of the wrong type: `field` must be `expected`, not what
    /// `raw` holds.
    pub(super) fn wrong_type(
        &mut self,
        field: &dyn std::fmt::Display,
        raw: &GivenAt,
        expected: &str,
        label: &str,
    ) {
        let message = format!("`{field}` must be {expected}, not {}", describe(&raw.value));
        self.problem(InputCode::WrongType, field, raw, message, label, None);
    }
}

/// What a quantity field accepts, as its vocabulary entry declares it:
/// read from the entry where needed, nothing copied (this runs for every
/// quantity of every record).
pub(super) struct QuantitySpec<'v> {
    info: &'v FactInfo,
    /// Dimension after conversion.
    dim: Dim,
}

impl<'v> QuantitySpec<'v> {
    /// The spec of a quantity fact; `None` for a fact of another type.
    pub(super) fn of(info: &'v FactInfo) -> Option<QuantitySpec<'v>> {
        let Type::Quantity(dim) = info.ty else {
            return None;
        };
        Some(QuantitySpec { info, dim })
    }

    /// Unit families accepted.
    fn families(&self) -> &'v [Family] {
        &self.info.families
    }

    /// Unit assumed for a bare number, if any (only age: years by convention).
    fn bare(&self) -> Option<&'v str> {
        self.info.bare.as_deref()
    }

    /// Smallest value accepted, and whether it is itself accepted.
    fn min(&self) -> (Decimal, bool) {
        self.info
            .limits
            .as_ref()
            .map_or((Decimal::ZERO, true), |l| l.min)
    }

    /// Largest value accepted (in canonical units), shown as text.
    fn max(&self) -> Option<(Decimal, &'v str)> {
        self.info
            .limits
            .as_ref()
            .map(|l| (l.max.0, l.max.1.as_str()))
    }

    /// Smallest plausible value, when above zero (a weight of 1e-28 kg is
    /// positive but not a patient), shown as text.
    fn floor(&self) -> Option<(Decimal, &'v str)> {
        self.info
            .limits
            .as_ref()
            .and_then(|l| l.floor.as_ref().map(|(v, t)| (*v, t.as_str())))
    }

    /// An example for help text.
    fn example(&self) -> &'v str {
        self.info.example.as_deref().unwrap_or_default()
    }

    /// The unit to show values in.
    fn show(&self) -> &'v str {
        self.info.unit.as_deref().unwrap_or_default()
    }
}

pub(super) fn quantity(
    ctx: &mut Ctx,
    field: &dyn std::fmt::Display,
    raw: &GivenAt,
    spec: &QuantitySpec,
) -> Option<Val> {
    // The number as written, its unit, and its value when already read.
    let (number, unit_text, read): (&str, &str, Option<Decimal>) = match &raw.value {
        Given::Text(text) => match units::split_quantity(text) {
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
                    InputCode::InvalidNumber,
                    field,
                    raw,
                    format!("`{}` is not a number with a unit", excerpt(text.trimmed())),
                    "not a quantity",
                    Some(format!(
                        "write a number and a unit, e.g. `{}`",
                        spec.example()
                    )),
                );
                return None;
            }
        },
        Given::Number(n) => (n.as_str(), "", None),
        Given::Quantity { value, unit } => (value.as_str(), unit.as_str(), None),
        // Read on as text, which no decimal parses: refused below.
        Given::NonFinite(n) => (n.as_str(), "", None),
        Given::Null => return None,
        Given::Unusable(why) => {
            ctx.problem(
                InputCode::InvalidQuantity,
                field,
                raw,
                format!("`{field}` cannot be used: {why}"),
                "not a usable quantity",
                None,
            );
            return None;
        }
        Given::Bool(_) | Given::Other(_) => {
            ctx.problem(
                InputCode::WrongType,
                field,
                raw,
                format!("`{field}` must be a quantity such as `{}`", spec.example()),
                "not a quantity",
                None,
            );
            return None;
        }
    };
    let number = number.trimmed();
    if units::significant_digits(number) > units::MAX_SIGNIFICANT_DIGITS {
        ctx.problem(
            InputCode::InvalidNumber,
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
            InputCode::InvalidNumber,
            field,
            raw,
            format!(
                "`{}` is not a {} number",
                excerpt(number),
                match raw.value {
                    Given::NonFinite(_) => "finite",
                    _ => "decimal",
                }
            ),
            "not a number",
            Some(format!("e.g. `{}`", spec.example())),
        );
        return None;
    };
    let unit_text = if unit_text.trimmed().is_empty() {
        match spec.bare() {
            Some(unit) => unit,
            None => {
                ctx.problem(
                    InputCode::MissingUnit,
                    field,
                    raw,
                    format!(
                        "`{field}` has no unit: `{}`; did you mean `{} {}`?",
                        units::display_number(value),
                        units::display_number(value),
                        spec.show()
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
        Ok(unit) => for_field(unit, spec),
        Err(err) => {
            // A suggestion replaces the unknown atom only, and only when the
            // unit it makes fits the field: `75 mg/m2` is never "did you
            // mean `75 mg`?", which would drop the body-surface factor.
            let (message, help) = match &err {
                units::UnitError::Unknown { atom, suggestion } => {
                    let fixed =
                        suggestion
                            .map(|s| replace_atom(unit_text, atom, s))
                            .filter(|whole| {
                                Unit::parse(whole).is_ok_and(|u| fits(&for_field(u, spec), spec))
                            });
                    match fixed {
                        Some(whole) => (
                            format!("unknown unit `{atom}`; did you mean `{whole}`?"),
                            format!("did you mean `{} {whole}`?", units::display_number(value)),
                        ),
                        None => (
                            format!("unknown unit `{atom}`"),
                            format!("e.g. `{}`", spec.example()),
                        ),
                    }
                }
                units::UnitError::Empty => (err.to_string(), format!("e.g. `{}`", spec.example())),
            };
            ctx.problem(
                InputCode::UnknownUnit,
                field,
                raw,
                message,
                "unknown unit",
                Some(help),
            );
            return None;
        }
    };
    // The body-surface normalisation fits only an eGFR (a creatinine
    // clearance never has it); months and years only an age.
    let stray_annotation = unit.dim.normalised() && !spec.dim.normalised();
    let stray_calendar = unit.calendar && !spec.families().contains(&Family::CalendarTime);
    if stray_annotation || stray_calendar {
        let why = if stray_calendar {
            "months and years are ambiguous here; use days or weeks".to_owned()
        } else {
            "`1.73m2` (body-surface normalisation) belongs only to an eGFR".to_owned()
        };
        ctx.problem(
            InputCode::WrongUnit,
            field,
            raw,
            format!("`{field}` cannot be in `{}`: {why}", unit.text),
            "wrong unit",
            Some(format!("e.g. `{}`", spec.example())),
        );
        return None;
    }
    // A lab value in umol/L where the fact is held in mg/dL: converted by
    // the substance's own factor, which the vocabulary declares.
    let molar = spec
        .info
        .molar
        .filter(|_| unit.dim == Dim::AMOUNT_CONCENTRATION);
    if molar.is_none() && !fits(&unit, spec) {
        let why = match unit.family {
            Family::CalendarTime if spec.dim == Dim::TIME => {
                "months and years are ambiguous as treatment durations".to_owned()
            }
            _ => format!("`{}` is not a unit of {}", unit.text, spec.dim.describe()),
        };
        ctx.problem(
            InputCode::WrongUnit,
            field,
            raw,
            format!("`{field}` is {}, but {why}", spec.dim.describe()),
            "wrong unit",
            Some(format!("e.g. `{}`", spec.example())),
        );
        return None;
    }
    let canonical = match (molar, spec.info.display.as_ref()) {
        (Some(per_unit), Some(display)) => unit
            .factor
            .to_canonical(value)
            .and_then(|amount| amount.checked_div(per_unit))
            .and_then(|shown| display.factor.to_canonical(shown)),
        _ => unit.factor.to_canonical(value),
    };
    let Some(canonical) = canonical else {
        ctx.problem(
            InputCode::OutOfRange,
            field,
            raw,
            format!("`{field}` is too large"),
            "too large",
            None,
        );
        return None;
    };
    let (min, min_ok) = spec.min();
    if canonical < min || (canonical == min && !min_ok) {
        let bound = if min_ok {
            "negative"
        } else {
            "zero or negative"
        };
        ctx.problem(
            InputCode::OutOfRange,
            field,
            raw,
            format!("`{field}` is {bound}"),
            "must be positive",
            Some(format!("e.g. `{}`", spec.example())),
        );
        return None;
    }
    if let Some((floor, text)) = spec.floor()
        && canonical < floor
    {
        ctx.problem(
            InputCode::OutOfRange,
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
    if let Some((max, max_text)) = spec.max()
        && canonical > max
    {
        ctx.problem(
            InputCode::OutOfRange,
            field,
            raw,
            format!(
                "`{field}` of {} {} is beyond the plausible maximum of {}",
                units::display_number(value),
                unit.text,
                max_text
            ),
            "implausible",
            Some("check the number and the unit".into()),
        );
        return None;
    }
    Some(Val::Num(canonical))
}

/// The fact a value written under `fact`'s key is, by its unit: of the
/// facts sharing the key (`dose` is mg, mg/kg or mg/m2), the one the unit
/// fits; `fact` itself when none does (its own check then says why).
pub(in crate::regimen) fn written_as(
    vocabulary: &crate::vocabulary::Vocabulary,
    fact: crate::facts::Fact,
    raw: &GivenAt,
) -> crate::facts::Fact {
    // Most keys name one fact: nothing to parse (this runs for every field
    // of every record).
    let alike = vocabulary.written_alike(fact);
    if alike.is_empty() {
        return fact;
    }
    let unit_text = match &raw.value {
        Given::Quantity { unit, .. } => unit.as_str(),
        Given::Text(text) => match units::split_quantity(text) {
            Ok((_, unit)) => unit,
            Err(_) => return fact,
        },
        _ => return fact,
    };
    // A unit written as one of the facts shows it needs no parsing.
    if let Some(f) = alike
        .iter()
        .find(|f| vocabulary.info(**f).unit.as_deref() == Some(unit_text.trimmed()))
    {
        return *f;
    }
    let Ok(unit) = Unit::parse(unit_text) else {
        return fact;
    };
    alike
        .iter()
        .copied()
        .find(|f| {
            QuantitySpec::of(vocabulary.info(*f))
                .is_some_and(|spec| fits(&for_field(unit.clone(), &spec), &spec))
        })
        .unwrap_or(fact)
}

/// Whether `unit` can be the unit of `fact`, or of a fact written under
/// its key (`dose` in mg/kg is the dose per kg).
pub(in crate::regimen) fn unit_fits(
    vocabulary: &crate::vocabulary::Vocabulary,
    fact: crate::facts::Fact,
    unit: &Unit,
) -> bool {
    std::iter::once(fact)
        .chain(vocabulary.written_alike(fact).iter().copied())
        .filter_map(|f| QuantitySpec::of(vocabulary.info(f)))
        .any(|spec| fits(&for_field(unit.clone(), &spec), &spec))
}

/// What `unit` measures when `fact` reads it: a mass is a body mass for a
/// weight and a dose a day for a daily dose.
pub(in crate::regimen) fn field_dim(
    vocabulary: &crate::vocabulary::Vocabulary,
    fact: crate::facts::Fact,
    unit: &Unit,
) -> Dim {
    QuantitySpec::of(vocabulary.info(fact))
        .map_or(unit.dim, |spec| for_field(unit.clone(), &spec).dim)
}

/// `unit` as `spec`'s field reads it: a mass in a field that wants a
/// daily dose is per day; a mass in a field that wants a body weight is a
/// body weight; a flow written under an eGFR's key (`egfr: 45 mL/min`, as
/// the regimen format allows) is that eGFR. A creatinine clearance is never
/// read as an eGFR, nor an eGFR as a clearance: they are different facts.
fn for_field(unit: Unit, spec: &QuantitySpec) -> Unit {
    match spec.dim {
        Dim::EGFR if unit.dim == Dim::FLOW => Unit {
            dim: Dim::EGFR,
            ..unit
        },
        Dim::BODY_MASS => unit.as_body_mass().unwrap_or(unit),
        // A daily dose written without `/day` is per day.
        Dim::DOSE_RATE | Dim::DOSE_RATE_PER_KG | Dim::DOSE_RATE_PER_M2
            if unit.dim.per(Dim::TIME) == spec.dim =>
        {
            Unit {
                dim: spec.dim,
                ..unit
            }
        }
        _ => unit,
    }
}

/// Whether a value in `unit` (as the field reads it) is one `spec` takes.
fn fits(unit: &Unit, spec: &QuantitySpec) -> bool {
    unit.dim == spec.dim && spec.families().contains(&unit.family)
}

/// `text` with the atom `atom` replaced by `by`: `Mg/day` -> `mg/day`.
fn replace_atom(text: &str, atom: &str, by: &str) -> String {
    text.split('/')
        .map(|a| if a.trimmed() == atom { by } else { a.trimmed() })
        .collect::<Vec<_>>()
        .join("/")
}

pub(super) fn boolean(ctx: &mut Ctx, field: &dyn std::fmt::Display, raw: &GivenAt) -> Option<Val> {
    match &raw.value {
        Given::Bool(b) => Some(Val::Bool(*b)),
        Given::Null => None,
        Given::Text(t) => match t.trimmed() {
            v if v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("yes") => {
                Some(Val::Bool(true))
            }
            v if v.eq_ignore_ascii_case("false") || v.eq_ignore_ascii_case("no") => {
                Some(Val::Bool(false))
            }
            _ => {
                ctx.problem(
                    InputCode::WrongType,
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
        _ => {
            ctx.wrong_type(field, raw, "true or false", "not true/false");
            None
        }
    }
}

pub(super) fn describe(value: &Given) -> String {
    match value {
        Given::Null => "empty".into(),
        Given::Bool(b) => format!("`{b}`"),
        Given::Number(n) | Given::NonFinite(n) => format!("the number `{n}`"),
        Given::Text(t) => format!("`{}`", excerpt(t)),
        Given::Quantity { value, unit } => format!("`{value} {unit}`"),
        Given::Other(kind) => (*kind).to_owned(),
        Given::Unusable(why) => why.clone(),
    }
}

fn enumeration(
    ctx: &mut Ctx,
    field: &dyn std::fmt::Display,
    raw: &GivenAt,
    info: &FactInfo,
) -> Option<Val> {
    // The exact spelling needs no copy; others are normalised first.
    if let Given::Text(t) = &raw.value
        && let Some(i) = info.values.iter().position(|v| v == t.trimmed())
    {
        return u8::try_from(i).ok().map(Val::Enum);
    }
    let text = match &raw.value {
        Given::Text(t) => t.trimmed().to_lowercase().replace([' ', '-'], "_"),
        Given::Null => return None,
        _ => {
            let expected = format!("one of {}", info.values.join(", "));
            ctx.wrong_type(field, raw, &expected, "not a value");
            return None;
        }
    };
    if let Some(i) = info.value_index(&text) {
        return Some(Val::Enum(i));
    }
    // An open vocabulary (indications) takes any lower_snake_case word: one
    // no pack names is another condition, which no indication's rules cover.
    if info.open
        && text.len() <= 64
        && crate::text::is_snake_word(&text)
        && let Some(other) = info.value_index("other")
    {
        return Some(Val::Enum(other));
    }
    let help = suggest::closest(&text, info.values.iter().map(String::as_str)).map_or_else(
        || format!("one of {}", info.values.join(", ")),
        |s| format!("did you mean `{s}`?"),
    );
    ctx.problem(
        InputCode::InvalidValue,
        field,
        raw,
        format!(
            "`{}` is not {} {}; {help}",
            match &raw.value {
                Given::Text(t) => excerpt(t.trimmed()),
                _ => String::new(),
            },
            if info.domain.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            },
            info.domain
        ),
        &format!("expected {}", info.values.join(" | ")),
        Some(help),
    );
    None
}

fn date(ctx: &mut Ctx, field: &dyn std::fmt::Display, raw: &GivenAt) -> Option<Val> {
    let text = match &raw.value {
        Given::Text(t) => t.trimmed(),
        Given::Null => return None,
        _ => {
            ctx.wrong_type(field, raw, "a date such as 2026-03-02", "not a date");
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
                InputCode::InvalidDate,
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

/// The checked value of a recorded fact, read as its type says; `path`
/// names the field in problems (`patient.weight`, `course.phases[1].dose`).
pub(super) fn field_value(
    ctx: &mut Ctx,
    info: &FactInfo,
    path: &dyn std::fmt::Display,
    raw: &GivenAt,
) -> Option<Val> {
    let value = match info.ty {
        Type::Quantity(_) => quantity(ctx, path, raw, &QuantitySpec::of(info)?),
        Type::Enum(_) => enumeration(ctx, path, raw, info),
        Type::Bool => boolean(ctx, path, raw),
        Type::Date => date(ctx, path, raw),
    };
    // A value that means "not recorded" (`unknown` sex) is the absence of
    // the fact: a rule that needs it is then unevaluated, never skipped.
    value.filter(|v| !matches!(v, Val::Enum(i) if info.missing.contains(i)))
}

pub(super) fn text_of(raw: &GivenAt) -> Option<String> {
    match &raw.value {
        Given::Text(t) => Some(t.trimmed().to_owned()),
        Given::Number(n) => Some(n.clone()),
        _ => None,
    }
}
