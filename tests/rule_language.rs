//! `min`, `max`, `if` and `previous(...)` through the real binary: a
//! titration too fast fails and the label's passes, a one-phase course has
//! no step, and `rules test` probes bounds through `min` (or says, at the
//! arm, why it could not).

use std::path::Path;

use serde_json::Value;

mod support;
use support::{rxlint, temp_dir};

/// The one JSON record of checking `regimen`, and the exit code.
fn check(name: &str, regimen: &str) -> (Value, Option<i32>) {
    let dir = temp_dir(name);
    std::fs::write(dir.join("rx.yaml"), regimen).unwrap_or_else(|e| panic!("{e}"));
    let out = rxlint(&dir, &["check", "--format", "json", "rx.yaml"]);
    let text = String::from_utf8_lossy(&out.stdout);
    let record = serde_json::from_str(text.trim())
        .unwrap_or_else(|e| panic!("not one JSON record ({e}): {text}"));
    (record, out.status.code())
}

fn rules_of(record: &Value) -> Vec<(String, Value)> {
    record["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or("").to_owned(),
                f["phase"].clone(),
            )
        })
        .collect()
}

const HEAD: &str = "drug: metformin
formulation: immediate_release
patient: {weight: 80 kg, age: 55, sex: male, egfr: 75 mL/min/1.73m2}
course:
  initiation: true
  phases:
";

#[test]
fn a_titration_too_fast_warns_at_its_phase() {
    let (record, code) = check(
        "fast",
        &format!(
            "{HEAD}    - {{dose: 500 mg, frequency: 2/day, duration: 1 week, with_food: true}}
    - {{dose: 1000 mg, frequency: 2/day, duration: 4 weeks, with_food: true}}
"
        ),
    );
    assert_eq!(record["verdict"], "warn", "{record}");
    assert_eq!(code, Some(0));
    assert_eq!(
        rules_of(&record),
        vec![("metformin.titration-step".to_owned(), Value::from(2))]
    );
    let message = record["findings"][0]["message"].as_str().unwrap_or("");
    assert_eq!(
        message,
        "phase 2 raises the daily dose by 1000 mg/day (from 1000 mg/day) after 1 week; \
         the label increases by 500 mg weekly or 850 mg every 2 weeks"
    );
}

#[test]
fn the_labelled_titration_passes() {
    let (record, code) = check(
        "label",
        &format!(
            "{HEAD}    - {{dose: 500 mg, frequency: 2/day, duration: 1 week, with_food: true}}
    - {{dose: 500 mg, frequency: 3/day, duration: 1 week, with_food: true}}
    - {{dose: 1000 mg, frequency: 2/day, duration: 2 weeks, with_food: true}}
    - {{dose: 850 mg, frequency: 3/day, duration: 12 weeks, with_food: true}}
"
        ),
    );
    assert_eq!(record["verdict"], "pass", "{record}");
    assert_eq!(code, Some(0));
    assert_eq!(rules_of(&record), vec![]);
}

/// The first phase has no step: a one-phase course above the starting dose
/// is the starting-dose rule's finding, and the titration rule is silent
/// (neither a violation nor unevaluated).
#[test]
fn the_first_phase_has_no_step() {
    let (record, _) = check(
        "first",
        &format!(
            "{HEAD}    - {{dose: 1000 mg, frequency: 2/day, duration: 4 weeks, with_food: true}}\n"
        ),
    );
    assert_eq!(
        rules_of(&record),
        vec![("metformin.starting-dose".to_owned(), Value::from(1))]
    );
}

/// Existing rules and verdicts stand: the shipped examples check as before.
#[test]
fn the_shipped_examples_keep_their_verdicts() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = rxlint(root, &["check", "--format", "json", "examples"]);
    let verdicts: Vec<(String, String)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .map(|r| {
            (
                r["input"].as_str().unwrap_or("").to_owned(),
                r["verdict"].as_str().unwrap_or("").to_owned(),
            )
        })
        // The top-level examples; templates and packs' examples have
        // their own tests.
        .filter(|(input, _)| {
            !input.starts_with("examples/several") && input.matches('/').count() == 1
        })
        .collect();
    let want = [
        ("examples/acetaminophen.yaml:4", "fail"),
        ("examples/doxorubicin.yaml:6", "fail"),
        ("examples/enoxaparin.yaml:5", "fail"),
        ("examples/fail.yaml:2", "fail"),
        ("examples/invalid.yaml:2", "invalid"),
        ("examples/methotrexate.yaml:5", "fail"),
        ("examples/methotrexate.yaml:16", "warn"),
        ("examples/pass.yaml:3", "pass"),
        ("examples/renal.json:1", "fail"),
        ("examples/warn.yaml:4", "warn"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(i, v)| ((*i).to_owned(), (*v).to_owned()))
        .collect();
    assert_eq!(verdicts, want);
}

const CAPPED: &str = r#"pack: demo
drug: demodrug
sources:
  label: {title: Demo label}
rules:
  - id: demodrug.capped
    title: Capped dose
    severity: error
    scope: phase
    violation: phase.dose > min(1000 mg, 15 mg/kg * patient.weight)
    message: "dose {phase.dose} is above {min(1000 mg, 15 mg/kg * patient.weight)}"
    help: Lower the dose.
    citation: {source: label, section: Dosage, quote: "15 mg/kg, at most 1000 mg"}
base:
  drug: demodrug
  patient: {weight: 80 kg, age: 40, sex: male}
  course:
    phases: [{dose: 900 mg, frequency: 1/day, duration: 4 weeks}]
tests:
  - name: 80 kg at 1000 mg
    regimen: {course: {phases: [{dose: 1000 mg}]}}
    expect: none
"#;

#[test]
fn rules_test_probes_each_arm_of_a_min() {
    let dir = temp_dir("min-probed");
    let pack = format!(
        "{CAPPED}  - name: 60 kg at 901 mg is above 900 mg
    regimen: {{patient: {{weight: 60 kg}}, course: {{phases: [{{dose: 901 mg}}]}}}}
    expect: [demodrug.capped]
"
    );
    std::fs::write(dir.join("pack.yaml"), pack).unwrap_or_else(|e| panic!("{e}"));
    let out = rxlint(&dir, &["rules", "test", "."]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(
            "probed demodrug.capped `phase.dose > 1000 mg`: 999.999 mg quiet, 1000 mg quiet, 1000.001 mg fires"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("probed demodrug.capped `phase.dose > 15 mg/kg * patient.weight`"),
        "{stdout}"
    );
    assert!(stdout.contains("bounds: 2 probed (6 checks)"), "{stdout}");
}

/// Without a patient light enough for 15 mg/kg to be the smaller, that arm
/// cannot decide the rule: a failure underlined at the arm.
#[test]
fn rules_test_says_which_arm_of_a_min_it_could_not_probe() {
    let dir = temp_dir("min-unprobed");
    std::fs::write(dir.join("pack.yaml"), CAPPED).unwrap_or_else(|e| panic!("{e}"));
    let out = rxlint(&dir, &["rules", "test", "."]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("rules.test-unprobed"), "{stderr}");
    assert!(
        stderr.contains("the bound `phase.dose > 15 mg/kg * patient.weight` was not probed"),
        "{stderr}"
    );
    // Underlined at the arm, in the rule file.
    let underlined = stderr
        .lines()
        .skip_while(|l| !l.contains("violation: phase.dose > min("))
        .nth(1)
        .unwrap_or("");
    let column = |line: &str, s: &str| line.find(s).map(|at| line[..at].chars().count());
    let source = stderr
        .lines()
        .find(|l| l.contains("violation: phase.dose > min("))
        .unwrap_or("");
    assert_eq!(
        column(underlined, "─"),
        column(source, "15 mg/kg"),
        "{stderr}"
    );
}
