//! Inputs to records: which files, in which format, cut into what.
//!
//! Takes the paths given on the command line and gives [`Input`]s:
//! directories searched for regimen files, each file's format by its
//! extension and, for JSON, by whether it holds FHIR resources. Before any
//! record is read, [`prepare`] looks at every file's first bytes
//! ([`sniff`]) and checks every CSV header; `read` then cuts the inputs
//! into tasks (a document, one JSON line, the rows of one CSV regimen) and
//! numbered batches of tasks, which the worker pool in
//! [`batch`](crate::batch) takes one at a time.

pub(crate) mod parquet;
pub(crate) mod read;
pub mod sniff;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use crate::codes::InputCode;
use crate::vocabulary::Vocabulary;

use crate::diagnostic::Diagnostic;
use crate::regimen::csv::Header;
use crate::regimen::csv::columns::ColumnMap;
use crate::regimen::{Builder, InputProblem, Regimen};
use crate::source::{SourceFile, Span};

/// Largest document file read whole.
pub const MAX_DOCUMENT_BYTES: u64 = 64 * 1024 * 1024;

/// Longest JSON line or CSV record accepted; longer ones are one invalid record.
pub const MAX_RECORD_BYTES: usize = 1024 * 1024;

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
    /// Parquet: the CSV columns, one row per phase, or one row per
    /// regimen with a `phases` list.
    Parquet,
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
    /// A file of a FHIR export, read together with the run's other such
    /// files because their resources reference each other: Bulk Data
    /// ndjson, or a `.json` file holding one resource other than a Bundle
    /// (a folder of `Patient`, `Observation` and `MedicationRequest` files).
    pub export: bool,
}

/// An invalid regimen standing for an input that could not be read.
pub fn unreadable(
    vocabulary: &Vocabulary,
    source: &Arc<SourceFile>,
    input: String,
    code: InputCode,
    message: String,
    span: Option<Span>,
) -> Regimen {
    let mut b = Builder::new(Span::new(0, source.text().len()), vocabulary);
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
    /// A Parquet file's columns are wrong (as a CSV header would be).
    Schema(Vec<Diagnostic>),
}

/// What [`prepare`] found of one input.
#[derive(Debug)]
pub enum Prepared {
    /// To be read; for a CSV file, its checked header.
    Read(Option<Arc<Header>>),
    /// A Parquet file to be read, its columns checked.
    Parquet(Arc<crate::regimen::arrow::Columns>),
    /// To be read, its CSV header checked when it is (standard input,
    /// which cannot be read twice), through the column map if any.
    Later(Option<Arc<ColumnMap>>),
    /// Not to be read: a file found in a directory that cannot be opened,
    /// or any file that is not text. It is one invalid record.
    Unusable {
        /// The finding's code (`input.unreadable-file`, `input.not-utf8`,
        /// `input.csv-empty`).
        code: InputCode,
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
            Format::Parquet => "Parquet",
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
pub fn prepare(
    inputs: &[Input],
    vocabulary: &Vocabulary,
    map: Option<&Arc<ColumnMap>>,
) -> Result<Vec<Prepared>, Trouble> {
    let mut prepared = Vec::with_capacity(inputs.len());
    let mut problems = Vec::new();
    let mut schema_problems = Vec::new();
    for input in inputs {
        let name = input.origin.name();
        // Standard input cannot be read twice: a CSV header is checked
        // here from the bytes already buffered, or else when read.
        let Origin::File(path) = &input.origin else {
            let peeked = (input.format == Format::Csv)
                .then(stdin_header)
                .flatten()
                .map(|cells| Header::check(&name, &cells, vocabulary, map.map(|m| &**m)));
            prepared.push(match peeked {
                Some(Ok(h)) => Prepared::Read(Some(Arc::new(h))),
                Some(Err(mut d)) => {
                    problems.append(&mut d);
                    Prepared::Read(None)
                }
                None => Prepared::Later(map.cloned()),
            });
            continue;
        };
        let mut head = Vec::with_capacity(sniff::HEAD_BYTES);
        let opened = std::fs::File::open(path).and_then(|mut file| {
            (&mut file)
                .take(sniff::HEAD_BYTES as u64)
                .read_to_end(&mut head)?;
            Ok(file)
        });
        let file = match opened {
            Ok(file) => file,
            Err(e) if input.found => {
                prepared.push(Prepared::Unusable {
                    code: InputCode::UnreadableFile,
                    message: unopenable(path, &name, &e),
                });
                continue;
            }
            Err(e) => return Err(Trouble::Io(format!("cannot read {name}: {e}"))),
        };
        if input.format == Format::Parquet {
            match parquet::ParquetFile::open(file, &name) {
                Ok(parquet) => match crate::regimen::arrow::Columns::check(
                    &name,
                    parquet.schema(),
                    vocabulary,
                    map.map(|m| &**m),
                ) {
                    Ok(columns) => prepared.push(Prepared::Parquet(Arc::new(columns))),
                    Err(mut d) => {
                        schema_problems.append(&mut d);
                        prepared.push(Prepared::Read(None));
                    }
                },
                Err(message) if input.found => prepared.push(Prepared::Unusable {
                    code: InputCode::UnreadableFile,
                    message,
                }),
                Err(message) => return Err(Trouble::Io(message)),
            }
            continue;
        }
        if let Some(kind) = sniff::binary_kind(&head) {
            prepared.push(Prepared::Unusable {
                code: InputCode::NotUtf8,
                message: format!("{name}: this is {kind}, not {}", input.format.noun()),
            });
            continue;
        }
        if input.format != Format::Csv {
            prepared.push(Prepared::Read(None));
            continue;
        }
        let empty = head.len() < sniff::HEAD_BYTES && head.iter().all(u8::is_ascii_whitespace);
        if empty {
            let message = format!("{name} is empty: it has no header row");
            if input.found {
                prepared.push(Prepared::Unusable {
                    code: InputCode::CsvEmpty,
                    message,
                });
            } else {
                problems.push(Diagnostic::new(
                    InputCode::CsvEmpty.as_str(),
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
                match Header::check(&name, &cells, vocabulary, map.map(|m| &**m)) {
                    Ok(h) => prepared.push(Prepared::Read(Some(Arc::new(h)))),
                    Err(mut d) => {
                        problems.append(&mut d);
                        prepared.push(Prepared::Read(None));
                    }
                }
            }
            Ok(false) => {
                problems.push(Diagnostic::new(
                    InputCode::CsvEmpty.as_str(),
                    crate::diagnostic::Level::Error,
                    format!("{name} is empty: it has no header row"),
                ));
                prepared.push(Prepared::Read(None));
            }
            Err(e) => return Err(Trouble::Io(format!("cannot read {name}: {e}"))),
        }
    }
    match (problems.is_empty(), schema_problems.is_empty()) {
        (true, true) => Ok(prepared),
        (true, false) => Err(Trouble::Schema(schema_problems)),
        (false, _) => {
            problems.append(&mut schema_problems);
            Err(Trouble::Header(problems))
        }
    }
}

/// The header row of CSV on standard input, when the bytes standard input
/// has already buffered hold all of it; nothing is consumed.
fn stdin_header() -> Option<Vec<String>> {
    use std::io::BufRead;
    let mut stdin = std::io::stdin().lock();
    let head = stdin.fill_buf().ok()?;
    let end = head.iter().position(|&b| b == b'\n')? + 1;
    let mut csv = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(head.get(..end)?);
    let mut record = ::csv::StringRecord::new();
    // A quoted header cell holding a line break goes on past the first
    // line: it is then checked when read.
    match csv.read_record(&mut record) {
        Ok(true) if csv.position().byte() as usize == end => {
            Some(record.iter().map(str::to_owned).collect())
        }
        _ => None,
    }
}

/// Bytes read so far, for a progress bar.
pub type Progress = Arc<AtomicU64>;

/// Adds the files of `input` (a file, a directory searched for regimen
/// files, or `-`) to `out`. A directory holding none is noted in `empty`.
pub fn expand(
    input: &Path,
    forced: Option<Format>,
    out: &mut Vec<Input>,
    empty: &mut Vec<String>,
) -> Result<(), String> {
    if input.as_os_str() == "-" {
        let format = match forced {
            Some(f) => f,
            None => sniff_stdin()?,
        };
        out.push(Input {
            origin: Origin::Stdin,
            format,
            found: false,
            export: false,
        });
        return Ok(());
    }
    let meta = std::fs::metadata(input)
        .map_err(|e| unopenable(input, &input.display().to_string(), &e))?;
    if !meta.is_dir() {
        let format = match forced {
            Some(f) => f,
            None => detect(input).map_err(|e| format!("cannot read {}: {e}", input.display()))?,
        };
        out.push(Input {
            export: is_export_file(input, format),
            origin: Origin::File(input.to_path_buf()),
            format,
            found: false,
        });
        return Ok(());
    }
    let mut found = Vec::new();
    crate::source::walk(input, &EXTENSIONS, &mut found)
        .map_err(|e| format!("cannot read directory {}: {e}", input.display()))?;
    if found.is_empty() {
        empty.push(format!(
            "no regimen files ({}) under {}",
            EXTENSIONS.map(|e| format!("*.{e}")).join(", "),
            input.display()
        ));
    }
    found.sort();
    for path in found {
        // A file found that cannot be opened (a dangling link) is read by
        // its extension, and becomes an invalid record when prepared.
        let format = match forced {
            Some(f) => f,
            None => detect(&path).unwrap_or_else(|_| by_extension(&path)),
        };
        out.push(Input {
            export: is_export_file(&path, format),
            origin: Origin::File(path),
            format,
            found: true,
        });
    }
    Ok(())
}

/// Whether a FHIR file is part of an export (see [`Input::export`]). A
/// `.json` file is read through once more for its top-level
/// `resourceType`; one that cannot be read is not, and is then read alone,
/// which says what is wrong with it.
fn is_export_file(path: &Path, format: Format) -> bool {
    #[derive(serde::Deserialize)]
    struct Top {
        #[serde(rename = "resourceType")]
        resource_type: Option<String>,
    }
    if format != Format::Fhir {
        return false;
    }
    match path.extension().and_then(|e| e.to_str()) {
        Some(ext) if ext.eq_ignore_ascii_case("json") => std::fs::File::open(path)
            .ok()
            .map(|f| std::io::BufReader::with_capacity(1 << 16, f.take(MAX_DOCUMENT_BYTES)))
            .and_then(|r| serde_json::from_reader::<_, Top>(r).ok())
            .and_then(|top| top.resource_type)
            .is_some_and(|kind| kind != "Bundle"),
        _ => true,
    }
}

/// Extensions searched for in directories.
const EXTENSIONS: [&str; 7] = ["yaml", "yml", "json", "jsonl", "ndjson", "csv", "parquet"];

/// The format of a file by its extension alone.
fn by_extension(path: &Path) -> Format {
    match path.extension().and_then(|e| e.to_str()) {
        Some("csv") => Format::Csv,
        Some("parquet" | "parq" | "pq") => Format::Parquet,
        Some("json") => Format::Json,
        Some("jsonl" | "ndjson") => Format::JsonLines,
        _ => Format::Yaml,
    }
}

/// The format of a file, by extension and, for JSON, by whether its
/// objects carry a FHIR `resourceType`.
/// The format of standard input, from its first bytes, which stay in
/// standard input's buffer for the reader (nothing is consumed).
fn sniff_stdin() -> Result<Format, String> {
    use std::io::BufRead;
    let mut stdin = std::io::stdin().lock();
    let head = stdin
        .fill_buf()
        .map_err(|e| format!("cannot read standard input: {e}"))?;
    sniff(head).ok_or_else(|| {
        "standard input is none of the formats rxlint reads (tried Parquet, a CSV header line, \
         JSON Lines, JSON, a FHIR Bundle or ndjson, and YAML); give --input-format \
         yaml|json|jsonl|csv|fhir|parquet"
            .to_owned()
    })
}

/// A stream's format from its first bytes: `{` lines are JSON Lines (FHIR
/// ndjson when they carry `resourceType`), one `{`/`[` document JSON (a
/// FHIR Bundle when it names a `resourceType`), a first line of
/// comma-separated names a CSV header, other text YAML; `None` for bytes
/// that are no text.
pub fn sniff(head: &[u8]) -> Option<Format> {
    if parquet::is_parquet(head) {
        return Some(Format::Parquet);
    }
    let text = match std::str::from_utf8(head) {
        Ok(t) => t,
        // A multi-byte character cut at the end of the buffer is still text.
        Err(e) if e.error_len().is_none() => std::str::from_utf8(&head[..e.valid_up_to()]).ok()?,
        Err(_) => return None,
    };
    let text = text.trim_start_matches('\u{feff}');
    if text.contains('\0') {
        return None;
    }
    let mut lines = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let first = lines.next().unwrap_or("");
    let fhir = text.contains("\"resourceType\"");
    if first.starts_with('{') {
        // One object per line: the first line closes its object.
        let one_per_line = first.ends_with('}') && lines.next().is_none_or(|l| l.starts_with('{'));
        return Some(match (one_per_line, fhir) {
            (true, true) if first.contains("\"resourceType\"") => Format::Fhir,
            (true, _) => Format::JsonLines,
            (false, true) => Format::Fhir,
            (false, false) => Format::Json,
        });
    }
    if first.starts_with('[') {
        return Some(Format::Json);
    }
    // `id,drug,weight_kg,...`: names separated by commas, no YAML key;
    // exports often end with an empty column.
    let names: Vec<&str> = first
        .split(',')
        .map(|c| c.trim().trim_matches('"'))
        .collect();
    if names.iter().filter(|n| !n.is_empty()).count() >= 2
        && !first.contains(": ")
        && names.iter().all(|n| {
            n.chars()
                .all(|c| c.is_alphanumeric() || " _-()./".contains(c))
        })
    {
        return Some(Format::Csv);
    }
    Some(Format::Yaml)
}

fn detect(path: &Path) -> std::io::Result<Format> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    // The extension says JSON or JSON Lines; the content, read as standard
    // input's is, says whether it is FHIR.
    let fhir = |path: &Path| -> std::io::Result<bool> {
        let mut head = vec![0u8; 4096];
        let n = std::fs::File::open(path)?.read(&mut head)?;
        Ok(sniff(head.get(..n).unwrap_or_default()) == Some(Format::Fhir))
    };
    // A Parquet file is known by its first bytes, whatever its name.
    // (A file that cannot be opened is reported when it is read.)
    if parquet::file_is_parquet(path).unwrap_or(false) {
        return Ok(Format::Parquet);
    }
    Ok(match ext.as_str() {
        "yaml" | "yml" => Format::Yaml,
        "csv" => Format::Csv,
        // Named Parquet but not starting as one: said so by the Parquet
        // reader, not read as YAML.
        "parquet" | "parq" | "pq" => Format::Parquet,
        "json" if fhir(path)? => Format::Fhir,
        "jsonl" | "ndjson" if fhir(path)? => Format::Fhir,
        "jsonl" | "ndjson" => Format::JsonLines,
        "json" => Format::Json,
        _ => Format::Yaml,
    })
}

#[cfg(test)]
mod tests {
    use super::{Format, sniff};

    #[test]
    fn sniffing() {
        let cases: &[(&str, Option<Format>)] = &[
            ("id,drug,weight_kg\na,isotretinoin,70\n", Some(Format::Csv)),
            ("Rx Number,Patient Weight (lb),Drug\n", Some(Format::Csv)),
            (
                "{\"id\": \"a\"}\n{\"id\": \"b\"}\n",
                Some(Format::JsonLines),
            ),
            (
                "{\"resourceType\": \"Patient\"}\n{\"resourceType\": \"Observation\"}\n",
                Some(Format::Fhir),
            ),
            (
                "{\n  \"resourceType\": \"Bundle\",\n  \"entry\": []\n}\n",
                Some(Format::Fhir),
            ),
            ("{\n  \"drug\": \"metformin\"\n}\n", Some(Format::Json)),
            ("[{\"drug\": \"metformin\"}]", Some(Format::Json)),
            ("# a regimen\ndrug: metformin\n", Some(Format::Yaml)),
            ("drug: metformin, Glucophage\n", Some(Format::Yaml)),
            ("\u{feff}id,drug\n", Some(Format::Csv)),
            ("id,drug,,weight_kg,\n", Some(Format::Csv)),
            (",\n", Some(Format::Yaml)),
            ("bin\u{0}ary", None),
            ("PAR1\u{15}\u{4}", Some(Format::Parquet)),
        ];
        for (text, want) in cases {
            assert_eq!(sniff(text.as_bytes()), *want, "{text:?}");
        }
        assert_eq!(sniff(&[0xff, 0xfe, 0x00]), None);
    }
}
