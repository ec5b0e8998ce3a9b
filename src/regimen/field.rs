//! Field validation and derived facts for [`Builder::finish`].
//!
//! Takes a builder's given fields and gives a [`Regimen`] whose fact rows are
//! ready to evaluate, or its problems, every one of them: each field is
//! checked by `validate` (frequencies by `frequency`), then the derived
//! facts are computed by `derive`.

mod derive;
mod frequency;
mod validate;

use std::sync::Arc;

use rust_decimal::Decimal;

use super::{Builder, Given, GivenAt, InputProblem, MAX_ID_BYTES, Regimen, Table};
use crate::codes::InputCode;
use crate::facts::{Fact, Val};
use crate::source::{SourceFile, Span, Spanned};
use crate::text::Trim;
use derive::{Schedule, derive, derive_patient};
use frequency::frequency;
use validate::{Ctx, field_value, text_of, written_as};
pub(super) use validate::{field_dim, unit_fits};

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
            code: InputCode::TooLarge,
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
            InputCode::NotARegimen
                | InputCode::Syntax
                | InputCode::NotUtf8
                | InputCode::TooLarge
                | InputCode::CsvRaggedRow
                | InputCode::CsvEmpty
                | InputCode::UnreadableFile
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
            rows: Table::default(),
            spans: Table::default(),
            anchors: b.anchors,
            problems: b.problems,
            not_applicable: Vec::new(),
        };
    }
    let vocabulary = b.vocabulary;
    let width = vocabulary.len();
    let mut ctx = Ctx {
        problems: b.problems,
    };
    // An id that is no text or number (a mapping, a list, `true`) is said,
    // not silently replaced by the record's position.
    if let Some(raw) =
        b.id.as_ref()
            .filter(|raw| !matches!(raw.value, Given::Null) && text_of(raw).is_none())
    {
        ctx.wrong_type(&"id", raw, "text or a number", "not an id");
    }
    let id =
        b.id.as_ref()
            .and_then(text_of)
            .filter(|s| !s.is_empty())
            .unwrap_or(default_id);
    let drug = match &b.drug {
        Some(raw) => match &raw.value {
            Given::Text(t) if !t.trimmed().is_empty() => Some(Spanned::new(
                t.trimmed().to_owned(),
                raw.span.unwrap_or_default(),
            )),
            _ => {
                ctx.problem(
                    InputCode::WrongType,
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
                code: InputCode::MissingField,
                field: "drug".into(),
                message: "the regimen names no drug".into(),
                span: Some(b.anchors.document),
                label: "no `drug` field".into(),
                help: Some("add e.g. `drug: isotretinoin`".into()),
            });
            None
        }
    };

    // The regimen's rows, built in place in one table: the course at 0,
    // then a row per phase (copying rows per record showed in profiles).
    let mut rows: Table<Option<Val>> = Table::with_capacity(width, b.phases.len() + 1);
    let mut span_rows: Table<Option<Span>> = Table::with_capacity(width, b.phases.len() + 1);
    rows.push_empty();
    span_rows.push_empty();
    if let (Some(course), Some(course_spans)) = (rows.get_mut(0), span_rows.get_mut(0)) {
        for (fact, raw) in &b.fields {
            let fact = written_as(vocabulary, *fact, raw);
            let info = vocabulary.info(fact);
            if let Some(v) = field_value(&mut ctx, info, &info.path, raw) {
                course[fact.index()] = Some(v);
                course_spans[fact.index()] = raw.span;
            }
        }
        derive_patient(course, course_spans, vocabulary);
    }

    if b.phases.is_empty() {
        ctx.problems.push(InputProblem {
            code: InputCode::MissingField,
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
    // Each phase's schedule, kept exact for the daily dose: dose x count x
    // 24 / hours, one division.
    let mut schedules: Vec<Option<Schedule>> = Vec::with_capacity(b.phases.len());
    // Facts that do not apply to a phase (a single administration has no
    // interval): a rule that turns on one does not apply there.
    let mut not_applicable: Vec<(usize, Fact)> = Vec::new();
    for (i, phase) in b.phases.iter().enumerate() {
        let index = i + 1;
        let anchor = b
            .anchors
            .phases
            .get(i)
            .copied()
            .unwrap_or(b.anchors.document);
        rows.push_empty();
        span_rows.push_empty();
        let (Some(row), Some(spans)) = (rows.get_mut(index), span_rows.get_mut(index)) else {
            continue;
        };
        row[Fact::PHASE_INDEX.index()] = Some(Val::Num(Decimal::from(index)));
        spans[Fact::PHASE_INDEX.index()] = Some(anchor);
        let mut dose_raw: Option<&GivenAt> = None;
        let mut daily_raw: Option<&GivenAt> = None;
        // Doses given per administration and per day, in any unit.
        let (mut doses, mut dailies) = (0, 0);
        let mut schedule = None;
        for (fact, raw) in phase {
            // `dose: 15 mg/kg` is the dose per kg: the unit says which.
            let fact = &written_as(vocabulary, *fact, raw);
            let info = vocabulary.info(*fact);
            // A phase fact's key is the name in the phase (`dose`).
            let path = PhasePath(index, info.key.as_deref().unwrap_or("?"));
            let value = if *fact == Fact::TIMES_PER_DAY {
                // The frequency gives the schedule: administrations per
                // day, its period, and the time between doses.
                schedule = frequency(&mut ctx, &path, raw);
                if let Some(s) = schedule {
                    // 7/week is a dose every day: one spacing, however
                    // written. A single administration has neither.
                    for (fact, value) in [
                        (Fact::PERIOD, s.period_days()),
                        (Fact::INTERVAL, s.interval_days()),
                    ] {
                        if let Some(v) = value {
                            row[fact.index()] = Some(Val::Num(v.normalize()));
                            spans[fact.index()] = raw.span;
                        }
                    }
                }
                schedule
                    .and_then(Schedule::per_day)
                    .map(|t| Val::Num(t.normalize()))
            } else {
                let given = !matches!(raw.value, Given::Null);
                if DOSES.contains(fact) {
                    dose_raw = dose_raw.or(Some(raw));
                    doses += usize::from(given);
                } else if DAILY_DOSES.contains(fact) {
                    daily_raw = daily_raw.or(Some(raw));
                    dailies += usize::from(given);
                }
                field_value(&mut ctx, info, &path, raw)
            };
            if let Some(v) = value {
                row[fact.index()] = Some(v);
                spans[fact.index()] = raw.span;
            }
        }
        schedules.push(schedule);
        let as_needed = matches!(row[Fact::AS_NEEDED.index()], Some(Val::Bool(true)));
        if schedule == Some(Schedule::Once) {
            not_applicable.push((index, Fact::INTERVAL));
        }
        let here = |what: &str, help: &str| InputProblem {
            code: InputCode::MissingField,
            field: format!("course.phases[{index}].{what}"),
            message: format!("phase {index} has no {what}"),
            span: Some(anchor),
            label: format!("no `{what}`"),
            help: Some(help.to_owned()),
        };
        if doses > 1 || dailies > 1 {
            let raw = daily_raw.or(dose_raw);
            if let Some(raw) = raw {
                ctx.problem(
                    InputCode::ConflictingFields,
                    &format!("course.phases[{index}].dose"),
                    raw,
                    format!("phase {index} gives its dose more than once (in mg, mg/kg or mg/m2)"),
                    "give one",
                    Some("write the dose once, in the unit the prescription uses".into()),
                );
            }
        }
        match (dose_raw, daily_raw) {
            // An as-needed phase gives its dose and its most per day.
            (Some(_), Some(_)) if as_needed => {}
            (Some(_), Some(daily)) => ctx.problem(
                InputCode::ConflictingFields,
                &format!("course.phases[{index}].daily_dose"),
                daily,
                format!("phase {index} gives both `dose` and `daily_dose`"),
                "give one of the two",
                Some("`dose` is per administration, `daily_dose` the total per day; keep exactly one".into()),
            ),
            (None, None) => ctx.problems.push(here("dose", "add `dose: 20 mg` (per administration) or `daily_dose: 40 mg`")),
            _ => {}
        }
        if !as_needed && !phase.iter().any(|(f, _)| *f == Fact::TIMES_PER_DAY) {
            ctx.problems
                .push(here("frequency", "add e.g. `frequency: 2/day`"));
        }
        if !phase.iter().any(|(f, _)| *f == Fact::DURATION) {
            ctx.problems
                .push(here("duration", "add e.g. `duration: 16 weeks`"));
        }
    }

    let product = b.product.as_ref().and_then(|raw| match &raw.value {
        Given::Text(t) if !t.trimmed().is_empty() => Some(Spanned::new(
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
        rows: Table::default(),
        spans: Table::default(),
        anchors: b.anchors,
        problems: Vec::new(),
        not_applicable,
    };
    // Warnings (a repeated row) leave the regimen to be checked.
    let readable = |problems: &[InputProblem]| {
        problems
            .iter()
            .all(|p| p.code.level() < crate::diagnostic::Level::Error)
    };
    if readable(&ctx.problems)
        && let Err(problem) = derive(
            &mut rows,
            &mut span_rows,
            &schedules,
            &regimen.anchors,
            vocabulary,
        )
    {
        ctx.problems.push(*problem);
    }
    regimen.problems = ctx.problems;
    if readable(&regimen.problems)
        && let (Some((course, phases)), Some((course_spans, phase_spans))) =
            (rows.split_first_mut(), span_rows.split_first_mut())
    {
        // A phase row holds the course facts too, so phase rules read both.
        for (row, spans) in phases.zip(phase_spans) {
            let cells = row.iter_mut().zip(spans.iter_mut());
            for ((cell, span), (from, from_span)) in
                cells.zip(course.iter().zip(course_spans.iter()))
            {
                if cell.is_none() {
                    *cell = *from;
                    *span = span.or(*from_span);
                }
            }
        }
        regimen.rows = rows;
        regimen.spans = span_rows;
    }
    regimen
}

/// The facts a phase's `dose` and `daily_dose` may be written as.
const DOSES: [Fact; 3] = [Fact::DOSE, Fact::DOSE_PER_KG, Fact::DOSE_PER_M2];
const DAILY_DOSES: [Fact; 3] = [
    Fact::DAILY_DOSE,
    Fact::DAILY_DOSE_PER_KG,
    Fact::DAILY_DOSE_PER_M2,
];

/// `course.phases[N].field`, formatted only when a problem names it.
struct PhasePath<'k>(usize, &'k str);

impl std::fmt::Display for PhasePath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "course.phases[{}].{}", self.0, self.1)
    }
}
