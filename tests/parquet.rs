//! Parquet and Arrow through the real binary and the batch API: both
//! layouts, cell types, column checks, damaged files, regimens across row
//! groups, `--format parquet`, and the benchmark's records giving the same
//! JSON Lines as their CSV form.
//!
//! The Parquet files are written here, at run time, with the parquet
//! writer (no binary fixture is committed): each test's builder says what
//! its file holds.

use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{Int32Builder, ListBuilder, StringBuilder, StructBuilder};
use arrow_array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float64Array,
    Int32Array, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Fields};
use rxlint::arrow::{CheckError, Checker};
use serde_json::Value;

mod support;
use support::{records, rxlint, stderr, temp_dir};

#[path = "../bench/synth.rs"]
mod synth;

/// Writes `batches` as one Parquet file, a row group per batch.
fn write_parquet(path: &Path, batches: &[RecordBatch]) {
    let file = std::fs::File::create(path).unwrap_or_else(|e| panic!("{e}"));
    let schema = batches[0].schema();
    let mut writer =
        parquet::arrow::ArrowWriter::try_new(file, schema, None).unwrap_or_else(|e| panic!("{e}"));
    for batch in batches {
        writer.write(batch).unwrap_or_else(|e| panic!("{e}"));
        writer.flush().unwrap_or_else(|e| panic!("{e}"));
    }
    writer.close().unwrap_or_else(|e| panic!("{e}"));
}

/// The batches of a Parquet file (the results of `--format parquet`).
fn read_parquet(path: &Path) -> Vec<RecordBatch> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{e}"));
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.build())
        .unwrap_or_else(|e| panic!("{e}"))
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A batch of named columns, each field typed by its array.
fn batch(columns: Vec<(&str, ArrayRef)>) -> RecordBatch {
    RecordBatch::try_from_iter(columns).unwrap_or_else(|e| panic!("{e}"))
}

/// `b` with column `name` renamed `to`, or holding `column`.
fn changed(b: &RecordBatch, name: &str, to: &str, column: Option<ArrayRef>) -> RecordBatch {
    batch(
        b.schema()
            .fields()
            .iter()
            .zip(b.columns())
            .map(|(f, c)| match f.name() == name {
                true => (to, column.clone().unwrap_or_else(|| c.clone())),
                false => (f.name().as_str(), c.clone()),
            })
            .collect(),
    )
}

/// The flat layout, one row per phase, its rows shuffled: B's phase 2
/// first, then A, then B's phase 1. Typed cells: a Decimal128 dose, an
/// integer weight, a float eGFR, a date32 start, booleans, and nulls.
fn flat() -> RecordBatch {
    let decimals = Decimal128Array::from(vec![3500, 3000, 2000])
        .with_precision_and_scale(9, 2)
        .unwrap_or_else(|e| panic!("{e}"));
    batch(vec![
        ("id", Arc::new(StringArray::from(vec!["B", "A", "B"]))),
        ("phase", Arc::new(Int32Array::from(vec![2, 1, 1]))),
        ("drug", Arc::new(StringArray::from(vec!["isotretinoin"; 3]))),
        ("weight_kg", Arc::new(Int64Array::from(vec![70, 60, 70]))),
        (
            "age_years",
            Arc::new(Int64Array::from(vec![Some(24), None, Some(24)])),
        ),
        (
            "sex",
            Arc::new(StringArray::from(vec![Some("male"), None, Some("male")])),
        ),
        (
            "egfr",
            Arc::new(Float64Array::from(vec![Some(95.5), None, Some(95.5)])),
        ),
        ("start", Arc::new(Date32Array::from(vec![20_514; 3]))),
        ("dose_mg", Arc::new(decimals)),
        (
            "frequency_per_day",
            Arc::new(Int32Array::from(vec![2, 2, 2])),
        ),
        (
            "duration_weeks",
            Arc::new(Int64Array::from(vec![16, 20, 4])),
        ),
        (
            "with_food",
            Arc::new(BooleanArray::from(vec![Some(true), Some(true), None])),
        ),
    ])
}

/// The same regimens as CSV, in the order the Parquet file's regimens come
/// (by first row: B, then A).
const FLAT_CSV: &str =
    "id,drug,weight_kg,age_years,sex,egfr,start,dose_mg,frequency_per_day,duration_weeks,with_food
B,isotretinoin,70,24,male,95.5,2026-03-02,20.00,2,4,
B,isotretinoin,70,24,male,95.5,2026-03-02,35.00,2,16,true
A,isotretinoin,60,,,,2026-03-02,30.00,2,20,true
";

/// What a record says, whatever its input's kind and positions.
fn gist(record: &Value) -> Value {
    let findings: Vec<Value> = record["findings"]
        .as_array()
        .map(|f| {
            f.iter()
                .map(|f| serde_json::json!([f["rule"], f["phase"], f["message"], f["values"]]))
                .collect()
        })
        .unwrap_or_default();
    serde_json::json!([record["id"], record["verdict"], findings])
}

#[test]
fn flat_rows_are_grouped_by_id_and_ordered_by_phase_with_typed_cells() {
    let dir = temp_dir("flat");
    write_parquet(&dir.join("rx.parquet"), &[flat()]);
    std::fs::write(dir.join("rx.csv"), FLAT_CSV).unwrap_or_else(|e| panic!("{e}"));
    let parquet = rxlint(&dir, &["check", "--format", "json", "rx.parquet"]);
    let csv = rxlint(&dir, &["check", "--format", "json", "rx.csv"]);
    let (p, c) = (records(&parquet), records(&csv));
    assert_eq!(p.len(), 2, "{}", stderr(&parquet));
    assert_eq!(
        p.iter().map(gist).collect::<Vec<_>>(),
        c.iter().map(gist).collect::<Vec<_>>()
    );
    // B starts on row 1 (its phase 2); A is row 2.
    assert_eq!(p[0]["input"], "rx.parquet:1");
    assert_eq!(p[1]["input"], "rx.parquet:2");
    assert_eq!(parquet.status.code(), csv.status.code());
}

/// A row exported twice is read once and said, in Parquet as in CSV:
/// the regimen (0.67 then 1 mg/kg/day for 20 weeks) passes on its own, so
/// the warning is its only finding and it is `warn`, never a two-phase
/// regimen in silence.
#[test]
fn a_repeated_row_is_read_once_and_warned() {
    let dir = temp_dir("repeated");
    let rows = batch(vec![
        ("id", Arc::new(StringArray::from(vec!["RX-1"; 3]))),
        ("drug", Arc::new(StringArray::from(vec!["isotretinoin"; 3]))),
        ("weight_kg", Arc::new(Int64Array::from(vec![60; 3]))),
        ("sex", Arc::new(StringArray::from(vec!["male"; 3]))),
        ("dose_mg", Arc::new(Int64Array::from(vec![20, 20, 30]))),
        ("frequency_per_day", Arc::new(Int64Array::from(vec![2; 3]))),
        ("duration_weeks", Arc::new(Int64Array::from(vec![4, 4, 16]))),
        ("with_food", Arc::new(BooleanArray::from(vec![true; 3]))),
    ]);
    write_parquet(&dir.join("rx.parquet"), &[rows]);
    let out = rxlint(&dir, &["check", "--format", "json", "rx.parquet"]);
    let r = records(&out);
    assert_eq!(r.len(), 1, "{}", stderr(&out));
    assert_eq!(r[0]["verdict"], "warn", "{}", r[0]);
    let rules: Vec<&str> = r[0]["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["rule"].as_str())
        .collect();
    assert_eq!(rules, vec!["input.duplicate-row"]);
    assert_eq!(
        r[0]["findings"][0]["message"],
        "row 2 repeats row 1 exactly; it was read once"
    );
    // The results file's findings say what the JSON line says: a warning.
    let out = rxlint(
        &dir,
        &[
            "check",
            "--format",
            "parquet",
            "--output",
            "out.parquet",
            "rx.parquet",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let batches = read_parquet(&dir.join("out.parquet"));
    let batch = batches.first().unwrap_or_else(|| panic!("no batch"));
    let findings = batch
        .column_by_name("findings")
        .and_then(|c| c.as_any().downcast_ref::<arrow_array::ListArray>())
        .unwrap_or_else(|| panic!("findings"));
    let items = findings.value(0);
    let items = items
        .as_any()
        .downcast_ref::<arrow_array::StructArray>()
        .unwrap_or_else(|| panic!("struct"));
    let text = |name: &str| {
        items
            .column_by_name(name)
            .and_then(|c| c.as_any().downcast_ref::<StringArray>())
            .map(|a| a.value(0).to_owned())
            .unwrap_or_default()
    };
    assert_eq!(
        (text("rule"), text("severity"), text("kind")),
        (
            "input.duplicate-row".into(),
            "warning".into(),
            "violation".into()
        )
    );
}

#[test]
fn nested_phases_give_what_the_flat_rows_give() {
    let dir = temp_dir("nested");
    let phase_fields = Fields::from(vec![
        Field::new("dose_mg", DataType::Utf8, true),
        Field::new("frequency_per_day", DataType::Int32, true),
        Field::new("duration_weeks", DataType::Int32, true),
    ]);
    let builders: Vec<Box<dyn arrow_array::builder::ArrayBuilder>> = vec![
        Box::new(StringBuilder::new()),
        Box::new(Int32Builder::new()),
        Box::new(Int32Builder::new()),
    ];
    let item = Arc::new(Field::new(
        "item",
        DataType::Struct(phase_fields.clone()),
        true,
    ));
    let mut phases = ListBuilder::new(StructBuilder::new(phase_fields, builders)).with_field(item);
    for regimen in [&[("20", 2, 4), ("35", 2, 16)][..], &[("30", 2, 20)][..]] {
        for (dose, times, weeks) in regimen {
            let s = phases.values();
            if let Some(b) = s.field_builder::<StringBuilder>(0) {
                b.append_value(dose);
            }
            for (i, v) in [(1, *times), (2, *weeks)] {
                if let Some(b) = s.field_builder::<Int32Builder>(i) {
                    b.append_value(v);
                }
            }
            s.append(true);
        }
        phases.append(true);
    }
    let nested = batch(vec![
        ("id", Arc::new(StringArray::from(vec!["B", "A"]))),
        ("drug", Arc::new(StringArray::from(vec!["isotretinoin"; 2]))),
        ("weight_kg", Arc::new(Int64Array::from(vec![70, 60]))),
        ("phases", Arc::new(phases.finish())),
    ]);
    write_parquet(&dir.join("nested.parquet"), &[nested]);
    let csv = "id,drug,weight_kg,dose_mg,frequency_per_day,duration_weeks
B,isotretinoin,70,20,2,4
B,isotretinoin,70,35,2,16
A,isotretinoin,60,30,2,20
";
    std::fs::write(dir.join("same.csv"), csv).unwrap_or_else(|e| panic!("{e}"));
    let p = records(&rxlint(
        &dir,
        &["check", "--format", "json", "nested.parquet"],
    ));
    let c = records(&rxlint(&dir, &["check", "--format", "json", "same.csv"]));
    assert_eq!(
        p.iter().map(gist).collect::<Vec<_>>(),
        c.iter().map(gist).collect::<Vec<_>>()
    );
    assert_eq!(p[1]["input"], "nested.parquet:2");
}

#[test]
fn columns_are_checked_up_front_with_did_you_mean() {
    let dir = temp_dir("columns");
    let renamed = |from: &str, to: &str| changed(&flat(), from, to, None);
    write_parquet(&dir.join("drgu.parquet"), &[renamed("drug", "drgu")]);
    let out = rxlint(&dir, &["check", "drgu.parquet"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("input.csv-missing-column"), "{err}");
    assert!(err.contains("did you mean `drug`?"), "{err}");
    assert!(
        err.contains("the columns of a Parquet file are not valid"),
        "{err}"
    );
    // A misspelt optional column is a warning, and the run goes on.
    write_parquet(
        &dir.join("wieght.parquet"),
        &[renamed("weight_kg", "wieght_kg")],
    );
    let out = rxlint(&dir, &["check", "--format", "json", "wieght.parquet"]);
    assert!(
        stderr(&out).contains("did you mean `weight_kg`?"),
        "{}",
        stderr(&out)
    );
    assert_eq!(records(&out).len(), 2);
}

#[test]
fn a_cell_of_a_type_rxlint_does_not_read_makes_its_regimen_invalid() {
    let dir = temp_dir("types");
    let timestamps = TimestampMicrosecondArray::from(vec![
        Some(1_772_409_600_000_000),
        None,
        Some(1_772_409_600_000_000),
    ]);
    let ts = changed(&flat(), "start", "start", Some(Arc::new(timestamps)));
    write_parquet(&dir.join("ts.parquet"), &[ts]);
    let out = rxlint(&dir, &["check", "--format", "json", "ts.parquet"]);
    let r = records(&out);
    assert_eq!(r.len(), 2, "{}", stderr(&out));
    assert_eq!(r[0]["verdict"], "invalid");
    let findings = r[0]["findings"].as_array().cloned().unwrap_or_default();
    let rows: Vec<&str> = findings
        .iter()
        .filter(|f| f["rule"] == "input.wrong-type")
        .filter_map(|f| f["message"].as_str())
        .collect();
    // Both of B's rows, in phase order (its phase 1 is row 3).
    assert_eq!(rows.len(), 2, "{findings:?}");
    assert!(
        rows[0].starts_with("row 3, column start: the cell is a value of Arrow type Timestamp"),
        "{}",
        rows[0]
    );
    // A's start is null: nothing to read, so A is checked.
    assert_ne!(r[1]["verdict"], "invalid");
    assert_eq!(out.status.code(), Some(1));
    // The human report underlines the cell.
    let human =
        String::from_utf8_lossy(&rxlint(&dir, &["check", "ts.parquet"]).stdout).into_owned();
    assert!(human.contains("ts.parquet:1"), "{human}");
    // A phase's cell that cannot be read is said once: the phase is not
    // also said to lack its dose.
    let bytes = BinaryArray::from(vec![&b"\xff"[..], b"30", b"20"]);
    let bin = changed(&flat(), "dose_mg", "dose_mg", Some(Arc::new(bytes)));
    write_parquet(&dir.join("bin.parquet"), &[bin]);
    let out = rxlint(&dir, &["check", "--format", "json", "bin.parquet"]);
    for r in records(&out) {
        assert_eq!(r["verdict"], "invalid");
        let codes: Vec<&str> = r["findings"]
            .as_array()
            .map(|f| f.iter().filter_map(|x| x["rule"].as_str()).collect())
            .unwrap_or_default();
        assert!(codes.iter().all(|c| *c == "input.wrong-type"), "{codes:?}");
    }
}

#[test]
fn a_damaged_parquet_file_is_a_clean_error() {
    let dir = temp_dir("damaged");
    write_parquet(&dir.join("whole.parquet"), &[flat()]);
    let bytes = std::fs::read(dir.join("whole.parquet")).unwrap_or_default();
    std::fs::write(dir.join("cut.parquet"), &bytes[..bytes.len() / 2])
        .unwrap_or_else(|e| panic!("{e}"));
    let out = rxlint(&dir, &["check", "cut.parquet"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("cut.parquet is not a readable Parquet file"),
        "{}",
        stderr(&out)
    );
    assert!(!stderr(&out).contains("panicked"));
    // Found in a directory, it is one invalid record and the rest go on.
    let sub = dir.join("lake");
    std::fs::create_dir_all(&sub).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(sub.join("a.parquet"), &bytes[..bytes.len() / 2])
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(sub.join("b.parquet"), &bytes).unwrap_or_else(|e| panic!("{e}"));
    let out = rxlint(&dir, &["check", "--format", "json", "lake"]);
    let r = records(&out);
    assert_eq!(r.len(), 3, "{}", stderr(&out));
    assert_eq!(r[0]["findings"][0]["rule"], "input.unreadable-file");
    // Named Parquet but empty, or not starting as Parquet: the Parquet
    // reader says so; it was read as a YAML document that "found nothing".
    std::fs::write(sub.join("a.parquet"), b"").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(sub.join("c.parquet"), b"drug: x\n").unwrap_or_else(|e| panic!("{e}"));
    let out = rxlint(&dir, &["check", "--format", "json", "lake"]);
    let r = records(&out);
    assert_eq!(r.len(), 4, "{}", stderr(&out));
    for (i, name) in [(0, "a.parquet"), (3, "c.parquet")] {
        assert_eq!(r[i]["findings"][0]["rule"], "input.unreadable-file");
        let message = r[i]["findings"][0]["message"].as_str().unwrap_or_default();
        assert!(
            message.contains(&format!("{name} is not a readable Parquet file")),
            "{message}"
        );
    }
}

/// Flat rows in row groups of two rows: `ids` in file order, each a
/// regimen's phase (numbered by how often its id came before).
fn grouped_file(path: &Path, ids: &[&str]) {
    let mut seen: Vec<&str> = Vec::new();
    let batches: Vec<RecordBatch> = ids
        .chunks(2)
        .map(|chunk| {
            let phases: Vec<i32> = chunk
                .iter()
                .map(|id| {
                    seen.push(id);
                    seen.iter().filter(|s| *s == id).count() as i32
                })
                .collect();
            let n = chunk.len();
            batch(vec![
                ("id", Arc::new(StringArray::from(chunk.to_vec()))),
                ("phase", Arc::new(Int32Array::from(phases))),
                ("drug", Arc::new(StringArray::from(vec!["isotretinoin"; n]))),
                ("weight_kg", Arc::new(Int64Array::from(vec![70; n]))),
                ("dose_mg", Arc::new(Int64Array::from(vec![40; n]))),
                ("frequency_per_day", Arc::new(Int64Array::from(vec![2; n]))),
                ("duration_weeks", Arc::new(Int64Array::from(vec![10; n]))),
            ])
        })
        .collect();
    write_parquet(path, &batches);
}

#[test]
fn a_regimen_crosses_row_groups_in_id_order_and_out_of_order_rows_stop_the_run() {
    let dir = temp_dir("row-groups");
    // B's three phases span all three row groups.
    grouped_file(&dir.join("sorted.parquet"), &["A", "B", "B", "B", "C"]);
    let out = rxlint(&dir, &["check", "--format", "json", "sorted.parquet"]);
    let r = records(&out);
    let ids: Vec<&str> = r.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(ids, ["A", "B", "C"], "{}", stderr(&out));
    // Ten weeks a phase: B's course counts all three.
    let b = r[1]["findings"].to_string();
    assert!(b.contains("the course lasts 30 weeks"), "{b}");
    // A comes back after B: its rows may have been checked in part.
    grouped_file(&dir.join("unsorted.parquet"), &["B", "C", "A", "B"]);
    let out = rxlint(&dir, &["check", "--format", "json", "unsorted.parquet"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("not in id order"), "{}", stderr(&out));
}

#[test]
fn format_parquet_writes_one_row_per_regimen_with_its_json_line() {
    let dir = temp_dir("output");
    write_parquet(&dir.join("rx.parquet"), &[flat()]);
    let json = rxlint(&dir, &["check", "--format", "json", "rx.parquet"]);
    let out = rxlint(
        &dir,
        &[
            "check",
            "--format",
            "parquet",
            "--output",
            "results.parquet",
            "rx.parquet",
        ],
    );
    assert_eq!(out.status.code(), json.status.code(), "{}", stderr(&out));
    let batches = read_parquet(&dir.join("results.parquet"));
    assert_eq!(batches[0].schema(), rxlint::arrow::results_schema());
    let lines: Vec<String> = batches
        .iter()
        .flat_map(|b| {
            let column = b.column_by_name("json").map(|c| c.as_ref().clone_json());
            column.unwrap_or_default()
        })
        .collect();
    let want: Vec<String> = String::from_utf8_lossy(&json.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    assert_eq!(lines, want);
    // Never to standard output, nor over an input.
    let out = rxlint(&dir, &["check", "--format", "parquet", "rx.parquet"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("give --output"), "{}", stderr(&out));
    let out = rxlint(
        &dir,
        &[
            "check",
            "--format",
            "parquet",
            "--output",
            "rx.parquet",
            "rx.parquet",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
}

/// The texts of a string column.
trait CloneJson {
    fn clone_json(&self) -> Vec<String>;
}

impl CloneJson for dyn Array {
    fn clone_json(&self) -> Vec<String> {
        self.as_any()
            .downcast_ref::<StringArray>()
            .map(|s| s.iter().map(|v| v.unwrap_or_default().to_owned()).collect())
            .unwrap_or_default()
    }
}

/// CSV line `L` is Parquet row `L - 1` (the header is line 1): in `input`,
/// in a finding's `line`, and in "row L," of a message.
fn as_parquet_positions(csv_json: &str, csv: &str, parquet: &str) -> String {
    let mut out = String::with_capacity(csv_json.len());
    let mut rest = csv_json;
    let patterns = [
        (format!("\"{csv}:"), format!("\"{parquet}:")),
        ("\"line\":".to_owned(), "\"line\":".to_owned()),
        ("row ".to_owned(), "row ".to_owned()),
    ];
    'scan: while !rest.is_empty() {
        for (from, to) in &patterns {
            if let Some(after) = rest.strip_prefix(from.as_str()) {
                let digits = after.chars().take_while(char::is_ascii_digit).count();
                if let Ok(n) = after[..digits].parse::<usize>() {
                    out.push_str(to);
                    out.push_str(&(n - 1).to_string());
                    rest = &after[digits..];
                    continue 'scan;
                }
            }
        }
        let c = rest.chars().next().unwrap_or(' ');
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[test]
fn the_benchmark_records_as_parquet_give_the_json_lines_of_their_csv_form() {
    let dir = temp_dir("bench");
    let n = 2_000;
    let mut rng = synth::Rng(20_261_121);
    let mut csv = Vec::new();
    csv.extend_from_slice(synth::CSV_HEADER.as_bytes());
    csv.push(b'\n');
    for i in 0..n {
        synth::write_csv(&mut csv, &synth::record(&mut rng, i)).unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::write(dir.join("records.csv"), &csv).unwrap_or_else(|e| panic!("{e}"));
    let mut rng = synth::Rng(20_261_121);
    let file = std::fs::File::create(dir.join("records.parquet")).unwrap_or_else(|e| panic!("{e}"));
    // Small row groups, so that two-phase regimens cross them.
    synth::write_parquet(file, (0..n).map(|i| synth::record(&mut rng, i)), 333)
        .unwrap_or_else(|e| panic!("{e}"));
    for jobs in ["1", "2"] {
        let c = rxlint(
            &dir,
            &["check", "--format", "json", "--jobs", jobs, "records.csv"],
        );
        let p = rxlint(
            &dir,
            &[
                "check",
                "--format",
                "json",
                "--jobs",
                jobs,
                "records.parquet",
            ],
        );
        let want = as_parquet_positions(
            &String::from_utf8_lossy(&c.stdout),
            "records.csv",
            "records.parquet",
        );
        let got = String::from_utf8_lossy(&p.stdout).into_owned();
        assert_eq!(got.lines().count(), n as usize, "{}", stderr(&p));
        assert!(
            got == want,
            "the Parquet run's JSON Lines differ from the CSV run's"
        );
        assert_eq!(c.status.code(), p.status.code());
    }
}

#[test]
fn the_checker_checks_batches_and_rebuilds_from_its_sources() {
    let checker = Checker::shipped("us", false).unwrap_or_else(|e| panic!("{e}"));
    let results = checker
        .check_batch(&flat())
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(results.num_rows(), 2);
    assert_eq!(results.schema(), checker.results_schema());
    let again = Checker::from_sources(
        checker.sources().to_vec(),
        checker.profile(),
        checker.strict(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(again.check_batch(&flat()).ok(), Some(results));
    // Columns that cannot be read are an error with the did-you-mean.
    match checker.check_batch(&changed(&flat(), "drug", "drgu", None)) {
        Err(e @ CheckError::Columns(_)) => {
            assert!(e.to_string().contains("did you mean `drug`?"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    // JSON records: a bad one is an invalid record, never an error.
    let out = checker.check_json_records(&[
        serde_json::json!({"drug": "isotretinoin", "patient": {"weight": "70 kg"},
            "course": {"phases": [{"dose": "35 mg", "frequency": "2/day", "duration": "20 weeks"}]}}),
        serde_json::json!([1, 2]),
    ]);
    assert_eq!(out.len(), 2);
    assert_eq!(out[1]["verdict"], "invalid");
    assert!(Checker::shipped("mars", false).is_err());
}

#[test]
fn a_checker_gives_the_result_columns_asked_for_in_their_order() {
    use rxlint::arrow::{RESULT_COLUMNS, Selection, results_schema_of};
    let checker = Checker::shipped("us", false).unwrap_or_else(|e| panic!("{e}"));
    let all = checker
        .check_batch(&flat())
        .unwrap_or_else(|e| panic!("{e}"));
    for names in [
        &["verdict", "id"][..],
        &["findings"],
        &["json", "drug"],
        &RESULT_COLUMNS,
    ] {
        let selection = Selection::of(names).unwrap_or_else(|e| panic!("{e}"));
        let some = checker
            .check_batch_with(&flat(), selection)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(some.schema(), results_schema_of(selection));
        // In the results' order, whatever the order asked.
        let got: Vec<&str> = some
            .schema_ref()
            .fields()
            .iter()
            .map(|f| f.name().as_str())
            .collect();
        let want: Vec<&str> = RESULT_COLUMNS
            .iter()
            .copied()
            .filter(|c| names.contains(c))
            .collect();
        assert_eq!(got, want);
        // Each column is the full results' column.
        for name in got {
            assert_eq!(
                some.column_by_name(name),
                all.column_by_name(name),
                "{name}"
            );
        }
    }
    // The stream gives the same.
    let selection = Selection::of(&["id", "verdict"]).unwrap_or_else(|e| panic!("{e}"));
    let mut stream = checker.stream_with("batch", selection);
    let first = stream.push(&flat()).unwrap_or_else(|e| panic!("{e}"));
    let last = stream.finish().unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(first.num_rows() + last.num_rows(), all.num_rows());
    assert_eq!(last.schema(), results_schema_of(selection));
    // A name that is no result column, or none at all, is refused.
    let e = Selection::of(&["id", "jsn"]).err().unwrap_or_default();
    assert!(e.contains("`jsn` is not a result column"), "{e}");
    assert!(e.contains("did you mean `json`?"), "{e}");
    assert!(Selection::of::<&str>(&[]).is_err());
}

/// A checker is shared by threads and moved into Python objects.
#[test]
fn the_checker_is_send_and_sync() {
    fn shared<T: Send + Sync + Clone>() {}
    shared::<Checker>();
}
