//! Regimens: the records rules are evaluated against.
//!
//! Every reader (YAML/JSON documents now, CSV, JSON Lines and FHIR in batch)
//! turns its input into calls on a [`Builder`]: one [`Given`] value per
//! field, with its span ([`GivenAt`]). [`Builder::finish`] validates every field (units, ranges, enum
//! values, dates), collects every problem rather than the first, and
//! computes the derived facts once, so evaluation reads only ready values.

pub mod arrow;
pub mod csv;
pub mod document;
pub mod fhir;
mod field;

use std::sync::Arc;

use rust_decimal::Decimal;

use crate::codes::InputCode;
use crate::facts::{Fact, FactSet, Val};
use crate::source::{SourceFile, Span, Spanned};
use crate::vocabulary::Vocabulary;

/// The facts of a regimen as the evaluator reads them, one value per fact
/// of the vocabulary: one row for the course, and one per phase (which
/// repeats the course facts, so a phase rule reads everything from one row).
pub type Row = [Option<Val>];

/// Where each fact of a row was written.
pub type SpanRow = [Option<Span>];

/// Rows of one width (the vocabulary's), in one allocation: a regimen's
/// course row, then its phase rows.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Table<T> {
    width: usize,
    cells: Vec<T>,
}

impl<T: Clone + Default> Table<T> {
    /// An empty table of rows `width` wide, with room for `rows` rows.
    pub fn with_capacity(width: usize, rows: usize) -> Self {
        Table {
            width,
            cells: Vec::with_capacity(width * rows),
        }
    }

    /// Appends a row of empty cells; returns its index.
    pub fn push_empty(&mut self) -> usize {
        let at = self.len();
        self.cells
            .resize(self.cells.len() + self.width, T::default());
        at
    }

    /// Appends a copy of `row`.
    pub fn push(&mut self, row: &[T]) {
        self.cells.extend_from_slice(row);
    }
}

impl<T> Table<T> {
    /// Number of rows.
    pub fn len(&self) -> usize {
        self.cells.len().checked_div(self.width).unwrap_or(0)
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.cells.is_empty()
    }

    /// Row `i`.
    pub fn get(&self, i: usize) -> Option<&[T]> {
        self.cells.get(i * self.width..(i + 1) * self.width)
    }

    /// Row `i`, to change.
    pub fn get_mut(&mut self, i: usize) -> Option<&mut [T]> {
        self.cells.get_mut(i * self.width..(i + 1) * self.width)
    }

    /// The first row.
    pub fn first(&self) -> Option<&[T]> {
        self.get(0)
    }

    /// The rows, in order.
    pub fn iter(&self) -> std::slice::ChunksExact<'_, T> {
        self.cells.chunks_exact(self.width.max(1))
    }

    /// The rows, in order, to change.
    pub fn iter_mut(&mut self) -> std::slice::ChunksExactMut<'_, T> {
        self.cells.chunks_exact_mut(self.width.max(1))
    }

    /// The first row and the others, to change.
    pub fn split_first_mut(&mut self) -> Option<(&mut [T], std::slice::ChunksExactMut<'_, T>)> {
        if self.cells.len() < self.width || self.width == 0 {
            return None;
        }
        let (first, rest) = self.cells.split_at_mut(self.width);
        Some((first, rest.chunks_exact_mut(self.width)))
    }
}

impl<T> std::ops::Index<usize> for Table<T> {
    type Output = [T];

    fn index(&self, i: usize) -> &[T] {
        &self.cells[i * self.width..(i + 1) * self.width]
    }
}

/// Most phases a regimen may have; more is refused as a malformed record.
pub const MAX_PHASES: usize = 1000;

/// Longest regimen id, in bytes; a longer one makes the regimen invalid
/// (`input.too-large`) rather than flood every report that names it.
pub const MAX_ID_BYTES: usize = 256;

/// A regimen read from its input: either valid (`problems` empty) with its
/// facts, or invalid with every problem found.
#[derive(Clone, Debug)]
pub struct Regimen {
    /// The regimen's id (given, or derived from its input position).
    pub id: String,
    /// Where it came from, as `file:line`.
    pub input: String,
    /// The drug as written.
    pub drug: Option<Spanned<String>>,
    /// The product (brand) as written, when given.
    pub product: Option<Spanned<String>>,
    /// The text its spans point into, when there is one.
    pub source: Option<Arc<SourceFile>>,
    /// Course facts (`rows[0]`) and one row per phase.
    pub rows: Table<Option<Val>>,
    /// Spans of the facts in `rows`, same shape.
    pub spans: Table<Option<Span>>,
    /// Places to point at when a fact is missing.
    pub anchors: Anchors,
    /// Input problems; when non-empty the regimen is `invalid` and no rule runs.
    pub problems: Vec<InputProblem>,
    /// Facts that do not apply to a row (a single administration has no
    /// interval), by row: a rule whose outcome turns only on them does not
    /// apply to that row.
    pub not_applicable: Vec<(usize, Fact)>,
}

/// Spans of the blocks a missing fact would have been written in.
#[derive(Clone, Debug, Default)]
pub struct Anchors {
    /// The whole regimen.
    pub document: Span,
    /// The `patient` block.
    pub patient: Option<Span>,
    /// The `course` block.
    pub course: Option<Span>,
    /// Each phase.
    pub phases: Vec<Span>,
}

impl Regimen {
    /// Number of phases.
    pub fn phase_count(&self) -> usize {
        self.rows.len().saturating_sub(1)
    }

    /// The course row.
    /// The facts that do not apply to row `row`.
    pub fn not_applicable(&self, row: usize) -> FactSet {
        self.not_applicable
            .iter()
            .filter(|(r, _)| *r == row)
            .fold(FactSet::EMPTY, |set, (_, f)| set.union(FactSet::one(*f)))
    }

    pub fn course(&self) -> &Row {
        &self.rows[0]
    }

    /// A fact's value in a row (0 for the course, 1.. for phases).
    pub fn get(&self, row: usize, fact: Fact) -> Option<Val> {
        self.rows
            .get(row)
            .and_then(|r| r.get(fact.index()).copied().flatten())
    }

    /// Where a fact was written in a row, or where it would have been.
    pub fn span_of(&self, row: usize, fact: Fact, vocabulary: &Vocabulary) -> Option<Span> {
        if let Some(span) = self
            .spans
            .get(row)
            .and_then(|r| r.get(fact.index()).copied().flatten())
        {
            return Some(span);
        }
        let info = vocabulary.info(fact);
        if info.path.starts_with("patient.") {
            return self.anchors.patient.or(Some(self.anchors.document));
        }
        if row > 0 {
            return self.anchors.phases.get(row - 1).copied();
        }
        self.anchors.course.or(Some(self.anchors.document))
    }
}

/// A problem with the input itself (not with the regimen it describes).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputProblem {
    /// Stable code (`input.missing-unit`).
    pub code: InputCode,
    /// The field, as a path (`patient.weight`, `course.phases[2].dose`).
    pub field: String,
    /// One line saying what is wrong.
    pub message: String,
    /// Where, when the input has positions.
    pub span: Option<Span>,
    /// Short text under the span.
    pub label: String,
    /// What would be right.
    pub help: Option<String>,
}

/// A field value as a reader found it and gives it to the [`Builder`],
/// before validation.
#[derive(Clone, Debug, PartialEq)]
pub enum Given {
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

/// A [`Given`] value with the span it came from.
#[derive(Clone, Debug)]
pub struct GivenAt {
    /// The value.
    pub value: Given,
    /// Where it was written.
    pub span: Option<Span>,
}

/// Collects a regimen's given fields from any reader, then validates them
/// against the vocabulary.
#[derive(Debug)]
pub struct Builder<'v> {
    vocabulary: &'v Vocabulary,
    id: Option<GivenAt>,
    drug: Option<GivenAt>,
    product: Option<GivenAt>,
    fields: Vec<(Fact, GivenAt)>,
    phases: Vec<Vec<(Fact, GivenAt)>>,
    anchors: Anchors,
    problems: Vec<InputProblem>,
}

pub use crate::vocabulary::Block;

impl<'v> Builder<'v> {
    /// A builder for a regimen whose whole text spans `document`.
    pub fn new(document: Span, vocabulary: &'v Vocabulary) -> Self {
        Self {
            vocabulary,
            id: None,
            drug: None,
            product: None,
            anchors: Anchors {
                document,
                phases: Vec::with_capacity(2),
                ..Anchors::default()
            },
            fields: Vec::with_capacity(16),
            phases: Vec::with_capacity(2),
            problems: Vec::new(),
        }
    }

    /// The vocabulary the fields are read against.
    pub fn vocabulary(&self) -> &'v Vocabulary {
        self.vocabulary
    }

    /// Sets the id.
    pub fn id(&mut self, raw: GivenAt) {
        self.id = Some(raw);
    }

    /// Sets the drug name.
    pub fn drug(&mut self, raw: GivenAt) {
        self.drug = Some(raw);
    }

    /// Sets the product (brand) name, which may select a product pack.
    pub fn product(&mut self, raw: GivenAt) {
        self.product = Some(raw);
    }

    /// Sets a recorded course fact (a patient, regimen or course field).
    pub fn field(&mut self, fact: Fact, raw: GivenAt) {
        self.fields.push((fact, raw));
    }

    /// Starts a new phase (1-based index returned) written at `span`.
    pub fn phase(&mut self, span: Span) -> usize {
        // A phase has up to six fields: room for them, so no regrowth.
        self.phases.push(Vec::with_capacity(6));
        self.anchors.phases.push(span);
        self.phases.len()
    }

    /// Sets a recorded fact of phase `index` (1-based, from [`Builder::phase`]).
    pub fn phase_field(&mut self, index: usize, fact: Fact, raw: GivenAt) {
        if let Some(phase) = index.checked_sub(1).and_then(|i| self.phases.get_mut(i)) {
            phase.push((fact, raw));
        }
    }

    /// Records where the `patient` block is.
    pub fn patient_block(&mut self, span: Span) {
        self.anchors.patient = Some(span);
    }

    /// Records where the `course` block is.
    pub fn course_block(&mut self, span: Span) {
        self.anchors.course = Some(span);
    }

    /// Records a problem found by the reader (unknown field, wrong shape).
    pub fn problem(&mut self, problem: InputProblem) {
        self.problems.push(problem);
    }

    /// Validates every field and computes the derived facts.
    pub fn finish(
        self,
        default_id: String,
        input: String,
        source: Option<Arc<SourceFile>>,
    ) -> Regimen {
        field::finish(self, default_id, input, source)
    }
}

/// `a / b` for decimals, `None` on division by zero or overflow.
pub(crate) fn div(a: Decimal, b: Decimal) -> Option<Decimal> {
    a.checked_div(b)
}
