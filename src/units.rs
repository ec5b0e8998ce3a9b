//! Units of measure: parsing, dimensions and exact conversion.
//!
//! Takes unit text (`mg/kg/day`, `mL/min/1.73m2`, UCUM `[lb_av]`) and gives a
//! [`Unit`]: its [`Dim`] and an exact rational factor to the canonical unit of
//! that dimension (mg, kg, mL, day). Quantities are `rust_decimal` values in
//! canonical units, so `0.035 g` twice a day at `70 kg` is exactly
//! `1 mg/kg/day`; no float ever touches a dose.
//!
//! Drug mass and body mass are different dimensions: a mass unit in a
//! denominator (`mg/kg`) is body mass, so adding a dose to a weight is a type
//! error while `mg/kg * kg` is a dose. A plain mass literal (`40 kg`) takes
//! whichever of the two it is compared with.

use crate::text::Trim;
use std::fmt;

use rust_decimal::Decimal;

/// Exponents of the base dimensions: drug mass, body mass, volume, time,
/// the body-surface normalisation of an eGFR (`/1.73m2`), which keeps an
/// eGFR and a creatinine clearance from ever being compared or taken for
/// each other, length (a height, and squared a body surface area), and
/// amount of substance (a lab value in umol/L).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Dim(pub [i8; 7]);

/// Index of each base dimension in [`Dim`].
const MASS: usize = 0;
const BODY: usize = 1;
const VOLUME: usize = 2;
const TIME: usize = 3;
const SURFACE: usize = 4;
const LENGTH: usize = 5;
const AMOUNT: usize = 6;

/// Canonical unit of each base dimension, in `Dim` order.
const CANONICAL: [&str; 7] = ["mg", "kg", "mL", "day", "1.73m2", "m", "umol"];

impl Dim {
    /// A pure number.
    pub const NONE: Dim = Dim([0, 0, 0, 0, 0, 0, 0]);
    /// Drug mass (mg).
    pub const MASS: Dim = Dim([1, 0, 0, 0, 0, 0, 0]);
    /// Body mass (kg).
    pub const BODY_MASS: Dim = Dim([0, 1, 0, 0, 0, 0, 0]);
    /// Time (day).
    pub const TIME: Dim = Dim([0, 0, 0, 1, 0, 0, 0]);
    /// Dose per day (mg/day).
    pub const DOSE_RATE: Dim = Dim([1, 0, 0, -1, 0, 0, 0]);
    /// Dose per body weight (mg/kg).
    pub const DOSE_PER_KG: Dim = Dim([1, -1, 0, 0, 0, 0, 0]);
    /// Dose per body weight per day (mg/kg/day).
    pub const DOSE_RATE_PER_KG: Dim = Dim([1, -1, 0, -1, 0, 0, 0]);
    /// Volume per time (a creatinine clearance, mL/min).
    pub const FLOW: Dim = Dim([0, 0, 1, -1, 0, 0, 0]);
    /// Volume per time per 1.73 m2 of body surface (an eGFR).
    pub const EGFR: Dim = Dim([0, 0, 1, -1, -1, 0, 0]);
    /// Length (a height, m).
    pub const LENGTH: Dim = Dim([0, 0, 0, 0, 0, 1, 0]);
    /// Area (a body surface area, m2).
    pub const AREA: Dim = Dim([0, 0, 0, 0, 0, 2, 0]);
    /// Dose per m2 of body surface (mg/m2).
    pub const DOSE_PER_M2: Dim = Dim([1, 0, 0, 0, 0, -2, 0]);
    /// Dose per m2 of body surface per day (mg/m2/day).
    pub const DOSE_RATE_PER_M2: Dim = Dim([1, 0, 0, -1, 0, -2, 0]);
    /// Mass per volume (a lab value in mg/dL).
    pub const MASS_CONCENTRATION: Dim = Dim([1, 0, -1, 0, 0, 0, 0]);
    /// Amount of substance per volume (a lab value in umol/L).
    pub const AMOUNT_CONCENTRATION: Dim = Dim([0, 0, -1, 0, 0, 0, 1]);

    /// Product of two dimensions.
    pub fn times(self, other: Dim) -> Dim {
        let mut out = self.0;
        for (o, b) in out.iter_mut().zip(other.0) {
            *o = o.saturating_add(b);
        }
        Dim(out)
    }

    /// Quotient of two dimensions.
    pub fn per(self, other: Dim) -> Dim {
        let mut out = self.0;
        for (o, b) in out.iter_mut().zip(other.0) {
            *o = o.saturating_sub(b);
        }
        Dim(out)
    }

    /// True for a quantity per 1.73 m2 of body surface (an eGFR).
    pub fn normalised(self) -> bool {
        self.0[SURFACE] != 0
    }

    /// True for a dimensionless number.
    pub fn is_none(self) -> bool {
        self == Dim::NONE
    }

    /// The canonical unit text of this dimension (`mg/kg/day`).
    pub fn canonical_unit(self) -> String {
        let mut num = Vec::new();
        let mut den = Vec::new();
        for (i, &e) in self.0.iter().enumerate() {
            let name = CANONICAL[i];
            for _ in 0..e.unsigned_abs() {
                if e > 0 {
                    num.push(name)
                } else {
                    den.push(name)
                }
            }
        }
        let mut text = if num.is_empty() && !den.is_empty() {
            "1".to_owned()
        } else {
            num.join(".")
        };
        for d in den {
            text.push('/');
            text.push_str(d);
        }
        text
    }

    /// The unit people name this dimension by, for messages and docs: the
    /// canonical unit, except that a flow reads per minute (`mL/min`, not
    /// the `mL/day` it is held in).
    pub fn unit_name(self) -> String {
        match self {
            Dim::FLOW => "mL/min".into(),
            Dim::EGFR => "mL/min/1.73m2".into(),
            Dim::AREA => "m2".into(),
            Dim::DOSE_PER_M2 => "mg/m2".into(),
            Dim::DOSE_RATE_PER_M2 => "mg/m2/day".into(),
            other => other.canonical_unit(),
        }
    }

    /// A plain-words name of the dimension, for type errors.
    pub fn describe(self) -> String {
        match self {
            Dim::NONE => "a plain number".into(),
            Dim::MASS => "a mass (mg)".into(),
            Dim::BODY_MASS => "a body weight (kg)".into(),
            Dim::TIME => "a duration (days)".into(),
            Dim::DOSE_RATE => "a daily dose (mg/day)".into(),
            Dim::DOSE_PER_KG => "a dose per body weight (mg/kg)".into(),
            Dim::DOSE_RATE_PER_KG => "a daily dose per body weight (mg/kg/day)".into(),
            Dim::FLOW => "a flow such as a creatinine clearance (mL/min)".into(),
            Dim::EGFR => "an eGFR (mL/min/1.73m2)".into(),
            Dim::LENGTH => "a length (cm)".into(),
            Dim::AREA => "a body surface area (m2)".into(),
            Dim::DOSE_PER_M2 => "a dose per body surface area (mg/m2)".into(),
            Dim::DOSE_RATE_PER_M2 => "a daily dose per body surface area (mg/m2/day)".into(),
            Dim::MASS_CONCENTRATION => "a concentration (mg/dL)".into(),
            Dim::AMOUNT_CONCENTRATION => "a molar concentration (umol/L)".into(),
            other => format!("a quantity in {}", other.canonical_unit()),
        }
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical_unit())
    }
}

/// An exact positive rational conversion factor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Factor {
    num: i128,
    den: i128,
}

impl Factor {
    /// The identity factor.
    pub const ONE: Factor = Factor { num: 1, den: 1 };

    const fn new(num: i128, den: i128) -> Factor {
        Factor { num, den }
    }

    fn reduce(num: i128, den: i128) -> Option<Factor> {
        let g = gcd(num, den);
        if g == 0 {
            return None;
        }
        Some(Factor::new(num / g, den / g))
    }

    fn mul(self, other: Factor) -> Option<Factor> {
        Factor::reduce(
            self.num.checked_mul(other.num)?,
            self.den.checked_mul(other.den)?,
        )
    }

    fn div(self, other: Factor) -> Option<Factor> {
        Factor::reduce(
            self.num.checked_mul(other.den)?,
            self.den.checked_mul(other.num)?,
        )
    }

    /// `value` in this unit, expressed in the canonical unit (exact when the
    /// result is a terminating decimal, as it is for every shipped unit but
    /// minutes and hours used as numerators).
    pub fn to_canonical(self, value: Decimal) -> Option<Decimal> {
        if self.den == 1 {
            return self.times(value, self.num);
        }
        let num = Decimal::try_from_i128_with_scale(self.num, 0).ok()?;
        let den = Decimal::try_from_i128_with_scale(self.den, 0).ok()?;
        value.checked_mul(num)?.checked_div(den)
    }

    /// `value` times a whole factor: no division, and none of its rounding.
    fn times(self, value: Decimal, factor: i128) -> Option<Decimal> {
        if factor == 1 {
            return Some(value);
        }
        value.checked_mul(Decimal::try_from_i128_with_scale(factor, 0).ok()?)
    }

    /// A canonical `value` expressed in this unit.
    pub fn from_canonical(self, value: Decimal) -> Option<Decimal> {
        if self.num == 1 {
            return self.times(value, self.den);
        }
        let num = Decimal::try_from_i128_with_scale(self.num, 0).ok()?;
        let den = Decimal::try_from_i128_with_scale(self.den, 0).ok()?;
        value.checked_mul(den)?.checked_div(num)
    }
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    a = a.abs();
    b = b.abs();
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// What kind of thing a unit atom measures; decides which fields accept it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    /// mcg, mg, g, kg, lb.
    Mass,
    /// mL, L, dL.
    Volume,
    /// day, week.
    Time,
    /// month, year: calendar spans, refused for treatment durations.
    CalendarTime,
    /// h, min: sub-day time.
    ClockTime,
    /// `1.73m2`, `{1.73_m2}`: the body-surface normalisation of eGFR, a
    /// dimensionless annotation as in UCUM.
    Annotation,
    /// cm, m, in: a height; squared (`m2`) a body surface area.
    Length,
    /// umol, mmol: amount of substance, for lab values.
    Amount,
}

/// One unit atom of the catalogue.
struct Atom {
    names: &'static [&'static str],
    family: Family,
    /// Factor to the canonical unit (mg, mL, day) as `num/den`.
    num: i128,
    den: i128,
}

/// Every unit atom rxlint knows, with its spellings. Case matters, as in UCUM.
const ATOMS: &[Atom] = &[
    Atom {
        names: &["mcg", "ug", "µg", "μg"],
        family: Family::Mass,
        num: 1,
        den: 1000,
    },
    Atom {
        names: &["mg"],
        family: Family::Mass,
        num: 1,
        den: 1,
    },
    Atom {
        names: &["g"],
        family: Family::Mass,
        num: 1000,
        den: 1,
    },
    Atom {
        names: &["kg"],
        family: Family::Mass,
        num: 1_000_000,
        den: 1,
    },
    // The international avoirdupois pound is exactly 0.45359237 kg.
    Atom {
        names: &["lb", "lbs", "[lb_av]"],
        family: Family::Mass,
        num: 45_359_237,
        den: 100,
    },
    Atom {
        names: &["mL", "ml"],
        family: Family::Volume,
        num: 1,
        den: 1,
    },
    Atom {
        names: &["dL", "dl"],
        family: Family::Volume,
        num: 100,
        den: 1,
    },
    Atom {
        names: &["L", "l"],
        family: Family::Volume,
        num: 1000,
        den: 1,
    },
    Atom {
        names: &["d", "day", "days"],
        family: Family::Time,
        num: 1,
        den: 1,
    },
    Atom {
        names: &["wk", "week", "weeks"],
        family: Family::Time,
        num: 7,
        den: 1,
    },
    // UCUM's mean Julian month and year.
    Atom {
        names: &["mo", "month", "months"],
        family: Family::CalendarTime,
        num: 304_375,
        den: 10_000,
    },
    Atom {
        names: &["a", "yr", "year", "years"],
        family: Family::CalendarTime,
        num: 36_525,
        den: 100,
    },
    Atom {
        names: &["h", "hr", "hour", "hours"],
        family: Family::ClockTime,
        num: 1,
        den: 24,
    },
    Atom {
        names: &["min"],
        family: Family::ClockTime,
        num: 1,
        den: 1440,
    },
    // Lengths, in metres; squared (`m2`, `cm2`) they are areas.
    Atom {
        names: &["m"],
        family: Family::Length,
        num: 1,
        den: 1,
    },
    Atom {
        names: &["cm"],
        family: Family::Length,
        num: 1,
        den: 100,
    },
    Atom {
        names: &["mm"],
        family: Family::Length,
        num: 1,
        den: 1000,
    },
    // The international inch is exactly 2.54 cm.
    Atom {
        names: &["[in_i]", "in"],
        family: Family::Length,
        num: 254,
        den: 10_000,
    },
    Atom {
        names: &["[ft_i]", "ft"],
        family: Family::Length,
        num: 3048,
        den: 10_000,
    },
    // Amounts of substance, in micromoles.
    Atom {
        names: &["umol", "µmol", "μmol"],
        family: Family::Amount,
        num: 1,
        den: 1,
    },
    Atom {
        names: &["mmol"],
        family: Family::Amount,
        num: 1000,
        den: 1,
    },
    Atom {
        names: &["nmol"],
        family: Family::Amount,
        num: 1,
        den: 1000,
    },
    Atom {
        names: &["mol"],
        family: Family::Amount,
        num: 1_000_000,
        den: 1,
    },
    Atom {
        names: &["1.73m2", "{1.73_m2}", "[1.73_m2]", "1.73_m2"],
        family: Family::Annotation,
        num: 1,
        den: 1,
    },
];

/// A parsed unit expression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unit {
    /// The unit as written (borrowed from the catalogue for one-atom units,
    /// so that parsing the commonest units does not allocate).
    pub text: std::borrow::Cow<'static, str>,
    /// Its dimension.
    pub dim: Dim,
    /// Its factor to the canonical unit of `dim`.
    pub factor: Factor,
    /// The family of its first (numerator) atom.
    pub family: Family,
    /// Whether any atom is a calendar span (month, year), ambiguous in a
    /// treatment duration or a dose rate.
    pub calendar: bool,
}

/// Why a unit did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnitError {
    /// An atom outside the catalogue: `Mg`, `mgs`, `kilo`.
    Unknown {
        /// The atom as written.
        atom: String,
        /// The closest known spelling, if one is close.
        suggestion: Option<&'static str>,
    },
    /// An empty unit or empty atom: `mg/`, `/day`.
    Empty,
}

impl fmt::Display for UnitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnitError::Unknown {
                atom,
                suggestion: Some(s),
            } => {
                write!(f, "unknown unit `{atom}`; did you mean `{s}`?")
            }
            UnitError::Unknown {
                atom,
                suggestion: None,
            } => write!(f, "unknown unit `{atom}`"),
            UnitError::Empty => f.write_str("empty unit"),
        }
    }
}

/// Every spelling in the catalogue, for suggestions.
pub fn known_spellings() -> impl Iterator<Item = &'static str> {
    ATOMS.iter().flat_map(|a| a.names.iter().copied())
}

fn lookup(atom: &str) -> Option<&'static Atom> {
    ATOMS.iter().find(|a| a.names.contains(&atom))
}

/// Any other UCUM atom of mass, volume or time (`[gr]`, `[oz_av]`, `s`, `cL`),
/// through the octofhir-ucum registry: its family and exact factor to mg,
/// mL or day. UCUM's factors are exact decimals; ours are exact rationals.
fn ucum_atom(atom: &str) -> Option<(Family, Factor)> {
    if atom.contains(['/', '.', '(', ')']) || atom.len() > 32 {
        return None;
    }
    // `Mg` is a megagram in UCUM, but on a prescription it is a slip for
    // `mg`: a spelling that differs from a known one only in case is refused.
    if known_spellings().any(|k| k.eq_ignore_ascii_case(atom)) {
        return None;
    }
    let analysis = octofhir_ucum::analyse(atom).ok()?;
    if analysis.special.is_some() || !analysis.arbitrary.is_empty() {
        return None;
    }
    // UCUM's base dimensions: [L, T, M, A, Θ, Q, F]; base units m, s, g.
    let (family, to_canonical) = match analysis.dimension.0 {
        [0, 0, 1, 0, 0, 0, 0] => (Family::Mass, Factor::new(1000, 1)),
        [3, 0, 0, 0, 0, 0, 0] => (Family::Volume, Factor::new(1_000_000, 1)),
        [0, 1, 0, 0, 0, 0, 0] => (Family::ClockTime, Factor::new(1, 86_400)),
        _ => return None,
    };
    let (digits, exp) = analysis.factor.to_integer_and_exponent();
    let ten = 10i128.checked_pow(exp.unsigned_abs())?;
    let base = if exp >= 0 {
        Factor::new(digits.checked_mul(ten)?, 1)
    } else {
        Factor::new(digits, ten)
    };
    Some((family, base.mul(to_canonical)?))
}

/// A length atom squared, an area: `m2`, `cm2`, `m²` (UCUM writes the
/// exponent as a trailing digit).
fn squared_length(atom: &str) -> Option<Factor> {
    let stem = atom
        .strip_suffix('2')
        .or_else(|| atom.strip_suffix('²'))
        .or_else(|| atom.strip_suffix("^2"))?;
    let a = lookup(stem).filter(|a| a.family == Family::Length)?;
    let f = Factor::new(a.num, a.den);
    f.mul(f)
}

fn suggest_atom(atom: &str) -> Option<&'static str> {
    // A case slip (`Mg`, `MG`, `KG`) is the commonest error; prefer it.
    if let Some(a) = ATOMS
        .iter()
        .find(|a| a.names.iter().any(|n| n.eq_ignore_ascii_case(atom)))
    {
        return a
            .names
            .iter()
            .copied()
            .find(|n| n.eq_ignore_ascii_case(atom));
    }
    crate::suggest::closest(atom, known_spellings())
}

impl Unit {
    /// Parses unit text: atoms joined by `/`, the first in the numerator and
    /// every later one in the denominator (`mg/kg/day` is mg per kg per day).
    ///
    /// Errors: `Mg` (unknown, did you mean `mg`), `mg/` (empty atom).
    pub fn parse(text: &str) -> Result<Unit, UnitError> {
        let text = text.trimmed();
        // Every catalogue spelling and the commonest compound units, parsed
        // once: batch input parses the same few units millions of times.
        static COMMON: std::sync::OnceLock<Vec<Unit>> = std::sync::OnceLock::new();
        let common = COMMON.get_or_init(|| {
            // The commonest first: the list is searched in order.
            [
                "mg",
                "kg",
                "weeks",
                "days",
                "mg/day",
                "mg/kg/day",
                "mg/kg",
                "lb",
                "g",
                "mcg",
            ]
            .into_iter()
            .chain(known_spellings())
            .chain([
                "mg/wk",
                "mL/min/1.73m2",
                "mL/min",
                "m2",
                "mg/m2",
                "mg/m2/day",
                "mg/dL",
                "umol/L",
            ])
            .filter_map(|t| {
                Unit::parse_uncached(t).ok().map(|u| Unit {
                    text: t.into(),
                    ..u
                })
            })
            .collect()
        });
        if let Some(unit) = common.iter().find(|u| u.text == text) {
            return Ok(unit.clone());
        }
        Unit::parse_uncached(text)
    }

    fn parse_uncached(text: &str) -> Result<Unit, UnitError> {
        let text = text.trimmed();
        if text.is_empty() {
            return Err(UnitError::Empty);
        }
        let mut dim = Dim::NONE;
        let mut factor = Factor::ONE;
        let mut family = None;
        let mut calendar = false;
        for (i, atom_text) in text.split('/').enumerate() {
            let atom_text = atom_text.trimmed();
            if atom_text.is_empty() {
                // `1/day`: a leading `1` numerator is allowed.
                return Err(UnitError::Empty);
            }
            if i == 0 && atom_text == "1" {
                family.get_or_insert(Family::Annotation);
                continue;
            }
            let mut exponent = 1;
            let (atom_family, atom_factor) = match lookup(atom_text) {
                Some(atom) => (atom.family, Factor::new(atom.num, atom.den)),
                None => match squared_length(atom_text) {
                    Some(factor) => {
                        exponent = 2;
                        (Family::Length, factor)
                    }
                    None => ucum_atom(atom_text).ok_or_else(|| UnitError::Unknown {
                        atom: atom_text.to_owned(),
                        suggestion: suggest_atom(atom_text),
                    })?,
                },
            };
            family.get_or_insert(atom_family);
            calendar |= atom_family == Family::CalendarTime;
            let (base, atom_factor) = match atom_family {
                Family::Mass if i > 0 => (
                    BODY,
                    // Checked: a UCUM atom such as `mu` has a factor that
                    // overflows here; refuse it rather than wrap.
                    Factor::new(
                        atom_factor.num,
                        atom_factor.den.checked_mul(1_000_000).ok_or_else(|| {
                            UnitError::Unknown {
                                atom: atom_text.to_owned(),
                                suggestion: None,
                            }
                        })?,
                    ),
                ),
                Family::Mass => (MASS, atom_factor),
                Family::Volume => (VOLUME, atom_factor),
                Family::Time | Family::CalendarTime | Family::ClockTime => (TIME, atom_factor),
                Family::Annotation => (SURFACE, atom_factor),
                Family::Length => (LENGTH, atom_factor),
                Family::Amount => (AMOUNT, atom_factor),
            };
            let mut step = Dim::NONE;
            step.0[base] = exponent;
            let atom_factor =
                Factor::reduce(atom_factor.num, atom_factor.den).ok_or(UnitError::Empty)?;
            if i == 0 {
                dim = dim.times(step);
                factor = factor.mul(atom_factor).ok_or(UnitError::Empty)?;
            } else {
                dim = dim.per(step);
                factor = factor.div(atom_factor).ok_or(UnitError::Empty)?;
            }
        }
        Ok(Unit {
            text: match lookup(text) {
                Some(atom) => atom
                    .names
                    .iter()
                    .find(|n| **n == text)
                    .map_or_else(|| text.to_owned().into(), |n| (*n).into()),
                None => text.to_owned().into(),
            },
            dim,
            factor,
            family: family.unwrap_or(Family::Annotation),
            calendar,
        })
    }

    /// This unit read as a body mass: `kg`, `lb` and `g` name a body weight
    /// when the field or comparison calls for one.
    pub fn as_body_mass(&self) -> Option<Unit> {
        if self.dim != Dim::MASS {
            return None;
        }
        let factor = Factor::reduce(self.factor.num, self.factor.den.checked_mul(1_000_000)?)?;
        Some(Unit {
            text: self.text.clone(),
            dim: Dim::BODY_MASS,
            factor,
            family: self.family,
            calendar: self.calendar,
        })
    }
}

/// A number with a unit, held exactly in the canonical unit of its dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quantity {
    /// The value in canonical units (mg, kg, mL, day and their combinations).
    pub value: Decimal,
    /// The dimension.
    pub dim: Dim,
}

/// Why a quantity did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuantityError {
    /// No number at the start: `seventy kg`, `kg`.
    NotANumber(String),
    /// A number and nothing else: `70`.
    MissingUnit(Decimal),
    /// A unit that is not in the catalogue.
    Unit(UnitError),
    /// A number too large or too precise to hold exactly: `1e400 mg`.
    OutOfRange(String),
}

/// Splits `"70 kg"` or `"0.035g"` into its number and unit text.
///
/// Errors: `seventy kg` (not a number), `7O mg` (letter O for zero), `1,5 mg`
/// (decimal comma) and `1e400 mg` (beyond exact range).
pub fn split_quantity(text: &str) -> Result<(Decimal, &str), QuantityError> {
    let text = text.trimmed();
    // The number ends at the first byte that cannot be in it; that byte
    // is ASCII or starts a character, so the split is on a boundary.
    let end = text
        .bytes()
        .enumerate()
        .position(|(i, b)| {
            !(b.is_ascii_digit() || b == b'.' || (i == 0 && (b == b'-' || b == b'+')))
        })
        .unwrap_or(text.len());
    let (number, rest) = text.split_at(end);
    if number.is_empty() || number == "-" || number == "+" || number == "." {
        return Err(QuantityError::NotANumber(text.to_owned()));
    }
    let rest_trim = rest.trim_start();
    // `1,5 mg`, `1e3 mg`, `7O mg`: a number that runs into something numeric-looking.
    if rest.starts_with(',')
        || rest.starts_with(['e', 'E'])
            && rest_trim
                .chars()
                .nth(1)
                .is_some_and(|c| c.is_ascii_digit() || c == '-' || c == '+')
        || rest.starts_with(['O', 'o'])
            && !rest.starts_with("oz")
            && number.chars().all(|c| c.is_ascii_digit())
            && rest.chars().nth(1).is_none_or(|c| !c.is_ascii_alphabetic())
    {
        return Err(QuantityError::NotANumber(text.to_owned()));
    }
    let value =
        parse_decimal(number).ok_or_else(|| QuantityError::OutOfRange(number.to_owned()))?;
    Ok((value, rest_trim))
}

/// Parses a plain decimal (`70`, `0.035`, `-2`) exactly; `None` when it has
/// more digits than can be held exactly or is not a decimal.
pub fn parse_decimal(text: &str) -> Option<Decimal> {
    let text = text.strip_prefix('+').unwrap_or(text);
    let digits = text.strip_prefix('-').unwrap_or(text);
    // Digits with at most one point, and a digit at each end.
    let mut points = 0;
    for b in digits.bytes() {
        match b {
            b'.' => points += 1,
            b'0'..=b'9' => {}
            _ => return None,
        }
    }
    let valid = points <= 1
        && digits.ends_with(|c: char| c.is_ascii_digit())
        && digits.starts_with(|c: char| c.is_ascii_digit());
    if !valid {
        return None;
    }
    Decimal::from_str_exact(text).ok().map(|d| d.normalize())
}

/// Most significant digits a written number may have. Within it, a float
/// round-trips exactly, and no quotient of input values can round (at
/// rust_decimal's 28 digits) onto a limit it is not equal to.
pub const MAX_SIGNIFICANT_DIGITS: usize = 15;

/// The significant digits a decimal literal needs: `0.0350` needs 2 (35),
/// `120` needs 3, `120.0` needs 2.
pub fn significant_digits(text: &str) -> usize {
    // The digits without leading zeros, and without trailing zeros after
    // a decimal point.
    let (mut count, mut trailing_zeros) = (0, 0);
    for b in text.bytes().filter(u8::is_ascii_digit) {
        if count == 0 && b == b'0' {
            continue;
        }
        count += 1;
        trailing_zeros = if b == b'0' { trailing_zeros + 1 } else { 0 };
    }
    if text.contains('.') {
        count -= trailing_zeros;
    }
    count.max(1)
}

/// Parses `"70 kg"` into a quantity in canonical units.
pub fn parse_quantity(text: &str) -> Result<(Quantity, Unit), QuantityError> {
    let (value, unit_text) = split_quantity(text)?;
    if unit_text.is_empty() {
        return Err(QuantityError::MissingUnit(value));
    }
    let unit = Unit::parse(unit_text).map_err(QuantityError::Unit)?;
    let canonical = unit
        .factor
        .to_canonical(value)
        .ok_or_else(|| QuantityError::OutOfRange(text.to_owned()))?;
    Ok((
        Quantity {
            value: canonical,
            dim: unit.dim,
        },
        unit,
    ))
}

/// Formats a canonical `value` in `unit` for people: at most two decimals,
/// more only when rounding would make an inexact value look exact (so 2.001
/// is never shown as "2").
pub fn display_in(value: Decimal, unit: &Unit) -> String {
    let mut text = String::with_capacity(24);
    write_in(value, unit, &mut text);
    text
}

/// Appends `value` shown in `unit` to `out` (see [`display_in`]).
pub fn write_in(value: Decimal, unit: &Unit, out: &mut String) {
    match unit.factor.from_canonical(value) {
        Some(v) => {
            let start = out.len();
            write_number(v, out);
            let one = out.get(start..) == Some("1");
            out.push(' ');
            out.push_str(if one {
                singular(&unit.text)
            } else {
                &unit.text
            });
        }
        None => {
            write_number(value, out);
            out.push(' ');
            out.push_str(&unit.dim.canonical_unit());
        }
    }
}

/// The singular of a unit written as a plural word (`1 day`, not `1 days`);
/// symbols (`mg`, `wk`) and other text are unchanged.
fn singular(unit: &str) -> &str {
    match unit {
        "days" | "weeks" | "hours" | "years" | "months" => unit.strip_suffix('s').unwrap_or(unit),
        _ => unit,
    }
}

/// Formats a number for people (see [`display_in`]).
pub fn display_number(value: Decimal) -> String {
    let mut text = String::with_capacity(16);
    write_number(value, &mut text);
    text
}

/// Appends `value` formatted for people to `out` (see [`display_in`]).
pub fn write_number(value: Decimal, out: &mut String) {
    let exact = value.normalize();
    if exact.scale() <= 2 {
        return push_plain(exact, out);
    }
    for places in 2..=6 {
        let rounded = value.round_dp(places).normalize();
        if rounded == exact || rounded.scale() == places {
            return push_plain(rounded, out);
        }
    }
    push_plain(value.round_dp(6).normalize(), out)
}

/// Appends a decimal as plain digits, as its `Display` writes it, without
/// the formatting machinery (this runs for every value of every finding).
fn push_plain(d: Decimal, out: &mut String) {
    let scale = d.scale() as usize;
    let mantissa = d.mantissa();
    // Digits are written from the end of `buf` back to `at`.
    fn push(buf: &mut [u8; 64], at: &mut usize, digit: u8) {
        *at -= 1;
        if let Some(slot) = buf.get_mut(*at) {
            *slot = b'0' + digit;
        }
    }
    let mut buf = [0u8; 64];
    let mut at = buf.len();
    match u64::try_from(mantissa.unsigned_abs()) {
        Ok(mut n) => loop {
            push(&mut buf, &mut at, (n % 10) as u8);
            n /= 10;
            if n == 0 {
                break;
            }
        },
        Err(_) => {
            let mut n = mantissa.unsigned_abs();
            loop {
                push(&mut buf, &mut at, (n % 10) as u8);
                n /= 10;
                if n == 0 {
                    break;
                }
            }
        }
    }
    // At least one digit before the point: 0.05 has digits "005".
    while buf.len() - at <= scale {
        push(&mut buf, &mut at, 0);
    }
    let digits = buf.get(at..).unwrap_or_default();
    let (whole, fraction) = digits.split_at(digits.len() - scale);
    // The digits are ASCII, so they are always UTF-8.
    let ascii = |bytes| std::str::from_utf8(bytes).unwrap_or_default();
    if d.is_sign_negative() {
        out.push('-');
    }
    out.push_str(ascii(whole));
    if scale > 0 {
        out.push('.');
        out.push_str(ascii(fraction));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap_or_default()
    }

    #[test]
    fn plain_digits_match_display() {
        let mut values = vec![
            Decimal::ZERO,
            Decimal::new(-0, 3),
            Decimal::new(5, 2),
            Decimal::new(-5, 2),
            Decimal::new(12_000, 3),
            Decimal::new(7616, 2),
            Decimal::MAX,
            Decimal::MIN,
            Decimal::new(1, 28),
            Decimal::new(-1, 28),
            Decimal::from_i128_with_scale(i128::from(u64::MAX) + 1, 5),
        ];
        for scale in [0, 3] {
            let mut negative_zero = Decimal::new(0, scale);
            negative_zero.set_sign_negative(true);
            values.push(negative_zero);
        }
        let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let m = i128::from(x as i64) * i128::from((x >> 40) as i64 + 1);
            values.push(Decimal::from_i128_with_scale(m, (x % 29) as u32));
            values.push(Decimal::new((x >> 3) as i64 % 100_000, (x % 7) as u32));
        }
        for v in values {
            let mut plain = String::new();
            push_plain(v, &mut plain);
            assert_eq!(plain, v.to_string(), "{v:?}");
        }
    }

    #[test]
    fn significant_digits_count_what_a_float_must_hold() {
        // The plain definition: the digits, less leading zeros, and less
        // trailing zeros when there is a decimal point.
        fn reference(text: &str) -> usize {
            let digits: String = text.chars().filter(char::is_ascii_digit).collect();
            let trimmed = digits.trim_start_matches('0');
            let trimmed = if text.contains('.') {
                trimmed.trim_end_matches('0')
            } else {
                trimmed
            };
            trimmed.len().max(1)
        }
        let cases = [
            ("0", 1),
            ("0.0350", 2),
            ("120", 3),
            ("120.0", 2),
            ("-0.000100", 1),
            ("1.000000000000001", 16),
            ("1000000000000000000", 19),
            ("0.0000000000000001", 1),
            ("10.01", 4),
            ("", 1),
            ("1e5", 2),
            ("00012300.00450", 9),
        ];
        for (text, want) in cases {
            assert_eq!(significant_digits(text), want, "{text}");
            assert_eq!(significant_digits(text), reference(text), "{text}");
        }
    }

    #[test]
    fn conversions_are_exact() {
        let table = [
            ("70 kg", "70000000", Dim::MASS),
            ("0.035 g", "35", Dim::MASS),
            ("35000 mcg", "35", Dim::MASS),
            ("35000 ug", "35", Dim::MASS),
            ("2 mg/kg/day", "2", Dim::DOSE_RATE_PER_KG),
            ("16 weeks", "112", Dim::TIME),
            ("8 wk", "56", Dim::TIME),
            ("30 mL/min/1.73m2", "43200", Dim::EGFR),
            ("30 mL/min/{1.73_m2}", "43200", Dim::EGFR),
            ("30 mL/min", "43200", Dim::FLOW),
            ("120 mg/kg", "120", Dim::DOSE_PER_KG),
        ];
        for (text, want, dim) in table {
            let (q, _) = parse_quantity(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
            assert_eq!(q.dim, dim, "{text}");
            assert_eq!(q.value, d(want), "{text}");
        }
        // 154 lb is 69.85322498 kg, held as 69853224.98 mg.
        assert_eq!(
            parse_quantity("154 lb").map(|(q, _)| q.value).ok(),
            Some(d("69853224.98"))
        );
    }

    #[test]
    fn unit_errors_suggest() {
        assert_eq!(
            Unit::parse("Mg"),
            Err(UnitError::Unknown {
                atom: "Mg".into(),
                suggestion: Some("mg")
            })
        );
        assert!(matches!(Unit::parse("mg/"), Err(UnitError::Empty)));
        assert!(matches!(
            parse_quantity("70"),
            Err(QuantityError::MissingUnit(_))
        ));
        assert!(matches!(
            parse_quantity("7O mg"),
            Err(QuantityError::NotANumber(_))
        ));
        assert!(matches!(
            parse_quantity("1,5 mg"),
            Err(QuantityError::NotANumber(_))
        ));
        assert!(matches!(
            parse_quantity("1e400 mg"),
            Err(QuantityError::NotANumber(_))
        ));
    }

    #[test]
    fn display_never_hides_inexactness() {
        assert_eq!(display_number(d("2.2857142857")), "2.29");
        assert_eq!(display_number(d("2.001")), "2.001");
        assert_eq!(display_number(d("2")), "2");
        assert_eq!(display_number(d("0.4999")), "0.4999");
        assert_eq!(display_number(d("1.50")), "1.5");
    }
}

#[cfg(test)]
mod ucum_tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn other_ucum_atoms_convert_exactly() {
        let volume = Dim([0, 0, 1, 0, 0, 0, 0]);
        let table = [
            ("1 [gr]", "64.79891", Dim::MASS),
            ("2 [oz_av]", "56699.04625", Dim::MASS),
            ("5 cL", "50", volume),
            ("86400 s", "1", Dim::TIME),
        ];
        for (text, want, dim) in table {
            let (q, _) = parse_quantity(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
            assert_eq!(
                (q.value, q.dim),
                (Decimal::from_str(want).unwrap_or_default(), dim),
                "{text}"
            );
        }
        // Arbitrary units, temperatures and case slips are refused.
        for text in ["5 [IU]", "5 Cel", "5 Mg", "5 MG"] {
            assert!(parse_quantity(text).is_err(), "{text}");
        }
    }
}

#[cfg(test)]
mod display_tests {
    use super::{Unit, display_in};
    use rust_decimal::Decimal;

    /// A count of one takes the singular of a unit written as a word: the
    /// messages said "every 1 days".
    #[test]
    fn one_takes_the_singular() {
        let shown = |value: i64, unit: &str| {
            let unit = Unit::parse(unit).unwrap_or_else(|e| panic!("{unit}: {e:?}"));
            display_in(
                unit.factor
                    .to_canonical(Decimal::from(value))
                    .unwrap_or_default(),
                &unit,
            )
        };
        assert_eq!(shown(1, "days"), "1 day");
        assert_eq!(shown(2, "days"), "2 days");
        assert_eq!(shown(1, "weeks"), "1 week");
        assert_eq!(shown(1, "hours"), "1 hour");
        assert_eq!(shown(24, "hours"), "24 hours");
        assert_eq!(shown(1, "years"), "1 year");
        assert_eq!(shown(1, "mg"), "1 mg");
        assert_eq!(shown(1, "wk"), "1 wk");
    }
}
