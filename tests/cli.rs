//! The command-line contract (`shared/spec/cli-contract.md`) through the
//! real binary: JSON Lines shape, verdicts, exit codes, inputs and flags.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

mod support;
use support::{records, temp_dir};

fn rxlint(args: &[&str]) -> Output {
    rxlint_in(Path::new(env!("CARGO_MANIFEST_DIR")), args, None)
}

fn rxlint_in(dir: &Path, args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rxlint"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run rxlint: {e}"));
    if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
        // A run that does not read its standard input may exit first.
        if let Err(e) = pipe.write_all(text.as_bytes())
            && e.kind() != std::io::ErrorKind::BrokenPipe
        {
            panic!("{e}");
        }
    }
    child.wait_with_output().unwrap_or_else(|e| panic!("{e}"))
}

const PASSING: &str = "drug: isotretinoin
patient: {weight: 70 kg, age: 24, sex: male}
course:
  phases: [{dose: 35 mg, frequency: 2/day, duration: 20 weeks, with_food: true}]
";

#[test]
fn json_lines_follow_the_contract() {
    let out = rxlint(&["check", "--format", "json", "examples/fail.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let recs = records(&out);
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    let line = String::from_utf8_lossy(&out.stdout);
    let positions: Vec<usize> = [
        "\"id\":",
        "\"input\":",
        "\"drug\":",
        "\"profile\":",
        "\"verdict\":",
        "\"findings\":",
    ]
    .iter()
    .map(|k| line.find(k).unwrap_or_else(|| panic!("no {k} in {line}")))
    .collect();
    assert!(
        positions.windows(2).all(|w| w[0] < w[1]),
        "keys out of contract order: {line}"
    );
    assert_eq!(r.as_object().map(|o| o.len()), Some(6));
    assert_eq!(r["id"], "RX-FAIL");
    assert_eq!(r["input"], "examples/fail.yaml:2");
    assert_eq!(r["drug"], "isotretinoin");
    assert_eq!(r["profile"], "us");
    assert_eq!(r["verdict"], "fail");
    let f = &r["findings"][0];
    assert_eq!(f["rule"], "isotretinoin.max-daily-dose");
    assert_eq!(f["severity"], "error");
    assert_eq!(f["kind"], "violation");
    assert_eq!(f["phase"], 1);
    assert_eq!(
        f["message"],
        "daily dose 2.29 mg/kg/day is above the 2 mg/kg/day maximum"
    );
    assert_eq!(f["values"]["daily_dose_per_kg"], "2.29 mg/kg/day");
    assert_eq!(
        f["citation"],
        "US prescribing information, Dosage and Administration"
    );
}

#[test]
fn every_record_of_a_directory_in_path_order() {
    let out = rxlint(&["check", "--format", "json", "examples"]);
    let recs = records(&out);
    let ids: Vec<&str> = recs.iter().filter_map(|r| r["id"].as_str()).collect();
    assert_eq!(
        ids,
        [
            "RX-APAP-CHILD",
            "RX-DOX-LIFETIME",
            "RX-ENOX-RENAL",
            "RX-FAIL",
            "RX-INVALID",
            "RX-MTX-DAILY",
            "RX-MTX-PSORIASIS",
            "RX-PASS",
            "RX-RENAL",
            "RX-RETREAT",
            "RX-ADULT-EXCEPTION",
            "RX-NO-WEIGHT",
            "isotretinoin-acne-template",
            "isotretinoin-too-high-template",
            "RX-WARN"
        ]
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("15 regimens: 2 pass, 4 warn, 8 fail, 1 invalid"),
        "{stderr}"
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn exit_code_zero_for_pass_and_warn() {
    for file in ["examples/pass.yaml", "examples/warn.yaml"] {
        assert_eq!(rxlint(&["check", file]).status.code(), Some(0), "{file}");
    }
}

#[test]
fn exit_code_two_when_the_tool_cannot_work() {
    let cases: &[&[&str]] = &[
        &["check", "no/such/file.yaml"],
        &["check", "--profile", "uk", "examples/pass.yaml"],
        &[
            "check",
            "--rules",
            "tests/golden/rules/unit-mismatch",
            "examples/pass.yaml",
        ],
        &["check", "--rules", "no/such/dir", "examples/pass.yaml"],
        &["check", "--format", "xml", "examples/pass.yaml"],
        &["check"],
    ];
    for args in cases {
        let out = rxlint(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.stdout.is_empty(), "{args:?} wrote a report");
    }
    let out = rxlint(&["check", "--profile", "ue", "examples/pass.yaml"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("did you mean `eu`?"));
}

#[test]
fn unknown_drug_is_invalid_with_a_suggestion() {
    let out = rxlint_in(
        Path::new("."),
        &["check", "--format", "json", "--input-format", "yaml", "-"],
        Some(&PASSING.replace("isotretinoin", "isotretinoine")),
    );
    let r = &records(&out)[0];
    assert_eq!(r["verdict"], "invalid");
    assert_eq!(r["findings"][0]["rule"], "input.unknown-drug");
    assert!(
        r["findings"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("isotretinoine")
    );
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn stdin_in_yaml_and_json() {
    let out = rxlint_in(
        Path::new("."),
        &["check", "--format", "json", "-"],
        Some(PASSING),
    );
    assert_eq!(records(&out)[0]["verdict"], "pass");
    let json = r#"{"drug":"Accutane","patient":{"weight":"70 kg","age":24,"sex":"male"},
        "course":{"phases":[{"dose":"35 mg","frequency":"BID","duration":"20 weeks","with_food":true}]}}"#;
    let out = rxlint_in(
        Path::new("."),
        &["check", "--format", "json", "--input-format", "json", "-"],
        Some(json),
    );
    let r = &records(&out)[0];
    assert_eq!(r["verdict"], "pass");
    assert_eq!(r["drug"], "isotretinoin");
    assert_eq!(r["input"], "-:1");
}

#[test]
fn profiles_change_the_rules() {
    let dir = temp_dir("profiles");
    let once_daily = PASSING.replace("2/day", "1/day").replace("35 mg", "70 mg");
    std::fs::write(dir.join("r.yaml"), once_daily).unwrap_or_else(|e| panic!("{e}"));
    let us = records(&rxlint_in(
        &dir,
        &["check", "--format", "json", "r.yaml"],
        None,
    ));
    assert_eq!(us[0]["verdict"], "warn");
    assert_eq!(us[0]["findings"][0]["rule"], "isotretinoin.divided-doses");
    let eu = records(&rxlint_in(
        &dir,
        &["check", "--format", "json", "--profile", "eu", "r.yaml"],
        None,
    ));
    assert_eq!(eu[0]["profile"], "eu");
    assert_eq!(eu[0]["verdict"], "pass");
}

/// A common-pack rule cites the document of the profile checked: the EU
/// leaflet under `eu`, the US label under `us`, in JSON, human and SARIF.
#[test]
fn citations_follow_the_profile() {
    let dir = temp_dir("citations");
    let without_food = PASSING.replace("with_food: true", "with_food: false");
    std::fs::write(dir.join("r.yaml"), without_food).unwrap_or_else(|e| panic!("{e}"));
    let citation = |profile: &str| {
        let recs = records(&rxlint_in(
            &dir,
            &["check", "--format", "json", "--profile", profile, "r.yaml"],
            None,
        ));
        assert_eq!(recs[0]["findings"][0]["rule"], "isotretinoin.with-food");
        recs[0]["findings"][0]["citation"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    assert_eq!(
        citation("us"),
        "US prescribing information, Dosage and Administration"
    );
    assert!(
        citation("eu").starts_with("EU patient leaflet"),
        "{}",
        citation("eu")
    );
    let human = rxlint_in(&dir, &["check", "--profile", "eu", "r.yaml"], None);
    let text = String::from_utf8_lossy(&human.stdout);
    assert!(text.contains("on a full stomach"), "{text}");
    let sarif = rxlint_in(
        &dir,
        &["check", "--format", "sarif", "--profile", "eu", "r.yaml"],
        None,
    );
    let text = String::from_utf8_lossy(&sarif.stdout);
    assert!(text.contains("on a full stomach"), "{text}");
}

#[test]
fn strict_turns_unevaluated_into_errors() {
    let dir = temp_dir("strict");
    std::fs::write(dir.join("r.yaml"), PASSING.replace("weight: 70 kg, ", ""))
        .unwrap_or_else(|e| panic!("{e}"));
    let lax = rxlint_in(&dir, &["check", "--format", "json", "r.yaml"], None);
    assert_eq!(lax.status.code(), Some(0));
    let r = &records(&lax)[0];
    assert_eq!(r["verdict"], "warn");
    assert!(r["findings"].as_array().is_some_and(|f| {
        f.iter()
            .all(|f| f["kind"] == "unevaluated" && f["severity"] == "warning")
    }));
    assert_eq!(r["findings"][0]["missing"][0], "patient.weight");
    let strict = rxlint_in(
        &dir,
        &["check", "--format", "json", "--strict", "r.yaml"],
        None,
    );
    assert_eq!(strict.status.code(), Some(1));
    assert_eq!(records(&strict)[0]["verdict"], "fail");
}

#[test]
fn output_file_and_quiet() {
    let dir = temp_dir("output");
    std::fs::write(dir.join("r.yaml"), PASSING).unwrap_or_else(|e| panic!("{e}"));
    let out = rxlint_in(
        &dir,
        &[
            "check",
            "--format",
            "json",
            "--output",
            "report.jsonl",
            "r.yaml",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 regimens: 1 pass"));
    let report = std::fs::read_to_string(dir.join("report.jsonl")).unwrap_or_default();
    assert_eq!(report.lines().count(), 1);
    let quiet = rxlint_in(&dir, &["check", "--quiet", "r.yaml"], None);
    let text = String::from_utf8_lossy(&quiet.stdout);
    assert!(!text.contains("regimens:"), "{text}");
    assert!(quiet.stderr.is_empty());
}

/// Standard output is the report alone, in every format; the counts per
/// rule and the summary are on standard error, and `--quiet` drops both.
#[test]
fn the_summary_and_rule_counts_go_to_standard_error() {
    for format in ["human", "json", "csv", "github", "sarif", "junit"] {
        let out = rxlint(&[
            "check",
            "--format",
            format,
            "examples/fail.yaml",
            "examples/pass.yaml",
        ]);
        let text = String::from_utf8_lossy(&out.stdout);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!text.contains("regimens:"), "{format}: {text}");
        assert!(
            !text.contains("violations  unevaluated"),
            "{format}: {text}"
        );
        assert_eq!(
            err.lines().last(),
            Some("2 regimens: 1 pass, 0 warn, 1 fail, 0 invalid"),
            "{format}: {err}"
        );
        assert!(
            err.contains("isotretinoin.max-daily-dose           1            0"),
            "{format}: {err}"
        );
        assert!(!text.contains('\u{1b}'), "colour without a terminal");
        let quiet = rxlint(&[
            "check",
            "--quiet",
            "--format",
            format,
            "examples/fail.yaml",
            "examples/pass.yaml",
        ]);
        assert!(quiet.stderr.is_empty(), "{format}");
    }
}

/// `--only` and `--rule` restrict what is written, never what is counted;
/// `--format csv` is one row per finding, and an unknown rule id is
/// refused with a suggestion.
#[test]
fn filters_and_csv_findings() {
    let csv = rxlint(&[
        "check",
        "--format",
        "csv",
        "--only",
        "fail,invalid",
        "examples",
    ]);
    let text = String::from_utf8_lossy(&csv.stdout);
    let mut reader = ::csv::Reader::from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map(|h| h.iter().map(str::to_owned).collect::<Vec<_>>());
    assert_eq!(
        header.unwrap_or_default(),
        [
            "id", "input", "drug", "verdict", "rule", "severity", "kind", "phase", "message",
            "values", "citation"
        ]
    );
    let rows: Vec<::csv::StringRecord> = reader.records().flatten().collect();
    assert!(!rows.is_empty());
    assert!(
        rows.iter()
            .all(|r| r.get(3) == Some("fail") || r.get(3) == Some("invalid"))
    );
    assert!(rows.iter().any(|r| r.get(0) == Some("RX-FAIL")
        && r.get(4) == Some("isotretinoin.max-daily-dose")
        && r.get(9) == Some("daily_dose_per_kg=2.29 mg/kg/day")));
    // The summary still counts every regimen.
    assert!(String::from_utf8_lossy(&csv.stderr).contains("15 regimens: 2 pass"));
    // --rule: only regimens with that finding.
    let json = rxlint(&[
        "check",
        "--format",
        "json",
        "--rule",
        "isotretinoin.max-daily-dose",
        "examples",
    ]);
    let ids: Vec<String> = records(&json)
        .iter()
        .filter_map(|r| r["id"].as_str().map(str::to_owned))
        .collect();
    assert!(ids.contains(&"RX-FAIL".to_owned()), "{ids:?}");
    assert!(!ids.contains(&"RX-PASS".to_owned()), "{ids:?}");
    let typo = rxlint(&["check", "--rule", "isotretinoin.max-dialy-dose", "examples"]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&typo.stderr)
            .contains("did you mean `isotretinoin.max-daily-dose`?")
    );
}

/// A spreadsheet never runs an id from the input as a formula.
#[test]
fn csv_cells_are_never_formulas() {
    let dir = temp_dir("formula");
    std::fs::write(
        dir.join("f.yaml"),
        "id: \"=HYPERLINK(\\\"http://x\\\")\"\ndrug: isotretinoin\npatient: {weight: 70 kg, sex: male}\ncourse: {phases: [{dose: 35 mg, frequency: 2/day, duration: 16 weeks, with_food: true}]}\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = rxlint_in(&dir, &["check", "--format", "csv", "f.yaml"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("'=HYPERLINK"), "{text}");
}

#[test]
fn rules_commands() {
    let lint = rxlint(&["rules", "lint"]);
    assert_eq!(lint.status.code(), Some(0));
    let bad = rxlint(&["rules", "lint", "tests/golden/rules/all-at-once"]);
    assert_eq!(bad.status.code(), Some(1));
    let list = rxlint(&["rules", "list", "--profile", "eu"]);
    let text = String::from_utf8_lossy(&list.stdout);
    assert!(text.contains("isotretinoin.course-duration"), "{text}");
    // 8 common + 3 EU isotretinoin rules, 7 metformin, 3 methotrexate.
    let rule_rows = text
        .lines()
        .filter(|l| {
            l.split('.')
                .next()
                .is_some_and(|d| ["isotretinoin", "metformin", "methotrexate"].contains(&d))
        })
        .count();
    assert_eq!(rule_rows, 21, "{text}");
    let explain = rxlint(&["rules", "explain", "isotretinoin.max-daily-dose"]);
    assert!(String::from_utf8_lossy(&explain.stdout).contains("up to 2 mg/kg/day"));
    let unknown = rxlint(&["rules", "explain", "isotretinoin.max-daily-dos"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&unknown.stderr)
            .contains("did you mean `isotretinoin.max-daily-dose`?")
    );
}

#[test]
fn explain_explains_every_code_and_hands_rule_ids_to_rules_explain() {
    let text = |o: &Output| String::from_utf8_lossy(&o.stdout).into_owned();
    let unit = rxlint(&["explain", "input.missing-unit"]);
    assert_eq!(unit.status.code(), Some(0));
    let shown = text(&unit);
    assert!(
        shown.starts_with("input.missing-unit: A quantity is written without its unit.\n"),
        "{shown}"
    );
    assert!(
        shown.contains("# Triggered by\n\n- `weight: 70`"),
        "{shown}"
    );
    assert!(shown.contains("# How to fix"), "{shown}");
    let checker = rxlint(&["explain", "rules.unit-mismatch"]);
    assert_eq!(checker.status.code(), Some(0));
    assert!(text(&checker).contains("`phase.daily_dose_per_kg > 8 weeks`"));
    let coverage = rxlint(&["explain", "coverage.not-covered"]);
    assert!(text(&coverage).contains("indication: psoriasis"));
    // A rule id gets what `rules explain` says about it.
    let rule = rxlint(&["explain", "isotretinoin.max-daily-dose"]);
    assert_eq!(rule.status.code(), Some(0));
    assert_eq!(
        text(&rule),
        text(&rxlint(&[
            "rules",
            "explain",
            "isotretinoin.max-daily-dose"
        ]))
    );
    // Every code of the registry is listed, and each explains.
    let list = rxlint(&["explain", "--list"]);
    assert_eq!(list.status.code(), Some(0));
    let listed: Vec<String> = text(&list)
        .lines()
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect();
    let registry: Vec<&str> = rxlint::codes::AnyCode::all()
        .map(rxlint::codes::AnyCode::as_str)
        .collect();
    assert_eq!(listed, registry);
    for code in &registry {
        let one = rxlint(&["explain", code]);
        assert_eq!(one.status.code(), Some(0), "{code}");
        assert!(text(&one).starts_with(&format!("{code}: ")), "{code}");
    }
    let typo = rxlint(&["explain", "input.missing-unti"]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&typo.stderr).contains("did you mean `input.missing-unit`?"),
        "{}",
        String::from_utf8_lossy(&typo.stderr)
    );
    assert_eq!(rxlint(&["explain"]).status.code(), Some(2));
}

#[test]
fn rules_test_runs_examples_and_bounds() {
    let shipped = rxlint(&["rules", "test"]);
    let text = String::from_utf8_lossy(&shipped.stdout);
    let last = text.lines().last().unwrap_or("");
    assert!(
        last.ends_with(" passed, 0 failed"),
        "{text}\n{}",
        String::from_utf8_lossy(&shipped.stderr)
    );
    let passed: usize = last
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(passed >= 70, "{last}");
    assert_eq!(shipped.status.code(), Some(0));
    let failing = rxlint(&["rules", "test", "tests/data/rules-test-failing"]);
    // 1 example passes; each of the 2 bounds is 3 probe checks.
    assert_eq!(
        String::from_utf8_lossy(&failing.stdout).lines().last(),
        Some("6 passed, 1 failed")
    );
    let stderr = String::from_utf8_lossy(&failing.stderr);
    assert!(
        stderr.contains("found but not expected: demodrug.max"),
        "{stderr}"
    );
    assert_eq!(failing.status.code(), Some(1));
}

#[test]
fn rules_doc_and_diff() {
    let out = temp_dir("doc");
    let doc = rxlint(&["rules", "doc", "--out", &out.display().to_string()]);
    assert_eq!(doc.status.code(), Some(0));
    let index = std::fs::read_to_string(out.join("index.md")).unwrap_or_default();
    assert!(
        index.contains("[`isotretinoin.max-daily-dose`](isotretinoin.max-daily-dose.us-eu.md)"),
        "{index}"
    );
    let page = std::fs::read_to_string(out.join("isotretinoin.max-daily-dose.us-eu.md"))
        .unwrap_or_default();
    assert!(
        page.contains("{course: {phases: [{dose: 80 mg}]}}") && page.contains("> Adult patients"),
        "{page}"
    );

    // Raising the maximum to 2.5 mg/kg/day lets two failing regimens pass.
    let new = temp_dir("diff-rules");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::create_dir_all(new.join("isotretinoin")).unwrap_or_else(|e| panic!("{e}"));
    for file in ["common.yaml", "us.yaml", "eu.yaml"] {
        let text =
            std::fs::read_to_string(root.join("rules/isotretinoin").join(file)).unwrap_or_default();
        let text = text.replace(
            "phase.daily_dose_per_kg > 2 mg/kg/day",
            "phase.daily_dose_per_kg > 2.5 mg/kg/day",
        );
        std::fs::write(new.join("isotretinoin").join(file), text).unwrap_or_else(|e| panic!("{e}"));
    }
    // The other drugs' packs, unchanged.
    let packs = std::fs::read_dir(root.join("rules")).unwrap_or_else(|e| panic!("{e}"));
    for dir in packs.flatten().map(|e| e.path()) {
        let name = dir.file_name().unwrap_or_default();
        if !dir.is_dir() || name == "isotretinoin" || name == "sources" {
            continue;
        }
        std::fs::create_dir_all(new.join(name)).unwrap_or_else(|e| panic!("{e}"));
        for file in std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{e}"))
            .flatten()
        {
            std::fs::copy(file.path(), new.join(name).join(file.file_name()))
                .unwrap_or_else(|e| panic!("{e}"));
        }
    }
    let diff = rxlint(&[
        "rules",
        "diff",
        "--old",
        "rules",
        "--new",
        &new.display().to_string(),
        "examples",
    ]);
    let text = String::from_utf8_lossy(&diff.stdout);
    assert!(
        text.contains("RX-FAIL (examples/fail.yaml:2): fail -> pass"),
        "{text}"
    );
    assert!(
        text.contains("  - isotretinoin.max-daily-dose (violation, phase 1)"),
        "{text}"
    );
    assert!(
        text.trim_end().ends_with("2 of 15 regimens changed"),
        "{text}"
    );
}

/// A run with no records (a header-only CSV, an empty JSON Lines file, a
/// folder with no regimen files) checked nothing, which is no success for
/// QA or CI: exit 2 with a message on standard error, unless
/// `--allow-empty` is given.
#[test]
fn a_run_with_no_records_exits_2_unless_allowed() {
    let dir = temp_dir("empty-runs");
    let header = "id,drug,weight_kg,age_years,sex,pregnant,childbearing_potential,pregnancy_test,contraception,egfr,renal_impairment,severity,scarring,truncal,start,previous_course_end,dose_mg,daily_dose_mg,frequency_per_day,duration_weeks,with_food";
    std::fs::write(dir.join("header-only.csv"), format!("{header}\n"))
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("empty.jsonl"), "").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("blank.jsonl"), "\n\n").unwrap_or_else(|e| panic!("{e}"));
    std::fs::create_dir_all(dir.join("nothing/deeper")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("nothing/notes.txt"), "not a regimen")
        .unwrap_or_else(|e| panic!("{e}"));
    let cases: [&[&str]; 5] = [
        &["header-only.csv"],
        &["empty.jsonl"],
        &["blank.jsonl", "empty.jsonl"],
        &["nothing"],
        &["--input-format", "jsonl", "-"],
    ];
    for inputs in cases {
        for format in ["json", "human", "sarif"] {
            let mut args = vec!["check", "--format", format];
            args.extend_from_slice(inputs);
            let out = rxlint_in(&dir, &args, Some(""));
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
            assert!(
                stderr.contains("error: nothing was checked") && stderr.contains("--allow-empty"),
                "{args:?}: {stderr}"
            );
            args.insert(1, "--allow-empty");
            let out = rxlint_in(&dir, &args, Some(""));
            assert_eq!(
                out.status.code(),
                Some(0),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    let out = rxlint_in(&dir, &["check", "nothing"], None);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(
            "no regimen files (*.yaml, *.yml, *.json, *.jsonl, *.ndjson, *.csv, *.parquet) under nothing"
        ),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // Records next to an empty input are a normal run.
    std::fs::write(dir.join("r.yaml"), PASSING).unwrap_or_else(|e| panic!("{e}"));
    let out = rxlint_in(&dir, &["check", "empty.jsonl", "nothing", "r.yaml"], None);
    assert_eq!(out.status.code(), Some(0));
}

/// `--output X X` (through any path or link, or a file found in a
/// directory, or standard input redirected from X) is refused with exit 2,
/// and X keeps every byte.
#[test]
fn the_output_is_never_one_of_the_inputs() {
    let dir = temp_dir("output-is-input");
    std::fs::create_dir_all(dir.join("in")).unwrap_or_else(|e| panic!("{e}"));
    let input = dir.join("in/r.yaml");
    std::fs::write(&input, PASSING).unwrap_or_else(|e| panic!("{e}"));
    std::fs::hard_link(&input, dir.join("hard.yaml")).unwrap_or_else(|e| panic!("{e}"));
    std::os::unix::fs::symlink("in/r.yaml", dir.join("link.yaml"))
        .unwrap_or_else(|e| panic!("{e}"));
    let cases: [(&str, &[&str]); 6] = [
        ("in/r.yaml", &["in/r.yaml"]),
        ("./in/../in/r.yaml", &["in/r.yaml"]),
        ("hard.yaml", &["in/r.yaml"]),
        ("link.yaml", &["in/r.yaml"]),
        ("in/r.yaml", &["link.yaml"]),
        ("in/r.yaml", &["in"]),
    ];
    for (output, inputs) in cases {
        let mut args = vec!["check", "--format", "json", "--output", output];
        args.extend_from_slice(inputs);
        let out = rxlint_in(&dir, &args, None);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(&format!("refusing to write the report to {output}")),
            "{args:?}: {stderr}"
        );
        assert_eq!(
            std::fs::read(&input).unwrap_or_default(),
            PASSING.as_bytes(),
            "{args:?} changed the input"
        );
    }
    // Standard input redirected from the output file.
    let stdin = std::fs::File::open(&input).unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_rxlint"))
        .current_dir(&dir)
        .args(["check", "--output", "in/r.yaml", "-"])
        .stdin(stdin)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        std::fs::read(&input).unwrap_or_default(),
        PASSING.as_bytes()
    );
}

/// A report file is replaced whole or not at all: a run that fails (exit
/// 2) leaves the previous report, no temporary file is left behind, and a
/// replaced report keeps its permissions.
#[test]
fn a_report_is_replaced_only_by_a_finished_run() {
    use std::os::unix::fs::PermissionsExt;
    let dir = temp_dir("atomic-report");
    std::fs::write(dir.join("r.yaml"), PASSING).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("empty.jsonl"), "").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("report.json"), "previous report\n").unwrap_or_else(|e| panic!("{e}"));
    std::fs::set_permissions(
        dir.join("report.json"),
        std::fs::Permissions::from_mode(0o640),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // The first two fail once the report has been opened: a CSV header on
    // standard input is checked when it is read, and an empty run is known
    // only at the end.
    let failing: [&[&str]; 4] = [
        &["--input-format", "csv", "-"],
        &["empty.jsonl"],
        &["--rules", "no/such/dir", "r.yaml"],
        &["r.yaml", "no-such.yaml"],
    ];
    for inputs in failing {
        let mut args = vec!["check", "--format", "json", "--output", "report.json"];
        args.extend_from_slice(inputs);
        let out = rxlint_in(&dir, &args, Some("id,drug,wieght_kg\nA,isotretinoin,70\n"));
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(
            std::fs::read_to_string(dir.join("report.json")).unwrap_or_default(),
            "previous report\n",
            "{args:?}"
        );
    }
    let out = rxlint_in(
        &dir,
        &[
            "check",
            "--format",
            "json",
            "--output",
            "report.json",
            "r.yaml",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    let report = std::fs::read_to_string(dir.join("report.json")).unwrap_or_default();
    assert!(report.starts_with("{\"id\":"), "{report}");
    let mode = std::fs::metadata(dir.join("report.json")).map_or(0, |m| m.permissions().mode());
    assert_eq!(mode & 0o777, 0o640);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
        .collect();
    names.sort();
    assert_eq!(names, ["empty.jsonl", "r.yaml", "report.json"]);
    // Written through a symbolic link, the link stays a link.
    std::os::unix::fs::symlink("report.json", dir.join("latest.json"))
        .unwrap_or_else(|e| panic!("{e}"));
    let out = rxlint_in(
        &dir,
        &[
            "check",
            "--format",
            "json",
            "--output",
            "latest.json",
            "r.yaml",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0));
    assert!(
        std::fs::symlink_metadata(dir.join("latest.json"))
            .is_ok_and(|m| m.file_type().is_symlink())
    );
}

/// Ctrl-C during a run with `--output`: exit 130, the previous report is
/// byte for byte what it was, and no temporary file is left. Standard
/// input is held open, so the run cannot finish before the signal comes,
/// however loaded the machine.
#[test]
fn ctrl_c_keeps_the_previous_report_and_exits_130() {
    let dir = temp_dir("ctrl-c");
    let previous = b"{\"previous\":\"report\"}\n".repeat(1000);
    for output in [true, false] {
        std::fs::write(dir.join("report.json"), &previous).unwrap_or_else(|e| panic!("{e}"));
        let mut args = vec![
            "check",
            "--format",
            "json",
            "--jobs",
            "1",
            "--input-format",
            "csv",
        ];
        if output {
            args.extend(["--output", "report.json"]);
        }
        args.push("-");
        let mut child = Command::new(env!("CARGO_BIN_EXE_rxlint"))
            .current_dir(&dir)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run rxlint: {e}"));
        let mut stdin = child.stdin.take().unwrap_or_else(|| panic!("no stdin"));
        let mut stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        // Standard output is drained all along, so that no write blocks.
        let printed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let drain = {
            let printed = printed.clone();
            std::thread::spawn(move || {
                let mut chunk = [0u8; 1 << 16];
                while std::io::Read::read(&mut stdout, &mut chunk).is_ok_and(|n| n > 0) {
                    printed.store(true, std::sync::atomic::Ordering::SeqCst);
                }
            })
        };
        let header = "id,drug,weight_kg,age_years,sex,pregnant,childbearing_potential,pregnancy_test,contraception,egfr,renal_impairment,severity,scarring,truncal,start,previous_course_end,dose_mg,daily_dose_mg,frequency_per_day,duration_weeks,with_food";
        let mut csv = format!("{header}\n");
        for i in 0..5000 {
            csv.push_str(&format!(
                "R{i},isotretinoin,70,24,male,,,,,,,,,,,,35,,2,20,true\n"
            ));
        }
        stdin
            .write_all(csv.as_bytes())
            .unwrap_or_else(|e| panic!("{e}"));
        // Wait until the report has started: the temporary file beside it
        // has data, or standard output has.
        let started = std::time::Instant::now();
        loop {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(120),
                "the report never started"
            );
            let begun = if output {
                std::fs::read_dir(&dir)
                    .unwrap_or_else(|e| panic!("{e}"))
                    .filter_map(Result::ok)
                    .any(|e| {
                        e.file_name().to_string_lossy().ends_with(".tmp")
                            && e.metadata().is_ok_and(|m| m.len() > 0)
                    })
            } else {
                printed.load(std::sync::atomic::Ordering::SeqCst)
            };
            if begun {
                break;
            }
            assert!(
                child.try_wait().ok().flatten().is_none(),
                "rxlint stopped before the signal"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        let kill = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap_or_else(|e| panic!("cannot run kill: {e}"));
        assert!(kill.success());
        let status = child.wait().unwrap_or_else(|e| panic!("{e}"));
        drop(stdin);
        let _ = drain.join();
        assert_eq!(status.code(), Some(130), "output: {output}");
        assert_eq!(
            std::fs::read(dir.join("report.json")).unwrap_or_default(),
            previous,
            "output: {output}: the previous report changed"
        );
        let names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{e}"))
            .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().into_owned()))
            .collect();
        assert_eq!(
            names,
            ["report.json"],
            "output: {output}: a file was left behind"
        );
    }
}

/// `rxlint rules list | head -1`: a reader that stops early is no reason to
/// panic (it did, on the closed pipe).
#[test]
fn a_closed_standard_output_is_not_a_panic() {
    for args in [
        &["rules", "list"][..],
        &["rules", "explain", "isotretinoin.max-daily-dose"][..],
        &["rules", "test"][..],
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rxlint"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        drop(child.stdout.take());
        let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {stderr}");
    }
}

/// A document without `id` is named by its file stem: the name without
/// its directory and its last extension, dots inside the name kept.
#[test]
fn the_default_id_is_the_file_stem() {
    let dir = temp_dir("stem");
    for name in ["rx.2026.v2.yaml", "plain.yaml", "two.ext.json"] {
        let text = if name.ends_with(".json") {
            r#"{"drug": "isotretinoin", "patient": {"weight": "70 kg", "age": 24, "sex": "male"}, "course": {"phases": [{"dose": "35 mg", "frequency": "2/day", "duration": "20 weeks", "with_food": true}]}}"#
        } else {
            PASSING
        };
        std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("{e}"));
    }
    let out = rxlint_in(&dir, &["check", "--format", "json", "--quiet", "."], None);
    let mut ids: Vec<String> = records(&out)
        .iter()
        .map(|r| r["id"].as_str().unwrap_or_default().to_owned())
        .collect();
    ids.sort();
    assert_eq!(ids, ["plain", "rx.2026.v2", "two.ext"]);
}

/// Standard input is sniffed when `--input-format` is absent: a piped CSV
/// is CSV (it was read as YAML and echoed back), JSON Lines and a FHIR
/// Bundle are themselves, and bytes that are none of them are refused
/// with the formats tried.
#[test]
fn standard_input_is_sniffed() {
    let csv = std::fs::read_to_string("tests/golden/packs/doxorubicin.csv").unwrap_or_default();
    let out = rxlint_in(
        Path::new("."),
        &["check", "--format", "json", "-"],
        Some(&csv),
    );
    let recs = records(&out);
    assert!(recs.len() > 1, "{}", String::from_utf8_lossy(&out.stderr));
    assert!(recs.iter().all(|r| r["drug"] == "doxorubicin"), "{recs:?}");
    let fhir = std::fs::read_to_string("tests/fhir/roaccutan-bundle.json").unwrap_or_default();
    let out = rxlint_in(
        Path::new("."),
        &["check", "--format", "json", "-"],
        Some(&fhir),
    );
    assert_eq!(records(&out)[0]["drug"], "isotretinoin");
    let lines =
        "{\"id\": \"a\", \"drug\": \"metformin\"}\n{\"id\": \"b\", \"drug\": \"metformin\"}\n";
    let out = rxlint_in(
        Path::new("."),
        &["check", "--format", "json", "-"],
        Some(lines),
    );
    assert_eq!(records(&out).len(), 2);
    let junk = "\u{0}\u{1}binary\u{0}";
    let out = rxlint_in(Path::new("."), &["check", "-"], Some(junk));
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("tried Parquet, a CSV header line, JSON Lines, JSON"),
        "{err}"
    );
    assert!(err.contains("--input-format"), "{err}");
}
