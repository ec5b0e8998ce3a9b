//! CSV prescriptions to [`Regimen`]s.
//!
//! One phase per row; adjacent rows with the same non-empty `id` are the
//! phases of one regimen, in file order or in that of a `phase` column.
//! Rows repeated exactly, and ids used again later, are warnings (see
//! [`Repeats`]). The columns, and the units of their
//! cells, are the vocabulary's (`weight_kg` in kg, `dose_mg` in mg); cells
//! are plain numbers, `true`/`false`, words, or empty for missing. The header is checked before any row is read; a bad cell
//! makes only its own regimen `invalid`, naming the row, column and value.

use crate::codes::InputCode;
use crate::text::Trim;
use std::sync::Arc;

use super::field::field_dim;
use super::{Builder, Given, GivenAt, InputProblem, Regimen};
use crate::diagnostic::{Diagnostic, Level, excerpt};
use crate::facts::{Fact, Scope};
use crate::source::{SourceFile, Span};
use crate::suggest;
use crate::units::{self, Dim, Unit};
use crate::vocabulary::Vocabulary;

pub mod columns;

use columns::{ColumnMap, key};

/// What a column holds.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Column {
    Id,
    /// The phase number of a row, which orders a regimen's rows.
    Phase,
    Drug,
    Product,
    /// A recorded fact (the vocabulary's `csv:`, or a column map's field),
    /// with the unit of its cells when they are plain numbers.
    Fact(Fact, Option<String>),
    /// Not read: unknown, empty, or mapped to `ignore`.
    Ignore,
}

/// Every column the vocabulary knows, in its order, after `id`, `phase`
/// and `drug` and before `product`.
pub fn columns(vocabulary: &Vocabulary) -> Vec<&str> {
    ["id", "phase", "drug"]
        .into_iter()
        .chain(
            vocabulary
                .facts()
                .flat_map(|f| f.csv.iter().map(|c| c.name.as_str())),
        )
        .chain(["product"])
        .collect()
}

/// rxlint's own column `name` (already a [`key`]).
fn column(name: &str, vocabulary: &Vocabulary) -> Option<Column> {
    match name {
        "id" => return Some(Column::Id),
        "phase" => return Some(Column::Phase),
        "drug" => return Some(Column::Drug),
        "product" => return Some(Column::Product),
        _ => {}
    }
    vocabulary.facts().find_map(|f| {
        f.csv
            .iter()
            .find(|c| c.name == name)
            .map(|c| Column::Fact(f.fact, c.unit.clone()))
    })
}

/// One column of a checked header.
#[derive(Debug)]
struct Slot {
    /// The header as written (trimmed).
    name: String,
    column: Column,
    /// What the column's unit measures, as its fact reads it, when its
    /// cells are plain numbers in that unit: a cell's own unit must
    /// measure the same.
    dim: Option<Dim>,
    /// Words to values, from the column map.
    values: Vec<(String, String)>,
}

impl Slot {
    /// The unit of the column's plain numbers, as written.
    fn unit_text(&self) -> &str {
        match &self.column {
            Column::Fact(_, Some(unit)) => unit,
            _ => "",
        }
    }
}

/// A checked header: which column holds what.
#[derive(Debug)]
pub struct Header {
    name: Arc<str>,
    columns: Vec<Slot>,
    id: Option<usize>,
    /// The `phase` column, which orders the rows of a regimen.
    phase: Option<usize>,
    /// What the run should be told but that does not stop it: the
    /// columns ignored.
    pub warnings: Vec<Diagnostic>,
}

impl Header {
    /// Checks a header row of file `name`, read through `map` when there
    /// is one. Headers are compared without regard to case or spaces.
    /// Unknown and empty columns are ignored with one warning; a
    /// duplicated column and the required columns missing are errors,
    /// the latter one diagnostic.
    ///
    /// Errors: two `dose_mg` columns, no `drug` column, neither `dose_mg`
    /// nor `daily_dose_mg`. Warnings: `wieght_kg` (did you mean
    /// `weight_kg`?), an empty trailing column.
    pub fn check(
        name: &str,
        cells: &[String],
        vocabulary: &Vocabulary,
        map: Option<&ColumnMap>,
    ) -> Result<Header, Vec<Diagnostic>> {
        let known = columns(vocabulary);
        let source = SourceFile::new(name, cells.join(","));
        let mut problems = Vec::new();
        let mut slots: Vec<Slot> = Vec::with_capacity(cells.len());
        // Unknown columns (name, span) and empty ones (span).
        let mut unknown: Vec<(String, Span)> = Vec::new();
        let mut empty: Vec<Span> = Vec::new();
        let mut offset = 0;
        for cell in cells {
            let trimmed = cell.trim().trim_start_matches('\u{feff}').trim();
            let span = Span::new(offset, offset + cell.len());
            offset += cell.len() + 1;
            let k = key(trimmed);
            let mapped = map.and_then(|m| m.get(&k));
            let (column, values) = match mapped {
                Some(m) => (Some(m.column.clone()), m.values.clone()),
                None => (column(&k, vocabulary), Vec::new()),
            };
            let column = match column {
                Some(c) => c,
                None => {
                    if k.is_empty() {
                        // An empty header has no width: point at the comma
                        // before it.
                        let start = span.start();
                        empty.push(match start {
                            0 => Span::new(0, (cells.len() > 1) as usize),
                            _ => Span::new(start - 1, start),
                        });
                    } else {
                        unknown.push((trimmed.to_owned(), span));
                    }
                    Column::Ignore
                }
            };
            if column != Column::Ignore
                && slots
                    .iter()
                    .any(|s| s.column != Column::Ignore && key(&s.name) == k)
            {
                problems.push(
                    Diagnostic::new(
                        InputCode::CsvDuplicateColumn.as_str(),
                        Level::Error,
                        format!("column `{trimmed}` appears twice"),
                    )
                    .at(&source, span, "second time"),
                );
            }
            let dim = match &column {
                Column::Fact(fact, Some(unit)) if *fact != Fact::TIMES_PER_DAY => Unit::parse(unit)
                    .ok()
                    .map(|u| field_dim(vocabulary, *fact, &u)),
                _ => None,
            };
            slots.push(Slot {
                name: trimmed.to_owned(),
                column,
                dim,
                values,
            });
        }
        let whole = Span::new(0, source.text().len());
        let fact_of = |s: &Slot| match s.column {
            Column::Fact(f, _) => Some(f),
            _ => None,
        };
        // A fact given by two columns (`frequency_per_day` and `frequency`).
        for fact in vocabulary.facts().map(|f| f.fact) {
            let given: Vec<&str> = slots
                .iter()
                .filter(|s| fact_of(s) == Some(fact))
                .map(|s| s.name.as_str())
                .collect();
            if let [a, b, ..] = given.as_slice()
                && key(a) != key(b)
            {
                problems.push(
                    Diagnostic::new(
                        InputCode::CsvDuplicateColumn.as_str(),
                        Level::Error,
                        format!("give `{a}` or `{b}`, not both"),
                    )
                    .at(&source, whole, "header"),
                );
            }
        }
        let has = |fact: Fact| slots.iter().any(|s| fact_of(s) == Some(fact));
        let names = |facts: &[Fact]| -> String {
            let names: Vec<String> = facts
                .iter()
                .flat_map(|f| vocabulary.info(*f).csv.iter())
                .map(|c| format!("`{}`", c.name))
                .collect();
            or_list(&names)
        };
        // The required columns: the drug, a frequency and a duration, and
        // a dose in any of its units (mg, mg/kg, mg/m2, per dose or per day).
        let mut missing: Vec<String> = Vec::new();
        if !slots.iter().any(|s| s.column == Column::Drug) {
            missing.push("the drug (`drug`)".into());
        }
        for (fact, what) in [
            (Fact::TIMES_PER_DAY, "a frequency"),
            (Fact::DURATION, "a duration"),
        ] {
            if !has(fact) {
                missing.push(format!("{what} ({})", names(&[fact])));
            }
        }
        let doses: Vec<Fact> = [Fact::DOSE, Fact::DAILY_DOSE]
            .into_iter()
            .flat_map(|f| vocabulary.written_alike(f).iter().copied())
            .collect();
        if !doses.iter().any(|f| has(*f)) {
            missing.push(format!("a dose ({})", names(&doses)));
        }
        if !missing.is_empty() {
            problems.push(missing_columns(
                name, &source, &missing, &unknown, &known, map,
            ));
        } else if !unknown.is_empty() || !empty.is_empty() {
            // Only when the header is usable: otherwise the error above
            // already names the close ones.
            problems.push(ignored_columns(
                name, &source, &unknown, &empty, &known, map,
            ));
        }
        let (warnings, errors): (Vec<Diagnostic>, Vec<Diagnostic>) = problems
            .into_iter()
            .partition(|d| d.level == Level::Warning);
        if !errors.is_empty() {
            return Err(errors);
        }
        let id = slots.iter().position(|s| s.column == Column::Id);
        let phase = slots.iter().position(|s| s.column == Column::Phase);
        Ok(Header {
            name: Arc::from(name),
            columns: slots,
            id,
            phase,
            warnings,
        })
    }

    /// The id cell of a row, if the file has an id column and the cell is
    /// neither empty nor other than UTF-8.
    pub fn id_of<'a>(&self, cells: &'a ::csv::ByteRecord) -> Option<&'a str> {
        self.id
            .and_then(|i| cells.get(i))
            .and_then(|cell| std::str::from_utf8(cell).ok())
            .map(|s| s.trimmed())
            .filter(|s| !s.is_empty())
    }

    /// The name of column `index` as the header writes it, if there is one.
    pub fn column_name(&self, index: usize) -> Option<&str> {
        self.columns.get(index).map(|slot| slot.name.as_str())
    }

    /// Number of columns.
    pub fn width(&self) -> usize {
        self.columns.len()
    }

    /// Whether column `index` is read (not unknown, empty or mapped to
    /// `ignore`).
    pub fn reads(&self, index: usize) -> bool {
        self.columns
            .get(index)
            .is_some_and(|slot| slot.column != Column::Ignore)
    }

    /// The index of the id column, if there is one.
    pub fn id_column(&self) -> Option<usize> {
        self.id
    }

    /// The index of the `phase` column, if there is one.
    pub fn phase_column(&self) -> Option<usize> {
        self.phase
    }

    /// The file's name, as diagnostics show it.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Most ignored columns a message names; the rest are counted.
const NAMED: usize = 8;

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// `a`, `a or b`, `a, b or c`.
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The names of the unknown columns, each with its did-you-mean, the
/// first [`NAMED`] of them.
fn unknown_names(unknown: &[(String, Span)], known: &[&str]) -> Vec<String> {
    let mut names: Vec<String> = unknown
        .iter()
        .take(NAMED)
        .map(|(name, _)| {
            format!(
                "`{}`{}",
                excerpt(name),
                suggest::closest(&key(name), known.iter().copied())
                    .map_or_else(String::new, |c| format!(" (did you mean `{c}`?)"))
            )
        })
        .collect();
    if unknown.len() > NAMED {
        names.push(format!("{} more", unknown.len() - NAMED));
    }
    names
}

/// How to map an export's columns: with the map given, or by writing one.
fn map_help(name: &str, map: Option<&ColumnMap>) -> String {
    match map {
        Some(map) => format!(
            "add them to the column map {} (as `ignore` to silence this)",
            map.file.name()
        ),
        None => format!(
            "map the export's columns onto rxlint's: `rxlint columns init {name}` writes a starter map to complete and pass with `--columns`"
        ),
    }
}

/// The one diagnostic of a header that lacks required columns: which, the
/// headers that may be misspellings of rxlint's, and how to map them.
fn missing_columns(
    name: &str,
    source: &Arc<SourceFile>,
    missing: &[String],
    unknown: &[(String, Span)],
    known: &[&str],
    map: Option<&ColumnMap>,
) -> Diagnostic {
    let message = format!("the header has no column for {}", and_list(missing));
    let mut d = Diagnostic::new(InputCode::CsvMissingColumn.as_str(), Level::Error, message);
    let close: Vec<(&str, Span)> = unknown
        .iter()
        .filter_map(|(n, span)| {
            suggest::closest(&key(n), known.iter().copied()).map(|c| (c, *span))
        })
        .collect();
    if close.is_empty() {
        d = d.at(source, Span::new(0, source.text().len()), "header");
    }
    for (candidate, span) in close {
        d = d.at(source, span, format!("did you mean `{candidate}`?"));
    }
    if !unknown.is_empty() {
        let noun = if unknown.len() == 1 {
            "column is not"
        } else {
            "columns are not"
        };
        d.help = Some(format!(
            "{} {noun} rxlint's; {}",
            unknown.len(),
            map_help(name, map)
        ));
    }
    d
}

/// The one warning of a usable header with columns that are ignored.
fn ignored_columns(
    name: &str,
    source: &Arc<SourceFile>,
    unknown: &[(String, Span)],
    empty: &[Span],
    known: &[&str],
    map: Option<&ColumnMap>,
) -> Diagnostic {
    let mut names = unknown_names(unknown, known);
    match empty.len() {
        0 => {}
        1 => names.push("an empty column".into()),
        n => names.push(format!("{n} empty columns")),
    }
    let count = unknown.len() + empty.len();
    let noun = if count == 1 {
        "column is"
    } else {
        "columns are"
    };
    let mut d = Diagnostic::new(
        InputCode::CsvUnknownColumn.as_str(),
        Level::Warning,
        format!("{count} {noun} ignored: {}", and_list(&names)),
    );
    for (_, span) in unknown.iter().take(NAMED) {
        d = d.at(source, *span, "ignored");
    }
    for span in empty.iter().take(NAMED) {
        d = d.at(source, *span, "an empty column after this comma");
    }
    if !unknown.is_empty() {
        d.help = Some(map_help(name, map));
    }
    d
}

/// One data record (a row of the file): its 1-based line and its cells.
#[derive(Clone, Debug)]
pub struct Record {
    /// Line of the row in the file (for Parquet and Arrow: its 1-based row).
    pub line: usize,
    /// The cells, as read (one allocation for the whole row).
    pub cells: ::csv::StringRecord,
    /// Cells the reader could not give as text (an Arrow list or
    /// timestamp), by column, with what they hold: each is a problem of
    /// its regimen. Always empty for CSV.
    pub unread: Vec<(usize, String)>,
}

impl Record {
    /// A row of text cells.
    pub fn new(line: usize, cells: ::csv::StringRecord) -> Record {
        Record {
            line,
            cells,
            unread: Vec::new(),
        }
    }
}

/// What the reader saw of a regimen's rows that the rows it keeps do not
/// show.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Repeats {
    /// Rows read once because they repeat an earlier row of the regimen
    /// exactly: each row's line, and the line of the row it repeats.
    pub rows: Vec<(usize, usize)>,
    /// The line an earlier regimen with this id starts on, when the file
    /// used the id before.
    pub id_first_line: Option<usize>,
}

/// Writes a row back as CSV text, recording where each cell lands, so that
/// diagnostics can underline a cell of the row as the user wrote it.
pub(crate) fn render(cells: &::csv::StringRecord, text: &mut String) -> Vec<Span> {
    let mut spans = Vec::with_capacity(cells.len());
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        let start = text.len();
        if cell.contains([',', '"', '\n', '\r']) {
            text.push('"');
            text.push_str(&cell.replace('"', "\"\""));
            text.push('"');
        } else {
            text.push_str(cell);
        }
        spans.push(Span::new(start, text.len()));
    }
    spans
}

/// Most empty lines written between the rows of one regimen, so that
/// each row keeps its own line number when its rows are not consecutive
/// (blank lines in a CSV file, a Parquet regimen's rows apart); past it,
/// rows count on from the regimen's first.
const MAX_GAP_LINES: usize = 1024;

/// The text a regimen's diagnostics quote, and where its rows and cells
/// are in it.
#[derive(Debug, Default)]
pub(crate) struct Layout {
    /// The text.
    pub text: String,
    /// The line its first line stands for.
    pub first_line: usize,
    /// Per row (in the order of the rows given): where it is.
    pub rows: Vec<Span>,
    /// Per row: where each of its cells is; empty for a lean build.
    pub cells: Vec<Vec<Span>>,
}

impl Layout {
    /// The rows written back as CSV text, a line each in the order of
    /// their lines, keeping their own line numbers; with `spans` unset,
    /// only the lines (each cell then points at the start of its row).
    pub(crate) fn lines(rows: &[Record], spans: bool) -> Layout {
        let mut by_line: Vec<usize> = (0..rows.len()).collect();
        by_line.sort_by_key(|&r| rows[r].line);
        let first_line = by_line.first().map_or(1, |&r| rows[r].line);
        let mut layout = Layout {
            text: String::new(),
            first_line,
            rows: vec![Span::default(); rows.len()],
            cells: if spans {
                vec![Vec::new(); rows.len()]
            } else {
                Vec::new()
            },
        };
        let mut padded = 0;
        let mut previous: Option<usize> = None;
        for &r in &by_line {
            let line = rows[r].line;
            if let Some(previous) = previous {
                layout.text.push('\n');
                let gap = line.saturating_sub(previous + 1);
                if padded + gap <= MAX_GAP_LINES {
                    padded += gap;
                    layout.text.extend(std::iter::repeat_n('\n', gap));
                }
            }
            previous = Some(line);
            let start = layout.text.len();
            if spans {
                layout.cells[r] = render(&rows[r].cells, &mut layout.text);
            }
            layout.rows[r] = Span::new(start, layout.text.len());
        }
        layout
    }
}

/// Builds one regimen from its rows (one row per phase).
pub fn build(header: &Header, rows: &[Record], vocabulary: &Vocabulary) -> Regimen {
    build_with(header, rows, &Repeats::default(), true, vocabulary)
}

/// [`build`], keeping the rows' text and cell spans only when `spans` is
/// set. Without them (JSON Lines output, which prints no column) each cell
/// points at the start of its row, which still gives every finding its line.
pub fn build_with(
    header: &Header,
    rows: &[Record],
    repeats: &Repeats,
    spans: bool,
    vocabulary: &Vocabulary,
) -> Regimen {
    if rows.len() > crate::regimen::MAX_PHASES {
        return too_many_rows(header, rows, vocabulary);
    }
    build_laid_out(
        header,
        rows,
        repeats,
        Layout::lines(rows, spans),
        vocabulary,
    )
}

/// The invalid regimen of more rows than a regimen may have phases.
fn too_many_rows(header: &Header, rows: &[Record], vocabulary: &Vocabulary) -> Regimen {
    let first_line = rows.iter().map(|r| r.line).min().unwrap_or(1);
    let name: &str = &header.name;
    let source = SourceFile::at_line(name, String::new(), first_line);
    let input = format!("{name}:{first_line}");
    let mut b = Builder::new(Span::default(), vocabulary);
    b.problem(InputProblem {
        code: InputCode::TooLarge,
        field: format!("row {first_line}"),
        message: format!(
            "the regimen starting on row {first_line} has more than {} rows (phases)",
            crate::regimen::MAX_PHASES
        ),
        span: None,
        label: String::new(),
        help: None,
    });
    b.finish(input.clone(), input, Some(source))
}

/// A problem with a row's phase number: its row, and what to say.
struct PhaseProblem {
    row: usize,
    code: InputCode,
    message: String,
    label: &'static str,
}

/// The order of a regimen's rows as phases: by their `phase` cells when
/// the header has that column, else as given. Phase numbers must be 1 to
/// the number of rows, each once; a single row may leave it empty.
fn phase_order(header: &Header, rows: &[Record]) -> (Vec<usize>, Vec<PhaseProblem>) {
    let given: Vec<usize> = (0..rows.len()).collect();
    let Some(column) = header.phase else {
        return (given, Vec::new());
    };
    let mut problems = Vec::new();
    let mut numbered: Vec<(usize, usize)> = Vec::with_capacity(rows.len());
    for (r, row) in rows.iter().enumerate() {
        if row.unread.iter().any(|(c, _)| *c == column) {
            // Reported with the other unreadable cells.
            continue;
        }
        let cell = row.cells.get(column).unwrap_or("").trimmed();
        let line = row.line;
        if cell.is_empty() {
            if rows.len() > 1 {
                problems.push(PhaseProblem {
                    row: r,
                    code: InputCode::MissingField,
                    message: format!(
                        "row {line}, column phase: no phase number, and the regimen has {} rows",
                        rows.len()
                    ),
                    label: "no phase number",
                });
            } else {
                numbered.push((1, r));
            }
            continue;
        }
        match cell.parse::<usize>() {
            Ok(n) if (1..=rows.len()).contains(&n) => numbered.push((n, r)),
            Ok(n) => problems.push(PhaseProblem {
                row: r,
                code: InputCode::OutOfRange,
                message: format!(
                    "row {line}, column phase: phase {n} of a regimen of {} rows (phases are numbered from 1)",
                    rows.len()
                ),
                label: "no such phase",
            }),
            Err(_) => problems.push(PhaseProblem {
                row: r,
                code: InputCode::InvalidNumber,
                message: format!(
                    "row {line}, column phase: `{}` is not a phase number (1, 2, ...)",
                    excerpt(cell)
                ),
                label: "not a phase number",
            }),
        }
    }
    numbered.sort_by_key(|&(n, r)| (n, rows[r].line));
    for pair in numbered.windows(2) {
        if let [(n, a), (m, b)] = pair
            && n == m
        {
            problems.push(PhaseProblem {
                row: *b,
                code: InputCode::ConflictingFields,
                message: format!(
                    "row {}, column phase: phase {n} is also row {}",
                    rows[*b].line, rows[*a].line
                ),
                label: "phase given twice",
            });
        }
    }
    if !problems.is_empty() {
        return (given, problems);
    }
    (numbered.into_iter().map(|(_, r)| r).collect(), problems)
}

/// Builds one regimen from its rows, laid out in `layout` (which gives
/// each row's and cell's span).
pub(crate) fn build_laid_out(
    header: &Header,
    rows: &[Record],
    repeats: &Repeats,
    layout: Layout,
    vocabulary: &Vocabulary,
) -> Regimen {
    let (order, phase_problems) = phase_order(header, rows);
    let row_spans = &layout.rows;
    let input = crate::source::position(&header.name, layout.first_line);
    let source = SourceFile::at_line(header.name.clone(), layout.text.clone(), layout.first_line);
    let mut b = Builder::new(Span::new(0, source.text().len()), vocabulary);
    for p in phase_problems {
        let span = header
            .phase
            .and_then(|c| layout.cells.get(p.row).and_then(|cells| cells.get(c)))
            .copied()
            .or(Some(row_spans[p.row]));
        b.problem(InputProblem {
            code: p.code,
            field: format!("row {}, column phase", rows[p.row].line),
            message: p.message,
            span,
            label: p.label.into(),
            help: Some(
                "number the rows of a regimen's phases 1, 2, ... in its `phase` column".into(),
            ),
        });
    }
    let kept_row = |line: usize| rows.iter().position(|r| r.line == line);
    for &(line, of) in &repeats.rows {
        b.problem(InputProblem {
            code: InputCode::DuplicateRow,
            field: format!("row {line}"),
            message: format!("row {line} repeats row {of} exactly; it was read once"),
            span: kept_row(of).map(|r| row_spans[r]),
            label: format!("repeated on row {line}"),
            help: Some(
                "remove the repeated row; two phases that are alike need a `phase` column to tell them apart".into(),
            ),
        });
    }
    if let Some(first) = repeats.id_first_line
        && let Some(row) = order.first().map(|&r| &rows[r])
    {
        let id = header.id_of(row.cells.as_byte_record()).unwrap_or_default();
        let r = order[0];
        let span = header
            .id
            .and_then(|c| layout.cells.get(r).and_then(|cells| cells.get(c)))
            .copied()
            .or(Some(Span::new(row_spans[r].start(), row_spans[r].start())));
        b.problem(InputProblem {
            code: InputCode::DuplicateId,
            field: "id".into(),
            message: format!(
                "`{}` is already the id of the regimen on row {first}; the two are checked apart",
                excerpt(id)
            ),
            span,
            label: "id used before".into(),
            help: Some(
                "the rows of one regimen must be adjacent; sort the export by id, or give each regimen its own id".into(),
            ),
        });
    }
    let mut seen: Vec<(Fact, &str, usize)> = Vec::new();
    let mut seen_drug: Option<(&str, usize)> = None;
    for (position, &r) in order.iter().enumerate() {
        let row = &rows[r];
        let first = position == 0;
        let index = b.phase(row_spans[r]);
        if first && let Some(id) = header.id_of(row.cells.as_byte_record()) {
            b.id(GivenAt {
                value: Given::Text(id.to_owned()),
                span: None,
            });
        }
        if row.cells.len() != header.width() {
            b.problem(InputProblem {
                code: InputCode::CsvRaggedRow,
                field: format!("row {}", row.line),
                message: format!(
                    "row {} has {} cells; the header has {}",
                    row.line,
                    row.cells.len(),
                    header.width()
                ),
                span: Some(row_spans[r]),
                label: "ragged row".into(),
                help: Some(
                    "every row needs one cell per header column; quote cells that contain commas"
                        .into(),
                ),
            });
            continue;
        }
        for (c, slot) in header.columns.iter().enumerate() {
            let (name, col) = (&slot.name, &slot.column);
            if matches!(col, Column::Ignore | Column::Phase) {
                continue;
            }
            if let Some((_, what)) = row.unread.iter().find(|(at, _)| *at == c) {
                let span = layout.cells.get(r).and_then(|cells| cells.get(c).copied());
                b.problem(InputProblem {
                    code: InputCode::WrongType,
                    field: format!("row {}, column {name}", row.line),
                    message: format!(
                        "row {}, column {name}: the cell is {what}, which rxlint does not read",
                        row.line
                    ),
                    span: span.or(Some(row_spans[r])),
                    label: "not read".into(),
                    help: Some(
                        "give the column as text, a number (integer, decimal or floating point), a boolean or a date32".into(),
                    ),
                });
                // A phase's cell is given as empty, so that the phase is
                // not also said to lack it.
                if let Column::Fact(fact, _) = col
                    && vocabulary.info(*fact).scope != Scope::Course
                {
                    let empty = GivenAt {
                        value: Given::Null,
                        span,
                    };
                    b.phase_field(index, *fact, empty);
                }
                continue;
            }
            let cell = row.cells.get(c).unwrap_or("").trimmed();
            if cell.is_empty() {
                continue;
            }
            // A word the column map gives a value for (`BID` is `2/day`).
            let cell = match slot
                .values
                .iter()
                .find(|(w, _)| w.eq_ignore_ascii_case(cell))
            {
                Some((_, value)) => value.as_str(),
                None => cell,
            };
            // Without cell spans, a cell points at the start of its row.
            let span = match layout.cells.get(r) {
                Some(cells) => cells.get(c).copied(),
                None => Some(Span::new(row_spans[r].start(), row_spans[r].start())),
            };
            let raw = |unit: Option<&str>| GivenAt {
                value: match unit {
                    Some(unit) => Given::Quantity {
                        value: cell.to_owned(),
                        unit: unit.to_owned(),
                    },
                    None => Given::Text(cell.to_owned()),
                },
                span,
            };
            // A fact's cell in the column's unit, or in its own.
            let quantity = |fact: Fact, unit: Option<&str>| -> Result<GivenAt, String> {
                match (unit, slot.dim) {
                    (Some(_), Some(dim)) if !plain(cell) => own_unit(cell, fact, dim, vocabulary)
                        .map(|own| match own {
                            Some(()) => GivenAt {
                                value: Given::Text(cell.to_owned()),
                                span,
                            },
                            None => raw(unit),
                        }),
                    _ => Ok(raw(unit)),
                }
            };
            let wrong_unit = |unit: String| {
                InputProblem {
                code: InputCode::WrongUnit,
                field: format!("row {}, column {name}", row.line),
                message: format!(
                    "row {}, column {name}: `{}` is in `{unit}`, which is not the kind of quantity the column's `{}` is",
                    row.line,
                    excerpt(cell),
                    slot.unit_text()
                ),
                span,
                label: "wrong unit".into(),
                help: Some(
                    "a cell's own unit must measure what the column's does (`154 lb` under `weight_kg`)".into(),
                ),
            }
            };
            match col {
                Column::Id => {}
                Column::Drug => {
                    if first {
                        b.drug(raw(None));
                        seen_drug = Some((cell, row.line));
                    } else if let Some((first, line)) = &seen_drug
                        && !first.eq_ignore_ascii_case(cell)
                    {
                        b.problem(InputProblem {
                            code: InputCode::ConflictingFields,
                            field: format!("row {}, column drug", row.line),
                            message: format!("row {}, column drug: `{}` contradicts `{}` on row {line} of the same regimen", row.line, excerpt(cell), excerpt(first)),
                            span,
                            label: "another drug".into(),
                            help: Some("each regimen is one drug; give the rows of another drug their own id".into()),
                        });
                    }
                }
                Column::Product => {
                    if first {
                        b.product(raw(None));
                    }
                }
                Column::Fact(fact, unit) if vocabulary.info(*fact).scope == Scope::Course => {
                    // Patient and course cells may repeat on every row of a
                    // regimen; they must then agree.
                    match seen.iter().find(|(f, _, _)| f == fact) {
                        Some((_, first, line)) if *first != cell => b.problem(InputProblem {
                            code: InputCode::ConflictingFields,
                            field: format!("row {}, column {name}", row.line),
                            message: format!(
                                "row {}, column {name}: `{}` contradicts `{}` on row {line} of the same regimen",
                                row.line,
                                excerpt(cell),
                                excerpt(first)
                            ),
                            span,
                            label: "contradicts an earlier row".into(),
                            help: Some("patient and course columns must be the same on every row of a regimen, or empty".into()),
                        }),
                        Some(_) => {}
                        None => {
                            seen.push((*fact, cell, row.line));
                            match quantity(*fact, unit.as_deref()) {
                                Ok(value) => b.field(*fact, value),
                                Err(unit) => b.problem(wrong_unit(unit)),
                            }
                        }
                    }
                }
                Column::Fact(fact, unit) => {
                    let value = match unit.as_deref() {
                        // `interval_hours` holds the hours between doses,
                        // `frequency_per_day` a number of doses a day,
                        // `frequency` words (`once weekly`); a cell that
                        // is not a plain number is read as words (`2/day`).
                        Some("h") if *fact == Fact::TIMES_PER_DAY && plain(cell) => GivenAt {
                            value: Given::Text(format!("every {} hours", cell.trimmed())),
                            span,
                        },
                        Some(_) if *fact == Fact::TIMES_PER_DAY && plain(cell) => GivenAt {
                            value: Given::Number(cell.to_owned()),
                            span,
                        },
                        Some(_) if *fact == Fact::TIMES_PER_DAY => raw(None),
                        // A cell in a unit of another kind is reported
                        // here, and given as empty so that the phase is not
                        // also said to lack it.
                        unit => quantity(*fact, unit).unwrap_or_else(|unit| {
                            b.problem(wrong_unit(unit));
                            GivenAt {
                                value: Given::Null,
                                span,
                            }
                        }),
                    };
                    b.phase_field(index, *fact, value);
                }
                Column::Ignore | Column::Phase => {}
            }
        }
    }
    let mut regimen = b.finish(input.clone(), input, Some(source.clone()));
    name_cells(&mut regimen, header, rows, row_spans, vocabulary);
    regimen
}

/// A cell that is a plain number (`70`, `0.5`), which takes its column's
/// unit; the test is the last byte, as nothing else of the cell needs
/// reading for the commonest cells.
fn plain(cell: &str) -> bool {
    cell.as_bytes().last().is_some_and(u8::is_ascii_digit)
}

/// Whether a cell carries its own unit of the kind `dim` measures
/// (`Some(())`: `154 lb` under `weight_kg`), carries none that parses (`None`:
/// the validator then says why), or one of another kind (`Err` with its
/// text: `35 mg` under `weight_kg`).
fn own_unit(
    cell: &str,
    fact: Fact,
    dim: Dim,
    vocabulary: &Vocabulary,
) -> Result<Option<()>, String> {
    let Ok((_, unit)) = units::split_quantity(cell) else {
        return Ok(None);
    };
    if unit.is_empty() {
        return Ok(None);
    }
    match Unit::parse(unit) {
        // An unknown unit is the validator's to explain, with its did-you-mean.
        Err(_) => Ok(Some(())),
        Ok(u) if field_dim(vocabulary, fact, &u) == dim => Ok(Some(())),
        Ok(u) => Err(u.text.into_owned()),
    }
}

/// Rewrites the field paths of a CSV regimen's problems as "row R, column
/// C", the way a spreadsheet user finds a cell: the row is the one whose
/// text holds the problem's span.
fn name_cells(
    regimen: &mut Regimen,
    header: &Header,
    rows: &[Record],
    row_spans: &[Span],
    vocabulary: &Vocabulary,
) {
    for p in &mut regimen.problems {
        let Some(span) = p.span else { continue };
        let at = row_spans
            .iter()
            .position(|s| s.start() <= span.start() && span.start() <= s.end());
        let Some(row) = at.and_then(|r| rows.get(r)).or(rows.first()) else {
            continue;
        };
        let column = column_of(header, &p.field, vocabulary);
        if let Some(column) = column {
            if !p.message.starts_with("row ") {
                p.message = format!("row {}, column {column}: {}", row.line, p.message);
            }
            p.field = format!("row {}, column {column}", row.line);
        }
    }
}

/// The column a problem's field path was read from: `patient.weight` from
/// `weight_kg`, `course.phases[2].dose` from `dose_mg`.
fn column_of<'a>(header: &'a Header, field: &str, vocabulary: &Vocabulary) -> Option<&'a str> {
    header
        .columns
        .iter()
        .map(|slot| (&slot.name, &slot.column))
        .find(|(_, column)| match column {
            Column::Ignore | Column::Phase => false,
            Column::Id => field == "id",
            Column::Drug => field == "drug",
            Column::Product => field == "product",
            Column::Fact(fact, _) => {
                let info = vocabulary.info(*fact);
                match (info.scope, vocabulary.key_of(*fact)) {
                    (Scope::Course, _) => info.path == field,
                    (Scope::Phase, Some((_, key))) => field
                        .strip_suffix(key)
                        .is_some_and(|head| head.ends_with("].")),
                    (Scope::Phase, None) => false,
                }
            }
        })
        .map(|(name, _)| name.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocabulary() -> Vocabulary {
        Vocabulary::shipped()
    }

    fn record(line: &str) -> ::csv::StringRecord {
        ::csv::StringRecord::from(line.split(',').collect::<Vec<_>>())
    }

    fn header_cells(line: &str) -> Vec<String> {
        line.split(',').map(str::to_owned).collect()
    }

    #[test]
    fn lean_and_spanned_builds_agree() {
        let header = Header::check(
            "p.csv",
            &header_cells("id,drug,weight_kg,dose_mg,frequency_per_day,duration_weeks,with_food"),
            &vocabulary(),
            None,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        let groups = [
            vec![
                Record::new(2, record("A,isotretinoin,70,20,2,4,true")),
                Record::new(3, record("A,isotretinoin,70,90,2,16,")),
            ],
            vec![
                Record::new(4, record("B,isotretinoin,70,20,2,4,true")),
                Record::new(5, record("B,isotretinoin,7O,3 mg,x,-1,maybe")),
            ],
        ];
        for rows in groups {
            let none = Repeats::default();
            let full = build_with(&header, &rows, &none, true, &vocabulary());
            let lean = build_with(&header, &rows, &none, false, &vocabulary());
            assert_eq!(full.rows, lean.rows);
            let lines = |r: &Regimen| -> Vec<(String, String, Option<usize>)> {
                r.problems
                    .iter()
                    .map(|p| {
                        (
                            p.field.clone(),
                            p.message.clone(),
                            p.span
                                .zip(r.source.as_ref())
                                .map(|(s, f)| f.line_col(s.start()).0),
                        )
                    })
                    .collect()
            };
            assert_eq!(lines(&full), lines(&lean));
        }
    }

    #[test]
    fn header_problems_are_all_reported() {
        let err = Header::check(
            "p.csv",
            &header_cells("id,drug,weight,dose_mg,dose_mg"),
            &vocabulary(),
            None,
        )
        .err()
        .unwrap_or_default();
        let codes: Vec<&str> = err.iter().map(|d| d.code.as_str()).collect();
        // The unknown `weight` is no error of its own: the one diagnostic of
        // the missing columns points at it.
        let want =
            [InputCode::CsvDuplicateColumn, InputCode::CsvMissingColumn].map(InputCode::as_str);
        assert_eq!(codes, want);
        let labels: Vec<&str> = err[1].labels.iter().map(|l| l.text.as_str()).collect();
        assert_eq!(labels, ["did you mean `weight_kg`?"]);
        assert!(
            err[1].message.contains("a frequency") && err[1].message.contains("a duration"),
            "{}",
            err[1].message
        );
    }

    #[test]
    fn headers_match_without_case_or_spaces_and_unknown_ones_are_one_warning() {
        let header = Header::check(
            "p.csv",
            &header_cells(" ID ,Drug,Weight_KG,Notes,Dose MG,frequency_per_day,DURATION_WEEKS,"),
            &vocabulary(),
            None,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(header.id, Some(0));
        assert_eq!(header.warnings.len(), 1);
        assert_eq!(
            header.warnings[0].message,
            "2 columns are ignored: `Notes` and an empty column"
        );
        assert_eq!(header.warnings[0].level, Level::Warning);
    }

    #[test]
    fn a_cells_own_unit_of_the_same_kind_wins_over_the_columns() {
        let header = Header::check(
            "p.csv",
            &header_cells("id,drug,weight_kg,dose_mg,frequency_per_day,duration_weeks"),
            &vocabulary(),
            None,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        let rows = [Record::new(
            2,
            record("RX-1,isotretinoin,154 lb,35 mg,2,20"),
        )];
        let r = build(&header, &rows, &vocabulary());
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        let kg = "69.85322498".parse().unwrap_or_default();
        assert_eq!(r.get(0, Fact::WEIGHT), Some(crate::facts::Val::Num(kg)));
    }

    #[test]
    fn rows_become_phases_and_bad_cells_name_row_and_column() {
        let header = Header::check(
            "p.csv",
            &header_cells("id,drug,weight_kg,dose_mg,frequency_per_day,duration_weeks,with_food"),
            &vocabulary(),
            None,
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        let rows = [
            Record::new(2, record("RX-1,isotretinoin,70,20,2,4,true")),
            Record::new(3, record("RX-1,isotretinoin,70,35,2,16,true")),
        ];
        let r = build(&header, &rows, &vocabulary());
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(
            (r.id.as_str(), r.input.as_str(), r.phase_count()),
            ("RX-1", "p.csv:2", 2)
        );
        let bad = [Record::new(7, record("RX-2,isotretinoin,7O,20,2,4,true"))];
        let r = build(&header, &bad, &vocabulary());
        assert_eq!(r.problems.len(), 1);
        assert_eq!(r.problems[0].field, "row 7, column weight_kg");
        assert!(
            r.problems[0]
                .message
                .starts_with("row 7, column weight_kg: `7O`"),
            "{}",
            r.problems[0].message
        );
        let span = r.problems[0].span.unwrap_or_default();
        assert_eq!(r.source.as_ref().map(|s| s.slice(span)), Some("7O"));
        assert_eq!(
            r.source.as_ref().map(|s| s.line_col(span.start()).0),
            Some(7)
        );
    }
}
