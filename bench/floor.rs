//! The I/O floor: the least any tool must do with the benchmark's input.
//! Parses the same file with serde into plain structs and writes one JSON
//! line per record, with no validation, units or rules, on one thread.
//!
//! `cargo run --release --example floor -- FILE.csv|FILE.jsonl > out.jsonl`

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, BufWriter, Write};

use serde::{Deserialize, Serialize};

/// One CSV row, as the regimen format's columns.
#[derive(Deserialize, Serialize)]
struct Row {
    id: String,
    drug: String,
    weight_kg: Option<String>,
    age_years: Option<String>,
    sex: Option<String>,
    pregnant: Option<String>,
    childbearing_potential: Option<String>,
    pregnancy_test: Option<String>,
    contraception: Option<String>,
    egfr: Option<String>,
    renal_impairment: Option<String>,
    severity: Option<String>,
    scarring: Option<String>,
    truncal: Option<String>,
    start: Option<String>,
    previous_course_end: Option<String>,
    dose_mg: Option<String>,
    daily_dose_mg: Option<String>,
    frequency_per_day: Option<String>,
    duration_weeks: Option<String>,
    with_food: Option<String>,
}

/// One JSON regimen document.
#[derive(Deserialize, Serialize)]
struct Regimen {
    id: Option<String>,
    drug: String,
    patient: BTreeMap<String, serde_json::Value>,
    course: Course,
}

#[derive(Deserialize, Serialize)]
struct Course {
    start: Option<String>,
    phases: Vec<BTreeMap<String, serde_json::Value>>,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = std::env::args()
        .nth(1)
        .ok_or("usage: floor FILE.csv|FILE.jsonl")?;
    let file = std::fs::File::open(&path)?;
    let mut out = BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
    let mut records = 0u64;
    if path.ends_with(".csv") {
        let mut reader = csv::Reader::from_reader(file);
        for row in reader.deserialize::<Row>() {
            let row = row?;
            serde_json::to_writer(&mut out, &row)?;
            out.write_all(b"\n")?;
            records += 1;
        }
    } else {
        for line in BufReader::with_capacity(1 << 16, file).lines() {
            let line = line?;
            let regimen: Regimen = serde_json::from_str(&line)?;
            serde_json::to_writer(&mut out, &regimen)?;
            out.write_all(b"\n")?;
            records += 1;
        }
    }
    out.flush()?;
    eprintln!("{records} records");
    Ok(())
}
