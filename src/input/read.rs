//! Reading the inputs into numbered batches of tasks, on demand.
//!
//! Takes the prepared [`Input`]s and gives, each time a worker asks, the
//! next batch of up to 256 tasks or 4 MiB: a document read whole, one JSON
//! line, the rows of one CSV regimen (each record numbered by the line it
//! starts on), or the files of a FHIR Bulk Data export together. A task
//! becomes its regimens on the worker that takes it.

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::{
    Format, Input, MAX_DOCUMENT_BYTES, MAX_RECORD_BYTES, Origin, Prepared, Progress, Trouble,
    unreadable,
};
use crate::codes::InputCode;
use crate::diagnostic::Diagnostic;
use crate::regimen::Regimen;
use crate::regimen::csv::columns::ColumnMap;
use crate::regimen::csv::{self, Header};
use crate::regimen::document::{self, Syntax};
use crate::source::SourceFile;
use crate::text::Trim;
use crate::vocabulary::Vocabulary;

/// Most rows one CSV regimen may span.
const MAX_GROUP_ROWS: usize = crate::regimen::MAX_PHASES;

/// Tasks per batch sent to a worker.
const BATCH: usize = 256;

/// Input bytes per batch: a batch closes at `BATCH` tasks or this many
/// bytes, so that memory in flight stays bounded when records are large
/// (256 JSON lines of 1 MiB would otherwise be 256 MiB per batch).
const BATCH_BYTES: usize = 4 << 20;

/// A unit of work for a worker.
pub(crate) enum Task {
    /// A whole document.
    Document(Arc<SourceFile>, Syntax),
    /// One JSON line.
    JsonLine {
        name: Arc<str>,
        line: usize,
        text: String,
    },
    /// The rows of one CSV regimen.
    Csv(Arc<Header>, Vec<csv::Record>),
    /// FHIR read whole: a Bundle or an ndjson file, or the files of a Bulk
    /// Data export together (their resources reference each other).
    Fhir(Vec<Arc<SourceFile>>),
    /// An input that could not be read: its invalid regimen, built by the
    /// worker that takes it.
    Unreadable(Box<Unreadable>),
}

/// What [`unreadable`] makes an invalid regimen of.
pub(crate) struct Unreadable {
    source: Arc<SourceFile>,
    input: String,
    code: InputCode,
    message: String,
    /// The regimen's id, when the input gives one.
    id: Option<String>,
}

impl Unreadable {
    fn task(source: Arc<SourceFile>, input: String, code: InputCode, message: String) -> Task {
        Task::Unreadable(Box::new(Unreadable {
            source,
            input,
            code,
            message,
            id: None,
        }))
    }
}

impl Task {
    /// About how many bytes of input the task holds.
    fn bytes(&self) -> usize {
        match self {
            Task::Document(source, _) => source.text().len(),
            Task::Fhir(sources) => sources.iter().map(|s| s.text().len()).sum(),
            Task::JsonLine { text, .. } => text.len(),
            Task::Csv(_, rows) => rows.iter().map(|r| r.cells.as_slice().len()).sum(),
            Task::Unreadable(_) => 0,
        }
    }

    /// The regimens of the task; with `spans` unset, JSON and CSV records
    /// are read without byte spans (every finding keeps its line).
    pub(crate) fn regimens(self, spans: bool, vocabulary: &Vocabulary) -> Vec<Regimen> {
        match self {
            Task::Document(source, syntax) => document::read(&source, syntax, vocabulary),
            Task::JsonLine { name, line, text } => json_line(&name, line, text, spans, vocabulary),
            Task::Csv(header, rows) => vec![csv::build_with(&header, &rows, spans, vocabulary)],
            Task::Fhir(sources) => match sources.as_slice() {
                [one] if !looks_like_ndjson(one.name(), one.text()) => {
                    crate::regimen::fhir::read_bundle(one, vocabulary)
                }
                all => crate::regimen::fhir::read_ndjson(all, vocabulary),
            },
            Task::Unreadable(u) => {
                let mut regimen =
                    unreadable(vocabulary, &u.source, u.input, u.code, u.message, None);
                if let Some(id) = u.id {
                    regimen.id = id;
                }
                vec![regimen]
            }
        }
    }
}

/// The regimens of one JSON line `line` of input `name` (one, or an
/// invalid one when the line is not JSON).
pub(crate) fn json_line(
    name: &str,
    line: usize,
    text: String,
    spans: bool,
    vocabulary: &Vocabulary,
) -> Vec<Regimen> {
    let input = crate::source::position(name, line);
    let source = SourceFile::at_line(name, text, line);
    let parsed = if spans {
        crate::tree::json::parse(source.text())
    } else {
        crate::tree::json::parse_lean(source.text())
    };
    match parsed {
        Ok(node) => document::read_one(node, &source, input.clone(), input, vocabulary),
        Err(err) => vec![unreadable(
            vocabulary,
            &source,
            input,
            InputCode::Syntax,
            format!("this line is not JSON: {}", err.message),
            Some(err.span),
        )],
    }
}

/// A CSV input's reader, counting bytes and lines (boxed in [`Open`]: it
/// holds the csv reader's state and line counts).
type CsvReader = ::csv::Reader<LineCount<Counting<Box<dyn Read + Send>>>>;

/// An input being read record by record.
enum Open {
    /// JSON Lines.
    Lines {
        name: Arc<str>,
        reader: BufReader<Counting<Box<dyn Read + Send>>>,
        buf: Vec<u8>,
        line: usize,
    },
    /// CSV, with the rows of the regimen being gathered.
    Csv {
        name: String,
        csv: Box<CsvReader>,
        header: Arc<Header>,
        group: Group,
    },
}

/// The inputs, read on demand a batch at a time by whichever worker is free
/// (under a lock), so that a batch is read, worked and written on one core.
pub(crate) struct Reader<'a> {
    /// The facts the records are read against.
    vocabulary: &'a Vocabulary,
    inputs: &'a [Input],
    headers: &'a [Prepared],
    progress: &'a Progress,
    /// The next input to open.
    next_input: usize,
    /// The input being read record by record.
    open: Option<Open>,
    /// Tasks read but not yet handed out (a whole document, an export).
    pending: VecDeque<Task>,
    /// Whether the Bulk Data files have been read (all at once).
    bulk_done: bool,
    /// The next batch's number.
    pub(crate) seq: u64,
    /// The first I/O error; reading stops at it.
    pub(crate) failed: Option<Trouble>,
}

/// Tasks for one worker: up to `BATCH` of them or `BATCH_BYTES` of input.
struct Batch {
    tasks: Vec<Task>,
    bytes: usize,
}

impl Batch {
    fn new() -> Self {
        Batch {
            tasks: Vec::with_capacity(BATCH),
            bytes: 0,
        }
    }

    fn push(&mut self, task: Task) {
        self.bytes += task.bytes();
        self.tasks.push(task);
    }

    fn is_full(&self) -> bool {
        self.tasks.len() >= BATCH || self.bytes >= BATCH_BYTES
    }
}

impl<'a> Reader<'a> {
    pub(crate) fn new(
        inputs: &'a [Input],
        headers: &'a [Prepared],
        progress: &'a Progress,
        vocabulary: &'a Vocabulary,
    ) -> Self {
        Reader {
            vocabulary,
            inputs,
            headers,
            progress,
            next_input: 0,
            open: None,
            pending: VecDeque::new(),
            bulk_done: false,
            seq: 0,
            failed: None,
        }
    }

    /// The next numbered batch, or `None` when every input is read or
    /// reading failed (everything read before the failure is handed out).
    pub(crate) fn next_batch(&mut self) -> Option<(u64, Vec<Task>)> {
        let mut batch = Batch::new();
        while !batch.is_full() {
            if let Some(task) = self.pending.pop_front() {
                batch.push(task);
                continue;
            }
            let step = match &mut self.open {
                Some(open) => open.fill(&mut batch).map(|more| {
                    if !more {
                        self.open = None;
                    }
                    true
                }),
                None => self.open_next(),
            };
            match step {
                Ok(true) => {}
                Ok(false) => break,
                // Reading stops at the first failure; what was read before
                // it (this batch, and any pending tasks) is still handed out.
                Err(trouble) => {
                    self.failed.get_or_insert(trouble);
                    self.open = None;
                    self.next_input = self.inputs.len();
                    break;
                }
            }
        }
        if batch.tasks.is_empty() {
            return None;
        }
        self.seq += 1;
        Some((self.seq - 1, batch.tasks))
    }

    /// Opens the next input: a whole file becomes pending tasks, a stream
    /// becomes `open`. `Ok(false)` when there is none left.
    fn open_next(&mut self) -> Result<bool, Trouble> {
        let Some((input, header)) = self
            .inputs
            .get(self.next_input)
            .zip(self.headers.get(self.next_input))
        else {
            return Ok(false);
        };
        self.next_input += 1;
        let name = input.origin.name();
        let (header, map) = match header {
            Prepared::Read(header) => (header.clone(), None),
            Prepared::Later(map) => (None, map.clone()),
            Prepared::Unusable { code, message } => {
                let empty = SourceFile::new(name.as_str(), String::new());
                let position = crate::source::position(&name, 1);
                self.pending.push_back(Unreadable::task(
                    empty.clone(),
                    position,
                    *code,
                    message.clone(),
                ));
                return Ok(true);
            }
        };
        if is_bulk_file(input) {
            // A Bulk Data export's files reference each other, so they are
            // read together, and their records take the place of the
            // export's first file.
            if !self.bulk_done {
                self.bulk_done = true;
                let mut sources = Vec::new();
                let usable = self
                    .inputs
                    .iter()
                    .zip(self.headers)
                    .filter(|(i, p)| is_bulk_file(i) && matches!(p, Prepared::Read(_)));
                for (bulk, _) in usable {
                    match read_whole(self.open_input(bulk)?, &bulk.origin.name())? {
                        Ok(source) => sources.push(source),
                        Err(task) => self.pending.push_back(task),
                    }
                }
                if !sources.is_empty() {
                    self.pending.push_back(Task::Fhir(sources));
                }
            }
            return Ok(true);
        }
        let reader = self.open_input(input)?;
        match input.format {
            Format::Yaml | Format::Json => {
                let syntax = if input.format == Format::Json {
                    Syntax::Json
                } else {
                    Syntax::Yaml
                };
                self.pending
                    .push_back(read_document(reader, &name, syntax)?);
            }
            Format::JsonLines => {
                self.open = Some(Open::Lines {
                    name: Arc::from(name),
                    reader: BufReader::with_capacity(1 << 16, reader),
                    buf: Vec::new(),
                    line: 0,
                });
            }
            Format::Csv => {
                self.open = Some(open_csv(reader, name, header, map, self.vocabulary)?);
            }
            // Mapped to regimens by the worker that takes the task, not
            // here under the reader's lock.
            Format::Fhir => self.pending.push_back(match read_whole(reader, &name)? {
                Ok(source) => Task::Fhir(vec![source]),
                Err(task) => task,
            }),
        }
        Ok(true)
    }

    fn open_input(&self, input: &Input) -> Result<Counting<Box<dyn Read + Send>>, Trouble> {
        let inner = input
            .origin
            .open()
            .map_err(|e| Trouble::Io(format!("cannot read {}: {e}", input.origin.name())))?;
        Ok(Counting {
            inner,
            progress: self.progress.clone(),
        })
    }
}

/// A file of a Bulk Data export (FHIR ndjson named as such).
fn is_bulk_file(input: &Input) -> bool {
    input.format == Format::Fhir && matches!(&input.origin, Origin::File(_)) && {
        let name = input.origin.name();
        name.ends_with(".ndjson") || name.ends_with(".jsonl")
    }
}

/// Whether FHIR text is Bulk Data ndjson rather than one resource: by
/// extension, or else (standard input) because it is not one JSON value.
fn looks_like_ndjson(name: &str, text: &str) -> bool {
    if name.ends_with(".ndjson") || name.ends_with(".jsonl") {
        return true;
    }
    if name.ends_with(".json") {
        return false;
    }
    serde_json::from_str::<serde::de::IgnoredAny>(text).is_err()
}

/// Counts bytes read for the progress bar.
struct Counting<R> {
    inner: R,
    progress: Progress,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Finds the line a CSV record starts on. The csv crate's own count lags
/// after a `\r\n` row end (it counts the `\n` only when reading the next
/// record) and after blank lines (BurntSushi/rust-csv#395, #208), which put
/// every row of a Windows file one line too low. This reader notes where
/// the newlines are in what it hands the csv reader, whose buffer asks for
/// more only once it has used all it has, so only the newlines of about
/// the last buffer need keeping.
struct LineCount<R> {
    inner: R,
    /// Bytes handed out so far.
    offset: u64,
    /// Offsets of newlines not yet passed, in order.
    newlines: VecDeque<u64>,
    /// Newlines passed (before every offset still asked about).
    passed: usize,
}

impl<R> LineCount<R> {
    fn new(inner: R) -> Self {
        LineCount {
            inner,
            offset: 0,
            newlines: VecDeque::new(),
            passed: 0,
        }
    }

    /// Counts as passed the newlines before `offset`.
    fn pass(&mut self, offset: u64) {
        while self.newlines.front().is_some_and(|&n| n < offset) {
            self.newlines.pop_front();
            self.passed += 1;
        }
    }

    /// The 1-based line of the byte at `offset`, for offsets that never go
    /// back and lie within what the csv reader has consumed.
    fn line_at(&mut self, offset: u64) -> usize {
        self.pass(offset);
        self.passed + 1
    }
}

impl<R: Read> Read for LineCount<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // Everything handed out before is consumed, so the record in
        // progress ends at or after `offset`, and it and every later one
        // ends on a line after any newline before `offset - 1`.
        self.pass(self.offset.saturating_sub(1));
        let n = self.inner.read(buf)?;
        let start = self.offset;
        self.newlines.extend(
            buf[..n]
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| start + i as u64),
        );
        self.offset += n as u64;
        Ok(n)
    }
}

/// The line a CSV record just read starts on: the line of its last byte
/// (the end of row, or the end of the file) less the newlines inside its
/// quoted cells.
fn record_line(csv: &mut ::csv::Reader<LineCount<impl Read>>, raw: &::csv::ByteRecord) -> usize {
    let end = csv.position().byte();
    let last = csv.get_mut().line_at(end.saturating_sub(1));
    let inside = raw.as_slice().iter().filter(|b| **b == b'\n').count();
    last.saturating_sub(inside).max(1)
}

/// A whole file as text, or the task standing for why it cannot be read.
fn read_whole(reader: impl Read, name: &str) -> Result<Result<Arc<SourceFile>, Task>, Trouble> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_DOCUMENT_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Trouble::Io(format!("cannot read {name}: {e}")))?;
    let empty = SourceFile::new(name, String::new());
    if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
        let message = format!(
            "{name} is larger than {} MiB; use JSON Lines or CSV for large batches",
            MAX_DOCUMENT_BYTES >> 20
        );
        return Ok(Err(Unreadable::task(
            empty.clone(),
            format!("{name}:1"),
            InputCode::TooLarge,
            message,
        )));
    }
    match String::from_utf8(bytes) {
        Ok(text) => {
            let text = text
                .strip_prefix('\u{feff}')
                .map(str::to_owned)
                .unwrap_or(text);
            Ok(Ok(SourceFile::new(name, text)))
        }
        Err(e) => {
            let message = format!(
                "{name} is not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            );
            Ok(Err(Unreadable::task(
                empty.clone(),
                format!("{name}:1"),
                InputCode::NotUtf8,
                message,
            )))
        }
    }
}

fn read_document(reader: impl Read, name: &str, syntax: Syntax) -> Result<Task, Trouble> {
    Ok(match read_whole(reader, name)? {
        Ok(source) => Task::Document(source, syntax),
        Err(task) => task,
    })
}

impl Open {
    /// Reads records into `batch` until it is full (`Ok(true)`) or the
    /// input ends (`Ok(false)`).
    fn fill(&mut self, batch: &mut Batch) -> Result<bool, Trouble> {
        match self {
            Open::Lines {
                name,
                reader,
                buf,
                line,
            } => fill_lines(name, reader, buf, line, batch),
            Open::Csv {
                name,
                csv,
                header,
                group,
            } => fill_csv(name, csv, header, group, batch),
        }
    }
}

fn fill_lines(
    name: &Arc<str>,
    reader: &mut impl BufRead,
    buf: &mut Vec<u8>,
    line: &mut usize,
    batch: &mut Batch,
) -> Result<bool, Trouble> {
    while !batch.is_full() {
        buf.clear();
        *line += 1;
        let line = *line;
        let n = read_line_bounded(reader, buf)
            .map_err(|e| Trouble::Io(format!("cannot read {name}: {e}")))?;
        if n == 0 {
            return Ok(false);
        }
        if buf.len() > MAX_RECORD_BYTES {
            let source = SourceFile::at_line(name.to_string(), String::new(), line);
            let message = format!("line {line} is longer than {} KiB", MAX_RECORD_BYTES >> 10);
            batch.push(Unreadable::task(
                source.clone(),
                crate::source::position(name, line),
                InputCode::TooLarge,
                message,
            ));
            continue;
        }
        while buf.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
            buf.pop();
        }
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match std::str::from_utf8(buf) {
            Ok(text) => batch.push(Task::JsonLine {
                name: name.clone(),
                line,
                text: text.to_owned(),
            }),
            Err(e) => {
                let source = SourceFile::at_line(name.to_string(), String::new(), line);
                let message = format!(
                    "line {line} is not UTF-8 text (invalid byte at column {})",
                    e.valid_up_to() + 1
                );
                batch.push(Unreadable::task(
                    source.clone(),
                    crate::source::position(name, line),
                    InputCode::NotUtf8,
                    message,
                ));
            }
        }
    }
    Ok(true)
}

/// Reads one line into `buf`, keeping at most [`MAX_RECORD_BYTES`] + 1
/// bytes of it (the rest is skipped), so that a file with no newline cannot
/// exhaust memory. Returns the bytes consumed. (`read_until` finds the
/// newline with `memchr`, not a byte at a time.)
fn read_line_bounded(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let limit = MAX_RECORD_BYTES as u64 + 1;
    let kept = reader.by_ref().take(limit).read_until(b'\n', buf)?;
    if kept as u64 == limit && buf.last() != Some(&b'\n') {
        return Ok(kept + reader.skip_until(b'\n')?);
    }
    Ok(kept)
}

/// Opens a CSV input: reads (and, for standard input, checks) its header.
fn open_csv(
    reader: Counting<Box<dyn Read + Send>>,
    name: String,
    header: Option<Arc<Header>>,
    map: Option<Arc<ColumnMap>>,
    vocabulary: &Vocabulary,
) -> Result<Open, Trouble> {
    let mut csv = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(LineCount::new(reader));
    let mut record = ::csv::StringRecord::new();
    let io = |e: ::csv::Error| Trouble::Io(format!("cannot read {name}: {e}"));
    let header = match header {
        Some(h) => {
            csv.read_record(&mut record).map_err(io)?;
            h
        }
        None => {
            if !csv.read_record(&mut record).map_err(io)? {
                return Err(Trouble::Header(vec![Diagnostic::new(
                    InputCode::CsvEmpty.as_str(),
                    crate::diagnostic::Level::Error,
                    format!("{name} is empty: it has no header row"),
                )]));
            }
            let cells: Vec<String> = record.iter().map(str::to_owned).collect();
            Arc::new(
                Header::check(&name, &cells, vocabulary, map.as_deref())
                    .map_err(Trouble::Header)?,
            )
        }
    };
    Ok(Open::Csv {
        name,
        csv: Box::new(csv),
        header,
        group: Group::default(),
    })
}

/// The rows of the CSV regimen being read: consecutive rows with its id.
#[derive(Default)]
struct Group {
    id: Option<String>,
    rows: Vec<csv::Record>,
    /// Why the regimen cannot be read (a row too long or not UTF-8), and the
    /// line it starts on: it is then one invalid record, never checked on
    /// the rows that could be read (which might pass without the others).
    unusable: Option<(usize, InputCode, String)>,
}

impl Group {
    /// Hands the regimen to `batch` and starts an empty one.
    fn flush(&mut self, name: &str, header: &Arc<Header>, batch: &mut Batch) {
        let id = self.id.take();
        let rows = std::mem::take(&mut self.rows);
        match self.unusable.take() {
            Some((first, code, message)) => {
                let source = SourceFile::at_line(name, String::new(), first);
                batch.push(Task::Unreadable(Box::new(Unreadable {
                    source,
                    input: crate::source::position(name, first),
                    code,
                    message,
                    // An id over the limit is not echoed (the builder refuses it).
                    id: id.filter(|id| id.len() <= crate::regimen::MAX_ID_BYTES),
                })));
            }
            None if !rows.is_empty() => batch.push(Task::Csv(header.clone(), rows)),
            None => {}
        }
    }
}

/// Reads CSV rows into `batch`, a task per regimen (consecutive rows with
/// the same id), until it is full or the input ends.
fn fill_csv(
    name: &str,
    csv: &mut ::csv::Reader<LineCount<impl Read>>,
    header: &Arc<Header>,
    group: &mut Group,
    batch: &mut Batch,
) -> Result<bool, Trouble> {
    let mut raw = ::csv::ByteRecord::new();
    while !batch.is_full() {
        match csv.read_byte_record(&mut raw) {
            Ok(true) => {}
            Ok(false) => {
                group.flush(name, header, batch);
                return Ok(false);
            }
            // Rows are read as bytes and flexible, so only I/O fails here.
            Err(e) => {
                group.flush(name, header, batch);
                return Err(Trouble::Io(format!("cannot read {name}: {e}")));
            }
        }
        let line = record_line(csv, &raw);
        let blank = |cell: &[u8]| std::str::from_utf8(cell).is_ok_and(|t| t.trimmed().is_empty());
        if raw.iter().all(blank) {
            continue;
        }
        // The id is read even from a row that cannot be used, so that the
        // row spoils its own regimen and no other.
        let id = header.id_of(&raw);
        let same = id.is_some() && id == group.id.as_deref();
        if !same {
            group.flush(name, header, batch);
            group.id = id.map(str::to_owned);
        }
        let problem = if raw.as_slice().len() > MAX_RECORD_BYTES {
            Some((
                InputCode::TooLarge,
                format!("row {line} is longer than {} KiB", MAX_RECORD_BYTES >> 10),
            ))
        } else {
            match ::csv::StringRecord::from_byte_record(raw.clone()) {
                Ok(cells) => {
                    // Past the limit, keep only the count: the regimen is
                    // refused whole (never split into parts that each pass).
                    if group.unusable.is_none() && group.rows.len() <= MAX_GROUP_ROWS {
                        group.rows.push(csv::Record::new(line, cells));
                    }
                    None
                }
                Err(e) => {
                    let field = e.utf8_error().field();
                    let column = header
                        .column_name(field)
                        .map_or_else(|| format!("cell {}", field + 1), |c| format!("column {c}"));
                    Some((
                        InputCode::CsvBadRecord,
                        format!("row {line}, {column}: not UTF-8 text (save the file as UTF-8)"),
                    ))
                }
            }
        };
        if let Some((code, message)) = problem
            && group.unusable.is_none()
        {
            let first = group.rows.first().map_or(line, |r| r.line);
            let message = if first == line {
                message
            } else {
                format!("{message}, so the regimen starting on row {first} is not checked")
            };
            group.rows.clear();
            group.unusable = Some((first, code, message));
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(bytes: usize) -> Task {
        Task::JsonLine {
            name: Arc::from("t.jsonl"),
            line: 1,
            text: "x".repeat(bytes),
        }
    }

    /// Record lines stay right whatever the csv reader's buffer size, so
    /// across every cut of the input into reads: each row's first cell is
    /// the line it starts on.
    #[test]
    fn csv_record_lines_for_any_buffer() {
        let text = "1\r\n\r\n3,a\n\n5\r\n\"6\r\nx\",b\r\n\n\n10\r\n11";
        for capacity in 1..text.len() + 2 {
            let mut csv = ::csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .buffer_capacity(capacity)
                .from_reader(LineCount::new(text.as_bytes()));
            let mut raw = ::csv::ByteRecord::new();
            let mut got = Vec::new();
            while csv.read_byte_record(&mut raw).unwrap_or(false) {
                let first = String::from_utf8_lossy(&raw[0]).into_owned();
                got.push((first, record_line(&mut csv, &raw)));
            }
            let want: Vec<(String, usize)> = [
                ("1", 1),
                ("3", 3),
                ("5", 5),
                ("6\r\nx", 6),
                ("10", 10),
                ("11", 11),
            ]
            .iter()
            .map(|(s, l)| ((*s).to_owned(), *l))
            .collect();
            assert_eq!(got, want, "buffer of {capacity}");
        }
    }

    /// A batch closes at `BATCH` tasks or `BATCH_BYTES` of input, whichever
    /// comes first, so large records cannot pile up in flight.
    #[test]
    fn batches_close_on_count_or_bytes() {
        let mut batch = Batch::new();
        for _ in 0..3 {
            batch.push(line(1 << 20));
        }
        assert!(!batch.is_full(), "3 MiB of 1 MiB lines");
        batch.push(line(1 << 20));
        assert!(batch.is_full(), "4 MiB of 1 MiB lines makes a batch");
        let mut batch = Batch::new();
        for _ in 1..BATCH {
            batch.push(line(10));
        }
        assert!(!batch.is_full());
        batch.push(line(10));
        assert!(batch.is_full(), "small records batch by count");
    }
}
