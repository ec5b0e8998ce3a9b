//! Regimens a pharmacist would flag, which rxlint used to pass, through the
//! real binary: daily methotrexate written per week, methotrexate outside
//! the indication its pack encodes, a severe renal category without an
//! eGFR, products that fix a formulation or a label, citations and messages
//! that say what the label says, and the coverage findings (`coverage.*`)
//! that keep a regimen the rules did not speak to from a bare `pass`.
//!
//! Every expectation is worked by hand from the label sentences in
//! `rules/sources/`, never copied from the binary's output.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

mod support;
use support::temp_dir;

/// Checks one regimen document under `args` (`--profile eu`, `--rules D`);
/// returns the exit code and the JSON record.
fn check(name: &str, yaml: &str, args: &[&str]) -> (i32, Value) {
    let dir = temp_dir(name);
    let file = dir.join(format!("{name}.yaml"));
    std::fs::write(&file, yaml).unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_rxlint"))
        .arg("check")
        .args(["--format", "json"])
        .args(args)
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run rxlint: {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let record: Value = serde_json::from_str(lines.next().unwrap_or_default())
        .unwrap_or_else(|e| panic!("{name}: not JSON ({e}): {text}"));
    assert!(
        lines.next().is_none(),
        "{name}: one record expected: {text}"
    );
    (out.status.code().unwrap_or(-1), record)
}

/// (rule, kind, severity, phase) of every finding.
fn findings(record: &Value) -> Vec<(String, String, String, Value)> {
    let mut out: Vec<_> = record["findings"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_owned(),
                f["kind"].as_str().unwrap_or_default().to_owned(),
                f["severity"].as_str().unwrap_or_default().to_owned(),
                f["phase"].clone(),
            )
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn finding<'a>(record: &'a Value, rule: &str) -> &'a Value {
    record["findings"]
        .as_array()
        .and_then(|all| all.iter().find(|f| f["rule"] == rule))
        .unwrap_or_else(|| panic!("no {rule} finding in {record}"))
}

fn f(
    rule: &str,
    kind: &str,
    severity: &str,
    phase: Option<u64>,
) -> (String, String, String, Value) {
    (
        rule.to_owned(),
        kind.to_owned(),
        severity.to_owned(),
        phase.map_or(Value::Null, Value::from),
    )
}

const MTX_DAILY: &str = "methotrexate.daily-schedule";
const MTX_WEEKLY: &str = "methotrexate.weekly-dose-high";
const NOT_COVERED: &str = "coverage.not-covered";

fn methotrexate(indication: &str, dose: &str, frequency: &str, initiation: bool) -> String {
    format!(
        "drug: methotrexate
{indication}
patient: {{weight: 70 kg, age: 50, sex: female}}
course:
  initiation: {initiation}
  phases: [{{dose: {dose}, frequency: {frequency}, duration: 12 weeks}}]
"
    )
}

/// 2.5 mg seven times a week is 2.5 mg every day: the fatal error. Seven,
/// six, five and four doses a week put doses on consecutive days (7 days / 4
/// = 1.75 days apart on average, below 2); three need not (the label's three
/// divided doses once weekly), nor two or one.
#[test]
fn weekly_patterns_that_are_daily_fail() {
    for (frequency, daily) in [
        ("7/week", true),
        ("6/week", true),
        ("5/week", true),
        ("4/week", true),
        ("3/week", false),
        ("twice weekly", false),
        ("once weekly", false),
        ("once daily", true),
        ("2/day", true),
        ("QD", true),
    ] {
        let yaml = methotrexate(
            "indication: rheumatoid_arthritis",
            "2.5 mg",
            frequency,
            false,
        );
        let (code, record) = check("weekly", &yaml, &[]);
        let flagged = findings(&record).contains(&f(MTX_DAILY, "violation", "error", Some(1)));
        assert_eq!(flagged, daily, "{frequency}: {record}");
        assert_eq!(code, if daily { 1 } else { 0 }, "{frequency}: {record}");
    }
}

/// The boxed warning is not limited to rheumatoid arthritis: daily
/// methotrexate fails for any indication, and for none recorded.
#[test]
fn daily_methotrexate_fails_whatever_the_indication() {
    for indication in ["indication: psoriasis", "indication: other", ""] {
        let yaml = methotrexate(indication, "2.5 mg", "once daily", false);
        let (code, record) = check("daily-any", &yaml, &[]);
        assert_eq!(record["verdict"], "fail", "{indication}: {record}");
        assert_eq!(code, 1);
        assert!(
            findings(&record).contains(&f(MTX_DAILY, "violation", "error", Some(1))),
            "{indication}: {record}"
        );
    }
}

/// Methotrexate 15 mg once weekly for psoriasis: the pack encodes the
/// rheumatoid arthritis limits only, so the regimen is outside its
/// coverage: a warning naming the indication, never a bare pass. Without an
/// indication, coverage is unevaluated (an error under --strict).
#[test]
fn methotrexate_outside_its_pack_is_not_passed() {
    let yaml = methotrexate("indication: psoriasis", "15 mg", "once weekly", false);
    let (code, record) = check("psoriasis", &yaml, &[]);
    assert_eq!(record["verdict"], "warn", "{record}");
    assert_eq!(code, 0);
    assert_eq!(
        findings(&record),
        vec![f(NOT_COVERED, "violation", "warning", None)]
    );
    let message = finding(&record, NOT_COVERED)["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("psoriasis"), "{message}");
    assert!(message.contains("rheumatoid_arthritis"), "{message}");

    let yaml = methotrexate("", "15 mg", "once weekly", false);
    let (_, record) = check("no-indication", &yaml, &[]);
    assert_eq!(record["verdict"], "warn", "{record}");
    assert_eq!(
        findings(&record),
        vec![f(NOT_COVERED, "unevaluated", "warning", None)]
    );
    let (code, record) = check("no-indication-strict", &yaml, &["--strict"]);
    assert_eq!((code, record["verdict"].as_str()), (1, Some("fail")));

    // Rheumatoid arthritis at exactly 20 mg once weekly is covered and passes.
    let yaml = methotrexate(
        "indication: rheumatoid_arthritis",
        "20 mg",
        "once weekly",
        false,
    );
    let (code, record) = check("ra-20", &yaml, &[]);
    assert_eq!(
        (code, record["verdict"].as_str()),
        (0, Some("pass")),
        "{record}"
    );
    // 22.5 mg once weekly is above it.
    let yaml = methotrexate(
        "indication: rheumatoid_arthritis",
        "22.5 mg",
        "once weekly",
        false,
    );
    let (_, record) = check("ra-22.5", &yaml, &[]);
    assert_eq!(
        findings(&record),
        vec![f(MTX_WEEKLY, "violation", "error", Some(1))]
    );
}

/// "the first phase gives 2.5 mg/day" for 17.5 mg once weekly was the
/// daily/weekly confusion the rule exists to prevent: a weekly regimen is
/// reported per week.
#[test]
fn the_starting_dose_is_reported_per_week() {
    let yaml = methotrexate(
        "indication: rheumatoid_arthritis",
        "17.5 mg",
        "once weekly",
        true,
    );
    let (_, record) = check("start", &yaml, &[]);
    let message = finding(&record, "methotrexate.starting-dose")["message"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(message.contains("17.5 mg/wk"), "{message}");
    assert!(!message.contains("mg/day"), "{message}");
    // Exactly 7.5 mg once weekly is the recommended start.
    let yaml = methotrexate(
        "indication: rheumatoid_arthritis",
        "7.5 mg",
        "once weekly",
        true,
    );
    let (code, record) = check("start-7.5", &yaml, &[]);
    assert_eq!(
        (code, record["verdict"].as_str()),
        (0, Some("pass")),
        "{record}"
    );
}

fn metformin(patient: &str, drug: &str, extra: &str, phase: &str) -> String {
    format!(
        "drug: {drug}
{extra}
patient: {{weight: 80 kg, age: 55, sex: male{patient}}}
course:
  initiation: false
  phases: [{{{phase}, duration: 12 weeks, with_food: true}}]
"
    )
}

/// "Severe renal impairment (eGFR below 30 mL/min/1.73 m2)" is the
/// contraindication: the category alone is enough.
#[test]
fn metformin_in_severe_renal_impairment_fails_without_an_egfr() {
    let yaml = metformin(
        ", renal_impairment: severe",
        "metformin",
        "",
        "dose: 500 mg, frequency: 2/day",
    );
    let (code, record) = check("severe", &yaml, &[]);
    assert_eq!(code, 1, "{record}");
    assert_eq!(
        findings(&record),
        vec![f(
            "metformin.egfr-contraindicated",
            "violation",
            "error",
            None
        )]
    );
    // eGFR exactly 30 is not below 30.
    let yaml = metformin(
        ", egfr: 30 mL/min/1.73m2",
        "metformin",
        "",
        "dose: 500 mg, frequency: 2/day",
    );
    let (_, record) = check("egfr-30", &yaml, &[]);
    assert_eq!(record["verdict"], "pass", "{record}");
    // 29.9 is.
    let yaml = metformin(
        ", egfr: 29.9 mL/min/1.73m2",
        "metformin",
        "",
        "dose: 500 mg, frequency: 2/day",
    );
    let (_, record) = check("egfr-29.9", &yaml, &[]);
    assert_eq!(record["verdict"], "fail", "{record}");
}

/// Glucophage XR is extended release: its 2000 mg/day maximum is checked,
/// in g as well as mg, and a regimen that says otherwise contradicts it.
#[test]
fn glucophage_xr_gets_the_extended_release_maximum() {
    let egfr = ", egfr: 75 mL/min/1.73m2";
    for (phase, over) in [
        ("dose: 500 mg, frequency: 5/day", true),   // 2500 mg/day
        ("dose: 1 g, frequency: 2/day", false),     // exactly 2000 mg/day
        ("dose: 1.0005 g, frequency: 2/day", true), // 2001 mg/day
        ("daily_dose: 2000 mg, frequency: once daily", false),
    ] {
        let yaml = metformin(egfr, "Glucophage XR", "", phase);
        let (_, record) = check("xr", &yaml, &[]);
        let fired = findings(&record).contains(&f(
            "metformin.max-daily-dose-extended-release",
            "violation",
            "error",
            Some(1),
        ));
        assert_eq!(fired, over, "{phase}: {record}");
        assert_eq!(record["drug"], "metformin");
    }
    // Named as the product of generic metformin.
    let yaml = metformin(
        egfr,
        "metformin",
        "product: Glucophage XR",
        "dose: 500 mg, frequency: 5/day",
    );
    let (_, record) = check("xr-product", &yaml, &[]);
    assert_eq!(record["verdict"], "fail", "{record}");
    // A regimen contradicting its product is invalid, at the field.
    let yaml = metformin(
        egfr,
        "Glucophage XR",
        "formulation: immediate_release",
        "dose: 500 mg, frequency: 2/day",
    );
    let (code, record) = check("xr-conflict", &yaml, &[]);
    assert_eq!((code, record["verdict"].as_str()), (1, Some("invalid")));
    assert_eq!(
        finding(&record, "input.conflicting-fields")["field"],
        "formulation",
        "{record}"
    );
}

fn isotretinoin(drug_lines: &str, with_food: bool) -> String {
    format!(
        "{drug_lines}
patient: {{weight: 70 kg, age: 24, sex: male}}
course:
  start: 2026-03-02
  phases: [{{dose: 35 mg, frequency: 2/day, duration: 20 weeks, with_food: {with_food}}}]
"
    )
}

/// ABSORICA is "given in two divided doses with or without meals": no
/// with-food warning, under either spelling.
#[test]
fn absorica_is_taken_with_or_without_meals() {
    for drug in ["drug: Absorica", "drug: isotretinoin\nproduct: Absorica"] {
        let (code, record) = check("absorica", &isotretinoin(drug, false), &[]);
        assert_eq!(
            (code, record["verdict"].as_str()),
            (0, Some("pass")),
            "{drug}: {record}"
        );
    }
    // Generic isotretinoin without food still gets the warning.
    let (_, record) = check("generic", &isotretinoin("drug: isotretinoin", false), &[]);
    assert_eq!(
        findings(&record),
        vec![f("isotretinoin.with-food", "violation", "warning", Some(1))]
    );
}

/// Absorica LD has a US label only: under `--profile eu` it is isotretinoin
/// (not an unknown drug), checked by the generic EU rules, with a warning
/// that its own label's limits were not.
#[test]
fn absorica_ld_under_the_eu_profile_says_what_was_not_checked() {
    for drug in [
        "drug: Absorica LD",
        "drug: isotretinoin\nproduct: Absorica LD",
    ] {
        let yaml = isotretinoin(drug, true);
        let (code, record) = check("ld-eu", &yaml, &["--profile", "eu"]);
        assert_eq!(record["drug"], "isotretinoin", "{drug}: {record}");
        assert_eq!(record["verdict"], "warn", "{drug}: {record}");
        assert_eq!(code, 0);
        assert_eq!(
            findings(&record),
            vec![f(NOT_COVERED, "violation", "warning", None)],
            "{drug}"
        );
        let message = finding(&record, NOT_COVERED)["message"].to_string();
        assert!(message.contains("Absorica LD"), "{message}");
        // Under the US profile it is its own pack, and 1 mg/kg/day is above
        // its 0.4-0.8 range.
        let (_, record) = check("ld-us", &yaml, &[]);
        assert!(
            findings(&record)
                .iter()
                .any(|(rule, ..)| rule == "isotretinoin.dose-above-range"),
            "{drug}: {record}"
        );
    }
}

/// Each rule cites the sentence it rests on, in the profile's own document.
#[test]
fn citations_are_the_sentences_the_rules_rest_on() {
    // US divided doses: the sentence that sets two divided doses.
    let once = "drug: isotretinoin
patient: {weight: 70 kg, age: 24, sex: female, pregnancy_test: not_done}
course:
  start: 2026-03-02
  phases: [{daily_dose: 28 mg, frequency: once daily, duration: 20 weeks, with_food: true}]
";
    let (_, us) = check("cite-us", once, &[]);
    let cite = |record: &Value, rule: &str| finding(record, rule)["citation"].to_string();
    assert!(
        cite(&us, "isotretinoin.divided-doses").contains("US prescribing information"),
        "{us}"
    );
    // The EU profile cites EU documents for pregnancy prevention and the
    // low dose (0.4 mg/kg/day here).
    let (_, eu) = check("cite-eu", once, &["--profile", "eu"]);
    for rule in [
        "isotretinoin.pregnancy-prevention",
        "isotretinoin.dose-below-range",
    ] {
        assert!(
            cite(&eu, rule).contains("EU"),
            "{rule}: {}",
            cite(&eu, rule)
        );
    }
    // Absorica LD's divided-doses rule cites its own label.
    let ld = once.replace("drug: isotretinoin", "drug: Absorica LD");
    let (_, ld) = check("cite-ld", &ld, &[]);
    assert!(
        cite(&ld, "isotretinoin.divided-doses").contains("ABSORICA LD"),
        "{ld}"
    );
}

/// Messages say "every 1 day" and "a dose every 24 hours", never "every 1
/// days" or "1 times a day".
#[test]
fn messages_read_as_english() {
    let yaml = "drug: isotretinoin
patient: {weight: 70 kg, age: 24, sex: male}
course:
  start: 2026-03-02
  phases: [{daily_dose: 70 mg, frequency: once daily, duration: 20 weeks, with_food: true}]
";
    for profile in ["us", "eu"] {
        let (_, record) = check("english", yaml, &["--profile", profile]);
        let text = record.to_string();
        assert!(
            !text.contains("1 days") && !text.contains("1 times"),
            "{text}"
        );
    }
    let (_, record) = check("english-us", yaml, &[]);
    let message = finding(&record, "isotretinoin.divided-doses")["message"].to_string();
    assert!(message.contains("every 24 hours"), "{message}");
}

/// A pack whose every rule is guarded: a regimen for which every guard is
/// false gets `coverage.no-rule-applied`, not a pass; a population that a
/// pack declares is covered exactly at its bound.
#[test]
fn a_regimen_no_rule_applied_to_is_not_passed() {
    let rules = temp_dir("guarded-rules");
    std::fs::write(
        rules.join("guarded.yaml"),
        r#"pack: guarded
drug: isotretinoin
covers:
  population: patient.age >= 18 years
sources:
  s: {title: A label}
rules:
  - id: isotretinoin.only-when-female
    title: Only for women
    severity: error
    when: patient.sex == female
    violation: phase.daily_dose > 100 mg/day
    scope: phase
    message: "too much"
    help: Lower it.
    citation: {source: s, section: "1", quote: "q"}
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let rules = rules.display().to_string();
    let male = isotretinoin("drug: isotretinoin", true);
    let (code, record) = check("guarded-male", &male, &["--rules", &rules]);
    assert_eq!(
        (code, record["verdict"].as_str()),
        (0, Some("warn")),
        "{record}"
    );
    assert_eq!(
        findings(&record),
        vec![f("coverage.no-rule-applied", "violation", "warning", None)]
    );
    // A woman of 18: the rule applied and held, and she is in the population.
    let woman = male
        .replace("sex: male", "sex: female")
        .replace("age: 24", "age: 18");
    let (_, record) = check("guarded-18", &woman, &["--rules", &rules]);
    assert_eq!(record["verdict"], "pass", "{record}");
    // At 17 she is outside the population the pack covers.
    let (_, record) = check(
        "guarded-17",
        &woman.replace("age: 18", "age: 17"),
        &["--rules", &rules],
    );
    assert_eq!(
        findings(&record),
        vec![f(NOT_COVERED, "violation", "warning", None)],
        "{record}"
    );
}

/// A `covers:` declaration is checked when the rules load: an unknown
/// indication is an error at its name, with a suggestion.
#[test]
fn coverage_declarations_are_checked_when_loading() {
    let rules = temp_dir("bad-covers");
    std::fs::write(
        rules.join("bad.yaml"),
        r#"pack: bad
drug: methotrexate
covers:
  indications: [rheumatoid_artritis]
sources:
  s: {title: A label}
rules:
  - id: methotrexate.x
    title: X
    severity: error
    violation: phase.weekly_dose > 20 mg/wk
    scope: phase
    message: "x"
    help: x
    citation: {source: s, section: "1", quote: "q"}
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_rxlint"))
        .args(["rules", "lint"])
        .arg(&rules)
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr.contains("rheumatoid_arthritis"), "{stderr}");
    assert!(stderr.contains("rheumatoid_artritis"), "{stderr}");
}

/// `rules lint` and `rules list` say what each pack covers.
#[test]
fn lint_and_list_show_coverage() {
    for args in [&["rules", "lint"][..], &["rules", "list"][..]] {
        let out = Command::new(env!("CARGO_BIN_EXE_rxlint"))
            .args(args)
            .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
            .output()
            .unwrap_or_else(|e| panic!("{e}"));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("methotrexate-ra")
                && stdout.contains("indications: rheumatoid_arthritis"),
            "{args:?}: {stdout}"
        );
        assert!(
            stdout.contains("every isotretinoin regimen"),
            "{args:?}: {stdout}"
        );
    }
}

/// A creatinine clearance in `mL/min` is not an eGFR in `mL/min/1.73m2`:
/// a clearance of 22 mL/min is a clearance, which the metformin eGFR rules
/// do not read (they stay unevaluated, never pass or fail on it), and the
/// body-surface normalisation is refused on a clearance. (A value written
/// under `egfr` in `mL/min` is an eGFR, as the regimen format says.)
#[test]
fn a_clearance_is_never_taken_for_an_egfr() {
    let phase = "dose: 500 mg, frequency: 2/day";
    let (_, record) = check(
        "crcl-ml-min",
        &metformin(", crcl: 22 mL/min", "metformin", "", phase),
        &[],
    );
    assert_eq!(record["verdict"], "warn", "{record}");
    assert_eq!(
        finding(&record, "metformin.egfr-contraindicated")["kind"],
        "unevaluated",
        "{record}"
    );
    let (_, record) = check(
        "crcl-normalised",
        &metformin(", crcl: 22 mL/min/1.73m2", "metformin", "", phase),
        &[],
    );
    assert_eq!(record["verdict"], "invalid", "{record}");
    assert_eq!(
        finding(&record, "input.wrong-unit")["field"],
        "patient.crcl",
        "{record}"
    );
    // Nor can a rule compare one with the other: they measure different
    // things, and the rules do not load.
    let rules = temp_dir("clearance-rules");
    for (i, condition) in [
        "patient.crcl < 30 mL/min/1.73m2",
        "patient.egfr < 30 mL/min",
        "patient.egfr < patient.crcl",
    ]
    .into_iter()
    .enumerate()
    {
        let pack = format!(
            "pack: demo{i}\ndrug: demodrug{i}\nsources:\n  label: {{title: Demo}}\nrules:\n  - id: demodrug{i}.renal\n    title: Renal\n    severity: error\n    violation: {condition}\n    message: renal\n    help: Reduce.\n    citation: {{source: label, section: \"1\", quote: q}}\n"
        );
        std::fs::write(rules.join(format!("demo{i}.yaml")), pack).unwrap_or_else(|e| panic!("{e}"));
    }
    let out = Command::new(env!("CARGO_BIN_EXE_rxlint"))
        .args(["rules", "lint"])
        .arg(&rules)
        .output()
        .unwrap_or_else(|e| panic!("cannot run rxlint: {e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert_eq!(
        format!("{stdout}{stderr}")
            .matches("rules.unit-mismatch")
            .count(),
        3,
        "{stdout}{stderr}"
    );
    // Under `egfr`, both spellings are the eGFR: 22 is below 30.
    for egfr in ["22 mL/min/1.73m2", "22 mL/min"] {
        let yaml = metformin(&format!(", egfr: {egfr}"), "metformin", "", phase);
        let (_, record) = check("egfr", &yaml, &[]);
        assert_eq!(
            finding(&record, "metformin.egfr-contraindicated")["kind"],
            "violation",
            "{egfr}: {record}"
        );
    }
}

/// A did-you-mean replaces the unknown part of a unit and keeps the rest,
/// and is offered only when the whole unit fits the field: `75 mg/m2` is a
/// dose per m2 of body surface, never "did you mean `75 mg`?".
#[test]
fn a_suggestion_never_drops_a_factor_of_the_unit() {
    let suggestion = |name: &str, phase: &str| {
        let (_, record) = check(name, &metformin("", "metformin", "", phase), &[]);
        assert_eq!(record["verdict"], "invalid", "{record}");
        let problem = finding(&record, "input.unknown-unit");
        (
            problem["message"].as_str().unwrap_or_default().to_owned(),
            problem["help"].as_str().unwrap_or_default().to_owned(),
        )
    };
    // A slip in the area is not corrected by dropping it.
    let (message, help) = suggestion("per-mz", "dose: 75 mg/mz, frequency: 1/day");
    assert!(!message.contains("did you mean"), "{message}");
    assert!(!help.contains("`75 mg`"), "{help}");
    // `75 mg/m2` is read as what it is, a dose per m2 of body surface: with
    // no BSA the mg rules are unevaluated, never passed.
    let yaml = metformin("", "metformin", "", "dose: 75 mg/m2, frequency: 1/day");
    let (_, record) = check("per-m2", &yaml, &[]);
    assert_eq!(record["verdict"], "warn", "{record}");
    assert_eq!(
        finding(&record, "metformin.max-daily-dose")["kind"],
        "unevaluated",
        "{record}"
    );
    let (message, help) = suggestion("case-slip", "daily_dose: 1000 Mg/day, frequency: 2/day");
    assert!(message.ends_with("did you mean `mg/day`?"), "{message}");
    assert_eq!(help, "did you mean `1000 mg/day`?");
}
