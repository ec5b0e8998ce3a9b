//! Inputs to ordered output, streaming and in parallel.
//!
//! A reader thread cuts the inputs into tasks (a document file, one JSON
//! line, the rows of one CSV regimen) and sends them in numbered batches
//! through a bounded channel; `jobs` workers parse, evaluate and render
//! each batch; the caller's thread writes the batches back in input order.
//! The channels are bounded, so memory stays flat however large the input,
//! and output is byte-identical for any number of workers.
//!
//! With one job there is no pipeline: the caller's thread reads, works and
//! writes each batch in turn, so `--jobs 1` uses one core (as `make -j1`
//! or `rg -j1` do), which is what a one-CPU container or a shared CI
//! runner wants.

use crate::text::Trim;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};

use crate::diagnostic::Diagnostic;
use crate::eval::{Engine, Outcome};
use crate::regimen::csv::{self, Header};
use crate::regimen::document::{self, Syntax};
use crate::regimen::{Builder, InputProblem, Regimen};
use crate::source::{SourceFile, Span};

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
    /// A regimen already read (FHIR, or an input that could not be read).
    Ready(Box<Regimen>),
}

impl Task {
    /// About how many bytes of input the task holds.
    fn bytes(&self) -> usize {
        match self {
            Task::Document(source, _) => source.text().len(),
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
                let source = SourceFile::at_line(name.to_string(), text, line);
                let input = format!("{name}:{line}");
                let parsed = if spans {
                    crate::json::parse(source.text())
                } else {
                    crate::json::parse_lean(source.text())
                };
                match parsed {
                    Ok(node) => document::read_one(&node, &source, input.clone(), input),
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

/// Checks what can be checked before any record is read: every input opens,
/// and every CSV header is valid. Returns the checked headers, by input.
pub fn prepare(inputs: &[Input]) -> Result<Vec<Option<Arc<Header>>>, Trouble> {
    let mut headers = Vec::with_capacity(inputs.len());
    let mut problems = Vec::new();
    for input in inputs {
        let name = input.origin.name();
        if let Origin::File(path) = &input.origin {
            std::fs::File::open(path)
                .map_err(|e| Trouble::Io(format!("cannot read {name}: {e}")))?;
        }
        headers.push(None);
        if input.format != Format::Csv {
            continue;
        }
        // Standard input cannot be read twice; its header is checked when read.
        let Origin::File(path) = &input.origin else {
            continue;
        };
        let file = std::fs::File::open(path)
            .map_err(|e| Trouble::Io(format!("cannot read {name}: {e}")))?;
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(file);
        let mut record = ::csv::StringRecord::new();
        match reader.read_record(&mut record) {
            Ok(true) => {
                let cells: Vec<String> = record.iter().map(str::to_owned).collect();
                match Header::check(&name, &cells) {
                    Ok(h) => {
                        if let Some(last) = headers.last_mut() {
                            *last = Some(Arc::new(h));
                        }
                    }
                    Err(mut d) => problems.append(&mut d),
                }
            }
            Ok(false) => problems.push(Diagnostic::new(
                "input.csv-empty",
                crate::diagnostic::Level::Error,
                format!("{name} is empty: it has no header row"),
            )),
            Err(e) => return Err(Trouble::Io(format!("cannot read {name}: {e}"))),
        }
    }
    if problems.is_empty() {
        Ok(headers)
    } else {
        Err(Trouble::Header(problems))
    }
}

/// Bytes read so far, for a progress bar.
pub type Progress = Arc<AtomicU64>;

/// Reads every input and sends numbered batches of tasks. Returns the first
/// I/O error, after sending everything read before it.
fn read_all(
    inputs: &[Input],
    headers: &[Option<Arc<Header>>],
    emit: &mut dyn FnMut(Vec<Task>),
    progress: &Progress,
) -> Result<(), Trouble> {
    let mut batcher = Batcher {
        emit,
        bytes: 0,
        tasks: Vec::with_capacity(BATCH),
    };
    // A Bulk Data export's files reference each other, so they are read
    // together, and their records take the place of the export's first file.
    let is_bulk_file = |i: &Input| {
        i.format == Format::Fhir && matches!(&i.origin, Origin::File(_)) && {
            let name = i.origin.name();
            name.ends_with(".ndjson") || name.ends_with(".jsonl")
        }
    };
    let mut bulk_done = false;
    for (input, header) in inputs.iter().zip(headers) {
        let name = input.origin.name();
        if is_bulk_file(input) {
            if bulk_done {
                continue;
            }
            bulk_done = true;
            let mut sources = Vec::new();
            for bulk in inputs.iter().filter(|i| is_bulk_file(i)) {
                let bulk_name = bulk.origin.name();
                let reader = bulk
                    .origin
                    .open()
                    .map_err(|e| Trouble::Io(format!("cannot read {bulk_name}: {e}")))?;
                let reader = Counting {
                    inner: reader,
                    progress: progress.clone(),
                };
                match read_whole(reader, &bulk_name)? {
                    Ok(source) => sources.push(source),
                    Err(task) => batcher.push(task),
                }
            }
            for r in fhir_ndjson(&sources) {
                batcher.push(Task::Ready(Box::new(r)));
            }
            continue;
        }
        let reader = input
            .origin
            .open()
            .map_err(|e| Trouble::Io(format!("cannot read {name}: {e}")))?;
        let reader = Counting {
            inner: reader,
            progress: progress.clone(),
        };
        match input.format {
            Format::Yaml | Format::Json => {
                let syntax = if input.format == Format::Json {
                    Syntax::Json
                } else {
                    Syntax::Yaml
                };
                batcher.push(read_document(reader, &name, syntax)?);
            }
            Format::JsonLines => read_lines(reader, &name, &mut batcher)?,
            Format::Csv => read_csv(reader, &name, header.clone(), &mut batcher)?,
            Format::Fhir => match read_whole(reader, &name)? {
                Ok(source) if looks_like_ndjson(&name, source.text()) => {
                    for r in fhir_ndjson(std::slice::from_ref(&source)) {
                        batcher.push(Task::Ready(Box::new(r)));
                    }
                }
                Ok(source) => {
                    for r in fhir_bundle(&source) {
                        batcher.push(Task::Ready(Box::new(r)));
                    }
                }
                Err(task) => batcher.push(task),
            },
        }
    }
    batcher.flush();
    Ok(())
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

struct Batcher<'a> {
    /// Where a full batch goes: a channel to the workers, or straight to
    /// work on this thread.
    emit: &'a mut dyn FnMut(Vec<Task>),
    tasks: Vec<Task>,
    /// Input bytes of `tasks`.
    bytes: usize,
}

impl Batcher<'_> {
    fn push(&mut self, task: Task) {
        self.bytes += task.bytes();
        self.tasks.push(task);
        if self.tasks.len() >= BATCH || self.bytes >= BATCH_BYTES {
            self.flush();
        }
    }

    fn flush(&mut self) {
        if self.tasks.is_empty() {
            return;
        }
        self.bytes = 0;
        let tasks = std::mem::replace(&mut self.tasks, Vec::with_capacity(BATCH));
        (self.emit)(tasks);
    }
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

fn read_lines(reader: impl Read, name: &str, batcher: &mut Batcher<'_>) -> Result<(), Trouble> {
    let name: Arc<str> = Arc::from(name);
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let mut buf = Vec::new();
    let mut line = 0usize;
    loop {
        buf.clear();
        line += 1;
        let n = read_line_bounded(&mut reader, &mut buf)
            .map_err(|e| Trouble::Io(format!("cannot read {name}: {e}")))?;
        if n == 0 {
            return Ok(());
        }
        if buf.len() > MAX_RECORD_BYTES {
            let source = SourceFile::at_line(name.to_string(), String::new(), line);
            let message = format!("line {line} is longer than {} KiB", MAX_RECORD_BYTES >> 10);
            batcher.push(Task::Ready(Box::new(unreadable(
                &source,
                format!("{name}:{line}"),
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
        match std::str::from_utf8(&buf) {
            Ok(text) => batcher.push(Task::JsonLine {
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
                batcher.push(Task::Ready(Box::new(unreadable(
                    &source,
                    format!("{name}:{line}"),
                    "input.not-utf8",
                    message,
                    None,
                ))));
            }
        }
    }
}

/// Reads one line into `buf`, keeping at most a little more than
/// [`MAX_RECORD_BYTES`] of it (the rest is skipped), so that a file with no
/// newline cannot exhaust memory. Returns the bytes consumed.
fn read_line_bounded(reader: &mut impl BufRead, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    let mut consumed = 0;
    loop {
        let available = reader.fill_buf()?;
        if available.is_empty() {
            return Ok(consumed);
        }
        let (chunk, done) = match available.iter().position(|b| *b == b'\n') {
            Some(i) => (&available[..=i], true),
            None => (available, false),
        };
        let len = chunk.len();
        if buf.len() <= MAX_RECORD_BYTES {
            buf.extend_from_slice(chunk);
        }
        reader.consume(len);
        consumed += len;
        if done {
            return Ok(consumed);
        }
    }
}

fn read_csv(
    reader: impl Read,
    name: &str,
    header: Option<Arc<Header>>,
    batcher: &mut Batcher<'_>,
) -> Result<(), Trouble> {
    let mut csv = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(reader);
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
            Arc::new(Header::check(name, &cells).map_err(Trouble::Header)?)
        }
    };
    let mut group: Vec<csv::Row> = Vec::new();
    let mut group_id: Option<String> = None;
    loop {
        match csv.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                // A malformed record (bad UTF-8, say) is one invalid record.
                let line = e.position().map_or(0, |p| p.line() as usize);
                let source = SourceFile::at_line(name, String::new(), line.max(1));
                if !group.is_empty() {
                    batcher.push(Task::Csv(header.clone(), std::mem::take(&mut group)));
                    group_id = None;
                }
                batcher.push(Task::Ready(Box::new(unreadable(
                    &source,
                    format!("{name}:{line}"),
                    "input.csv-bad-record",
                    format!("row {line} cannot be read: {e}"),
                    None,
                ))));
                if matches!(e.kind(), ::csv::ErrorKind::Io(_)) {
                    return Err(io(e));
                }
                continue;
            }
        }
        let line = record.position().map_or(0, |p| p.line() as usize);
        if record.iter().all(|c| c.trimmed().is_empty()) {
            continue;
        }
        let size: usize = record.iter().map(str::len).sum();
        if size > MAX_RECORD_BYTES {
            let source = SourceFile::at_line(name, String::new(), line);
            batcher.push(Task::Ready(Box::new(unreadable(
                &source,
                format!("{name}:{line}"),
                "input.too-large",
                format!("row {line} is longer than {} KiB", MAX_RECORD_BYTES >> 10),
                None,
            ))));
            continue;
        }
        let id = header.id_of(&record).map(str::to_owned);
        let same = id.is_some() && id == group_id;
        if same && group.len() > MAX_GROUP_ROWS {
            // Past the limit, keep only the count: the regimen is refused
            // whole (never split into parts that each pass).
            continue;
        }
        if !same && !group.is_empty() {
            batcher.push(Task::Csv(header.clone(), std::mem::take(&mut group)));
        }
        group_id = id;
        group.push(csv::Row {
            line,
            cells: record.clone(),
        });
    }
    if !group.is_empty() {
        batcher.push(Task::Csv(header, group));
    }
    Ok(())
}

/// Runs the pipeline: `render` turns each outcome into an output record (in
/// a worker), `sink` receives the records in input order (in the caller's
/// thread). Returns the first I/O error of the reader, if any.
#[expect(
    clippy::too_many_arguments,
    reason = "one call site; a struct would only rename them"
)]
pub fn run<'r, R: Send>(
    inputs: &[Input],
    spans: bool,
    headers: &[Option<Arc<Header>>],
    engine: &Engine<'r>,
    jobs: usize,
    progress: &Progress,
    render: &(dyn Fn(&Outcome<'r>) -> R + Sync),
    sink: &mut dyn FnMut(R),
) -> Result<(), Trouble> {
    if jobs <= 1 {
        let mut emit = |tasks: Vec<Task>| {
            for task in tasks {
                for regimen in task.regimens(spans) {
                    sink(render(&engine.evaluate(regimen)));
                }
            }
        };
        return read_all(inputs, headers, &mut emit, progress);
    }
    let (task_tx, task_rx) = sync_channel::<(u64, Vec<Task>)>(jobs * 2);
    let (out_tx, out_rx) = sync_channel::<(u64, Vec<R>)>(jobs * 2);
    let task_rx = Arc::new(Mutex::new(task_rx));
    std::thread::scope(|scope| {
        let reader = std::thread::Builder::new()
            .name("rxlint-read".into())
            .spawn_scoped(scope, move || {
                let mut seq = 0u64;
                let mut emit = |tasks: Vec<Task>| {
                    // A closed channel means the writer stopped; there is
                    // no one to tell.
                    let _ = task_tx.send((seq, tasks));
                    seq += 1;
                };
                read_all(inputs, headers, &mut emit, progress)
            });
        for _ in 0..jobs {
            let rx = task_rx.clone();
            let tx = out_tx.clone();
            // A worker that cannot start leaves its share to the others.
            let _ = std::thread::Builder::new()
                .name("rxlint-work".into())
                .spawn_scoped(scope, move || work(&rx, &tx, engine, spans, render));
        }
        drop(out_tx);
        write_in_order(&out_rx, sink);
        match reader {
            Ok(handle) => handle.join().unwrap_or_else(|_| {
                Err(Trouble::Io("the input reader stopped unexpectedly".into()))
            }),
            Err(e) => Err(Trouble::Io(format!("cannot start the input reader: {e}"))),
        }
    })
}

fn work<'r, R>(
    rx: &Mutex<Receiver<(u64, Vec<Task>)>>,
    tx: &SyncSender<(u64, Vec<R>)>,
    engine: &Engine<'r>,
    spans: bool,
    render: &(dyn Fn(&Outcome<'r>) -> R + Sync),
) {
    loop {
        let next = match rx.lock() {
            Ok(guard) => guard.recv(),
            Err(_) => return,
        };
        let Ok((seq, tasks)) = next else { return };
        let mut out = Vec::with_capacity(tasks.len());
        for task in tasks {
            for regimen in task.regimens(spans) {
                out.push(render(&engine.evaluate(regimen)));
            }
        }
        if tx.send((seq, out)).is_err() {
            return;
        }
    }
}

fn write_in_order<R>(rx: &Receiver<(u64, Vec<R>)>, sink: &mut dyn FnMut(R)) {
    let mut next = 0u64;
    let mut waiting: BTreeMap<u64, Vec<R>> = BTreeMap::new();
    for (seq, records) in rx {
        waiting.insert(seq, records);
        while let Some(records) = waiting.remove(&next) {
            records.into_iter().for_each(&mut *sink);
            next += 1;
        }
    }
}

fn fhir_bundle(source: &Arc<SourceFile>) -> Vec<Regimen> {
    crate::regimen::fhir::read_bundle(source)
}

fn fhir_ndjson(sources: &[Arc<SourceFile>]) -> Vec<Regimen> {
    crate::regimen::fhir::read_ndjson(sources)
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

    /// A batch closes at `BATCH` tasks or `BATCH_BYTES` of input, whichever
    /// comes first, so large records cannot pile up in flight.
    #[test]
    fn batches_close_on_count_or_bytes() {
        let mut sizes = Vec::new();
        let mut emit = |tasks: Vec<Task>| sizes.push(tasks.len());
        let mut batcher = Batcher {
            emit: &mut emit,
            bytes: 0,
            tasks: Vec::new(),
        };
        for _ in 0..5 {
            batcher.push(line(1 << 20));
        }
        assert_eq!(batcher.bytes, 1 << 20, "the fifth line waits");
        for _ in 0..BATCH {
            batcher.push(line(10));
        }
        batcher.flush();
        assert_eq!(batcher.bytes, 0);
        assert_eq!(
            sizes,
            [4, BATCH, 1],
            "4 MiB of 1 MiB lines makes a batch; small records batch by count"
        );
    }
}
