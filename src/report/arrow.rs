//! Outcomes as an Arrow record batch (`--format parquet`, and the batch
//! API): one row per regimen, its findings as a list of structs with the
//! columns `--format csv` writes per finding, and its `--format json` line.
//!
//! | column | type |
//! |---|---|
//! | `id`, `input`, `verdict` | utf8 |
//! | `drug` | utf8, null when the regimen names none |
//! | `findings` | list of struct `rule`, `severity`, `kind` (utf8), `phase` (int32, null for a course rule), `message`, `values` (utf8, `fact=value; ...` as in `--format csv`), `citation` (utf8, null for an input problem) |
//! | `json` | utf8: the line `--format json` writes, without its newline |

use std::sync::Arc;

use arrow_array::builder::{ArrayBuilder, Int32Builder, ListBuilder, StringBuilder, StructBuilder};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Fields, Schema, SchemaRef};

use super::json;
use super::{FindingRow, finding_rows, shown};
use crate::eval::Outcome;

/// The fields of one finding.
fn finding_fields() -> Fields {
    Fields::from(vec![
        Field::new("rule", DataType::Utf8, false),
        Field::new("severity", DataType::Utf8, false),
        Field::new("kind", DataType::Utf8, false),
        Field::new("phase", DataType::Int32, true),
        Field::new("message", DataType::Utf8, false),
        Field::new("values", DataType::Utf8, false),
        Field::new("citation", DataType::Utf8, true),
    ])
}

/// The list item of `findings`.
fn finding_item() -> Arc<Field> {
    Arc::new(Field::new(
        "item",
        DataType::Struct(finding_fields()),
        false,
    ))
}

/// The columns of the results, in their order.
pub const COLUMNS: [&str; 6] = ["id", "input", "drug", "verdict", "findings", "json"];

/// The result columns a caller wants: all of them ([`Selection::ALL`]), or
/// some, in [`COLUMNS`] order whatever the order asked. A column not
/// asked for is not built: without `json` and `findings`, no message is
/// written at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Selection([bool; COLUMNS.len()]);

impl Selection {
    /// Every column.
    pub const ALL: Selection = Selection([true; COLUMNS.len()]);

    /// The columns named, each one of [`COLUMNS`].
    ///
    /// Errors: no column, or a name that is not a result column (with
    /// did-you-mean and the columns there are).
    pub fn of<S: AsRef<str>>(names: &[S]) -> Result<Selection, String> {
        let mut selection = Selection([false; COLUMNS.len()]);
        for name in names {
            let name = name.as_ref();
            let Some(i) = COLUMNS.iter().position(|c| *c == name) else {
                return Err(format!(
                    "`{}` is not a result column (they are {}){}",
                    crate::diagnostic::excerpt(name),
                    COLUMNS.join(", "),
                    crate::suggest::did_you_mean(name, COLUMNS),
                ));
            };
            selection.0[i] = true;
        }
        if selection.0.iter().all(|on| !on) {
            return Err(format!(
                "no result column was asked for; the columns are {}",
                COLUMNS.join(", ")
            ));
        }
        Ok(selection)
    }

    /// Whether column `name` is selected.
    fn has(self, name: &str) -> bool {
        COLUMNS
            .iter()
            .position(|c| *c == name)
            .is_some_and(|i| self.0[i])
    }
}

/// The schema of the results: one row per regimen.
pub fn schema() -> SchemaRef {
    schema_of(Selection::ALL)
}

/// The schema of the selected result columns.
pub fn schema_of(selection: Selection) -> SchemaRef {
    let fields = [
        Field::new("id", DataType::Utf8, false),
        Field::new("input", DataType::Utf8, false),
        Field::new("drug", DataType::Utf8, true),
        Field::new("verdict", DataType::Utf8, false),
        Field::new("findings", DataType::List(finding_item()), false),
        Field::new("json", DataType::Utf8, false),
    ];
    Arc::new(Schema::new(
        fields
            .into_iter()
            .filter(|f| selection.has(f.name()))
            .collect::<Vec<_>>(),
    ))
}

/// Outcomes appended one by one, finished as a record batch.
pub struct Results {
    id: StringBuilder,
    input: StringBuilder,
    drug: StringBuilder,
    verdict: StringBuilder,
    findings: ListBuilder<StructBuilder>,
    json: StringBuilder,
    /// The JSON line being written.
    line: Vec<u8>,
    /// The columns built.
    selection: Selection,
}

impl Default for Results {
    fn default() -> Self {
        Results::new()
    }
}

impl Results {
    /// No rows yet.
    pub fn new() -> Results {
        Results::with_capacity(0)
    }

    /// No rows yet, with room for about `rows` regimens: the builders
    /// then grow once, not by doubling (each doubling copies, and touches
    /// fresh pages the kernel must zero).
    pub fn with_capacity(rows: usize) -> Results {
        Results::selected(rows, Selection::ALL)
    }

    /// [`Results::with_capacity`], building the selected columns only.
    pub fn selected(rows: usize, selection: Selection) -> Results {
        // Bytes a regimen takes, about, in the benchmark's records: its
        // JSON line, its findings (three on average) and its names.
        let room = |name: &str, rows: usize| if selection.has(name) { rows } else { 0 };
        let (findings, line) = (room("findings", 3 * rows), room("json", 640 * rows));
        let message = 32 * findings;
        let text =
            |items: usize, bytes: usize| Box::new(StringBuilder::with_capacity(items, bytes));
        let builders: Vec<Box<dyn ArrayBuilder>> = vec![
            text(findings, 32 * findings),
            text(findings, 8 * findings),
            text(findings, 12 * findings),
            Box::new(Int32Builder::with_capacity(findings)),
            text(findings, message),
            text(findings, 32 * findings),
            text(findings, 48 * findings),
        ];
        Results {
            id: StringBuilder::with_capacity(rows, 16 * rows),
            input: StringBuilder::with_capacity(rows, 32 * rows),
            drug: StringBuilder::with_capacity(rows, 16 * rows),
            verdict: StringBuilder::with_capacity(rows, 8 * rows),
            findings: ListBuilder::with_capacity(
                StructBuilder::new(finding_fields(), builders),
                rows,
            )
            .with_field(finding_item()),
            json: StringBuilder::with_capacity(room("json", rows), line),
            line: Vec::new(),
            selection,
        }
    }

    /// Rows appended since the last [`Results::finish`].
    pub fn len(&self) -> usize {
        self.id.len()
    }

    /// Whether no row has been appended since the last finish.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends one regimen's row.
    pub fn append(&mut self, outcome: &Outcome<'_>, profile: &str) {
        let r = &outcome.regimen;
        let on = |name: &str| self.selection.has(name);
        // Every builder is appended to, so that each keeps one row per
        // regimen; a column not selected stays null and is never used.
        self.id.append_value(&r.id);
        self.input.append_value(&r.input);
        self.drug
            .append_option(outcome.drug.or(r.drug.as_ref().map(|d| d.value.as_str())));
        self.verdict.append_value(outcome.verdict.as_str());
        let (findings, json) = (on("findings"), on("json"));
        if !findings && !json {
            self.findings.append(true);
            self.json.append_null();
            return;
        }
        // Messages and values are computed once, for the row and the line.
        let shown = shown(outcome);
        if findings {
            for row in finding_rows(outcome, &shown) {
                self.finding(row);
            }
        }
        self.findings.append(true);
        if !json {
            self.json.append_null();
            return;
        }
        self.line.clear();
        json::line_shown(outcome, profile, &shown, &mut self.line);
        if self.line.last() == Some(&b'\n') {
            self.line.pop();
        }
        // The JSON line is UTF-8: written from Rust strings.
        self.json
            .append_value(std::str::from_utf8(&self.line).unwrap_or_default());
    }

    fn finding(&mut self, row: FindingRow<'_>) {
        let s = self.findings.values();
        let text = |s: &mut StructBuilder, i: usize, value: Option<&str>| {
            if let Some(b) = s.field_builder::<StringBuilder>(i) {
                b.append_option(value);
            }
        };
        text(s, 0, Some(row.rule));
        text(s, 1, Some(row.severity));
        text(s, 2, Some(row.kind));
        if let Some(b) = s.field_builder::<Int32Builder>(3) {
            b.append_option(row.phase.and_then(|p| i32::try_from(p).ok()));
        }
        text(s, 4, Some(row.message));
        text(s, 5, Some(&row.values));
        text(s, 6, row.citation);
        s.append(true);
    }

    /// The rows appended so far as one batch of [`schema_of`] its
    /// selection; starts again empty.
    pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let columns: [ArrayRef; COLUMNS.len()] = [
            Arc::new(self.id.finish()),
            Arc::new(self.input.finish()),
            Arc::new(self.drug.finish()),
            Arc::new(self.verdict.finish()),
            Arc::new(self.findings.finish()),
            Arc::new(self.json.finish()),
        ];
        let selected = COLUMNS
            .iter()
            .zip(columns)
            .filter(|(name, _)| self.selection.has(name))
            .map(|(_, column)| column)
            .collect();
        RecordBatch::try_new(schema_of(self.selection), selected)
    }
}

/// Rows per row group of a results file: a few MiB in memory at a time.
const ROW_GROUP_ROWS: usize = 65_536;

/// A Parquet writer of [`schema`] over `out`: Snappy-compressed (what
/// Spark and pandas write by default), in row groups of 65,536 regimens.
pub fn parquet_writer<W: std::io::Write + Send>(
    out: W,
) -> Result<parquet::arrow::ArrowWriter<W>, parquet::errors::ParquetError> {
    let properties = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::SNAPPY)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build();
    parquet::arrow::ArrowWriter::try_new(out, schema(), Some(properties))
}
