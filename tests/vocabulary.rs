//! The vocabulary is data: a recorded fact declared in
//! `rules/vocabulary.yaml` (here `patient.bilirubin`, a lab value with a
//! unit, a CSV column and a LOINC code) is known to the rule checker, the
//! YAML, CSV and FHIR readers, the validator, `rules test`, `rules explain`
//! and the README's facts table, with no Rust code of its own. And a rules
//! directory may bring its own vocabulary.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod support;
use support::temp_dir;

fn rxlint(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_rxlint"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .env("NO_COLOR", "1")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A pack whose one rule reads `patient.bilirubin`, with an example at the
/// bound, which `rules test` probes.
const PACK: &str = r#"pack: demo-hepatic
drug: demodrug
sources:
  label: {title: Demo label}
rules:
  - id: demodrug.bilirubin
    title: Contraindicated above 5 mg/dL bilirubin
    severity: error
    violation: patient.bilirubin > 5 mg/dL
    message: "bilirubin {patient.bilirubin} is above 5 mg/dL"
    help: Do not give it.
    citation: {source: label, section: "4", quote: "q"}
base:
  drug: demodrug
  patient: {weight: 70 kg, bilirubin: 1 mg/dL}
  course:
    phases: [{dose: 10 mg, frequency: once daily, duration: 1 weeks}]
tests:
  - name: 1 mg/dL
    regimen: {}
    expect: none
  - name: 5.1 mg/dL
    regimen: {patient: {bilirubin: 5.1 mg/dL}}
    expect: [demodrug.bilirubin]
"#;

fn rules_dir() -> PathBuf {
    let dir = temp_dir("rules");
    std::fs::write(dir.join("demo.yaml"), PACK).unwrap_or_else(|e| panic!("{e}"));
    dir
}

fn verdicts(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            (
                v["id"].as_str().unwrap_or_default().to_owned(),
                v["verdict"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_declared_lab_value_is_read_from_yaml_csv_and_fhir() {
    let rules = rules_dir();
    let rules = rules.display().to_string();
    let dir = temp_dir("inputs");
    // YAML, in another unit of the same dimension: 0.06 g/dL is 60 mg/dL.
    std::fs::write(
        dir.join("a.yaml"),
        "id: yaml-high\ndrug: demodrug\npatient: {weight: 70 kg, bilirubin: 0.06 g/dL}\ncourse:\n  phases: [{dose: 10 mg, frequency: once daily, duration: 1 weeks}]\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // CSV, in the column the vocabulary declares: exactly 5 is not above 5.
    std::fs::write(
        dir.join("b.csv"),
        "id,drug,weight_kg,bilirubin_mg_dl,dose_mg,frequency_per_day,duration_weeks\ncsv-at,demodrug,70,5,10,1,1\ncsv-above,demodrug,70,5.001,10,1,1\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    // FHIR, from an Observation coded LOINC 1975-2.
    let bundle = serde_json::json!({
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"resource": {
                "resourceType": "MedicationRequest", "id": "fhir-high", "status": "active",
                "intent": "order", "subject": {"reference": "Patient/p"},
                "medicationCodeableConcept": {"text": "demodrug"},
                "authoredOn": "2026-03-02",
                "dosageInstruction": [{
                    "timing": {"repeat": {"frequency": 1, "period": 1, "periodUnit": "d",
                                          "boundsDuration": {"value": 7, "unit": "d", "system": "http://unitsofmeasure.org", "code": "d"}}},
                    "doseAndRate": [{"doseQuantity": {"value": 10, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}}]
                }]
            }},
            {"resource": {"resourceType": "Patient", "id": "p", "gender": "female"}},
            {"resource": {
                "resourceType": "Observation", "status": "final",
                "subject": {"reference": "Patient/p"},
                "code": {"coding": [{"system": "http://loinc.org", "code": "1975-2"}]},
                "effectiveDateTime": "2026-03-01",
                "valueQuantity": {"value": 7.2, "unit": "mg/dL", "system": "http://unitsofmeasure.org", "code": "mg/dL"}
            }},
            {"resource": {
                "resourceType": "Observation", "status": "final",
                "subject": {"reference": "Patient/p"},
                "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
                "effectiveDateTime": "2026-03-01",
                "valueQuantity": {"value": 70, "unit": "kg", "system": "http://unitsofmeasure.org", "code": "kg"}
            }}
        ]
    });
    std::fs::write(dir.join("c.json"), bundle.to_string()).unwrap_or_else(|e| panic!("{e}"));
    let (_, stdout, stderr) = rxlint(&[
        "check",
        "--rules",
        &rules,
        "--format",
        "json",
        "--input-format",
        "fhir",
        &dir.join("c.json").display().to_string(),
    ]);
    assert_eq!(
        verdicts(&stdout),
        vec![("fhir-high".to_owned(), "fail".to_owned())],
        "{stdout}{stderr}"
    );
    let (_, stdout, stderr) = rxlint(&[
        "check",
        "--rules",
        &rules,
        "--format",
        "json",
        &dir.join("a.yaml").display().to_string(),
        &dir.join("b.csv").display().to_string(),
    ]);
    assert_eq!(
        verdicts(&stdout),
        vec![
            ("yaml-high".to_owned(), "fail".to_owned()),
            ("csv-at".to_owned(), "pass".to_owned()),
            ("csv-above".to_owned(), "fail".to_owned()),
        ],
        "{stdout}{stderr}"
    );
    assert!(
        stdout.contains("bilirubin 60 mg/dL is above 5 mg/dL"),
        "{stdout}"
    );
}

#[test]
fn a_declared_lab_value_is_validated_probed_explained_and_documented() {
    let rules = rules_dir();
    let rules = rules.display().to_string();
    // The validator knows its dimension and limits.
    let dir = temp_dir("invalid");
    std::fs::write(
        dir.join("bad.yaml"),
        "drug: demodrug\npatient: {bilirubin: 3 kg}\ncourse:\n  phases: [{dose: 10 mg, frequency: once daily, duration: 1 weeks}]\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (code, stdout, _) = rxlint(&[
        "check",
        "--rules",
        &rules,
        "--format",
        "json",
        &dir.join("bad.yaml").display().to_string(),
    ]);
    assert_eq!(code, 1);
    assert!(stdout.contains("input.wrong-unit"), "{stdout}");
    // `rules test` probes its bound at, just inside and just outside.
    let (code, stdout, stderr) = rxlint(&["rules", "test", &rules]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("probed demodrug.bilirubin `patient.bilirubin > 5 mg/dL`"),
        "{stdout}"
    );
    // `rules explain` reads it; the README's facts table lists it.
    let (_, stdout, _) = rxlint(&["rules", "explain", "demodrug.bilirubin", "--rules", &rules]);
    assert!(stdout.contains("patient.bilirubin"), "{stdout}");
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .unwrap_or_default();
    assert!(
        readme
            .contains(
                "| `patient.bilirubin` | quantity (mg/mL) | mg/dL | `bilirubin_mg_dl` | Observation LOINC 1975-2, 14631-6 | serum total bilirubin (in mg/dL or umol/L; 1 mg/dL = 17.1 umol/L) |"
            ),
        "the README's facts table lacks patient.bilirubin"
    );
}

/// A rules directory may bring its own vocabulary: a fact it declares is
/// a fact of its packs; one it mis-declares is a located load error.
#[test]
fn a_rules_directory_brings_its_own_vocabulary() {
    let dir = temp_dir("own-vocabulary");
    let shipped = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/vocabulary.yaml"),
    )
    .unwrap_or_default();
    let own = shipped.replace(
        "# Indications: the values of regimen.indication",
        "  patient.hemoglobin:\n    type: quantity\n    unit: g/dL\n    doc: hemoglobin\n    csv: {column: hemoglobin_g_dl, unit: g/dL}\n    fhir: {loinc: [\"718-7\"]}\n\n# Indications: the values of regimen.indication",
    );
    std::fs::write(dir.join("vocabulary.yaml"), own).unwrap_or_else(|e| panic!("{e}"));
    let pack = PACK
        .replace("patient.bilirubin > 5 mg/dL", "patient.hemoglobin < 8 g/dL")
        .replace(
            "bilirubin {patient.bilirubin} is above 5 mg/dL",
            "hemoglobin {patient.hemoglobin}",
        )
        .replace("bilirubin: 1 mg/dL", "hemoglobin: 13 g/dL")
        .replace(
            "name: 5.1 mg/dL\n    regimen: {patient: {bilirubin: 5.1 mg/dL}}",
            "name: 7.9 g/dL\n    regimen: {patient: {hemoglobin: 7.9 g/dL}}",
        )
        .replace("name: 1 mg/dL", "name: 13 g/dL");
    std::fs::write(dir.join("demo.yaml"), pack).unwrap_or_else(|e| panic!("{e}"));
    let rules = dir.display().to_string();
    let (code, stdout, stderr) = rxlint(&["rules", "test", &rules]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(
        stdout.contains("probed demodrug.bilirubin `patient.hemoglobin < 8 g/dL`"),
        "{stdout}"
    );
    // Without its vocabulary, the same pack names an unknown fact.
    let alone = temp_dir("without-vocabulary");
    std::fs::copy(dir.join("demo.yaml"), alone.join("demo.yaml")).unwrap_or_else(|e| panic!("{e}"));
    let (code, _, stderr) = rxlint(&["rules", "lint", &alone.display().to_string()]);
    assert_ne!(code, 0);
    assert!(
        stderr.contains("rules.unknown-fact") && stderr.contains("patient.hemoglobin"),
        "{stderr}"
    );
    let broken = temp_dir("broken-vocabulary");
    std::fs::write(
        broken.join("vocabulary.yaml"),
        "facts:\n  patient.weight: {type: quantity, dimension: body mass, unit: kg, doc: weight}\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(broken.join("demo.yaml"), PACK).unwrap_or_else(|e| panic!("{e}"));
    let (code, _, stderr) = rxlint(&["rules", "lint", &broken.display().to_string()]);
    assert_ne!(code, 0);
    assert!(stderr.contains("rules.vocabulary-engine-fact"), "{stderr}");
}

/// A derived fact is declared in the vocabulary and computed by the engine:
/// `phase.dose_per_kg` (facts.rs and derive.rs are its only Rust), exact
/// in any unit, and unevaluated, naming the weight, when the weight is
/// missing.
#[test]
fn a_derived_fact_is_computed_and_names_its_inputs() {
    let dir = temp_dir("derived");
    let pack = PACK
        .replace(
            "patient.bilirubin > 5 mg/dL",
            "phase.dose_per_kg > 0.5 mg/kg",
        )
        .replace(
            "bilirubin {patient.bilirubin} is above 5 mg/dL",
            "dose {phase.dose_per_kg}",
        )
        .replace("    violation:", "    scope: phase\n    violation:")
        .replace(
            "  - name: 5.1 mg/dL\n    regimen: {patient: {bilirubin: 5.1 mg/dL}}",
            "  - name: 35.07 mg at 70 kg\n    regimen: {course: {phases: [{dose: 35.07 mg}]}}",
        );
    std::fs::write(dir.join("demo.yaml"), pack).unwrap_or_else(|e| panic!("{e}"));
    let rules = dir.display().to_string();
    let (code, stdout, stderr) = rxlint(&["rules", "test", &rules]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    let inputs = temp_dir("derived-inputs");
    // 0.035 g at 70 kg is exactly 0.5 mg/kg; 35.001 mg is above it; no
    // weight leaves it unevaluated, naming patient.weight.
    let body = |id: &str, patient: &str, dose: &str| {
        format!(
            "{{\"id\":\"{id}\",\"drug\":\"demodrug\",\"patient\":{patient},\"course\":{{\"phases\":[{{\"dose\":\"{dose}\",\"frequency\":\"once daily\",\"duration\":\"1 weeks\"}}]}}}}\n"
        )
    };
    let text = [
        body("at", "{\"weight\":\"70 kg\"}", "0.035 g"),
        body("above", "{\"weight\":\"70 kg\"}", "35.001 mg"),
        body("no-weight", "{}", "35 mg"),
    ]
    .concat();
    std::fs::write(inputs.join("r.jsonl"), text).unwrap_or_else(|e| panic!("{e}"));
    let (_, stdout, stderr) = rxlint(&[
        "check",
        "--rules",
        &rules,
        "--format",
        "json",
        &inputs.join("r.jsonl").display().to_string(),
    ]);
    assert_eq!(
        verdicts(&stdout),
        vec![
            ("at".to_owned(), "pass".to_owned()),
            ("above".to_owned(), "fail".to_owned()),
            ("no-weight".to_owned(), "warn".to_owned()),
        ],
        "{stdout}{stderr}"
    );
    assert!(
        stdout.contains("\"missing\":[\"patient.weight\"]"),
        "{stdout}"
    );
}

/// The recorded patient facts of the dose-range contract that are plain
/// declarations (creatinine clearance, hepatic impairment, prior
/// cardiotoxic therapy, age in days) are read from YAML and CSV by a pack
/// that names them, with the contract's bounds: a clearance below 30 mL/min,
/// `severe` hepatic impairment, and an age up to and including 28 days.
#[test]
fn the_contract_s_recorded_patient_facts_are_read_from_yaml_and_csv() {
    const PACK: &str = r#"pack: demo-contract
drug: demodrug
sources:
  label: {title: Demo label}
rules:
  - id: demodrug.renal
    title: Not below 30 mL/min creatinine clearance
    severity: error
    violation: patient.crcl < 30 mL/min
    message: "clearance {patient.crcl}"
    help: Reduce.
    citation: {source: label, section: "1", quote: "q"}
  - id: demodrug.hepatic
    title: Not in severe hepatic impairment
    severity: error
    violation: patient.hepatic_impairment == severe
    message: severe hepatic impairment
    help: Do not give it.
    citation: {source: label, section: "2", quote: "q"}
  - id: demodrug.cardiac
    title: Not after cardiotoxic therapy
    severity: error
    violation: patient.prior_cardiotoxic_therapy
    message: prior cardiotoxic therapy
    help: Reduce the cumulative limit.
    citation: {source: label, section: "3", quote: "q"}
  - id: demodrug.neonate
    title: Not up to 28 days of age
    severity: error
    violation: patient.age <= 28 days
    message: "age {patient.age}"
    help: Do not give it.
    citation: {source: label, section: "4", quote: "q"}
"#;
    let rules = temp_dir("contract-rules");
    std::fs::write(rules.join("demo.yaml"), PACK).unwrap_or_else(|e| panic!("{e}"));
    let rules = rules.display().to_string();
    let dir = temp_dir("contract-inputs");
    let phase = "course:\n  phases: [{dose: 10 mg, frequency: once daily, duration: 1 weeks}]\n";
    for (name, patient) in [
        (
            "clean",
            "{weight: 3 kg, age: 29 days, crcl: 30 mL/min, hepatic_impairment: moderate, prior_cardiotoxic_therapy: false}",
        ),
        (
            "all",
            "{weight: 3 kg, age: 4 weeks, crcl: 29.9 mL/min, hepatic_impairment: Severe, prior_cardiotoxic_therapy: true}",
        ),
    ] {
        std::fs::write(
            dir.join(format!("{name}.yaml")),
            format!("id: {name}\ndrug: demodrug\npatient: {patient}\n{phase}"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::write(
        dir.join("rows.csv"),
        "id,drug,weight_kg,age_days,crcl_ml_min,hepatic_impairment,prior_cardiotoxic_therapy,dose_mg,frequency_per_day,duration_weeks\n\
         csv-clean,demodrug,3,29,30,none,false,10,1,1\n\
         csv-all,demodrug,3,28,29,severe,true,10,1,1\n\
         csv-bad,demodrug,3,28,29,sever,true,10,1,1\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let dir = dir.display().to_string();
    let (_, stdout, stderr) = rxlint(&[
        "check", "--format", "json", "--quiet", "--rules", &rules, &dir,
    ]);
    let mut rules_by_id = std::collections::BTreeMap::new();
    for line in stdout.lines() {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        let mut fired: Vec<String> = v["findings"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter(|f| f["kind"] == "violation")
            .map(|f| f["rule"].as_str().unwrap_or_default().to_owned())
            .collect();
        fired.sort();
        rules_by_id.insert(v["id"].as_str().unwrap_or_default().to_owned(), fired);
    }
    let all = vec![
        "demodrug.cardiac".to_owned(),
        "demodrug.hepatic".to_owned(),
        "demodrug.neonate".to_owned(),
        "demodrug.renal".to_owned(),
    ];
    assert_eq!(
        rules_by_id["clean"],
        Vec::<String>::new(),
        "{stdout}{stderr}"
    );
    assert_eq!(rules_by_id["all"], all, "{stdout}");
    assert_eq!(rules_by_id["csv-clean"], Vec::<String>::new(), "{stdout}");
    assert_eq!(rules_by_id["csv-all"], all, "{stdout}");
    assert_eq!(
        rules_by_id["csv-bad"],
        vec!["input.invalid-value".to_owned()],
        "{stdout}"
    );
}

/// `rules facts` lists the vocabulary in force, and an unknown fact in a
/// rule points to it.
#[test]
fn rules_facts_lists_the_vocabulary_an_unknown_fact_points_to() {
    let (code, stdout, stderr) = rxlint(&["rules", "facts"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("| `patient.crcl` | quantity (mL/min) | mL/min | `crcl_ml_min` | Observation LOINC 2164-2 |"),
        "{stdout}"
    );
    let dir = temp_dir("unknown-fact");
    std::fs::write(
        dir.join("demo.yaml"),
        PACK.replace(
            "patient.bilirubin > 5 mg/dL",
            "xyzzy.quantum_flux_capacitance > 5 mg/dL",
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (code, _, stderr) = rxlint(&["rules", "lint", &dir.display().to_string()]);
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("`rxlint rules facts` lists every fact"),
        "{stderr}"
    );
}
