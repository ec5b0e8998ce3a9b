//! Column maps through the real binary: the shipped export layouts are
//! checked as they come with their maps, a header that rxlint cannot read
//! is one short diagnostic, and `rxlint columns init` writes a map that
//! works once its TODOs are settled.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

mod support;
use support::temp_dir;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rxlint(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rxlint"))
        .current_dir(root())
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run rxlint: {e}"))
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Each regimen's verdict, by id, from a JSON Lines report.
fn verdicts(out: &Output) -> BTreeMap<String, String> {
    text(&out.stdout)
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            (
                v["id"].as_str().unwrap_or_default().to_owned(),
                v["verdict"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn want(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap_or_default()
}

#[test]
fn pharmacy_a_is_checked_as_it_comes_with_its_map() {
    let out = rxlint(&[
        "check",
        "--format",
        "json",
        "--columns",
        "exports/pharmacy-a.columns.yaml",
        "exports/pharmacy-a.csv",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    // Weights in lb (160 lb is 72.57 kg), `Sig` codes, `Days Supply`:
    // isotretinoin within range but with food not exported (warn), one at
    // more than 2 mg/kg/day (fail), methotrexate daily (fail) and weekly
    // with no indication exported (warn).
    assert_eq!(
        verdicts(&out),
        want(&[
            ("RX-1001", "warn"),
            ("RX-1002", "fail"),
            ("RX-1003", "fail"),
            ("RX-1004", "warn"),
        ])
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("methotrexate.daily-schedule"), "{stdout}");
    assert!(stdout.contains("isotretinoin.max-daily-dose"), "{stdout}");
    // Every column is mapped or ignored by name: no warning, only the
    // per-rule counts and the summary.
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("input.csv-unknown-column"), "{stderr}");
    assert_eq!(
        stderr.trim().lines().last(),
        Some("4 regimens: 0 pass, 2 warn, 2 fail, 0 invalid")
    );
}

#[test]
fn pharmacy_b_is_checked_as_it_comes_with_its_map() {
    let out = rxlint(&[
        "check",
        "--format",
        "json",
        "--columns",
        "exports/pharmacy-b.columns.yaml",
        "exports/pharmacy-b.csv",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    // Units in the cells (`70 kg`, `154 lb`, `35 mg`, `15 mg/kg`), daily
    // and weekly schedules in one file.
    assert_eq!(
        verdicts(&out),
        want(&[
            ("B-2201", "pass"),
            ("B-2202", "fail"),
            ("B-2203", "pass"),
            ("B-2204", "fail"),
            ("B-2205", "fail"),
            ("B-2206", "invalid"),
        ])
    );
    let stdout = text(&out.stdout);
    // 40 mg twice a day at 154 lb (69.85 kg) is 1.145 mg/kg/day.
    assert!(stdout.contains("daily dose 1.15 mg/kg/day"), "{stdout}");
    // 15 mg/kg once weekly at 59 kg.
    assert!(stdout.contains("weekly dose 885 mg/wk"), "{stdout}");
    // A weight with no unit in a column that gives none.
    assert!(stdout.contains("input.missing-unit"), "{stdout}");
    // The empty trailing column: one warning, the only one.
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.matches("input.csv-unknown-column").count(),
        1,
        "{stderr}"
    );
    assert!(
        stderr.contains("1 column is ignored: an empty column"),
        "{stderr}"
    );
    assert_eq!(stderr.matches('⚠').count(), 1, "{stderr}");
}

/// Piped, the export is sniffed as CSV (its empty trailing column and
/// all), its header is checked before any row is read, and the run is the
/// file's: the same records and the one warning.
#[test]
fn a_piped_export_is_the_same_run_as_its_file() {
    let run = |stdin: bool| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rxlint"));
        cmd.current_dir(root()).env("NO_COLOR", "1").args([
            "check",
            "--format",
            "json",
            "--columns",
            "exports/pharmacy-b.columns.yaml",
        ]);
        if stdin {
            let file = std::fs::File::open(root().join("exports/pharmacy-b.csv"))
                .unwrap_or_else(|e| panic!("{e}"));
            cmd.arg("-").stdin(file);
        } else {
            cmd.arg("exports/pharmacy-b.csv");
        }
        cmd.output().unwrap_or_else(|e| panic!("{e}"))
    };
    let (file, piped) = (run(false), run(true));
    assert_eq!(piped.status.code(), file.status.code());
    assert_eq!(verdicts(&piped), verdicts(&file));
    let strip = |out: &Output| text(&out.stdout).replace("exports/pharmacy-b.csv", "-");
    assert_eq!(strip(&piped), strip(&file));
    let stderr = text(&piped.stderr);
    assert_eq!(
        stderr.matches("input.csv-unknown-column").count(),
        1,
        "{stderr}"
    );
    assert!(
        stderr.contains("1 column is ignored: an empty column"),
        "{stderr}"
    );
    // Without the map the header stops the run before any row is read.
    let file = std::fs::File::open(root().join("exports/pharmacy-b.csv"))
        .unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_rxlint"))
        .args(["check", "-"])
        .stdin(file)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("input.csv-missing-column"));
    assert!(text(&out.stdout).is_empty());
}

#[test]
fn an_export_without_its_map_is_one_short_diagnostic() {
    let out = rxlint(&["check", "exports/pharmacy-a.csv"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.matches("input.csv-missing-column").count(),
        1,
        "{stderr}"
    );
    assert!(
        stderr.contains("a frequency")
            && stderr.contains("a duration")
            && stderr.contains("a dose"),
        "{stderr}"
    );
    assert!(stderr.contains("did you mean `dose_mg`?"), "{stderr}");
    // Help text wraps; the command is whole once the lines are joined.
    let joined = stderr.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        joined.contains("`rxlint columns init exports/pharmacy-a.csv`"),
        "{stderr}"
    );
    assert!(stderr.lines().count() < 20, "{stderr}");
    // rxlint's column list is never printed.
    assert!(!stderr.contains("childbearing_potential"), "{stderr}");
}

#[test]
fn columns_init_writes_a_map_that_works_once_its_todos_are_settled() {
    let out = rxlint(&["columns", "init", "exports/pharmacy-a.csv"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let starter = text(&out.stdout);
    for line in [
        "Rx Number: id",
        "Patient Weight (lb): {field: patient.weight, unit: \"[lb_av]\"}",
        "Days Supply: {field: phase.duration, unit: \"days\"}",
        "Dose (mg): {field: phase.dose, unit: \"mg\"}",
        "Patient DOB: TODO",
    ] {
        assert!(starter.contains(line), "{line} not in:\n{starter}");
    }
    let dir = temp_dir("init");
    let map = dir.join("map.yaml");
    std::fs::write(&map, &starter).unwrap_or_else(|e| panic!("{e}"));
    let export = "exports/pharmacy-a.csv";
    // As written, the TODOs are refused, each where it is.
    let out = rxlint(&["check", "--columns", path(&map), export]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr.matches("this column is still `TODO`").count(),
        5,
        "{stderr}"
    );
    // Settled as `ignore`, it gives the shipped map's verdicts.
    std::fs::write(&map, starter.replace(": TODO", ": ignore")).unwrap_or_else(|e| panic!("{e}"));
    let out = rxlint(&["check", "--format", "json", "--columns", path(&map), export]);
    let shipped = rxlint(&[
        "check",
        "--format",
        "json",
        "--columns",
        "exports/pharmacy-a.columns.yaml",
        export,
    ]);
    assert_eq!(verdicts(&out), verdicts(&shipped), "{}", text(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn headers_match_without_case_or_spaces_and_cells_may_carry_their_unit() {
    let dir = temp_dir("units");
    let csv = dir.join("p.csv");
    std::fs::write(
        &csv,
        " ID ,Drug, weight_kg ,AGE_YEARS,Sex,Dose MG,frequency_per_day,Duration_Weeks,with_food\n\
         RX-LB,isotretinoin,154 lb,24,male,35 mg,2,20,true\n\
         RX-KG,isotretinoin,70,24,male,35,2,20,true\n\
         RX-BAD,isotretinoin,70 kg,24 kg,male,35,2,20,true\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = rxlint(&["check", "--format", "json", path(&csv)]);
    let stderr = text(&out.stderr);
    assert!(!stderr.contains("input.csv-"), "{stderr}");
    assert_eq!(
        verdicts(&out),
        want(&[("RX-LB", "fail"), ("RX-KG", "pass"), ("RX-BAD", "invalid")])
    );
    let stdout = text(&out.stdout);
    // 70 mg a day at 154 lb, 69.85322498 kg.
    assert!(stdout.contains("daily dose 1.002 mg/kg/day"), "{stdout}");
    // A weight where the age belongs: an error in that cell.
    assert!(
        stdout.contains("row 4, column AGE_YEARS: `24 kg` is in `kg`"),
        "{stdout}"
    );
    assert!(stdout.contains("input.wrong-unit"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}
