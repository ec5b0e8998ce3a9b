//! The derived facts of the spec, computed once per regimen from its
//! validated fields: body surface area and creatinine clearance, each
//! phase's dose per administration and per day in mg, mg/kg and mg/m2,
//! its administrations, the course's cumulative totals (this course and
//! lifetime), the gap since the previous course, and renal impairment from
//! an eGFR.
//!
//! A dose written per kg (or per m2) is relative to the patient: with the
//! weight (or BSA) it also gives the absolute dose; without it only the
//! relative facts are known, so a template written per kg is checked by the
//! per-kg rules exactly and leaves the absolute ones unevaluated.

use rust_decimal::{Decimal, MathematicalOps};

use crate::codes::InputCode;
use crate::facts::{Fact, Val};
use crate::regimen::{InputProblem, Row, Table, div};
use crate::source::Span;
use crate::units;
use crate::vocabulary::Vocabulary;

/// A phase's schedule: `count` administrations every `hours` (2/day is 2
/// every 24 hours, every 21 days 1 every 504 hours), or one administration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Schedule {
    Every { count: Decimal, hours: Decimal },
    Once,
}

const HOURS_PER_DAY: Decimal = Decimal::from_parts(24, 0, 0, false, 0);

impl Schedule {
    /// Administrations per day, exactly where it is a terminating decimal.
    pub(super) fn per_day(self) -> Option<Decimal> {
        match self {
            Schedule::Every { count, hours } if hours == HOURS_PER_DAY => Some(count),
            Schedule::Every { count, hours } => div(count.checked_mul(HOURS_PER_DAY)?, hours),
            Schedule::Once => Some(Decimal::ONE),
        }
    }

    /// The schedule's period in days (1 for N/day, 7 for N/week).
    pub(super) fn period_days(self) -> Option<Decimal> {
        match self {
            Schedule::Every { hours, .. } if hours == HOURS_PER_DAY => Some(Decimal::ONE),
            Schedule::Every { hours, .. } => div(hours, HOURS_PER_DAY),
            Schedule::Once => None,
        }
    }

    /// Time between administrations, in days; none for a single one.
    pub(super) fn interval_days(self) -> Option<Decimal> {
        match self {
            Schedule::Every { count, hours } if hours == HOURS_PER_DAY => {
                div(Decimal::ONE, count).map(|d| d.normalize())
            }
            Schedule::Every { count, hours } => {
                div(hours, count.checked_mul(HOURS_PER_DAY)?).map(|d| d.normalize())
            }
            Schedule::Once => None,
        }
    }

    /// `per_admin` over a day: dose x count x 24 / hours, one division.
    /// A single administration is all given in its day.
    fn daily(self, per_admin: Decimal) -> Option<Decimal> {
        match self {
            // N a day: no division (the commonest schedule, in every record).
            Schedule::Every { count, hours } if hours == HOURS_PER_DAY => {
                per_admin.checked_mul(count)
            }
            Schedule::Every { count, hours } => div(
                per_admin.checked_mul(count)?.checked_mul(HOURS_PER_DAY)?,
                hours,
            ),
            Schedule::Once => Some(per_admin),
        }
    }

    /// The dose per administration that gives `per_day`.
    fn per_admin(self, per_day: Decimal) -> Option<Decimal> {
        match self {
            Schedule::Every { count, hours } => div(
                per_day.checked_mul(hours)?,
                count.checked_mul(HOURS_PER_DAY)?,
            ),
            Schedule::Once => Some(per_day),
        }
    }

    /// Administrations in `days`: ceil(duration / interval), every one
    /// starting inside the phase; 1 for a single administration.
    fn administrations(self, days: Decimal) -> Option<Decimal> {
        match self {
            Schedule::Every { count, hours } if hours == HOURS_PER_DAY => {
                days.checked_mul(count).map(|n| n.ceil())
            }
            Schedule::Every { count, hours } => {
                div(days.checked_mul(HOURS_PER_DAY)?.checked_mul(count)?, hours).map(|n| n.ceil())
            }
            Schedule::Once => Some(Decimal::ONE),
        }
    }
}

/// Renal impairment from eGFR (mL/min/1.73m2): >= 90 none, 60-89 mild,
/// 30-59 moderate, < 30 severe. The value is held in mL/day.
pub(super) fn renal_from_egfr(egfr_ml_per_day: Decimal, vocabulary: &Vocabulary) -> u8 {
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
    // The vocabulary declares these four values: the engine requires them.
    vocabulary
        .info(Fact::RENAL_IMPAIRMENT)
        .value_index(level)
        .unwrap_or(0)
}

fn num(row: &Row, fact: Fact) -> Option<Decimal> {
    match row[fact.index()] {
        Some(Val::Num(n)) => Some(n),
        _ => None,
    }
}

/// Sets `fact` to `value` where it is not already given, pointing at `span`.
fn put(
    row: &mut Row,
    spans: &mut [Option<Span>],
    fact: Fact,
    value: Option<Decimal>,
    span: Option<Span>,
) {
    if row[fact.index()].is_none()
        && let Some(v) = value
    {
        row[fact.index()] = Some(Val::Num(v));
        spans[fact.index()] = span;
    }
}

/// A square root, exact when the value is a square of a short decimal
/// (180 cm and 80 kg give exactly 2 m2), else to 28 significant digits.
fn sqrt(x: Decimal) -> Option<Decimal> {
    let root = x.sqrt()?;
    let short = root.round_dp(14).normalize();
    Some(if short.checked_mul(short) == Some(x) {
        short
    } else {
        root
    })
}

/// The patient's derived facts: body surface area by Mosteller and
/// creatinine clearance by Cockcroft-Gault, where not given; renal
/// impairment from an eGFR.
pub(super) fn derive_patient(
    course: &mut Row,
    spans: &mut [Option<Span>],
    vocabulary: &Vocabulary,
) {
    if course[Fact::RENAL_IMPAIRMENT.index()].is_none()
        && let Some(egfr) = num(course, Fact::EGFR)
    {
        course[Fact::RENAL_IMPAIRMENT.index()] = Some(Val::Enum(renal_from_egfr(egfr, vocabulary)));
        spans[Fact::RENAL_IMPAIRMENT.index()] = spans[Fact::EGFR.index()];
    }
    let weight = num(course, Fact::WEIGHT);
    // Mosteller: sqrt(height cm x weight kg / 3600); height is held in m.
    if course[Fact::BSA.index()].is_none() {
        let bsa = num(course, Fact::HEIGHT).zip(weight).and_then(|(h, w)| {
            let cm = h.checked_mul(Decimal::ONE_HUNDRED)?;
            sqrt(div(cm.checked_mul(w)?, Decimal::from(3600))?)
        });
        let at = spans[Fact::HEIGHT.index()];
        put(course, spans, Fact::BSA, bsa, at);
    }
    // Cockcroft-Gault: (140 - age in years) x weight kg / (72 x SCr mg/dL),
    // x 0.85 for a female; unknown for sex other or unknown.
    if course[Fact::SERUM_CREATININE.index()].is_none() || course[Fact::CRCL.index()].is_some() {
        return;
    }
    let factor = match course[Fact::SEX.index()] {
        Some(Val::Enum(i)) => match vocabulary.info(Fact::SEX).value_name(i) {
            "female" => Some(Decimal::new(85, 2)),
            "male" => Some(Decimal::ONE),
            _ => None,
        },
        _ => None,
    };
    let crcl = (|| {
        let years = div(num(course, Fact::AGE)?, Decimal::new(36525, 2))?;
        // SCr is held in mg/mL.
        let scr = num(course, Fact::SERUM_CREATININE)?.checked_mul(Decimal::ONE_HUNDRED)?;
        let top = (Decimal::from(140) - years)
            .checked_mul(weight?)?
            .checked_mul(factor?)?;
        let per_min = div(top, Decimal::from(72).checked_mul(scr)?)?;
        // Held in mL/day.
        (per_min > Decimal::ZERO).then(|| per_min.checked_mul(Decimal::from(1440)))?
    })();
    let at = spans[Fact::SERUM_CREATININE.index()];
    put(course, spans, Fact::CRCL, crcl, at);
}

/// The three ways a dose is relative to the patient, and the facts that
/// hold it per administration and per day.
const BASES: [(Fact, Fact); 3] = [
    (Fact::DOSE, Fact::DAILY_DOSE),
    (Fact::DOSE_PER_KG, Fact::DAILY_DOSE_PER_KG),
    (Fact::DOSE_PER_M2, Fact::DAILY_DOSE_PER_M2),
];
const CUMULATIVE: [Fact; 3] = [
    Fact::CUMULATIVE_DOSE,
    Fact::CUMULATIVE_DOSE_PER_KG,
    Fact::CUMULATIVE_DOSE_PER_M2,
];
const PRIOR: [Fact; 3] = [
    Fact::PRIOR_CUMULATIVE_DOSE,
    Fact::PRIOR_CUMULATIVE_DOSE_PER_KG,
    Fact::PRIOR_CUMULATIVE_DOSE_PER_M2,
];
const LIFETIME: [Fact; 3] = [
    Fact::LIFETIME_CUMULATIVE_DOSE,
    Fact::LIFETIME_CUMULATIVE_DOSE_PER_KG,
    Fact::LIFETIME_CUMULATIVE_DOSE_PER_M2,
];

/// An amount in each base (mg, per kg, per m2), the others filled in from
/// the one known through the weight and the BSA: per kg needs the weight
/// to give mg, and mg the BSA to give per m2.
fn across(
    mut v: [Option<Decimal>; 3],
    weight: Option<Decimal>,
    bsa: Option<Decimal>,
) -> Option<[Option<Decimal>; 3]> {
    if v[0].is_none() {
        if let (Some(kg), Some(w)) = (v[1], weight) {
            v[0] = Some(kg.checked_mul(w)?);
        } else if let (Some(m2), Some(a)) = (v[2], bsa) {
            v[0] = Some(m2.checked_mul(a)?);
        }
    }
    if let Some(abs) = v[0] {
        if v[1].is_none()
            && let Some(w) = weight
        {
            v[1] = Some(div(abs, w)?);
        }
        if v[2].is_none()
            && let Some(a) = bsa
        {
            v[2] = Some(div(abs, a)?);
        }
    }
    Some(v)
}

/// Computes the derived facts on the course row (`rows[0]`) and each phase
/// row. Fails only on arithmetic overflow, or on a daily dose beyond the
/// vocabulary's plausible maximum.
pub(super) fn derive(
    rows: &mut Table<Option<Val>>,
    spans: &mut Table<Option<Span>>,
    schedules: &[Option<Schedule>],
    anchors: &crate::regimen::Anchors,
    vocabulary: &Vocabulary,
) -> Result<(), Box<InputProblem>> {
    let overflow = || {
        Box::new(InputProblem {
            code: InputCode::OutOfRange,
            field: "course.phases".into(),
            message: "the course's totals are too large to compute exactly".into(),
            span: Some(anchors.course.unwrap_or(anchors.document)),
            label: "too large".into(),
            help: None,
        })
    };
    let (Some((course, phases)), Some((course_spans, phase_spans))) =
        (rows.split_first_mut(), spans.split_first_mut())
    else {
        return Err(overflow());
    };
    let phase_count = phases.len();
    let daily_max = vocabulary
        .info(Fact::DAILY_DOSE)
        .limits
        .as_ref()
        .map(|l| (l.max.0, l.max.1.as_str()));
    let weight = num(course, Fact::WEIGHT);
    let bsa = num(course, Fact::BSA);
    let mut total_days = Decimal::ZERO;
    // This course's totals in each base, while every phase has one.
    let mut cumulative: [Option<Decimal>; 3] = [Some(Decimal::ZERO); 3];
    let mut max_daily: [Option<(Decimal, Option<Span>)>; 3] = [None; 3];
    let mut max_known = [true; 3];
    for (i, (row, spans)) in phases.zip(phase_spans).enumerate() {
        let as_needed = matches!(row[Fact::AS_NEEDED.index()], Some(Val::Bool(true)));
        // Only an as-needed phase may leave its schedule out.
        let schedule = *schedules.get(i).ok_or_else(overflow)?;
        let fixed = match schedule {
            Some(s) if !as_needed => Some(s),
            None if !as_needed => return Err(overflow()),
            _ => None,
        };
        let dose_span = BASES
            .iter()
            .find_map(|(dose, daily)| spans[dose.index()].or(spans[daily.index()]));
        let given = |f: Fact| num(row, f);
        let mut per_admin = BASES.map(|(d, _)| given(d));
        let mut per_day = BASES.map(|(_, d)| given(d));
        // A fixed schedule gives the daily dose from the dose (and the dose
        // from the daily dose) in the base it is written in, before any
        // division by the weight or BSA; an as-needed phase's daily dose
        // is only its stated maximum.
        if let Some(schedule) = fixed {
            for b in 0..3 {
                if per_day[b].is_none()
                    && let Some(d) = per_admin[b]
                {
                    per_day[b] = Some(schedule.daily(d).ok_or_else(overflow)?);
                }
                if per_admin[b].is_none()
                    && let Some(d) = per_day[b]
                {
                    per_admin[b] = Some(schedule.per_admin(d).ok_or_else(overflow)?);
                }
            }
        }
        let per_admin = across(per_admin, weight, bsa).ok_or_else(overflow)?;
        let per_day = across(per_day, weight, bsa).ok_or_else(overflow)?;
        // Each field may be plausible while their product is not: 60 g
        // twice a day is 120 g a day.
        if let (Some((max, max_text)), Some(daily)) = (daily_max, per_day[0])
            && daily > max
        {
            return Err(Box::new(InputProblem {
                code: InputCode::OutOfRange,
                field: format!("course.phases[{}].dose", i + 1),
                message: format!(
                    "phase {} gives {} a day, beyond the plausible maximum of {}",
                    i + 1,
                    units::display_number(daily / Decimal::from(1000)) + " g",
                    max_text
                ),
                span: dose_span,
                label: "implausible daily dose".into(),
                help: Some("check the dose, its unit and the frequency".into()),
            }));
        }
        for (b, (dose, daily)) in BASES.iter().enumerate() {
            put(row, spans, *dose, per_admin[b], dose_span);
            put(row, spans, *daily, per_day[b], dose_span);
        }
        put(row, spans, Fact::WEEKLY_DOSE, per_day[0], dose_span);
        let days = num(row, Fact::DURATION).ok_or_else(overflow)?;
        total_days = total_days.checked_add(days).ok_or_else(overflow)?;
        // An as-needed phase gives at most its daily maximum each day.
        let administrations = match fixed {
            Some(s) => Some(s.administrations(days).ok_or_else(overflow)?),
            None => None,
        };
        let at = spans[Fact::DURATION.index()];
        put(row, spans, Fact::ADMINISTRATIONS, administrations, at);
        for b in 0..3 {
            let phase_total = match administrations {
                Some(n) => per_admin[b].and_then(|d| d.checked_mul(n)),
                None => per_day[b].and_then(|d| d.checked_mul(days)),
            };
            cumulative[b] = match (cumulative[b], phase_total) {
                (Some(sum), Some(t)) => Some(sum.checked_add(t).ok_or_else(overflow)?),
                _ => None,
            };
            match per_day[b] {
                Some(d) if max_daily[b].is_none_or(|(m, _)| d > m) => {
                    max_daily[b] = Some((d, dose_span));
                }
                Some(_) => {}
                None => max_known[b] = false,
            }
        }
        if i == 0
            && let Some(d) = per_day[0]
        {
            course[Fact::START_DAILY_DOSE.index()] = Some(Val::Num(d));
            course_spans[Fact::START_DAILY_DOSE.index()] = dose_span;
        }
    }
    let block = anchors.course.or(Some(anchors.document));
    course[Fact::TOTAL_DURATION.index()] = Some(Val::Num(total_days));
    course_spans[Fact::TOTAL_DURATION.index()] = block;
    course[Fact::PHASE_COUNT.index()] = Some(Val::Num(Decimal::from(phase_count)));
    for b in 0..3 {
        put(course, course_spans, CUMULATIVE[b], cumulative[b], block);
    }
    // The highest daily dose is known only when every phase's is.
    if let (Some((max, span)), true) = (max_daily[0], max_known[0]) {
        put(course, course_spans, Fact::MAX_DAILY_DOSE, Some(max), span);
    }
    if let (Some((max, span)), true) = (max_daily[1], max_known[1]) {
        put(
            course,
            course_spans,
            Fact::MAX_DAILY_DOSE_PER_KG,
            Some(max),
            span,
        );
    }
    // The prior dose in whichever base it was written, converted with this
    // course's weight or BSA, plus this course.
    let prior_span = PRIOR.iter().find_map(|f| course_spans[f.index()]);
    let prior = across(PRIOR.map(|f| num(course, f)), weight, bsa).ok_or_else(overflow)?;
    for b in 0..3 {
        let lifetime = match (prior[b], cumulative[b]) {
            (Some(p), Some(c)) => Some(p.checked_add(c).ok_or_else(overflow)?),
            _ => None,
        };
        put(course, course_spans, PRIOR[b], prior[b], prior_span);
        put(
            course,
            course_spans,
            LIFETIME[b],
            lifetime,
            prior_span.or(block),
        );
    }
    if let (Some(Val::Date(start)), Some(Val::Date(prev))) = (
        course[Fact::START.index()],
        course[Fact::PREVIOUS_COURSE_END.index()],
    ) {
        let gap = i64::from(start.days()) - i64::from(prev.days());
        course[Fact::GAP_SINCE_PREVIOUS_COURSE.index()] = Some(Val::Num(Decimal::from(gap)));
        course_spans[Fact::GAP_SINCE_PREVIOUS_COURSE.index()] = course_spans[Fact::START.index()];
    }
    Ok(())
}
