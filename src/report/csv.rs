//! `--format csv`: one row per finding, for a spreadsheet. A regimen with
//! no finding is one row with empty finding columns, so that every record
//! is accounted for. Written with the `csv` crate (quoting, embedded
//! newlines and commas in messages). A cell that a spreadsheet would run
//! as a formula (`=`, `+`, `-`, `@` first: an id or drug name from the
//! input is untrusted) is written with a leading `'`, as OWASP advises.

use super::{FindingRow, finding_rows, shown};
use crate::eval::Outcome;

/// The columns, in order.
pub const HEADER: [&str; 11] = [
    "id", "input", "drug", "verdict", "rule", "severity", "kind", "phase", "message", "values",
    "citation",
];

/// The header row, with its newline.
pub fn header() -> Vec<u8> {
    let mut out = Vec::new();
    write_rows(&mut out, std::iter::once(HEADER.map(str::to_owned)));
    out
}

fn write_rows(out: &mut Vec<u8>, rows: impl Iterator<Item = [String; 11]>) {
    let mut writer = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::Any(b'\n'))
        .from_writer(out);
    for row in rows {
        // Writing into memory cannot fail.
        let _ = writer.write_record(row.iter().map(|cell| inert(cell).into_owned()));
    }
    let _ = writer.flush();
}

/// `cell`, made inert for a spreadsheet: never read as a formula.
fn inert(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// Appends one regimen's rows to `out`.
pub fn rows(outcome: &Outcome<'_>, out: &mut Vec<u8>) {
    let r = &outcome.regimen;
    let drug = outcome
        .drug
        .or(r.drug.as_ref().map(|d| d.value.as_str()))
        .unwrap_or_default();
    let verdict = outcome.verdict.as_str();
    let row = |f: FindingRow<'_>| {
        [
            r.id.clone(),
            r.input.clone(),
            drug.to_owned(),
            verdict.to_owned(),
            f.rule.to_owned(),
            f.severity.to_owned(),
            f.kind.to_owned(),
            f.phase.map(|p| p.to_string()).unwrap_or_default(),
            f.message.to_owned(),
            f.values,
            f.citation.unwrap_or_default().to_owned(),
        ]
    };
    let shown = shown(outcome);
    let mut all: Vec<[String; 11]> = finding_rows(outcome, &shown).into_iter().map(row).collect();
    // A regimen with no finding still has its row: every record is there.
    if all.is_empty() {
        all.push(row(FindingRow {
            rule: "",
            severity: "",
            kind: "",
            phase: None,
            message: "",
            values: String::new(),
            citation: None,
        }));
    }
    write_rows(out, all.into_iter());
}
