//! Inputs to ordered output, streaming and in parallel.
//!
//! The inputs are cut into tasks (a document file, one JSON line, the rows
//! of one CSV regimen) and numbered batches of tasks. Each of `jobs`
//! workers in turn takes the next batch from the reader, parses, evaluates
//! and renders it, and writes it when every earlier batch has been written.
//! A batch thus stays on one core from input to output, and no thread sits
//! between workers: `--jobs 1` is the caller's thread alone (as `make -j1`
//! or `rg -j1`, what a one-CPU container or a shared CI runner wants).
//! Workers run at most a few batches ahead of the output, so memory stays
//! flat however large the input, and the output is byte-identical for any
//! number of workers.

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use crate::diagnostic::Diagnostic;
use crate::eval::{Engine, Outcome};
use crate::regimen::csv::{self, Header};
use crate::regimen::document::{self, Syntax};
use crate::regimen::{Builder, InputProblem, Regimen};
use crate::source::{SourceFile, Span};
use crate::text::Trim;

/// Largest document file read whole.
pub const MAX_DOCUMENT_BYTES: u64 = 64 * 1024 * 1024;
/// Longest JSON line or CSV record accepted; longer ones are one invalid record.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;
/// Most rows one CSV regimen may span.
const MAX_GROUP_ROWS: usize = crate::regimen::MAX_PHASES;
/// Tasks per batch sent to a worker.
const BATCH: usize = 256;
/// Input bytes per batch: a batch closes at `BATCH` tasks or this many
/// bytes, so that memory in flight stays bounded when records are large
/// (256 JSON lines of 1 MiB would otherwise be 256 MiB per batch).
const BATCH_BYTES: usize = 4 << 20;

/// How an input is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// One YAML document (one regimen or a `regimens:` list).
    Yaml,
    /// One JSON document.
    Json,
    /// One JSON regimen per line.
    JsonLines,
    /// One phase per row.
    Csv,
    /// FHIR R4: a Bundle, or Bulk Data ndjson.
    Fhir,
}

/// Where an input comes from.
#[derive(Clone, Debug)]
pub enum Origin {
    /// A file.
    File(PathBuf),
    /// Standard input.
    Stdin,
}

impl Origin {
    /// The name shown in output: the path as given, or `-`.
    pub fn name(&self) -> String {
        match self {
            Origin::File(p) => p.display().to_string(),
            Origin::Stdin => "-".to_owned(),
        }
    }

    fn open(&self) -> std::io::Result<Box<dyn Read + Send>> {
        Ok(match self {
            Origin::File(p) => Box::new(std::fs::File::open(p)?),
            Origin::Stdin => Box::new(std::io::stdin()),
        })
    }
}

/// One input and how to read it.
#[derive(Clone, Debug)]
pub struct Input {
    /// Where.
    pub origin: Origin,
    /// How.
    pub format: Format,
    /// Found by searching a directory rather than named: such a file that
    /// cannot be used is one invalid record, not the end of the run.
    pub found: bool,
}

/// A unit of work for a worker.
enum Task {
    /// A whole document.
    Document(Arc<SourceFile>, Syntax),
    /// One JSON line.
    JsonLine {
        name: Arc<str>,
        line: usize,
        text: String,
    },
    /// The rows of one CSV regimen.
    Csv(Arc<Header>, Vec<csv::Row>),
    /// FHIR read whole: a Bundle or an ndjson file, or the files of a Bulk
    /// Data export together (their resources reference each other).
    Fhir(Vec<Arc<SourceFile>>),
    /// An input that could not be read, as its invalid regimen.
    Ready(Box<Regimen>),
}

impl Task {
    /// About how many bytes of input the task holds.
    fn bytes(&self) -> usize {
        match self {
            Task::Document(source, _) => source.text().len(),
            Task::Fhir(sources) => sources.iter().map(|s| s.text().len()).sum(),
            Task::JsonLine { text, .. } => text.len(),
            Task::Csv(_, rows) => rows.iter().map(|r| r.cells.as_slice().len()).sum(),
            Task::Ready(_) => 0,
        }
    }

    /// The regimens of the task; with `spans` unset, JSON and CSV records
    /// are read without byte spans (every finding keeps its line).
    fn regimens(self, spans: bool) -> Vec<Regimen> {
        match self {
            Task::Document(source, syntax) => document::read(&source, syntax),
            Task::JsonLine { name, line, text } => {
                let input = crate::source::position(&name, line);
                let source = SourceFile::at_line(name, text, line);
                let parsed = if spans {
                    crate::tree::json::parse(source.text())
                } else {
                    crate::tree::json::parse_lean(source.text())
                };
                match parsed {
                    Ok(node) => document::read_one(node, &source, input.clone(), input),
                    Err(err) => vec![unreadable(
                        &source,
                        input,
                        "input.syntax",
                        format!("this line is not JSON: {}", err.message),
                        Some(err.span),
                    )],
                }
            }
            Task::Csv(header, rows) => vec![csv::build_with(&header, &rows, spans)],
            Task::Fhir(sources) => match sources.as_slice() {
                [one] if !looks_like_ndjson(one.name(), one.text()) => {
                    crate::regimen::fhir::read_bundle(one)
                }
                all => crate::regimen::fhir::read_ndjson(all),
            },
            Task::Ready(regimen) => vec![*regimen],
        }
    }
}

/// An invalid regimen standing for an input that could not be read.
pub fn unreadable(
    source: &Arc<SourceFile>,
    input: String,
    code: &'static str,
    message: String,
    span: Option<Span>,
) -> Regimen {
    let mut b = Builder::new(Span::new(0, source.text().len()));
    b.problem(InputProblem {
        code,
        field: String::new(),
        message,
        span,
        label: "here".into(),
        help: None,
    });
    b.finish(input.clone(), input, Some(source.clone()))
}

/// Why a run could not go on (exit code 2).
#[derive(Debug)]
pub enum Trouble {
    /// An input could not be opened or read.
    Io(String),
    /// A CSV header is wrong.
    Header(Vec<Diagnostic>),
}

/// What [`prepare`] found of one input.
#[derive(Debug)]
pub enum Prepared {
    /// To be read; for a CSV file, its checked header.
    Read(Option<Arc<Header>>),
    /// Not to be read: a file found in a directory that cannot be opened,
    /// or any file that is not text. It is one invalid record.
    Unusable {
        /// The finding's code (`input.unreadable-file`, `input.not-utf8`,
        /// `input.csv-empty`).
        code: &'static str,
        /// What the file is, or why it cannot be read.
        message: String,
    },
}

impl Format {
    /// The format's name in messages.
    fn noun(self) -> &'static str {
        match self {
            Format::Yaml => "YAML",
            Format::Json => "JSON",
            Format::JsonLines => "JSON Lines",
            Format::Csv => "CSV",
            Format::Fhir => "FHIR JSON",
        }
    }
}

/// Why a file cannot be opened, naming a dangling symbolic link as such.
pub fn unopenable(path: &std::path::Path, name: &str, error: &std::io::Error) -> String {
    match std::fs::read_link(path) {
        Ok(target) if error.kind() == std::io::ErrorKind::NotFound => format!(
            "{name} is a symbolic link to {}, which does not exist",
            target.display()
        ),
        _ => format!("cannot read {name}: {error}"),
    }
}

/// Checks what can be checked before any record is read: every input
/// opens, no file is binary (a spreadsheet saved under a `.csv` name), and
/// every CSV header is valid.
///
/// A file named on the command line that cannot be opened, and any CSV
/// header that is wrong, stop the run (exit 2). A file found by searching
/// a directory that cannot be opened or is an empty CSV, and any file
/// whose first bytes are not text, become one invalid record each, and
/// the run goes on.
pub fn prepare(inputs: &[Input]) -> Result<Vec<Prepared>, Trouble> {
    let mut prepared = Vec::with_capacity(inputs.len());
    let mut problems = Vec::new();
    for input in inputs {
        let name = input.origin.name();
        // Standard input cannot be read twice; its header is checked when read.
        let Origin::File(path) = &input.origin else {
            prepared.push(Prepared::Read(None));
            continue;
        };
        let mut head = Vec::with_capacity(crate::sniff::HEAD_BYTES);
        let opened = std::fs::File::open(path).and_then(|mut file| {
            (&mut file)
                .take(crate::sniff::HEAD_BYTES as u64)
                .read_to_end(&mut head)?;
            Ok(file)
        });
        let file = match opened {
            Ok(file) => file,
            Err(e) if input.found => {
                prepared.push(Prepared::Unusable {
                    code: "input.unreadable-file",
                    message: unopenable(path, &name, &e),
                });
                continue;
            }
            Err(e) => return Err(Trouble::Io(format!("cannot read {name}: {e}"))),
        };
        if let Some(kind) = crate::sniff::binary_kind(&head) {
            prepared.push(Prepared::Unusable {
                code: "input.not-utf8",
                message: format!("{name}: this is {kind}, not {}", input.format.noun()),
            });
            continue;
        }
        if input.format != Format::Csv {
            prepared.push(Prepared::Read(None));
            continue;
        }
        let empty =
            head.len() < crate::sniff::HEAD_BYTES && head.iter().all(u8::is_ascii_whitespace);
        if empty {
            let message = format!("{name} is empty: it has no header row");
            if input.found {
                prepared.push(Prepared::Unusable {
                    code: "input.csv-empty",
                    message,
                });
            } else {
                problems.push(Diagnostic::new(
                    "input.csv-empty",
                    crate::diagnostic::Level::Error,
                    message,
                ));
            }
            continue;
        }
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(std::io::Cursor::new(head).chain(file));
        let mut record = ::csv::StringRecord::new();
        match reader.read_record(&mut record) {
            Ok(true) => {
                let cells: Vec<String> = record.iter().map(str::to_owned).collect();
                match Header::check(&name, &cells) {
                    Ok(h) => prepared.push(Prepared::Read(Some(Arc::new(h)))),
                    Err(mut d) => {
                        problems.append(&mut d);
                        prepared.push(Prepared::Read(None));
                    }
                }
            }
            Ok(false) => {
                problems.push(Diagnostic::new(
                    "input.csv-empty",
                    crate::diagnostic::Level::Error,
                    format!("{name} is empty: it has no header row"),
                ));
                prepared.push(Prepared::Read(None));
            }
            Err(e) => return Err(Trouble::Io(format!("cannot read {name}: {e}"))),
        }
    }
    if problems.is_empty() {
        Ok(prepared)
    } else {
        Err(Trouble::Header(problems))
    }
}

/// Bytes read so far, for a progress bar.
pub type Progress = Arc<AtomicU64>;

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
struct Reader<'a> {
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
    seq: u64,
    /// The first I/O error; reading stops at it.
    failed: Option<Trouble>,
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
    fn new(inputs: &'a [Input], headers: &'a [Prepared], progress: &'a Progress) -> Self {
        Reader {
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
    fn next_batch(&mut self) -> Option<(u64, Vec<Task>)> {
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
        let header = match header {
            Prepared::Read(header) => header,
            Prepared::Unusable { code, message } => {
                let empty = SourceFile::new(name.as_str(), String::new());
                let position = crate::source::position(&name, 1);
                self.pending.push_back(Task::Ready(Box::new(unreadable(
                    &empty,
                    position,
                    code,
                    message.clone(),
                    None,
                ))));
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
            Format::Csv => self.open = Some(open_csv(reader, name, header.clone())?),
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
        return Ok(Err(Task::Ready(Box::new(unreadable(
            &empty,
            format!("{name}:1"),
            "input.too-large",
            message,
            None,
        )))));
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
            Ok(Err(Task::Ready(Box::new(unreadable(
                &empty,
                format!("{name}:1"),
                "input.not-utf8",
                message,
                None,
            )))))
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
            batch.push(Task::Ready(Box::new(unreadable(
                &source,
                crate::source::position(name, line),
                "input.too-large",
                message,
                None,
            ))));
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
                batch.push(Task::Ready(Box::new(unreadable(
                    &source,
                    crate::source::position(name, line),
                    "input.not-utf8",
                    message,
                    None,
                ))));
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
                    "input.csv-empty",
                    crate::diagnostic::Level::Error,
                    format!("{name} is empty: it has no header row"),
                )]));
            }
            let cells: Vec<String> = record.iter().map(str::to_owned).collect();
            Arc::new(Header::check(&name, &cells).map_err(Trouble::Header)?)
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
    rows: Vec<csv::Row>,
    /// Why the regimen cannot be read (a row too long or not UTF-8), and the
    /// line it starts on: it is then one invalid record, never checked on
    /// the rows that could be read (which might pass without the others).
    unusable: Option<(usize, &'static str, String)>,
}

impl Group {
    /// Hands the regimen to `batch` and starts an empty one.
    fn flush(&mut self, name: &str, header: &Arc<Header>, batch: &mut Batch) {
        let id = self.id.take();
        let rows = std::mem::take(&mut self.rows);
        match self.unusable.take() {
            Some((first, code, message)) => {
                let source = SourceFile::at_line(name, String::new(), first);
                let mut regimen = unreadable(
                    &source,
                    crate::source::position(name, first),
                    code,
                    message,
                    None,
                );
                // An id over the limit is not echoed (the builder refuses it).
                if let Some(id) = id.filter(|id| id.len() <= crate::regimen::MAX_ID_BYTES) {
                    regimen.id = id;
                }
                batch.push(Task::Ready(Box::new(regimen)));
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
                "input.too-large",
                format!("row {line} is longer than {} KiB", MAX_RECORD_BYTES >> 10),
            ))
        } else {
            match ::csv::StringRecord::from_byte_record(raw.clone()) {
                Ok(cells) => {
                    // Past the limit, keep only the count: the regimen is
                    // refused whole (never split into parts that each pass).
                    if group.unusable.is_none() && group.rows.len() <= MAX_GROUP_ROWS {
                        group.rows.push(csv::Row { line, cells });
                    }
                    None
                }
                Err(e) => {
                    let field = e.utf8_error().field();
                    let column = header
                        .column_name(field)
                        .map_or_else(|| format!("cell {}", field + 1), |c| format!("column {c}"));
                    Some((
                        "input.csv-bad-record",
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

/// Runs the pipeline: `render` adds each outcome to its batch's output
/// (`B`, which starts empty), and `sink` receives the batches' outputs in
/// input order.
///
/// `jobs` workers (the caller's thread and `jobs - 1` more) each take the
/// next batch from the reader under a lock, parse, evaluate and render it,
/// and hand it to the sink under another lock once every earlier batch has
/// been: a batch is read, worked and written on one core, with no thread
/// between. A worker runs at most `2 x jobs` batches ahead of the output,
/// so memory stays bounded however slow one batch is. Returns the first
/// I/O error of the reader, if any.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site; a struct would only rename them"
)]
pub fn run<'r, B: Default + Send>(
    inputs: &[Input],
    spans: bool,
    headers: &[Prepared],
    engine: &Engine<'r>,
    jobs: usize,
    progress: &Progress,
    render: &(dyn Fn(&Outcome<'r>, &mut B) + Sync),
    sink: &mut (dyn FnMut(B) + Send),
) -> Result<(), Trouble> {
    let jobs = jobs.max(1);
    let pool = Pool {
        reader: Mutex::new(Reader::new(inputs, headers, progress)),
        out: Mutex::new(Out {
            next: 0,
            waiting: BTreeMap::new(),
            sink,
        }),
        turn: Condvar::new(),
        window: 2 * jobs as u64,
        stopped: AtomicBool::new(false),
    };
    let lost = std::thread::scope(|scope| {
        let helpers: Vec<_> = (1..jobs)
            // A worker that cannot start leaves its share to the others.
            .filter_map(|_| {
                std::thread::Builder::new()
                    .name("rxlint-work".into())
                    .spawn_scoped(scope, || pool.work(engine, spans, render))
                    .ok()
            })
            .collect();
        pool.work(engine, spans, render);
        helpers
            .into_iter()
            .map(|h| h.join())
            .filter(Result::is_err)
            .count()
    });
    let failed = match pool.reader.into_inner() {
        Ok(reader) => reader.failed,
        Err(_) => Some(Trouble::Io("the input reader stopped unexpectedly".into())),
    };
    match failed {
        Some(trouble) => Err(trouble),
        None if lost > 0 => Err(Trouble::Io("a worker stopped unexpectedly".into())),
        None => Ok(()),
    }
}

/// What the workers share.
struct Pool<'a, B> {
    reader: Mutex<Reader<'a>>,
    out: Mutex<Out<'a, B>>,
    /// Signalled when the output moves on (or a worker stops).
    turn: Condvar,
    /// Most batches taken but not yet written.
    window: u64,
    /// Set when a worker stops unexpectedly, so that none waits for it.
    stopped: AtomicBool,
}

/// The output side: batches finished early wait here for their turn.
struct Out<'a, B> {
    /// The number of the next batch to write.
    next: u64,
    waiting: BTreeMap<u64, B>,
    sink: &'a mut (dyn FnMut(B) + Send),
}

impl<B: Default + Send> Pool<'_, B> {
    fn work<'r>(
        &self,
        engine: &Engine<'r>,
        spans: bool,
        render: &(dyn Fn(&Outcome<'r>, &mut B) + Sync),
    ) {
        // A worker that panics stops the others from waiting for its batch.
        struct Stop<'s>(&'s AtomicBool, &'s Condvar);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                if std::thread::panicking() {
                    self.0.store(true, Ordering::SeqCst);
                    self.1.notify_all();
                }
            }
        }
        let _stop = Stop(&self.stopped, &self.turn);
        while let Some((seq, tasks)) = self.take() {
            let mut output = B::default();
            for task in tasks {
                for regimen in task.regimens(spans) {
                    render(&engine.evaluate(regimen), &mut output);
                }
            }
            self.deliver(seq, output);
        }
    }

    /// The next batch to work, once the output is close enough behind.
    fn take(&self) -> Option<(u64, Vec<Task>)> {
        let mut reader = self.reader.lock().ok()?;
        if self.stopped.load(Ordering::SeqCst) {
            return None;
        }
        let mut out = self.out.lock().ok()?;
        // The batch the output waits for is being worked by another worker,
        // which takes the reader only after writing it and signalling.
        while reader.seq >= out.next + self.window {
            if self.stopped.load(Ordering::SeqCst) {
                return None;
            }
            out = self.turn.wait(out).ok()?;
        }
        drop(out);
        reader.next_batch()
    }

    /// Hands a worked batch to the sink with every batch now due after it.
    fn deliver(&self, seq: u64, output: B) {
        let Ok(mut out) = self.out.lock() else {
            return;
        };
        let Out {
            next,
            waiting,
            sink,
        } = &mut *out;
        waiting.insert(seq, output);
        while let Some(output) = waiting.remove(next) {
            sink(output);
            *next += 1;
        }
        drop(out);
        self.turn.notify_all();
    }
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
