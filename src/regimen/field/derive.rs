//! The derived facts of the spec, computed once per regimen from its
//! validated fields: daily doses, doses per kg, durations, cumulative
//! totals, the gap since the previous course, and renal impairment from an
//! eGFR.

use rust_decimal::Decimal;

use crate::codes::InputCode;
use crate::facts::{Fact, Val};
use crate::regimen::{InputProblem, Row, Table, div};
use crate::source::Span;
use crate::units;
use crate::vocabulary::Vocabulary;

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

/// Computes the derived facts of the spec on the course row (`rows[0]`)
/// and each phase row. Fails only on arithmetic overflow, or on a daily dose
/// beyond the vocabulary's plausible maximum.
pub(super) fn derive(
    rows: &mut Table<Option<Val>>,
    spans: &mut Table<Option<Span>>,
    schedules: &[(Decimal, Decimal)],
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
    let mut total_days = Decimal::ZERO;
    let mut cumulative = Decimal::ZERO;
    let mut max_daily: Option<(Decimal, Option<Span>)> = None;
    for (i, (row, spans)) in phases.zip(phase_spans).enumerate() {
        let &(count, period) = schedules.get(i).ok_or_else(overflow)?;
        let dose_span = spans[Fact::DOSE.index()].or(spans[Fact::DAILY_DOSE.index()]);
        let daily = match (num(row, Fact::DOSE), num(row, Fact::DAILY_DOSE)) {
            (Some(dose), _) => {
                div(dose.checked_mul(count).ok_or_else(overflow)?, period).ok_or_else(overflow)?
            }
            (None, Some(daily)) => {
                row[Fact::DOSE.index()] =
                    div(daily.checked_mul(period).ok_or_else(overflow)?, count).map(Val::Num);
                daily
            }
            (None, None) => return Err(overflow()),
        };
        // Each field may be plausible while their product is not: 60 g
        // twice a day is 120 g a day.
        if let Some((max, max_text)) = daily_max
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
        row[Fact::DAILY_DOSE.index()] = Some(Val::Num(daily));
        row[Fact::WEEKLY_DOSE.index()] = Some(Val::Num(daily));
        spans[Fact::WEEKLY_DOSE.index()] = dose_span;
        spans[Fact::DOSE.index()] = dose_span;
        spans[Fact::DAILY_DOSE.index()] = dose_span;
        spans[Fact::DAILY_DOSE_PER_KG.index()] = dose_span;
        if let Some(w) = weight {
            row[Fact::DAILY_DOSE_PER_KG.index()] =
                Some(Val::Num(div(daily, w).ok_or_else(overflow)?));
            if let Some(dose) = num(row, Fact::DOSE) {
                row[Fact::DOSE_PER_KG.index()] = Some(Val::Num(div(dose, w).ok_or_else(overflow)?));
                spans[Fact::DOSE_PER_KG.index()] = dose_span;
            }
        }
        let days = num(row, Fact::DURATION).ok_or_else(overflow)?;
        total_days = total_days.checked_add(days).ok_or_else(overflow)?;
        cumulative = cumulative
            .checked_add(daily.checked_mul(days).ok_or_else(overflow)?)
            .ok_or_else(overflow)?;
        if i == 0 {
            course[Fact::START_DAILY_DOSE.index()] = Some(Val::Num(daily));
            course_spans[Fact::START_DAILY_DOSE.index()] = dose_span;
        }
        if max_daily.is_none_or(|(m, _)| daily > m) {
            max_daily = Some((daily, dose_span));
        }
    }
    let block = anchors.course.or(Some(anchors.document));
    course[Fact::TOTAL_DURATION.index()] = Some(Val::Num(total_days));
    course_spans[Fact::TOTAL_DURATION.index()] = block;
    course[Fact::CUMULATIVE_DOSE.index()] = Some(Val::Num(cumulative));
    course_spans[Fact::CUMULATIVE_DOSE.index()] = block;
    course[Fact::PHASE_COUNT.index()] = Some(Val::Num(Decimal::from(phase_count)));
    if let Some((max, span)) = max_daily {
        course[Fact::MAX_DAILY_DOSE.index()] = Some(Val::Num(max));
        course_spans[Fact::MAX_DAILY_DOSE.index()] = span;
        if let Some(w) = weight {
            course[Fact::MAX_DAILY_DOSE_PER_KG.index()] =
                Some(Val::Num(div(max, w).ok_or_else(overflow)?));
            course_spans[Fact::MAX_DAILY_DOSE_PER_KG.index()] = span;
        }
    }
    if let Some(w) = weight {
        course[Fact::CUMULATIVE_DOSE_PER_KG.index()] =
            Some(Val::Num(div(cumulative, w).ok_or_else(overflow)?));
        course_spans[Fact::CUMULATIVE_DOSE_PER_KG.index()] = block;
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
