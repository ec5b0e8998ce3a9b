//! The derived facts of the spec, computed once per regimen from its
//! validated fields: daily doses, doses per kg, durations, cumulative
//! totals, the gap since the previous course, and renal impairment from an
//! eGFR.

use rust_decimal::Decimal;

use super::validate::DAILY_DOSE;
use crate::codes::InputCode;
use crate::facts::{Fact, RENAL, Val};
use crate::regimen::{InputProblem, Row, SpanRow, div};
use crate::source::Span;
use crate::units;

/// Renal impairment from eGFR (mL/min/1.73m2): >= 90 none, 60-89 mild,
/// 30-59 moderate, < 30 severe. The value is held in mL/day.
pub(super) fn renal_from_egfr(egfr_ml_per_day: Decimal) -> u8 {
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

fn num(row: &Row, fact: Fact) -> Option<Decimal> {
    match row[fact as usize] {
        Some(Val::Num(n)) => Some(n),
        _ => None,
    }
}

/// Computes the derived facts of the spec. Fails only on arithmetic overflow.
pub(super) fn derive(
    course: &mut Row,
    course_spans: &mut SpanRow,
    phases: &mut [Row],
    phase_spans: &mut [SpanRow],
    schedules: &[(Decimal, Decimal)],
    anchors: &crate::regimen::Anchors,
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
                code: InputCode::OutOfRange,
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
