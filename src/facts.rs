//! The regimen model as rules see it: every fact a rule can name, its type,
//! and its display unit.
//!
//! Rule expressions name facts by path (`phase.daily_dose_per_kg`); the
//! checker resolves each path once, at load time, to a [`Fact`], which the
//! evaluator reads by index. This table is the one place that lists them.

use rust_decimal::Decimal;

use crate::date::Date;
use crate::units::Dim;

/// A set of named values a fact can take (`patient.sex`: female, male, ...).
#[derive(Debug, PartialEq, Eq)]
pub struct EnumDomain {
    /// The domain's name, for messages.
    pub name: &'static str,
    /// The values, in order; a value is stored as its index.
    pub values: &'static [&'static str],
}

impl EnumDomain {
    /// The index of `value`, if it belongs to the domain.
    pub fn index(&self, value: &str) -> Option<u8> {
        self.values
            .iter()
            .position(|v| *v == value)
            .and_then(|i| u8::try_from(i).ok())
    }

    /// The name of the value at `index`.
    pub fn name_of(&self, index: u8) -> &'static str {
        self.values.get(usize::from(index)).copied().unwrap_or("?")
    }
}

/// `patient.sex`.
pub static SEX: EnumDomain = EnumDomain {
    name: "sex",
    values: &["female", "male", "other", "unknown"],
};
/// `patient.pregnancy_test`.
pub static PREGNANCY_TEST: EnumDomain = EnumDomain {
    name: "pregnancy test",
    values: &["negative", "positive", "not_done"],
};
/// `patient.renal_impairment`.
pub static RENAL: EnumDomain = EnumDomain {
    name: "renal impairment",
    values: &["none", "mild", "moderate", "severe"],
};
/// `regimen.formulation`.
pub static FORMULATION: EnumDomain = EnumDomain {
    name: "formulation",
    values: &["immediate_release", "extended_release"],
};
/// `regimen.route`.
pub static ROUTE: EnumDomain = EnumDomain {
    name: "route",
    values: &[
        "oral",
        "subcutaneous",
        "intramuscular",
        "intravenous",
        "topical",
    ],
};
/// `regimen.indication`.
pub static INDICATION: EnumDomain = EnumDomain {
    name: "indication",
    values: &[
        "acne",
        "rheumatoid_arthritis",
        "psoriasis",
        "type_2_diabetes",
        "other",
    ],
};
/// `patient.severity`.
pub static SEVERITY: EnumDomain = EnumDomain {
    name: "disease severity",
    values: &["mild", "moderate", "severe", "very_severe"],
};

/// The type of a fact or of an expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    /// A quantity of the given dimension (a plain number is `Dim::NONE`).
    Quantity(Dim),
    /// true or false.
    Bool,
    /// One value of a domain.
    Enum(&'static EnumDomain),
    /// A calendar date.
    Date,
}

impl Type {
    /// Plain words for messages.
    pub fn describe(self) -> String {
        match self {
            Type::Quantity(dim) => dim.describe(),
            Type::Bool => "true/false".into(),
            Type::Enum(domain) => format!("a {} ({})", domain.name, domain.values.join(" | ")),
            Type::Date => "a date".into(),
        }
    }
}

/// Whether a fact belongs to the whole regimen or to one phase; a rule's
/// `scope:` says the same of the rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Patient and course facts.
    Course,
    /// Facts of one phase; rules that use them run once per phase.
    Phase,
}

/// A runtime value. Quantities are exact decimals in the canonical unit of
/// their (statically known) dimension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Val {
    /// A number in canonical units.
    Num(Decimal),
    /// A boolean.
    Bool(bool),
    /// An enum value's index in its domain.
    Enum(u8),
    /// A date.
    Date(Date),
}

macro_rules! facts {
    ($( $variant:ident = $path:literal, $scope:ident, $ty:expr, $unit:expr, $doc:literal; )*) => {
        /// A fact a rule can name. The discriminant indexes [`FACTS`].
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[repr(u8)]
        pub enum Fact { $( #[doc = $doc] $variant, )* }

        /// Every fact, in [`Fact`] order.
        pub static FACTS: &[FactInfo] = &[
            $( FactInfo { fact: Fact::$variant, path: $path, scope: Scope::$scope, ty: $ty, unit: $unit, doc: $doc }, )*
        ];
    };
}

/// What the checker and the reporters know about a fact.
#[derive(Debug)]
pub struct FactInfo {
    /// The fact.
    pub fact: Fact,
    /// Its path in rule expressions.
    pub path: &'static str,
    /// Course or phase.
    pub scope: Scope,
    /// Its type.
    pub ty: Type,
    /// The unit values are shown in, for quantities.
    pub unit: Option<&'static str>,
    /// What it means, for `rules explain` and the README.
    pub doc: &'static str,
}

#[expect(
    non_snake_case,
    reason = "reads as a type constructor in the table below"
)]
const fn Q(dim: Dim) -> Type {
    Type::Quantity(dim)
}

facts! {
    Weight = "patient.weight", Course, Q(Dim::BODY_MASS), Some("kg"), "body weight";
    Age = "patient.age", Course, Q(Dim::TIME), Some("years"), "age at the start of the course";
    Sex = "patient.sex", Course, Type::Enum(&SEX), None, "female | male | other | unknown";
    Pregnant = "patient.pregnant", Course, Type::Bool, None, "recorded pregnancy";
    ChildbearingPotential = "patient.childbearing_potential", Course, Type::Bool, None, "able to become pregnant";
    PregnancyTest = "patient.pregnancy_test", Course, Type::Enum(&PREGNANCY_TEST), None, "negative | positive | not_done";
    Contraception = "patient.contraception", Course, Type::Bool, None, "documented effective contraception";
    Egfr = "patient.egfr", Course, Q(Dim::FLOW), Some("mL/min/1.73m2"), "estimated glomerular filtration rate";
    RenalImpairment = "patient.renal_impairment", Course, Type::Enum(&RENAL), None, "none | mild | moderate | severe; derived from eGFR when not given (>= 90 none, 60-89 mild, 30-59 moderate, < 30 severe)";
    Severity = "patient.severity", Course, Type::Enum(&SEVERITY), None, "mild | moderate | severe | very_severe";
    Scarring = "patient.scarring", Course, Type::Bool, None, "disease with scarring";
    Truncal = "patient.truncal", Course, Type::Bool, None, "disease primarily on the trunk";
    Formulation = "regimen.formulation", Course, Type::Enum(&FORMULATION), None, "immediate_release | extended_release";
    Route = "regimen.route", Course, Type::Enum(&ROUTE), None, "oral | subcutaneous | intramuscular | intravenous | topical";
    Indication = "regimen.indication", Course, Type::Enum(&INDICATION), None, "acne | rheumatoid_arthritis | psoriasis | type_2_diabetes | other";
    Initiation = "course.initiation", Course, Type::Bool, None, "the course starts the drug (true) or continues it (false)";
    Start = "course.start", Course, Type::Date, None, "first day of the course";
    PreviousCourseEnd = "course.previous_course_end", Course, Type::Date, None, "last day of the previous course";
    TotalDuration = "course.total_duration", Course, Q(Dim::TIME), Some("weeks"), "sum of the phase durations";
    CumulativeDose = "course.cumulative_dose", Course, Q(Dim::MASS), Some("mg"), "total drug over the course";
    CumulativeDosePerKg = "course.cumulative_dose_per_kg", Course, Q(Dim::DOSE_PER_KG), Some("mg/kg"), "total drug over the course per kg of body weight";
    StartDailyDose = "course.start_daily_dose", Course, Q(Dim::DOSE_RATE), Some("mg/day"), "daily dose of the first phase";
    MaxDailyDose = "course.max_daily_dose", Course, Q(Dim::DOSE_RATE), Some("mg/day"), "highest daily dose of any phase";
    MaxDailyDosePerKg = "course.max_daily_dose_per_kg", Course, Q(Dim::DOSE_RATE_PER_KG), Some("mg/kg/day"), "highest daily dose per kg of any phase";
    GapSincePreviousCourse = "course.gap_since_previous_course", Course, Q(Dim::TIME), Some("days"), "start minus previous_course_end";
    PhaseCount = "course.phase_count", Course, Q(Dim::NONE), None, "number of phases";
    PhaseIndex = "phase.index", Phase, Q(Dim::NONE), None, "1-based position of the phase";
    Dose = "phase.dose", Phase, Q(Dim::MASS), Some("mg"), "dose per administration (daily dose / times per day when only the daily dose is given)";
    DailyDose = "phase.daily_dose", Phase, Q(Dim::DOSE_RATE), Some("mg/day"), "total dose per day";
    DailyDosePerKg = "phase.daily_dose_per_kg", Phase, Q(Dim::DOSE_RATE_PER_KG), Some("mg/kg/day"), "daily dose per kg of body weight";
    TimesPerDay = "phase.times_per_day", Phase, Q(Dim::NONE), None, "administrations per day (1/7 for once weekly)";
    Period = "phase.period", Phase, Q(Dim::TIME), Some("days"), "the schedule's period: 1 day for N/day, 7 days for N/week";
    Interval = "phase.interval", Phase, Q(Dim::TIME), Some("hours"), "average time between administrations: 24 hours / N for N/day, 7 days / N for N/week (below 2 days, doses fall on consecutive days however the schedule is written)";
    WeeklyDose = "phase.weekly_dose", Phase, Q(Dim::DOSE_RATE), Some("mg/wk"), "total dose per week (the daily dose, shown per week)";
    Duration = "phase.duration", Phase, Q(Dim::TIME), Some("weeks"), "length of the phase";
    WithFood = "phase.with_food", Phase, Type::Bool, None, "taken with food";
}

/// Number of facts.
pub const FACT_COUNT: usize = FACTS.len();

impl Fact {
    /// The catalogue entry.
    pub fn info(self) -> &'static FactInfo {
        &FACTS[self as usize]
    }

    /// The fact at `path`.
    pub fn from_path(path: &str) -> Option<Fact> {
        FACTS.iter().find(|f| f.path == path).map(|f| f.fact)
    }

    /// The input facts a derived fact is computed from, so that an
    /// unevaluated finding names what the user must add (`patient.weight`),
    /// not an intermediate (`phase.daily_dose_per_kg`).
    pub fn inputs(self) -> &'static [Fact] {
        match self {
            Fact::DailyDosePerKg | Fact::CumulativeDosePerKg | Fact::MaxDailyDosePerKg => {
                &[Fact::Weight]
            }
            Fact::GapSincePreviousCourse => &[Fact::Start, Fact::PreviousCourseEnd],
            _ => &[],
        }
    }

    /// This fact's bit in a [`FactSet`].
    pub fn bit(self) -> u64 {
        1 << (self as u8)
    }
}

/// A set of facts as a bit mask (there are fewer than 64).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FactSet(pub u64);

impl FactSet {
    /// The empty set.
    pub const EMPTY: FactSet = FactSet(0);

    /// The set holding one fact.
    pub fn one(fact: Fact) -> FactSet {
        FactSet(fact.bit())
    }

    /// True when empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Union.
    pub fn union(self, other: FactSet) -> FactSet {
        FactSet(self.0 | other.0)
    }

    /// The facts, in catalogue order.
    pub fn iter(self) -> impl Iterator<Item = Fact> {
        FACTS
            .iter()
            .map(|f| f.fact)
            .filter(move |f| self.0 & f.bit() != 0)
    }
}

const _: () = assert!(FACT_COUNT <= 64, "FactSet is a u64");
