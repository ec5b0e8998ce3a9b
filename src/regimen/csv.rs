//! CSV prescriptions to [`Regimen`]s.
//!
//! One phase per row; consecutive rows with the same non-empty `id` are the
//! phases of one regimen, in order. The columns, and the units of their
//! cells, are the vocabulary's (`weight_kg` in kg, `dose_mg` in mg); cells
//! are plain numbers, `true`/`false`, words, or empty for missing. The header is checked before any row is read; a bad cell
//! makes only its own regimen `invalid`, naming the row, column and value.

use crate::codes::InputCode;
use crate::text::Trim;
use std::sync::Arc;

use super::{Builder, Given, GivenAt, InputProblem, Regimen};
use crate::diagnostic::{Diagnostic, Level, excerpt};
use crate::facts::{Fact, Scope};
use crate::source::{SourceFile, Span};
use crate::suggest;
use crate::vocabulary::Vocabulary;

/// What a column holds.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Column {
    Id,
    Drug,
    Product,
    /// A recorded fact (the vocabulary's `csv:`), with the unit of its cells
    /// when they are plain numbers.
    Fact(Fact, Option<String>),
}

/// Every column the vocabulary knows, in its order, after `id` and `drug`
/// and before `product`.
pub fn columns(vocabulary: &Vocabulary) -> Vec<&str> {
    ["id", "drug"]
        .into_iter()
        .chain(
            vocabulary
                .facts()
                .flat_map(|f| f.csv.iter().map(|c| c.name.as_str())),
        )
        .chain(["product"])
        .collect()
}

fn column(name: &str, vocabulary: &Vocabulary) -> Option<Column> {
    match name {
        "id" => return Some(Column::Id),
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

/// A checked header: which column holds what.
#[derive(Debug)]
pub struct Header {
    name: Arc<str>,
    columns: Vec<(String, Column)>,
    id: Option<usize>,
}

impl Header {
    /// Checks a header row of file `name`. Every unknown, duplicated or
    /// missing required column is reported, with a suggestion.
    ///
    /// Errors: `weight` (did you mean `weight_kg`?), two `dose_mg` columns, no
    /// `drug` column, neither `dose_mg` nor `daily_dose_mg`.
    pub fn check(
        name: &str,
        cells: &[String],
        vocabulary: &Vocabulary,
    ) -> Result<Header, Vec<Diagnostic>> {
        let known = columns(vocabulary);
        let source = SourceFile::new(name, cells.join(","));
        let mut problems = Vec::new();
        let mut columns = Vec::new();
        let mut offset = 0;
        for cell in cells {
            let trimmed = cell.trim().trim_start_matches('\u{feff}');
            let span = Span::new(offset, offset + cell.len());
            offset += cell.len() + 1;
            match column(trimmed, vocabulary) {
                Some(_) if columns.iter().any(|(n, _)| n == trimmed) => problems.push(
                    Diagnostic::new(
                        InputCode::CsvDuplicateColumn.as_str(),
                        Level::Error,
                        format!("column `{trimmed}` appears twice"),
                    )
                    .at(&source, span, "second time"),
                ),
                Some(c) => columns.push((trimmed.to_owned(), c)),
                None => {
                    let mut d = Diagnostic::new(
                        InputCode::CsvUnknownColumn.as_str(),
                        Level::Error,
                        format!(
                            "unknown column `{}`{}",
                            excerpt(trimmed),
                            suggest::did_you_mean(trimmed, known.iter().copied())
                        ),
                    )
                    .at(&source, span, "not a column of the format");
                    d.help = Some(format!("the columns are: {}", known.join(",")));
                    problems.push(d);
                }
            }
        }
        let has = |name: &str| columns.iter().any(|(n, _)| n == name);
        let whole = Span::new(0, source.text().len());
        // A fact given by two columns (`frequency_per_day` and `frequency`).
        let names_of = |fact: Fact| -> Vec<&str> {
            vocabulary
                .info(fact)
                .csv
                .iter()
                .map(|c| c.name.as_str())
                .collect()
        };
        for fact in vocabulary.facts().map(|f| f.fact) {
            let given: Vec<&str> = names_of(fact).into_iter().filter(|n| has(n)).collect();
            if let [a, b, ..] = given.as_slice() {
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
        // The required columns: the drug, a frequency and a duration, and
        // a dose or a daily dose; a fact's first column is the one named.
        let required = |fact: Fact| -> Option<String> {
            let names = names_of(fact);
            (!names.iter().any(|n| has(n)))
                .then(|| names.first().map_or_else(String::new, |n| (*n).to_owned()))
        };
        let missing_frequency = required(Fact::TIMES_PER_DAY);
        let missing_duration = required(Fact::DURATION);
        let missing = (!has("drug"))
            .then(|| "drug".to_owned())
            .into_iter()
            .chain(missing_frequency)
            .chain(missing_duration);
        for name in missing {
            problems.push(
                Diagnostic::new(
                    InputCode::CsvMissingColumn.as_str(),
                    Level::Error,
                    format!("the header has no `{name}` column"),
                )
                .at(&source, whole, "header"),
            );
        }
        // A dose in any of its units: mg, mg/kg, mg/m2, per dose or per day.
        let doses = [Fact::DOSE, Fact::DAILY_DOSE]
            .into_iter()
            .flat_map(|f| vocabulary.written_alike(f).iter().copied());
        if doses.clone().all(|f| required(f).is_some()) {
            let names: Vec<String> = doses.flat_map(names_of).map(|n| format!("`{n}`")).collect();
            problems.push(
                Diagnostic::new(
                    InputCode::CsvMissingColumn.as_str(),
                    Level::Error,
                    format!(
                        "the header has no dose column: none of {}",
                        names.join(", ")
                    ),
                )
                .at(&source, whole, "header"),
            );
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let id = columns.iter().position(|(_, c)| *c == Column::Id);
        Ok(Header {
            name: Arc::from(name),
            columns,
            id,
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
        self.columns.get(index).map(|(name, _)| name.as_str())
    }

    /// Number of columns.
    pub fn width(&self) -> usize {
        self.columns.len()
    }
}

/// One data record (a row of the file): its 1-based line and its cells.
#[derive(Clone, Debug)]
pub struct Record {
    /// Line of the row in the file.
    pub line: usize,
    /// The cells, as read (one allocation for the whole row).
    pub cells: ::csv::StringRecord,
}

/// Writes a row back as CSV text, recording where each cell lands, so that
/// diagnostics can underline a cell of the row as the user wrote it.
fn render(row: &Record, text: &mut String) -> Vec<Span> {
    let mut spans = Vec::with_capacity(row.cells.len());
    for (i, cell) in row.cells.iter().enumerate() {
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

/// Builds one regimen from its rows (one row per phase).
pub fn build(header: &Header, rows: &[Record], vocabulary: &Vocabulary) -> Regimen {
    build_with(header, rows, true, vocabulary)
}

/// [`build`], keeping the rows' text and cell spans only when `spans` is
/// set. Without them (JSON Lines output, which prints no column) each cell
/// points at the start of its row, which still gives every finding its line.
pub fn build_with(
    header: &Header,
    rows: &[Record],
    spans: bool,
    vocabulary: &Vocabulary,
) -> Regimen {
    let first_line = rows.first().map_or(1, |r| r.line);
    if rows.len() > crate::regimen::MAX_PHASES {
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
        return b.finish(input.clone(), input, Some(source));
    }
    let mut text = String::new();
    let mut cell_spans = Vec::with_capacity(rows.len());
    let mut row_spans = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        if i > 0 {
            text.push('\n');
        }
        let start = text.len();
        if spans {
            cell_spans.push(render(row, &mut text));
        }
        row_spans.push(Span::new(start, text.len()));
    }
    let input = crate::source::position(&header.name, first_line);
    let source = SourceFile::at_line(header.name.clone(), text, first_line);
    let mut b = Builder::new(Span::new(0, source.text().len()), vocabulary);
    let mut seen: Vec<(Fact, &str, usize)> = Vec::new();
    let mut seen_drug: Option<(&str, usize)> = None;
    for (r, row) in rows.iter().enumerate() {
        let index = b.phase(row_spans[r]);
        if r == 0
            && let Some(id) = header.id_of(row.cells.as_byte_record())
        {
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
        for (c, (name, col)) in header.columns.iter().enumerate() {
            let cell = row.cells.get(c).unwrap_or("").trimmed();
            if cell.is_empty() {
                continue;
            }
            // Without cell spans, a cell points at the start of its row.
            let span = match cell_spans.get(r) {
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
            match col {
                Column::Id => {}
                Column::Drug => {
                    if r == 0 {
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
                    if r == 0 {
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
                            b.field(*fact, raw(unit.as_deref()));
                        }
                    }
                }
                Column::Fact(fact, unit) => {
                    let value = match unit.as_deref() {
                        // `interval_hours` holds the hours between doses,
                        // `frequency_per_day` a number of doses a day,
                        // `frequency` words (`once weekly`).
                        Some("h") if *fact == Fact::TIMES_PER_DAY => GivenAt {
                            value: Given::Text(format!("every {} hours", cell.trimmed())),
                            span,
                        },
                        Some(_) if *fact == Fact::TIMES_PER_DAY => GivenAt {
                            value: Given::Number(cell.to_owned()),
                            span,
                        },
                        unit => raw(unit),
                    };
                    b.phase_field(index, *fact, value);
                }
            }
        }
    }
    let mut regimen = b.finish(input.clone(), input, Some(source.clone()));
    name_cells(&mut regimen, header, rows, &source, vocabulary);
    regimen
}

/// Rewrites the field paths of a CSV regimen's problems as "row R, column
/// C", the way a spreadsheet user finds a cell.
fn name_cells(
    regimen: &mut Regimen,
    header: &Header,
    rows: &[Record],
    source: &Arc<SourceFile>,
    vocabulary: &Vocabulary,
) {
    for p in &mut regimen.problems {
        let Some(span) = p.span else { continue };
        let line = source.line_col(span.start()).0;
        let Some(row) = rows.iter().find(|r| r.line == line).or(rows.first()) else {
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
        .find(|(_, column)| match column {
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
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        let groups = [
            vec![
                Record {
                    line: 2,
                    cells: record("A,isotretinoin,70,20,2,4,true"),
                },
                Record {
                    line: 3,
                    cells: record("A,isotretinoin,70,90,2,16,"),
                },
            ],
            vec![
                Record {
                    line: 4,
                    cells: record("B,isotretinoin,70,20,2,4,true"),
                },
                Record {
                    line: 5,
                    cells: record("B,isotretinoin,7O,3 mg,x,-1,maybe"),
                },
            ],
        ];
        for rows in groups {
            let full = build_with(&header, &rows, true, &vocabulary());
            let lean = build_with(&header, &rows, false, &vocabulary());
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
        )
        .err()
        .unwrap_or_default();
        let codes: Vec<&str> = err.iter().map(|d| d.code.as_str()).collect();
        let want = [
            InputCode::CsvUnknownColumn,
            InputCode::CsvDuplicateColumn,
            InputCode::CsvMissingColumn,
            InputCode::CsvMissingColumn,
        ]
        .map(InputCode::as_str);
        assert_eq!(codes, want);
        assert!(
            err[0].message.contains("did you mean `weight_kg`?"),
            "{}",
            err[0].message
        );
    }

    #[test]
    fn rows_become_phases_and_bad_cells_name_row_and_column() {
        let header = Header::check(
            "p.csv",
            &header_cells("id,drug,weight_kg,dose_mg,frequency_per_day,duration_weeks,with_food"),
            &vocabulary(),
        )
        .unwrap_or_else(|e| panic!("{e:?}"));
        let rows = [
            Record {
                line: 2,
                cells: record("RX-1,isotretinoin,70,20,2,4,true"),
            },
            Record {
                line: 3,
                cells: record("RX-1,isotretinoin,70,35,2,16,true"),
            },
        ];
        let r = build(&header, &rows, &vocabulary());
        assert!(r.problems.is_empty(), "{:?}", r.problems);
        assert_eq!(
            (r.id.as_str(), r.input.as_str(), r.phase_count()),
            ("RX-1", "p.csv:2", 2)
        );
        let bad = [Record {
            line: 7,
            cells: record("RX-2,isotretinoin,7O,20,2,4,true"),
        }];
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
