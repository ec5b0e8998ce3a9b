//! Batch inputs and outputs through the real binary: CSV, JSON Lines,
//! ordering and determinism across `--jobs`, and the SARIF, JUnit and
//! GitHub formats.

use std::fmt::Write as _;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use serde_json::Value;

mod support;
use support::{records, stderr, temp_dir};

const HEADER: &str = "id,drug,weight_kg,age_years,sex,pregnant,childbearing_potential,pregnancy_test,contraception,egfr,renal_impairment,severity,scarring,truncal,start,previous_course_end,dose_mg,daily_dose_mg,frequency_per_day,duration_weeks,with_food";

fn rxlint(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rxlint"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run rxlint: {e}"));
    if let Some(mut pipe) = child.stdin.take()
        && let Some(text) = stdin
    {
        pipe.write_all(text.as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
    }
    child.wait_with_output().unwrap_or_else(|e| panic!("{e}"))
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("{e}"));
}

/// A CSV row with the given id, weight cell, dose cell and duration cell.
fn row(id: &str, weight: &str, dose: &str, weeks: &str) -> String {
    format!("{id},isotretinoin,{weight},24,male,,,,,,,,,,,,{dose},,2,{weeks},true")
}

#[test]
fn csv_rows_with_one_id_are_the_phases_of_one_regimen() {
    let dir = temp_dir("csv-groups");
    let csv = [
        HEADER.to_owned(),
        row("A", "70", "17.5", "4"),
        row("A", "70", "35", "16"),
        row("B", "70", "80", "20"),
        row("C", "7O", "35", "20"),
        row("D", "70", "35", "20") + ",extra",
        row("", "70", "35", "20"),
    ]
    .join("\n");
    write(&dir, "p.csv", &csv);
    let out = rxlint(&dir, &["check", "--format", "json", "p.csv"], None);
    let recs = records(&out);
    let summary: Vec<(&str, &str, &str)> = recs
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap_or(""),
                r["input"].as_str().unwrap_or(""),
                r["verdict"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("A", "p.csv:2", "pass"),
            ("B", "p.csv:4", "fail"),
            ("C", "p.csv:5", "invalid"),
            ("D", "p.csv:6", "invalid"),
            ("p.csv:7", "p.csv:7", "pass"),
        ]
    );
    let bad_cell = &recs[2]["findings"][0];
    assert_eq!(bad_cell["rule"], "input.invalid-number");
    assert_eq!(bad_cell["field"], "row 5, column weight_kg");
    assert!(bad_cell["message"].as_str().unwrap_or("").contains("`7O`"));
    assert_eq!(recs[3]["findings"][0]["rule"], "input.csv-ragged-row");
    assert!(
        stderr(&out).contains("5 regimens: 2 pass, 0 warn, 1 fail, 2 invalid"),
        "{}",
        stderr(&out)
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn csv_headers_are_checked_up_front() {
    let dir = temp_dir("csv-header");
    let cases = [
        (
            HEADER.replace(",with_food", ",dose_mg"),
            "column `dose_mg` appears twice",
        ),
        (
            HEADER.replace(",drug", ""),
            "the header has no column for the drug (`drug`)",
        ),
        (
            HEADER.replace(",dose_mg,daily_dose_mg", ""),
            "the header has no column for a dose (`dose_mg`, `dose_mg_kg`",
        ),
    ];
    for (header, want) in cases {
        write(&dir, "h.csv", &format!("{header}\n"));
        let out = rxlint(&dir, &["check", "--format", "json", "h.csv"], None);
        assert_eq!(out.status.code(), Some(2), "{header}");
        assert!(stderr(&out).contains(want), "{want}: {}", stderr(&out));
        assert!(out.stdout.is_empty());
    }
    // An unknown column is ignored, with one warning and its did-you-mean;
    // the run goes on.
    write(
        &dir,
        "h.csv",
        &format!("{}\n", HEADER.replace("weight_kg", "weight")),
    );
    let out = rxlint(
        &dir,
        &["check", "--format", "json", "--allow-empty", "h.csv"],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("1 column is ignored: `weight` (did you mean `weight_kg`?)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_broken_json_line_is_one_invalid_record() {
    let dir = temp_dir("jsonl");
    let good = r#"{"drug":"isotretinoin","patient":{"weight":"70 kg","age":24,"sex":"male"},"course":{"phases":[{"dose":"35 mg","frequency":"2/day","duration":"20 weeks","with_food":true}]}}"#;
    let text = format!("{good}\n{{\"drug\": broken\n\n{good}\n[1, 2]\n");
    write(&dir, "r.jsonl", &text);
    let out = rxlint(&dir, &["check", "--format", "json", "r.jsonl"], None);
    let recs = records(&out);
    let got: Vec<(&str, &str)> = recs
        .iter()
        .map(|r| {
            (
                r["input"].as_str().unwrap_or(""),
                r["verdict"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("r.jsonl:1", "pass"),
            ("r.jsonl:2", "invalid"),
            ("r.jsonl:4", "pass"),
            ("r.jsonl:5", "invalid")
        ]
    );
    assert_eq!(recs[1]["findings"][0]["rule"], "input.syntax");
    assert_eq!(recs[3]["findings"][0]["rule"], "input.not-a-regimen");
}

/// A mixed batch: passes, warnings, failures and invalid records.
fn mixed_csv(n: usize) -> String {
    let mut csv = String::from(HEADER);
    for i in 0..n {
        let (weight, dose, weeks) = match i % 7 {
            0 => ("70", "35", "20"),
            1 => ("70", "80", "20"),
            2 => ("60", "15", "16"),
            3 => ("", "35", "20"),
            4 => ("7O", "35", "20"),
            5 => ("82.5", "41.25", "18"),
            _ => ("70", "35", "0"),
        };
        let _ = write!(csv, "\n{}", row(&format!("R{i}"), weight, dose, weeks));
        if i % 5 == 0 {
            let _ = write!(csv, "\n{}", row(&format!("R{i}"), weight, dose, "2"));
        }
    }
    csv.push('\n');
    csv
}

#[test]
fn output_is_identical_for_any_number_of_jobs() {
    let dir = temp_dir("jobs");
    write(&dir, "big.csv", &mixed_csv(3000));
    let one = rxlint(
        &dir,
        &["check", "--format", "json", "--jobs", "1", "big.csv"],
        None,
    );
    assert_eq!(records(&one).len(), 3000);
    for jobs in ["2", "3", "8"] {
        let many = rxlint(
            &dir,
            &["check", "--format", "json", "--jobs", jobs, "big.csv"],
            None,
        );
        assert!(
            one.stdout == many.stdout,
            "--jobs {jobs} changed the output"
        );
        assert_eq!(one.stderr, many.stderr);
    }
    let human1 = rxlint(&dir, &["check", "--jobs", "1", "big.csv"], None);
    let human8 = rxlint(&dir, &["check", "--jobs", "8", "big.csv"], None);
    assert!(human1.stdout == human8.stdout);
}

#[test]
fn github_annotations() {
    let out = rxlint(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &["check", "--format", "github", "examples/fail.yaml"],
        None,
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        text.lines().next(),
        Some(
            "::error file=examples/fail.yaml,line=11,col=13,title=isotretinoin.max-daily-dose::RX-FAIL: daily dose 2.29 mg/kg/day is above the 2 mg/kg/day maximum"
        )
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn junit_has_a_suite_per_file_and_a_case_per_regimen() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = rxlint(
        root,
        &[
            "check",
            "--format",
            "junit",
            "examples/pass.yaml",
            "examples/several.yaml",
        ],
        None,
    );
    let xml = String::from_utf8_lossy(&out.stdout);
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert_eq!(xml.matches("<testsuite ").count(), 2, "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), 4, "{xml}");
    assert!(
        xml.contains("<testsuites name=\"rxlint\" tests=\"4\" skipped=\"0\" failures=\"1\""),
        "{xml}"
    );
    assert!(xml.contains("isotretinoin.retreatment-gap"), "{xml}");
}

#[test]
fn sarif_validates_against_the_2_1_0_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = rxlint(root, &["check", "--format", "sarif", "examples"], None);
    let log: Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("SARIF is not JSON: {e}"));
    let schema_text = std::fs::read_to_string(root.join("tests/data/sarif-schema-2.1.0.json"))
        .unwrap_or_else(|e| panic!("{e}"));
    let schema: Value = serde_json::from_str(&schema_text).unwrap_or_else(|e| panic!("{e}"));
    let validator = jsonschema::validator_for(&schema).unwrap_or_else(|e| panic!("schema: {e}"));
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");
    assert_eq!(log["version"], "2.1.0");
    let run = &log["runs"][0];
    let rules = run["tool"]["driver"]["rules"]
        .as_array()
        .map_or(0, Vec::len);
    assert_eq!(
        rules, 33,
        "every rule id in force for the us profile, and the two coverage ids, each once"
    );
    // The first result of examples/fail.yaml (the dose-range examples come
    // before it in path order).
    let uri = |r: &Value| r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].clone();
    let first = run["results"]
        .as_array()
        .and_then(|all| all.iter().find(|r| uri(r) == "examples/fail.yaml"))
        .unwrap_or_else(|| panic!("no result for examples/fail.yaml"));
    assert_eq!(first["ruleId"], "isotretinoin.max-daily-dose");
    assert_eq!(
        first["locations"][0]["physicalLocation"]["region"]["startLine"],
        11
    );
    let help = run["tool"]["driver"]["rules"][0]["help"]["text"]
        .as_str()
        .unwrap_or("");
    assert!(help.contains("Source: "), "{help}");
}

#[test]
fn csv_on_standard_input() {
    let dir = temp_dir("stdin");
    let csv = format!("{HEADER}\n{}\n", row("S", "70", "35", "20"));
    let out = rxlint(
        &dir,
        &["check", "--format", "json", "--input-format", "csv", "-"],
        Some(&csv),
    );
    let recs = records(&out);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0]["input"], "-:2");
    assert_eq!(recs[0]["verdict"], "pass");
}

#[test]
fn csv_optional_columns_carry_weekly_schedules() {
    let dir = temp_dir("weekly");
    let csv = "id,drug,weight_kg,indication,initiation,dose_mg,frequency,duration_weeks,with_food\n\
M1,methotrexate,70,rheumatoid_arthritis,true,7.5,once weekly,12,true\n\
M2,methotrexate,70,rheumatoid_arthritis,false,7.5,once daily,12,true\n";
    write(&dir, "mtx.csv", csv);
    let out = rxlint(&dir, &["check", "--format", "json", "mtx.csv"], None);
    let recs = records(&out);
    assert_eq!(recs[0]["verdict"], "pass", "{:?}", recs[0]);
    assert_eq!(recs[1]["verdict"], "fail");
    assert_eq!(
        recs[1]["findings"][0]["rule"],
        "methotrexate.daily-schedule"
    );
}

/// A JSON line or CSV row over 1 MiB is one invalid record, the records
/// around it are read, and line numbers stay right after it, also when the
/// file ends inside the long line and for any `--jobs`.
#[test]
fn records_over_one_mib_are_one_invalid_record_each() {
    let dir = temp_dir("long-records");
    let good = |id: &str| {
        format!(
            r#"{{"id":"{id}","drug":"isotretinoin","patient":{{"weight":"70 kg","age":24,"sex":"male"}},"course":{{"phases":[{{"dose":"35 mg","frequency":"2/day","duration":"20 weeks","with_food":true}}]}}}}"#
        )
    };
    let long = format!(r#"{{"id":"L","note":"{}"}}"#, "x".repeat(1 << 21));
    let jsonl = [good("A"), long.clone(), good("B"), long.clone()].join("\n");
    write(&dir, "p.jsonl", &jsonl);
    let csv = [
        HEADER.to_owned(),
        row("A", "70", "35", "20"),
        row("L", &"7".repeat(1 << 21), "35", "20"),
        row("B", "70", "35", "20"),
    ]
    .join("\n");
    write(&dir, "p.csv", &csv);
    for jobs in ["1", "2"] {
        for (file, long_line) in [("p.jsonl", 2), ("p.csv", 3)] {
            let out = rxlint(
                &dir,
                &["check", "--format", "json", "--jobs", jobs, file],
                None,
            );
            let recs = records(&out);
            let got: Vec<(&str, &str, &str)> = recs
                .iter()
                .map(|r| {
                    (
                        r["input"].as_str().unwrap_or(""),
                        r["verdict"].as_str().unwrap_or(""),
                        r["findings"][0]["rule"].as_str().unwrap_or(""),
                    )
                })
                .collect();
            let too_large = format!("{file}:{long_line}");
            let after = format!("{file}:{}", long_line + 1);
            let mut want = vec![
                (format!("{file}:{}", long_line - 1), "pass", ""),
                (too_large, "invalid", "input.too-large"),
                (after, "pass", ""),
            ];
            if file == "p.jsonl" {
                want.push(("p.jsonl:4".into(), "invalid", "input.too-large"));
            }
            let want: Vec<(&str, &str, &str)> =
                want.iter().map(|(a, b, c)| (a.as_str(), *b, *c)).collect();
            assert_eq!(got, want, "{file} --jobs {jobs}");
            let message = recs[1]["findings"][0]["message"].as_str().unwrap_or("");
            assert!(message.contains("longer than 1024 KiB"), "{message}");
        }
    }
}

/// A CSV row that cannot be used (over 1 MiB, or not UTF-8) makes its whole
/// regimen one invalid record, found by its id: the regimen is never
/// checked on its other rows, which might pass without it. Other regimens
/// around it are checked.
#[test]
fn an_unusable_csv_row_spoils_its_regimen_and_no_other() {
    let dir = temp_dir("csv-unusable-rows");
    let mut bytes = Vec::new();
    for line in [
        HEADER.to_owned(),
        row("A", "70", "35", "20"),
        row("A", &"7".repeat(1 << 21), "35", "4"),
        row("A", "70", "35", "4"),
        row("B", "70", "35", "20"),
        row("C", "70", "35", "20"),
    ] {
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
    }
    // Row 7 is C's second phase with a Latin-1 byte; row 8 is D, alone.
    bytes.extend_from_slice(b"C,isotretinoin,70,24,male,,,,,,,,,,,,35,,2,4,caf\xe9\n");
    bytes.extend_from_slice(row("D", "70", "35", "20").as_bytes());
    std::fs::write(dir.join("u.csv"), &bytes).unwrap_or_else(|e| panic!("{e}"));
    for jobs in ["1", "2"] {
        let out = rxlint(
            &dir,
            &["check", "--format", "json", "--jobs", jobs, "u.csv"],
            None,
        );
        let recs = records(&out);
        let got: Vec<(&str, &str, &str, &str)> = recs
            .iter()
            .map(|r| {
                (
                    r["id"].as_str().unwrap_or(""),
                    r["input"].as_str().unwrap_or(""),
                    r["verdict"].as_str().unwrap_or(""),
                    r["findings"][0]["rule"].as_str().unwrap_or(""),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("A", "u.csv:2", "invalid", "input.too-large"),
                ("B", "u.csv:5", "pass", ""),
                ("C", "u.csv:6", "invalid", "input.csv-bad-record"),
                ("D", "u.csv:8", "pass", ""),
            ],
            "--jobs {jobs}"
        );
        let message = |i: usize| recs[i]["findings"][0]["message"].as_str().unwrap_or("");
        assert!(
            message(0).contains("row 3 is longer than 1024 KiB")
                && message(0).contains("regimen starting on row 2"),
            "{}",
            message(0)
        );
        assert!(
            message(2).contains("row 7, column with_food: not UTF-8 text")
                && message(2).contains("regimen starting on row 6"),
            "{}",
            message(2)
        );
        assert!(stderr(&out).contains("4 regimens: 2 pass, 0 warn, 0 fail, 2 invalid"));
    }
}

/// A CSV saved on Windows (`\r\n`) names the same lines as the same file
/// with `\n`, in every format, also after blank lines, a quoted cell
/// holding a line break, and a last row with no line end. (The csv crate's
/// own line count lagged one line behind after every `\r\n`.)
#[test]
fn csv_with_windows_line_endings_names_the_right_lines() {
    let dir = temp_dir("crlf");
    let rows = [
        HEADER.to_owned(),
        String::new(),
        row("A", "70", "80", "20"),
        row("B", "7O", "35", "20"),
        row("\"C\nc\"", "7O", "35", "20"),
        row("D", "7O", "35", "20"),
    ];
    write(&dir, "unix.csv", &rows.join("\n"));
    write(
        &dir,
        "windows.csv",
        &rows.join("\r\n").replace("C\r\nc", "C\nc"),
    );
    let lines = |format: &str, file: &str| {
        let out = rxlint(&dir, &["check", "--format", format, file], None);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{format} {file}: {}",
            stderr(&out)
        );
        String::from_utf8_lossy(&out.stdout).replace("windows.csv", "unix.csv")
    };
    let json = records(&rxlint(
        &dir,
        &["check", "--format", "json", "windows.csv"],
        None,
    ));
    let at: Vec<(&str, u64)> = json
        .iter()
        .map(|r| {
            (
                r["input"].as_str().unwrap_or(""),
                r["findings"][0]["line"].as_u64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(
        at,
        [
            ("windows.csv:3", 3),
            ("windows.csv:4", 4),
            ("windows.csv:5", 5),
            ("windows.csv:7", 7)
        ]
    );
    assert_eq!(json[1]["findings"][0]["field"], "row 4, column weight_kg");
    let github = lines("github", "windows.csv");
    assert!(
        github.contains("::error file=unix.csv,line=4,col=16,"),
        "{github}"
    );
    for format in ["json", "github", "junit", "sarif", "human"] {
        assert_eq!(
            lines(format, "windows.csv"),
            lines(format, "unix.csv"),
            "{format}"
        );
    }
}

/// YAML and JSON Lines saved with `\r\n` keep their line numbers too.
#[test]
fn yaml_and_json_lines_with_windows_line_endings() {
    let dir = temp_dir("crlf-docs");
    let yaml = "id: RX-1\ndrug: isotretinoin\npatient: {weight: 70 kg, age: 24, sex: male}\ncourse:\n  phases:\n    - dose: 80 mg\n      frequency: 2/day\n      duration: 20 weeks\n      with_food: true\n";
    write(&dir, "r.yaml", &yaml.replace('\n', "\r\n"));
    let out = rxlint(&dir, &["check", "--format", "github", "r.yaml"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("file=r.yaml,line=6,col=13,"), "{text}");
    let good = r#"{"drug":"isotretinoin","patient":{"weight":"70 kg","age":24,"sex":"male"},"course":{"phases":[{"dose":"80 mg","frequency":"2/day","duration":"20 weeks","with_food":true}]}}"#;
    write(
        &dir,
        "r.jsonl",
        &format!("{good}\r\n\r\n{{\"drug\":\r\n{good}\r\n"),
    );
    let recs = records(&rxlint(
        &dir,
        &["check", "--format", "json", "r.jsonl"],
        None,
    ));
    let inputs: Vec<&str> = recs.iter().filter_map(|r| r["input"].as_str()).collect();
    assert_eq!(inputs, ["r.jsonl:1", "r.jsonl:3", "r.jsonl:4"]);
}

/// One bad file in a directory (a workbook renamed `.csv`, an empty `.csv`,
/// a dangling link, an old Excel file renamed `.yaml`, a PDF) is one
/// invalid record naming the file and what it is; the rest are checked.
/// A named file that cannot be opened still stops the run.
#[test]
fn a_bad_file_in_a_directory_is_one_invalid_record() {
    let dir = temp_dir("bad-files");
    let inputs = dir.join("in");
    std::fs::create_dir_all(&inputs).unwrap_or_else(|e| panic!("{e}"));
    let pass = [HEADER.to_owned(), row("A", "70", "35", "20")].join("\n");
    write(&inputs, "a.csv", &pass);
    std::fs::write(
        inputs.join("b.csv"),
        b"PK\x03\x04\x14\x00\x06\x00\x08\x00\x00\x00!\x00",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    write(&inputs, "c.csv", "");
    std::os::unix::fs::symlink("gone.csv", inputs.join("d.csv")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        inputs.join("e.yaml"),
        b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\x00\x00\x00\x00",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(inputs.join("f.json"), b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
        .unwrap_or_else(|e| panic!("{e}"));
    write(
        &inputs,
        "g.csv",
        &[HEADER.to_owned(), row("G", "70", "80", "20")].join("\n"),
    );
    let out = rxlint(&dir, &["check", "--format", "json", "in"], None);
    let recs = records(&out);
    let got: Vec<(&str, &str, Vec<&str>, &str)> = recs
        .iter()
        .map(|r| {
            let findings = r["findings"].as_array();
            (
                r["input"].as_str().unwrap_or(""),
                r["verdict"].as_str().unwrap_or(""),
                findings.map_or(Vec::new(), |f| {
                    f.iter().filter_map(|f| f["rule"].as_str()).collect()
                }),
                findings
                    .and_then(|f| f.first())
                    .and_then(|f| f["message"].as_str())
                    .unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("in/a.csv:2", "pass", vec![], ""),
            (
                "in/b.csv:1",
                "invalid",
                vec!["input.not-utf8"],
                "in/b.csv: this is a ZIP archive or an Excel (.xlsx) workbook, not CSV"
            ),
            (
                "in/c.csv:1",
                "invalid",
                vec!["input.csv-empty"],
                "in/c.csv is empty: it has no header row"
            ),
            (
                "in/d.csv:1",
                "invalid",
                vec!["input.unreadable-file"],
                "in/d.csv is a symbolic link to gone.csv, which does not exist"
            ),
            (
                "in/e.yaml:1",
                "invalid",
                vec!["input.not-utf8"],
                "in/e.yaml: this is an old Excel (.xls) or other Office file, not YAML"
            ),
            (
                "in/f.json:1",
                "invalid",
                vec!["input.not-utf8"],
                "in/f.json: this is a PDF document, not JSON"
            ),
            (
                "in/g.csv:2",
                "fail",
                vec!["isotretinoin.max-daily-dose"],
                "daily dose 2.29 mg/kg/day is above the 2 mg/kg/day maximum"
            ),
        ]
    );
    assert!(
        stderr(&out).contains("7 regimens: 1 pass, 0 warn, 1 fail, 5 invalid"),
        "{}",
        stderr(&out)
    );
    assert_eq!(out.status.code(), Some(1));
    // Named on the command line, a file that cannot be opened is exit 2.
    for missing in ["in/d.csv", "in/nothing.csv"] {
        let out = rxlint(
            &dir,
            &["check", "--format", "json", "in/a.csv", missing],
            None,
        );
        assert_eq!(out.status.code(), Some(2), "{missing}: {}", stderr(&out));
        assert!(out.stdout.is_empty(), "{missing}");
    }
    let out = rxlint(&dir, &["check", "in/d.csv"], None);
    assert!(
        stderr(&out).contains("in/d.csv is a symbolic link to gone.csv, which does not exist"),
        "{}",
        stderr(&out)
    );
    // A named workbook is one invalid record too: it is read, and is not CSV.
    let out = rxlint(
        &dir,
        &["check", "--format", "json", "in/b.csv", "in/a.csv"],
        None,
    );
    assert_eq!(records(&out).len(), 2);
    assert_eq!(out.status.code(), Some(1));
}
