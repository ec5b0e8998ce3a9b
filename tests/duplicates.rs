//! Repeated rows and ids in CSV exports, through the real binary: a row
//! exported twice is read once and said (`input.duplicate-row`), an id
//! that comes back later is said on the later regimen
//! (`input.duplicate-id`), and a `phase` column orders a regimen's rows.
//! None of these is ever a silent pass.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

const HEADER: &str = "id,drug,weight_kg,sex,dose_mg,frequency_per_day,duration_weeks,with_food";
/// Phases 1 and 2 of a regimen that passes on its own: 0.67 then
/// 1 mg/kg/day for 20 weeks, 130.67 mg/kg in all.
const PHASE_1: &str = "RX-1,isotretinoin,60,male,20,2,4,true";
const PHASE_2: &str = "RX-1,isotretinoin,60,male,30,2,16,true";
const OTHER: &str = "RX-2,isotretinoin,70,male,30,2,20,true";

fn check(name: &str, csv: &str, args: &[&str]) -> (Output, Vec<Value>) {
    let dir = std::env::temp_dir().join(format!("rxlint-dup-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let file: PathBuf = dir.join("rx.csv");
    std::fs::write(&file, csv).unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_rxlint"))
        .args(["check", "--format", "json"])
        .args(args)
        .arg(&file)
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run rxlint: {e}"));
    let records = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    (out, records)
}

fn csv(rows: &[&str]) -> String {
    std::iter::once(HEADER)
        .chain(rows.iter().copied())
        .map(|r| format!("{r}\n"))
        .collect()
}

/// The (rule, severity, message) of each finding of a record.
fn findings(record: &Value) -> Vec<(String, String, String)> {
    record["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            (s("rule"), s("severity"), s("message"))
        })
        .collect()
}

fn rules(record: &Value) -> Vec<String> {
    findings(record).into_iter().map(|f| f.0).collect()
}

#[test]
fn the_regimen_alone_passes() {
    let (out, records) = check("alone", &csv(&[PHASE_1, PHASE_2]), &[]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["verdict"], "pass", "{}", records[0]);
}

#[test]
fn a_row_exported_twice_is_read_once_and_warned() {
    for (name, rows) in [
        ("adjacent", vec![PHASE_1, PHASE_1, PHASE_2]),
        ("last", vec![PHASE_1, PHASE_2, PHASE_2]),
        // Not next to its twin, but within the regimen's rows.
        ("within", vec![PHASE_1, PHASE_2, PHASE_1]),
    ] {
        let (out, records) = check(name, &csv(&rows), &[]);
        assert_eq!(records.len(), 1, "{name}: one regimen");
        let r = &records[0];
        // Read once: the regimen is the two phases, which pass, so the
        // only finding is the warning, and the verdict is not pass.
        assert_eq!(r["verdict"], "warn", "{name}: {r}");
        assert_eq!(out.status.code(), Some(0), "{name}");
        let f = findings(r);
        assert_eq!(f.len(), 1, "{name}: {f:?}");
        assert_eq!(f[0].0, "input.duplicate-row");
        assert_eq!(f[0].1, "warning");
        assert!(f[0].2.starts_with("row "), "{name}: {}", f[0].2);
        assert!(f[0].2.contains("exactly"), "{name}: {}", f[0].2);
    }
}

#[test]
fn the_repeat_names_both_rows() {
    let (_, records) = check("names", &csv(&[PHASE_1, PHASE_2, PHASE_1]), &[]);
    let f = findings(&records[0]);
    assert_eq!(f[0].2, "row 4 repeats row 2 exactly; it was read once");
    assert_eq!(
        records[0]["findings"][0]["line"], 2,
        "points at the row kept"
    );
}

#[test]
fn a_repeated_row_does_not_hide_a_failure() {
    let high = "RX-1,isotretinoin,60,male,80,2,16,true";
    let (out, records) = check("high", &csv(&[PHASE_1, high, high]), &[]);
    assert_eq!(records[0]["verdict"], "fail");
    assert_eq!(out.status.code(), Some(1));
    let rules = rules(&records[0]);
    assert_eq!(rules[0], "input.duplicate-row");
    assert!(rules.iter().any(|r| r == "isotretinoin.max-daily-dose"));
}

#[test]
fn rows_that_differ_are_phases() {
    // The same dose on two rows with another duration is another phase.
    let longer = "RX-1,isotretinoin,60,male,20,2,5,true";
    let (_, records) = check("differ", &csv(&[PHASE_1, longer]), &[]);
    assert!(!rules(&records[0]).contains(&"input.duplicate-row".to_owned()));
}

#[test]
fn an_id_that_comes_back_is_said_on_the_later_regimen() {
    let (out, records) = check("id", &csv(&[PHASE_1, PHASE_2, OTHER, PHASE_1]), &[]);
    assert_eq!(records.len(), 3, "one record per regimen");
    assert_eq!(records[0]["verdict"], "pass");
    assert!(!rules(&records[0]).contains(&"input.duplicate-id".to_owned()));
    assert_eq!(records[1]["verdict"], "pass");
    let later = &records[2];
    assert_eq!(later["id"], "RX-1");
    assert_eq!(
        later["input"].as_str().map(|s| s.ends_with(":5")),
        Some(true)
    );
    let f = findings(later);
    assert_eq!(f[0].0, "input.duplicate-id");
    assert_eq!(f[0].1, "warning");
    assert!(f[0].2.contains("row 2"), "{}", f[0].2);
    assert_ne!(later["verdict"], "pass");
    assert_eq!(out.status.code(), Some(0), "a warning is exit 0");
}

#[test]
fn the_id_check_holds_across_batches_and_workers() {
    // 600 regimens (more than two batches), then the first id again.
    let mut rows: Vec<String> = (0..600)
        .map(|i| format!("RX-{i},isotretinoin,60,male,20,2,20,true"))
        .collect();
    rows.push("RX-0,isotretinoin,60,male,20,2,20,true".into());
    rows.push("RX-599,isotretinoin,60,male,20,2,20,true".into());
    let refs: Vec<&str> = rows.iter().map(String::as_str).collect();
    for jobs in ["1", "2"] {
        let (_, records) = check(&format!("many{jobs}"), &csv(&refs), &["--jobs", jobs]);
        assert_eq!(records.len(), 602);
        let flagged: Vec<usize> = records
            .iter()
            .enumerate()
            .filter(|(_, r)| rules(r).contains(&"input.duplicate-id".to_owned()))
            .map(|(i, _)| i)
            .collect();
        // RX-599 right after RX-599 would be one regimen; here RX-0 comes
        // between, so both are repeats.
        assert_eq!(flagged, vec![600, 601], "--jobs {jobs}");
    }
}

#[test]
fn ids_are_per_file() {
    let dir = std::env::temp_dir().join(format!("rxlint-dup-{}-files", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    for name in ["a.csv", "b.csv"] {
        std::fs::write(dir.join(name), csv(&[PHASE_1, PHASE_2])).unwrap_or_else(|e| panic!("{e}"));
    }
    let out = Command::new(env!("CARGO_BIN_EXE_rxlint"))
        .args(["check", "--format", "json"])
        .arg(&dir)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(text.lines().count(), 2);
    assert!(!text.contains("duplicate-id"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

const PHASED: &str =
    "id,phase,drug,weight_kg,sex,dose_mg,frequency_per_day,duration_weeks,with_food";

fn phased(rows: &[&str]) -> String {
    std::iter::once(PHASED)
        .chain(rows.iter().copied())
        .map(|r| format!("{r}\n"))
        .collect()
}

#[test]
fn a_phase_column_orders_the_rows() {
    // A titration: 0.67 then 1.33 mg/kg/day. In phase order the second
    // phase is above the 1 mg/kg/day range; read the other way the dose
    // would step down instead. Either row order gives the same findings.
    let p1 = "RX-1,1,isotretinoin,60,male,20,2,4,true";
    let p2 = "RX-1,2,isotretinoin,60,male,40,2,16,true";
    let (_, ordered) = check("ordered", &phased(&[p1, p2]), &[]);
    let (_, shuffled) = check("shuffled", &phased(&[p2, p1]), &[]);
    let phases = |r: &Value| -> Vec<(String, Value)> {
        r["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| {
                (
                    f["rule"].as_str().unwrap_or_default().to_owned(),
                    f["phase"].clone(),
                )
            })
            .collect()
    };
    assert_eq!(phases(&ordered[0]), phases(&shuffled[0]));
    assert!(
        phases(&ordered[0]).contains(&("isotretinoin.dose-above-range".into(), Value::from(2))),
        "{}",
        ordered[0]
    );
    // Without the phase column the shuffled rows are phases in file order.
    let plain = csv(&[
        "RX-1,isotretinoin,60,male,40,2,16,true",
        "RX-1,isotretinoin,60,male,20,2,4,true",
    ]);
    let (_, as_written) = check("as-written", &plain, &[]);
    assert!(
        phases(&as_written[0]).contains(&("isotretinoin.dose-above-range".into(), Value::from(1)))
    );
}

#[test]
fn phase_numbers_must_run_from_one_once_each() {
    for (name, rows, code, message) in [
        (
            "gap",
            vec![
                "RX-1,1,isotretinoin,60,male,20,2,4,true",
                "RX-1,3,isotretinoin,60,male,30,2,16,true",
            ],
            "input.out-of-range",
            "row 3, column phase: phase 3 of a regimen of 2 rows (phases are numbered from 1)",
        ),
        (
            "twice",
            vec![
                "RX-1,1,isotretinoin,60,male,20,2,4,true",
                "RX-1,1,isotretinoin,60,male,30,2,16,true",
            ],
            "input.conflicting-fields",
            "row 3, column phase: phase 1 is also row 2",
        ),
        (
            "zero",
            vec!["RX-1,0,isotretinoin,60,male,20,2,4,true"],
            "input.out-of-range",
            "row 2, column phase: phase 0 of a regimen of 1 rows (phases are numbered from 1)",
        ),
        (
            "empty-of-two",
            vec![
                "RX-1,,isotretinoin,60,male,20,2,4,true",
                "RX-1,2,isotretinoin,60,male,30,2,16,true",
            ],
            "input.missing-field",
            "row 2, column phase: no phase number, and the regimen has 2 rows",
        ),
        (
            "word",
            vec!["RX-1,first,isotretinoin,60,male,20,2,4,true"],
            "input.invalid-number",
            "row 2, column phase: `first` is not a phase number (1, 2, ...)",
        ),
    ] {
        let (out, records) = check(name, &phased(&rows), &[]);
        assert_eq!(records.len(), 1, "{name}");
        assert_eq!(records[0]["verdict"], "invalid", "{name}");
        assert_eq!(out.status.code(), Some(1), "{name}");
        let f = findings(&records[0]);
        assert_eq!(f[0].0, code, "{name}");
        assert_eq!(f[0].2, message, "{name}");
    }
    // One row may leave its phase empty: it is phase 1.
    let (_, records) = check(
        "empty-of-one",
        &phased(&["RX-1,,isotretinoin,60,male,20,2,20,true"]),
        &[],
    );
    assert_ne!(records[0]["verdict"], "invalid", "{}", records[0]);
}

#[test]
fn identical_rows_with_a_phase_column_are_still_repeats() {
    let p1 = "RX-1,1,isotretinoin,60,male,20,2,4,true";
    let p2 = "RX-1,2,isotretinoin,60,male,30,2,16,true";
    let (_, records) = check("phased-dup", &phased(&[p1, p2, p2]), &[]);
    assert_eq!(records[0]["verdict"], "warn", "{}", records[0]);
    assert_eq!(rules(&records[0]), vec!["input.duplicate-row".to_owned()]);
}

#[test]
fn a_column_map_can_name_the_phase_column() {
    let dir = std::env::temp_dir().join(format!("rxlint-dup-{}-map", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let map = dir.join("map.yaml");
    std::fs::write(&map, "columns:\n  Order: id\n  Line No: phase\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let csv = "Order,Line No,drug,weight_kg,sex,dose_mg,frequency_per_day,duration_weeks,with_food\n\
               RX-1,2,isotretinoin,60,male,40,2,16,true\n\
               RX-1,1,isotretinoin,60,male,20,2,4,true\n";
    let file = dir.join("rx.csv");
    std::fs::write(&file, csv).unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_rxlint"))
        .args(["check", "--format", "json", "--columns"])
        .arg(&map)
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let record: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    // Phase 2 (row 2) is the one above range: the rows were ordered.
    let above: Vec<&Value> = record["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["rule"] == "isotretinoin.dose-above-range")
        .collect();
    assert_eq!(above.len(), 1, "{record}");
    assert_eq!(above[0]["phase"], 2);
    assert_eq!(above[0]["line"], 2);
    let _ = std::fs::remove_dir_all(&dir);
}
