//! The regimen model as rules see it: facts, their types and values.
//!
//! Rule expressions name facts by path (`phase.daily_dose_per_kg`); the
//! checker resolves each path once, at load time, to a [`Fact`], which the
//! evaluator reads by index. The [`Vocabulary`] (`rules/vocabulary.yaml`)
//! declares every fact; this module holds the engine's own facts, at fixed
//! indices, which the vocabulary must declare with the types listed here.

use rust_decimal::Decimal;

use crate::date::Date;
use crate::units::Dim;
use crate::vocabulary::Vocabulary;

/// The type of a fact or of an expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    /// A quantity of the given dimension (a plain number is `Dim::NONE`).
    Quantity(Dim),
    /// true or false.
    Bool,
    /// One value of the enum fact's domain (the fact names the domain).
    Enum(Fact),
    /// A calendar date.
    Date,
}

impl Type {
    /// Plain words for messages.
    pub fn describe(self, vocabulary: &Vocabulary) -> String {
        match self {
            Type::Quantity(dim) => dim.describe(),
            Type::Bool => "true/false".into(),
            Type::Enum(fact) => {
                let info = vocabulary.info(fact);
                format!("a {} ({})", info.domain, info.values.join(" | "))
            }
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

/// A fact a rule can name: an index into the [`Vocabulary`]. The facts the
/// engine computes with have fixed indices ([`ENGINE_FACTS`]); the
/// vocabulary declares every fact, these included, and any others after
/// them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fact(u8);

/// The type the engine computes with for one of its facts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineType {
    /// A quantity of this dimension.
    Quantity(Dim),
    /// An enum with at least these values.
    Enum(&'static [&'static str]),
    /// true or false.
    Bool,
    /// A calendar date.
    Date,
}

impl EngineType {
    /// Plain words for the vocabulary's diagnostics.
    pub fn describe(self) -> String {
        match self {
            EngineType::Quantity(dim) => dim.describe(),
            EngineType::Enum(values) => format!("an enum with the values {}", values.join(", ")),
            EngineType::Bool => "true/false".into(),
            EngineType::Date => "a date".into(),
        }
    }
}

macro_rules! engine_facts {
    ($( $name:ident = $path:literal: $ty:expr; )*) => {
        /// The facts the engine computes with, in index order: the inputs
        /// and results of the derivations (`regimen/field/derive.rs`), and
        /// the facts the FHIR reader maps from FHIR's own structure.
        pub const ENGINE_FACTS: &[(&str, EngineType)] = &[ $( ($path, $ty), )* ];

        /// Counts the indices.
        #[expect(
            non_camel_case_types,
            clippy::upper_case_acronyms,
            reason = "named as the constants they number"
        )]
        enum Index { $( $name, )* }

        impl Fact {
            $(
                #[doc = concat!("`", $path, "`.")]
                pub const $name: Fact = Fact(Index::$name as u8);
            )*
        }
    };
}

const fn q(dim: Dim) -> EngineType {
    EngineType::Quantity(dim)
}

engine_facts! {
    WEIGHT = "patient.weight": q(Dim::BODY_MASS);
    AGE = "patient.age": q(Dim::TIME);
    SEX = "patient.sex": EngineType::Enum(&["female", "male", "other", "unknown"]);
    EGFR = "patient.egfr": q(Dim::EGFR);
    RENAL_IMPAIRMENT = "patient.renal_impairment": EngineType::Enum(&["none", "mild", "moderate", "severe"]);
    INDICATION = "regimen.indication": EngineType::Enum(&[]);
    START = "course.start": EngineType::Date;
    PREVIOUS_COURSE_END = "course.previous_course_end": EngineType::Date;
    TOTAL_DURATION = "course.total_duration": q(Dim::TIME);
    CUMULATIVE_DOSE = "course.cumulative_dose": q(Dim::MASS);
    CUMULATIVE_DOSE_PER_KG = "course.cumulative_dose_per_kg": q(Dim::DOSE_PER_KG);
    START_DAILY_DOSE = "course.start_daily_dose": q(Dim::DOSE_RATE);
    MAX_DAILY_DOSE = "course.max_daily_dose": q(Dim::DOSE_RATE);
    MAX_DAILY_DOSE_PER_KG = "course.max_daily_dose_per_kg": q(Dim::DOSE_RATE_PER_KG);
    GAP_SINCE_PREVIOUS_COURSE = "course.gap_since_previous_course": q(Dim::TIME);
    PHASE_COUNT = "course.phase_count": q(Dim::NONE);
    PHASE_INDEX = "phase.index": q(Dim::NONE);
    DOSE = "phase.dose": q(Dim::MASS);
    DAILY_DOSE = "phase.daily_dose": q(Dim::DOSE_RATE);
    DAILY_DOSE_PER_KG = "phase.daily_dose_per_kg": q(Dim::DOSE_RATE_PER_KG);
    DOSE_PER_KG = "phase.dose_per_kg": q(Dim::DOSE_PER_KG);
    TIMES_PER_DAY = "phase.times_per_day": q(Dim::NONE);
    PERIOD = "phase.period": q(Dim::TIME);
    INTERVAL = "phase.interval": q(Dim::TIME);
    WEEKLY_DOSE = "phase.weekly_dose": q(Dim::DOSE_RATE);
    DURATION = "phase.duration": q(Dim::TIME);
    WITH_FOOD = "phase.with_food": EngineType::Bool;
    HEIGHT = "patient.height": q(Dim::LENGTH);
    BSA = "patient.bsa": q(Dim::AREA);
    SERUM_CREATININE = "patient.serum_creatinine": q(Dim::MASS_CONCENTRATION);
    CRCL = "patient.crcl": q(Dim::FLOW);
    DOSE_PER_M2 = "phase.dose_per_m2": q(Dim::DOSE_PER_M2);
    DAILY_DOSE_PER_M2 = "phase.daily_dose_per_m2": q(Dim::DOSE_RATE_PER_M2);
    ADMINISTRATIONS = "phase.administrations": q(Dim::NONE);
    AS_NEEDED = "phase.as_needed": EngineType::Bool;
    CUMULATIVE_DOSE_PER_M2 = "course.cumulative_dose_per_m2": q(Dim::DOSE_PER_M2);
    PRIOR_CUMULATIVE_DOSE = "course.prior_cumulative_dose": q(Dim::MASS);
    PRIOR_CUMULATIVE_DOSE_PER_KG = "course.prior_cumulative_dose_per_kg": q(Dim::DOSE_PER_KG);
    PRIOR_CUMULATIVE_DOSE_PER_M2 = "course.prior_cumulative_dose_per_m2": q(Dim::DOSE_PER_M2);
    LIFETIME_CUMULATIVE_DOSE = "course.lifetime_cumulative_dose": q(Dim::MASS);
    LIFETIME_CUMULATIVE_DOSE_PER_KG = "course.lifetime_cumulative_dose_per_kg": q(Dim::DOSE_PER_KG);
    LIFETIME_CUMULATIVE_DOSE_PER_M2 = "course.lifetime_cumulative_dose_per_m2": q(Dim::DOSE_PER_M2);
}

impl Fact {
    /// Most facts a vocabulary may declare (a [`FactSet`] is a bit mask,
    /// one bit kept for arithmetic failures).
    pub const MAX: usize = 127;

    /// The fact at `index` of the vocabulary.
    pub(crate) fn from_index(index: usize) -> Fact {
        Fact(u8::try_from(index).unwrap_or(u8::MAX))
    }

    /// Its index in the vocabulary and in a regimen's rows.
    pub fn index(self) -> usize {
        usize::from(self.0)
    }

    /// This fact's bit in a [`FactSet`].
    pub fn bit(self) -> u128 {
        1 << self.0
    }
}

/// A set of facts as a bit mask.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct FactSet(pub u128);

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

    /// Whether `fact` is in the set.
    pub fn contains(self, fact: Fact) -> bool {
        self.0 & fact.bit() != 0
    }

    /// The facts, in index order (see [`Vocabulary::ordered`] for the order
    /// people read them in).
    pub fn iter(self) -> impl Iterator<Item = Fact> {
        (0..=Fact::MAX)
            .map(Fact::from_index)
            .filter(move |f| self.contains(*f))
    }
}
