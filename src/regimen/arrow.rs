//! Arrow record batches (and so Parquet files) to [`Regimen`]s.
//!
//! Takes a batch's schema and gives a checked [`Columns`]: the CSV column
//! model ([`Header`]) over the schema's field names, with its did-you-mean
//! and column maps, in one of two layouts:
//!
//! - **flat**: the CSV columns, one row per phase; rows with the same `id`
//!   are one regimen wherever they are in the batch, ordered by their
//!   `phase` column;
//! - **nested**: one row per regimen, its phase columns as the fields of a
//!   `phases: list<struct<...>>` column, in list order.
//!
//! Each cell becomes the text a CSV cell would be (an integer or decimal
//! exactly, a float through its shortest round-trip text, a date as
//! `YYYY-MM-DD`, a boolean as `true`/`false`, null as empty), and the rows
//! of a regimen go through the CSV reader's own builder, so every check
//! and diagnostic is the CSV reader's. A cell of a type rxlint does not
//! read (a list, a timestamp) is an `input.wrong-type` problem of its
//! regimen. Rows are named by their 1-based row number (`file:row`, "row
//! 7, column weight_kg").

use std::collections::HashMap;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Decimal32Type, Decimal64Type, Decimal128Type, Decimal256Type, DecimalType, Float32Type,
    Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type,
    UInt64Type,
};
use arrow_array::{Array, ArrowPrimitiveType, RecordBatch};
use arrow_schema::{DataType, Schema};

use super::Regimen;
use super::csv::columns::{ColumnMap, key};
use super::csv::{self, Header, Layout, Record};
use crate::diagnostic::Diagnostic;
use crate::source::Span;
use crate::vocabulary::Vocabulary;

/// Where the cells of a header column are in a batch.
#[derive(Clone, Copy, Debug)]
enum Source {
    /// A top-level column.
    Top(usize),
    /// A field of the `phases` structs.
    Phase(usize),
}

/// A batch schema checked against rxlint's columns.
#[derive(Debug)]
pub struct Columns {
    header: Arc<Header>,
    /// Per header column, where its cells are.
    sources: Vec<Source>,
    /// The `phases` column of the nested layout.
    phases: Option<usize>,
    /// The schema's field names and types, to check each batch against.
    fields: Vec<(String, DataType)>,
}

impl Columns {
    /// Checks a schema's columns as a CSV header is checked: the columns
    /// of input `name`, read through `map` when there is one, with the
    /// fields of a `phases: list<struct>` column as the phase columns.
    ///
    /// Errors: no `drug` column (`input.csv-missing-column`, naming the
    /// close ones: did you mean `drug`?), two `dose_mg` columns.
    /// Warnings: columns rxlint does not read.
    pub fn check(
        name: &str,
        schema: &Schema,
        vocabulary: &Vocabulary,
        map: Option<&ColumnMap>,
    ) -> Result<Columns, Vec<Diagnostic>> {
        let fields = schema.fields();
        let phases = fields
            .iter()
            .position(|f| key(f.name()) == "phases" && struct_fields(f.data_type()).is_some());
        let mut names = Vec::new();
        let mut sources = Vec::new();
        for (i, field) in fields.iter().enumerate() {
            if Some(i) != phases {
                names.push(field.name().clone());
                sources.push(Source::Top(i));
            }
        }
        if let Some(inner) = phases.and_then(|i| struct_fields(fields[i].data_type())) {
            for (j, field) in inner.iter().enumerate() {
                names.push(field.name().clone());
                sources.push(Source::Phase(j));
            }
        }
        let header = Header::check(name, &names, vocabulary, map)?;
        Ok(Columns {
            header: Arc::new(header),
            sources,
            phases,
            fields: fields
                .iter()
                .map(|f| (f.name().clone(), f.data_type().clone()))
                .collect(),
        })
    }

    /// The checked header (its warnings are the columns not read).
    pub fn header(&self) -> &Header {
        &self.header
    }

    /// Whether one row is one regimen (the nested layout).
    pub fn nested(&self) -> bool {
        self.phases.is_some()
    }

    /// The column whose rows make one regimen, as the schema names it:
    /// the per-phase layout's `id` (none in the nested layout, or without
    /// an id column).
    pub fn id_name(&self) -> Option<&str> {
        self.top_name(self.header.id_column()?)
    }

    /// The per-phase layout's `phase` column, as the schema names it.
    pub fn phase_name(&self) -> Option<&str> {
        self.top_name(self.header.phase_column()?)
    }

    /// The schema's own name (a BOM and all) of header column `c` when it
    /// is a top-level column of the per-phase layout.
    fn top_name(&self, c: usize) -> Option<&str> {
        match (self.nested(), self.sources.get(c)?) {
            (false, Source::Top(i)) => self.fields.get(*i).map(|(name, _)| name.as_str()),
            _ => None,
        }
    }

    /// Whether `batch` has the schema these columns were checked on.
    pub fn fits(&self, batch: &RecordBatch) -> bool {
        let fields = batch.schema_ref().fields();
        fields.len() == self.fields.len()
            && fields
                .iter()
                .zip(&self.fields)
                .all(|(f, (name, ty))| f.name() == name && f.data_type() == ty)
    }
}

/// The fields of a list of structs.
fn struct_fields(ty: &DataType) -> Option<&arrow_schema::Fields> {
    let item = match ty {
        DataType::List(item) | DataType::LargeList(item) | DataType::ListView(item) => item,
        DataType::LargeListView(item) | DataType::FixedSizeList(item, _) => item,
        _ => return None,
    };
    match item.data_type() {
        DataType::Struct(fields) => Some(fields),
        _ => None,
    }
}

/// A batch and the file row number of its first row.
#[derive(Debug)]
pub struct Chunk {
    /// The rows.
    pub batch: RecordBatch,
    /// The 1-based row number of its first row in its input.
    pub first_row: u64,
}

/// One row of a chunk.
#[derive(Clone, Debug)]
pub struct RowRef {
    chunk: Arc<Chunk>,
    row: usize,
}

impl RowRef {
    /// The row's 1-based number in its input.
    fn number(&self) -> usize {
        usize::try_from(self.chunk.first_row).unwrap_or(usize::MAX) + self.row
    }
}

/// What [`cell`] found.
enum Cell<'a> {
    /// Null.
    Null,
    /// Text: the array's own string, or the number or date written into
    /// the scratch buffer.
    Text(&'a str),
    /// Not a type rxlint reads: what it is.
    Unread(String),
}

/// Cell `row` of `array` as the text a CSV cell would hold: integers and
/// decimals exactly, floats through their shortest round-trip text
/// (`0.1`, never `0.1000000000000000055511151231257827`; Rust's `{}`
/// never writes an exponent), dates as `YYYY-MM-DD`. A string is the
/// array's own; anything else is written into `scratch`.
fn cell<'a>(array: &'a dyn Array, row: usize, scratch: &'a mut String) -> Cell<'a> {
    use std::fmt::Write as _;
    if array.is_null(row) {
        return Cell::Null;
    }
    scratch.clear();
    // Writing to a String cannot fail.
    let _ = match array.data_type() {
        DataType::Null => return Cell::Null,
        DataType::Utf8 => return Cell::Text(array.as_string::<i32>().value(row)),
        DataType::LargeUtf8 => return Cell::Text(array.as_string::<i64>().value(row)),
        DataType::Utf8View => return Cell::Text(array.as_string_view().value(row)),
        DataType::Boolean => {
            return Cell::Text(if array.as_boolean().value(row) {
                "true"
            } else {
                "false"
            });
        }
        DataType::Int8 => shown::<Int8Type>(array, row, scratch),
        DataType::Int16 => shown::<Int16Type>(array, row, scratch),
        DataType::Int32 => shown::<Int32Type>(array, row, scratch),
        DataType::Int64 => shown::<Int64Type>(array, row, scratch),
        DataType::UInt8 => shown::<UInt8Type>(array, row, scratch),
        DataType::UInt16 => shown::<UInt16Type>(array, row, scratch),
        DataType::UInt32 => shown::<UInt32Type>(array, row, scratch),
        DataType::UInt64 => shown::<UInt64Type>(array, row, scratch),
        DataType::Float32 => shown::<Float32Type>(array, row, scratch),
        DataType::Float64 => shown::<Float64Type>(array, row, scratch),
        DataType::Decimal32(p, s) => decimal::<Decimal32Type>(array, row, *p, *s, scratch),
        DataType::Decimal64(p, s) => decimal::<Decimal64Type>(array, row, *p, *s, scratch),
        DataType::Decimal128(p, s) => decimal::<Decimal128Type>(array, row, *p, *s, scratch),
        DataType::Decimal256(p, s) => decimal::<Decimal256Type>(array, row, *p, *s, scratch),
        DataType::Date32 => {
            let days = array
                .as_primitive::<arrow_array::types::Date32Type>()
                .value(row);
            match arrow_array::temporal_conversions::date32_to_datetime(days) {
                Some(date) => write!(scratch, "{}", date.date()),
                None => return Cell::Unread(format!("the date32 value {days}")),
            }
        }
        DataType::Dictionary(_, _) => {
            let Some(dictionary) = array.as_any_dictionary_opt() else {
                return Cell::Unread(describe(array.data_type()));
            };
            return match key_at(dictionary.keys(), row) {
                Some(key) if key < dictionary.values().len() => {
                    cell(dictionary.values().as_ref(), key, scratch)
                }
                _ => Cell::Null,
            };
        }
        other => return Cell::Unread(describe(other)),
    };
    Cell::Text(scratch)
}

/// A number cell as Rust writes it: integers exactly, floats through
/// their shortest round-trip text, never with an exponent.
fn shown<T: ArrowPrimitiveType>(array: &dyn Array, row: usize, out: &mut String) -> std::fmt::Result
where
    T::Native: std::fmt::Display,
{
    use std::fmt::Write as _;
    write!(out, "{}", array.as_primitive::<T>().value(row))
}

/// A decimal cell exactly, through its precision and scale.
fn decimal<T: DecimalType>(
    array: &dyn Array,
    row: usize,
    precision: u8,
    scale: i8,
    out: &mut String,
) -> std::fmt::Result {
    out.push_str(&T::format_decimal(
        array.as_primitive::<T>().value(row),
        precision,
        scale,
    ));
    Ok(())
}

/// What an unread cell holds, for its message.
fn describe(ty: &DataType) -> String {
    format!("a value of Arrow type {ty}")
}

/// The key of a dictionary cell.
fn key_at(keys: &dyn Array, row: usize) -> Option<usize> {
    let key = match keys.data_type() {
        DataType::Int8 => usize::try_from(keys.as_primitive::<Int8Type>().value(row)).ok(),
        DataType::Int16 => usize::try_from(keys.as_primitive::<Int16Type>().value(row)).ok(),
        DataType::Int32 => usize::try_from(keys.as_primitive::<Int32Type>().value(row)).ok(),
        DataType::Int64 => usize::try_from(keys.as_primitive::<Int64Type>().value(row)).ok(),
        DataType::UInt8 => Some(usize::from(keys.as_primitive::<UInt8Type>().value(row))),
        DataType::UInt16 => Some(usize::from(keys.as_primitive::<UInt16Type>().value(row))),
        DataType::UInt32 => usize::try_from(keys.as_primitive::<UInt32Type>().value(row)).ok(),
        DataType::UInt64 => usize::try_from(keys.as_primitive::<UInt64Type>().value(row)).ok(),
        _ => None,
    };
    key.filter(|_| keys.is_valid(row))
}

/// A row's cells, pushed in column order into one record (one buffer
/// for the row); a column skipped, null or not read is an empty cell.
#[derive(Clone)]
struct Cells {
    record: ::csv::StringRecord,
    unread: Vec<(usize, String)>,
}

impl Cells {
    fn new(width: usize) -> Cells {
        Cells {
            record: ::csv::StringRecord::with_capacity(16 * width, width),
            unread: Vec::new(),
        }
    }

    /// Column `column`'s cell from row `row` of `array`: columns are set
    /// in increasing order.
    fn set(&mut self, column: usize, array: &dyn Array, row: usize, scratch: &mut String) {
        self.pad(column);
        match cell(array, row, scratch) {
            Cell::Null => self.record.push_field(""),
            Cell::Text(text) => self.record.push_field(text),
            Cell::Unread(what) => {
                self.record.push_field("?");
                self.unread.push((column, what));
            }
        }
    }

    /// Empty cells up to column `width`.
    fn pad(&mut self, width: usize) {
        while self.record.len() < width {
            self.record.push_field("");
        }
    }

    fn record(mut self, line: usize, width: usize) -> Record {
        self.pad(width);
        let mut record = Record::new(line, self.record);
        record.unread = self.unread;
        record
    }
}

/// The top-level cells of a row: every header column read from a
/// top-level column (the others left empty).
fn top_cells(columns: &Columns, row: &RowRef, scratch: &mut String) -> Cells {
    let header = &columns.header;
    let mut cells = Cells::new(header.width());
    for (c, source) in columns.sources.iter().enumerate() {
        if let Source::Top(i) = source
            && header.reads(c)
        {
            cells.set(c, row.chunk.batch.column(*i).as_ref(), row.row, scratch);
        }
    }
    cells
}

/// The identity of a row's regimen: its id cell's text, or none (a row
/// with no id is a regimen of its own).
fn id_of(columns: &Columns, batch: &RecordBatch, row: usize) -> Option<String> {
    let c = columns.header.id_column()?;
    let Source::Top(i) = columns.sources.get(c)? else {
        return None;
    };
    let mut scratch = String::new();
    match cell(batch.column(*i).as_ref(), row, &mut scratch) {
        Cell::Text(text) => Some(text.trim().to_owned()).filter(|t| !t.is_empty()),
        Cell::Null | Cell::Unread(_) => None,
    }
}

/// Builds one regimen from its rows: the rows of one id (flat layout), or
/// one row (nested), with byte spans for its cells when `spans` is set.
pub fn build(columns: &Columns, rows: &[RowRef], spans: bool, vocabulary: &Vocabulary) -> Regimen {
    let header = &columns.header;
    match (columns.phases, rows) {
        (Some(phases), [row]) => build_nested(columns, phases, row, spans, vocabulary),
        _ => {
            // A row repeated exactly is read once and said, as in CSV.
            let mut repeats = csv::Repeats::default();
            let mut records: Vec<Record> = Vec::with_capacity(rows.len());
            let mut scratch = String::new();
            for row in rows {
                let record =
                    top_cells(columns, row, &mut scratch).record(row.number(), header.width());
                let earlier = records
                    .iter()
                    .find(|r| r.cells == record.cells && r.unread == record.unread);
                match earlier {
                    Some(earlier) => repeats.rows.push((record.line, earlier.line)),
                    None => records.push(record),
                }
            }
            csv::build_with(header, &records, &repeats, spans, vocabulary)
        }
    }
}

/// One row of the nested layout: a record per phase (its top-level cells
/// and the phase's), laid out as one line, `top cells [phase 1] [phase 2]`.
fn build_nested(
    columns: &Columns,
    phases: usize,
    row: &RowRef,
    spans: bool,
    vocabulary: &Vocabulary,
) -> Regimen {
    let header = &columns.header;
    let line = row.number();
    let mut scratch = String::new();
    let top = top_cells(columns, row, &mut scratch);
    let list = row.chunk.batch.column(phases);
    let items = list_items(list.as_ref(), row.row);
    let structs = items.as_ref().and_then(|items| items.as_struct_opt());
    let count = structs
        .map_or(0, |s| s.len())
        .min(crate::regimen::MAX_PHASES + 1);
    let mut records = Vec::with_capacity(count.max(1));
    for p in 0..count.max(1) {
        let mut cells = top.clone();
        if let Some(structs) = structs.filter(|s| p < s.len() && s.is_valid(p)) {
            for (c, source) in columns.sources.iter().enumerate() {
                if let Source::Phase(j) = source
                    && header.reads(c)
                {
                    cells.set(c, structs.column(*j).as_ref(), p, &mut scratch);
                }
            }
        }
        records.push(cells.record(line, header.width()));
    }
    if records.len() > crate::regimen::MAX_PHASES {
        return csv::build_with(
            header,
            &records,
            &csv::Repeats::default(),
            spans,
            vocabulary,
        );
    }
    let mut layout = Layout {
        first_line: line,
        rows: Vec::with_capacity(records.len()),
        ..Layout::default()
    };
    if spans {
        // The top-level cells once, then each phase's cells in brackets.
        let top_columns: Vec<usize> = (0..header.width())
            .filter(|&c| matches!(columns.sources[c], Source::Top(_)))
            .collect();
        let phase_columns: Vec<usize> = (0..header.width())
            .filter(|&c| matches!(columns.sources[c], Source::Phase(_)))
            .collect();
        let pick = |record: &Record, which: &[usize]| {
            ::csv::StringRecord::from(
                which
                    .iter()
                    .map(|&c| record.cells.get(c).unwrap_or(""))
                    .collect::<Vec<_>>(),
            )
        };
        let top_spans = csv::render(&pick(&records[0], &top_columns), &mut layout.text);
        for record in &records {
            layout.text.push_str(" [");
            let start = layout.text.len();
            let phase_spans = csv::render(&pick(record, &phase_columns), &mut layout.text);
            layout.rows.push(Span::new(start, layout.text.len()));
            layout.text.push(']');
            let mut cell_spans = vec![Span::default(); header.width()];
            for (k, &c) in top_columns.iter().enumerate() {
                cell_spans[c] = top_spans[k];
            }
            for (k, &c) in phase_columns.iter().enumerate() {
                cell_spans[c] = phase_spans[k];
            }
            layout.cells.push(cell_spans);
        }
    } else {
        layout.rows = vec![Span::default(); records.len()];
    }
    csv::build_laid_out(
        header,
        &records,
        &csv::Repeats::default(),
        layout,
        vocabulary,
    )
}

/// The items of list cell `row`, whichever kind of list the column is.
fn list_items(list: &dyn Array, row: usize) -> Option<arrow_array::ArrayRef> {
    if list.is_null(row) {
        return None;
    }
    match list.data_type() {
        DataType::List(_) => Some(list.as_list::<i32>().value(row)),
        DataType::LargeList(_) => Some(list.as_list::<i64>().value(row)),
        DataType::ListView(_) => Some(list.as_list_view::<i32>().value(row)),
        DataType::LargeListView(_) => Some(list.as_list_view::<i64>().value(row)),
        DataType::FixedSizeList(_, _) => Some(list.as_fixed_size_list().value(row)),
        _ => None,
    }
}

/// An id as the flat layout orders regimens across batches: integers by
/// value, text by its bytes (the order `ORDER BY id` gives both).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum IdKey {
    Int(i128),
    Text(String),
}

impl IdKey {
    fn of(text: &str, integer: bool) -> IdKey {
        match text.parse::<i128>() {
            Ok(n) if integer => IdKey::Int(n),
            _ => IdKey::Text(text.to_owned()),
        }
    }
}

/// Why the rows of a flat input cannot be grouped in bounded memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutOfOrder {
    /// What to tell the user.
    pub message: String,
}

/// Groups the rows of successive batches into regimens.
///
/// Nested layout: each row is a regimen. Flat layout: within a batch, rows
/// with the same id are one regimen wherever they are; across batches, the
/// regimen of a batch's highest id is held back and joined by the next
/// batch's rows of that id, so a regimen may cross from one batch (a
/// Parquet row group) into the next when the batches are in id order. An
/// id below the highest of the batch before could belong to a regimen
/// already given out, so it is refused ([`OutOfOrder`]) rather than
/// checked in part.
#[derive(Debug)]
pub struct Grouper {
    columns: Arc<Columns>,
    /// The regimens held back: the one of the highest id so far, and
    /// those whose first rows came after its first row.
    open: Vec<(Option<IdKey>, Vec<RowRef>)>,
    /// The highest id so far.
    highest: Option<IdKey>,
    /// Batches grouped so far, for messages.
    batches: usize,
}

impl Grouper {
    /// A grouper for batches of `columns`.
    pub fn new(columns: Arc<Columns>) -> Grouper {
        Grouper {
            columns,
            open: Vec::new(),
            highest: None,
            batches: 0,
        }
    }

    /// The regimens of `chunk` that are complete, in the order of their
    /// first rows (a held-back regimen first).
    pub fn push(&mut self, chunk: Arc<Chunk>) -> Result<Vec<Vec<RowRef>>, OutOfOrder> {
        self.batches += 1;
        let rows = chunk.batch.num_rows();
        if self.columns.nested() {
            return Ok((0..rows)
                .map(|row| {
                    vec![RowRef {
                        chunk: chunk.clone(),
                        row,
                    }]
                })
                .collect());
        }
        let integer = self
            .columns
            .header
            .id_column()
            .and_then(|c| match self.columns.sources.get(c) {
                Some(Source::Top(i)) => Some(chunk.batch.schema_ref().field(*i).data_type()),
                _ => None,
            })
            .is_some_and(|ty| ty.is_integer());
        let mut groups: Vec<(Option<IdKey>, Vec<RowRef>)> = Vec::new();
        let mut index: HashMap<String, usize> = HashMap::new();
        // The groups of the lowest and highest ids, by index: no id is
        // copied per row to keep them.
        let (mut lowest, mut highest): (Option<usize>, Option<usize>) = (None, None);
        for row in 0..rows {
            let at = RowRef {
                chunk: chunk.clone(),
                row,
            };
            let Some(id) = id_of(&self.columns, &chunk.batch, row) else {
                groups.push((None, vec![at]));
                continue;
            };
            if let Some(&g) = index.get(&id) {
                groups[g].1.push(at);
                continue;
            }
            let k = IdKey::of(&id, integer);
            let key = |g: Option<usize>| g.and_then(|g| groups[g].0.as_ref());
            if key(lowest).is_none_or(|l| k < *l) {
                lowest = Some(groups.len());
            }
            if key(highest).is_none_or(|h| k > *h) {
                highest = Some(groups.len());
            }
            index.insert(id, groups.len());
            groups.push((Some(k), vec![at]));
        }
        let lowest = lowest.and_then(|g| groups[g].0.clone());
        let highest = highest.and_then(|g| groups[g].0.clone());
        if let (Some(before), Some(low)) = (&self.highest, &lowest)
            && low < before
        {
            return Err(OutOfOrder {
                message: format!(
                    "the rows are not in id order: batch {} has id {} below id {} of the batch before, \
                     so a regimen's rows may lie apart; sort the per-phase rows by id (ORDER BY id, \
                     or sortWithinPartitions(\"id\") in Spark), or give one row per regimen with a \
                     `phases` list",
                    self.batches,
                    show(low),
                    show(before)
                ),
            });
        }
        // The regimens held back from the batch before come first, the
        // first of them joined by its rows here, if any.
        let mut all = std::mem::take(&mut self.open);
        if let Some((Some(id), rows)) = all.first_mut()
            && let Some(g) = groups.iter().position(|(k, _)| k.as_ref() == Some(&*id))
        {
            rows.append(&mut groups[g].1);
            groups.remove(g);
        }
        all.extend(groups);
        // The regimen of the highest id may go on in the next batch: it and
        // those after it (whose ids are lower) wait, so that regimens come
        // in the order of their first rows.
        // (A batch with no id holds back what was held.)
        let hold = highest.or_else(|| self.highest.clone());
        let held = hold.and_then(|h| all.iter().position(|(k, _)| k.as_ref() == Some(&h)));
        if let Some(at) = held {
            self.open = all.split_off(at);
            if let Some((Some(id), _)) = self.open.first() {
                self.highest = Some(id.clone());
            }
        }
        Ok(all.into_iter().map(|(_, rows)| rows).collect())
    }

    /// The regimens held back, once no batch follows.
    pub fn finish(&mut self) -> Vec<Vec<RowRef>> {
        std::mem::take(&mut self.open)
            .into_iter()
            .map(|(_, rows)| rows)
            .collect()
    }
}
fn show(id: &IdKey) -> String {
    match id {
        IdKey::Int(n) => n.to_string(),
        IdKey::Text(t) => format!("`{}`", crate::diagnostic::excerpt(t)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{ArrayRef, Int64Array, StringArray};
    use arrow_schema::Field;

    fn batch(ids: &[&str], doses: &[i64]) -> RecordBatch {
        let schema = Schema::new(vec![
            Field::new("id", DataType::Utf8, true),
            Field::new("drug", DataType::Utf8, true),
            Field::new("dose_mg", DataType::Int64, true),
            Field::new("frequency_per_day", DataType::Int64, true),
            Field::new("duration_weeks", DataType::Int64, true),
        ]);
        let n = ids.len();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(ids.to_vec())),
            Arc::new(StringArray::from(vec!["isotretinoin"; n])),
            Arc::new(Int64Array::from(doses.to_vec())),
            Arc::new(Int64Array::from(vec![2; n])),
            Arc::new(Int64Array::from(vec![16; n])),
        ];
        RecordBatch::try_new(Arc::new(schema), columns).unwrap_or_else(|e| panic!("{e}"))
    }

    fn grouped(grouper: &mut Grouper, b: RecordBatch, first_row: u64) -> Vec<Vec<usize>> {
        let chunk = Arc::new(Chunk {
            batch: b,
            first_row,
        });
        grouper
            .push(chunk)
            .unwrap_or_else(|e| panic!("{}", e.message))
            .iter()
            .map(|g| g.iter().map(RowRef::number).collect())
            .collect()
    }

    #[test]
    fn rows_group_by_id_anywhere_and_regimens_cross_batches_in_id_order() {
        let vocabulary = Vocabulary::shipped();
        let b = batch(&["A", "B", "A", "C"], &[20, 20, 35, 20]);
        let columns = Arc::new(
            Columns::check("t", b.schema_ref(), &vocabulary, None)
                .unwrap_or_else(|e| panic!("{e:?}")),
        );
        let mut grouper = Grouper::new(columns);
        assert_eq!(grouped(&mut grouper, b, 1), [vec![1, 3], vec![2]]);
        // C is held back and joined by its row in the next batch.
        let next = batch(&["C", "D"], &[35, 20]);
        assert_eq!(grouped(&mut grouper, next, 5), [vec![4, 5]]);
        assert_eq!(grouper.finish().len(), 1, "D is given out at the end");
        let late = batch(&["B"], &[20]);
        let err = grouper
            .push(Arc::new(Chunk {
                batch: late,
                first_row: 7,
            }))
            .err()
            .map(|e| e.message)
            .unwrap_or_default();
        assert!(err.contains("not in id order"), "{err}");
    }
}
