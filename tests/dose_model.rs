//! The regimen model of the dose-range contract, worked by hand: doses per
//! kg and per m2 with and without the weight or BSA, Mosteller, serum
//! creatinine and bilirubin in umol/L, Cockcroft-Gault, intervals and
//! single administrations, as-needed phases, prior and lifetime totals.

use std::str::FromStr;

use rust_decimal::Decimal;
use rxlint::facts::{Fact, Val};
use rxlint::regimen::Regimen;
use rxlint::regimen::document::{self, Syntax};
use rxlint::rules::RuleSet;
use rxlint::source::SourceFile;

fn read(text: &str) -> Regimen {
    let set = RuleSet::builtin().unwrap_or_else(|e| panic!("{e:?}"));
    let mut all = document::read(
        &SourceFile::new("t.yaml", text),
        Syntax::Yaml,
        &set.vocabulary,
    );
    assert_eq!(all.len(), 1);
    all.remove(0)
}

fn ok(text: &str) -> Regimen {
    let r = read(text);
    assert!(r.problems.is_empty(), "{text}\n{:#?}", r.problems);
    r
}

fn num(s: &str) -> Option<Val> {
    Some(Val::Num(
        Decimal::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}")),
    ))
}

fn codes(r: &Regimen) -> Vec<(&'static str, String)> {
    r.problems
        .iter()
        .map(|p| (p.code.as_str(), p.field.clone()))
        .collect()
}

#[test]
fn a_dose_per_m2_with_height_and_weight() {
    // Mosteller: sqrt(180 x 80 / 3600) = sqrt(4) = 2 m2, exactly. 75 mg/m2
    // every 21 days for 12 weeks: ceil(84 / 21) = 4 doses of 150 mg.
    let r = ok("drug: doxorubicin
patient: {height: 180 cm, weight: 80 kg}
course:
  prior_cumulative_dose: 250 mg/m2
  phases: [{dose: 75 mg/m2, frequency: every 21 days, duration: 12 weeks}]
");
    assert_eq!(r.get(0, Fact::BSA), num("2"));
    assert_eq!(r.get(1, Fact::DOSE_PER_M2), num("75"));
    assert_eq!(r.get(1, Fact::DOSE), num("150"));
    assert_eq!(r.get(1, Fact::DOSE_PER_KG), num("1.875"));
    assert_eq!(r.get(1, Fact::ADMINISTRATIONS), num("4"));
    assert_eq!(r.get(1, Fact::INTERVAL), num("21"));
    assert_eq!(r.get(0, Fact::CUMULATIVE_DOSE), num("600"));
    assert_eq!(r.get(0, Fact::CUMULATIVE_DOSE_PER_M2), num("300"));
    assert_eq!(r.get(0, Fact::PRIOR_CUMULATIVE_DOSE), num("500"));
    assert_eq!(r.get(0, Fact::LIFETIME_CUMULATIVE_DOSE_PER_M2), num("550"));
    assert_eq!(r.get(0, Fact::LIFETIME_CUMULATIVE_DOSE), num("1100"));
}

#[test]
fn a_dose_per_m2_without_the_bsa_is_only_per_m2() {
    let r = ok("drug: doxorubicin
patient: {weight: 80 kg}
course:
  phases: [{dose: 75 mg/m2, frequency: q21d, duration: 63 days}]
");
    assert_eq!(r.get(0, Fact::BSA), None);
    assert_eq!(r.get(1, Fact::DOSE_PER_M2), num("75"));
    assert_eq!(r.get(1, Fact::DOSE), None);
    assert_eq!(r.get(1, Fact::DOSE_PER_KG), None);
    assert_eq!(r.get(0, Fact::CUMULATIVE_DOSE_PER_M2), num("225"));
    assert_eq!(r.get(0, Fact::CUMULATIVE_DOSE), None);
    // No prior dose recorded: no lifetime total.
    assert_eq!(r.get(0, Fact::LIFETIME_CUMULATIVE_DOSE_PER_M2), None);
}

#[test]
fn a_template_per_kg_without_a_weight() {
    let r = ok("drug: isotretinoin
course:
  phases:
    - {daily_dose: 0.5 mg/kg/day, frequency: 2/day, duration: 4 weeks}
    - {daily_dose: 1 mg/kg/day, frequency: 2/day, duration: 16 weeks}
");
    assert_eq!(r.get(1, Fact::DAILY_DOSE_PER_KG), num("0.5"));
    assert_eq!(r.get(1, Fact::DOSE_PER_KG), num("0.25"));
    assert_eq!(r.get(2, Fact::DAILY_DOSE_PER_KG), num("1"));
    assert_eq!(r.get(1, Fact::DAILY_DOSE), None);
    assert_eq!(r.get(0, Fact::MAX_DAILY_DOSE), None);
    assert_eq!(r.get(0, Fact::MAX_DAILY_DOSE_PER_KG), num("1"));
    // 0.25 x 56 + 0.5 x 224 = 14 + 112 = 126 mg/kg.
    assert_eq!(r.get(0, Fact::CUMULATIVE_DOSE_PER_KG), num("126"));
    assert_eq!(r.get(0, Fact::CUMULATIVE_DOSE), None);
    // A written `mg/kg` daily dose is per day, as `40 mg` is.
    let r = ok("drug: isotretinoin
course: {phases: [{daily_dose: 0.5 mg/kg, frequency: 2/day, duration: 4 weeks}]}
");
    assert_eq!(r.get(1, Fact::DAILY_DOSE_PER_KG), num("0.5"));
}

#[test]
fn a_dose_per_kg_with_a_weight_in_pounds() {
    // 110 lb = 49.8951607 kg; 15 mg/kg is 748.4274105 mg, every 6 hours
    // 2993.709642 mg a day.
    let r = ok("drug: acetaminophen
patient: {weight: 110 lb, age: 30}
course: {phases: [{dose: 15 mg/kg, frequency: every 6 hours, duration: 2 days}]}
");
    assert_eq!(r.get(0, Fact::WEIGHT), num("49.8951607"));
    assert_eq!(r.get(1, Fact::DOSE), num("748.4274105"));
    assert_eq!(r.get(1, Fact::DAILY_DOSE), num("2993.709642"));
    assert_eq!(r.get(1, Fact::DAILY_DOSE_PER_KG), num("60"));
    assert_eq!(r.get(1, Fact::ADMINISTRATIONS), num("8"));
}

#[test]
fn every_five_hours_is_four_point_eight_doses_a_day() {
    // 500 mg every 5 hours: 500 x 24 / 5 = 2400 mg a day; 2 days hold
    // ceil(48 / 5) = 10 administrations, 5000 mg.
    let r = ok("drug: acetaminophen
course: {phases: [{dose: 0.5 g, frequency: every 5 hours, duration: 2 days}]}
");
    assert_eq!(r.get(1, Fact::DAILY_DOSE), num("2400"));
    assert_eq!(r.get(1, Fact::TIMES_PER_DAY), num("4.8"));
    assert_eq!(r.get(1, Fact::ADMINISTRATIONS), num("10"));
    assert_eq!(r.get(0, Fact::CUMULATIVE_DOSE), num("5000"));
    // Exactly 5 hours, in days.
    assert_eq!(
        r.get(1, Fact::INTERVAL),
        Some(Val::Num(Decimal::from(5) / Decimal::from(24)))
    );
}

#[test]
fn a_single_administration_has_no_interval() {
    let r = ok("drug: acetaminophen
course: {phases: [{dose: 1000000 mcg, frequency: once, duration: 1 day}]}
");
    assert_eq!(r.get(1, Fact::DOSE), num("1000"));
    assert_eq!(r.get(1, Fact::DAILY_DOSE), num("1000"));
    assert_eq!(r.get(1, Fact::ADMINISTRATIONS), num("1"));
    assert_eq!(r.get(1, Fact::INTERVAL), None);
    assert!(r.not_applicable(1).contains(Fact::INTERVAL));
}

#[test]
fn creatinine_and_bilirubin_in_umol_per_l() {
    // 88.4 umol/L is 1 mg/dL (held in mg/mL); 85.5 umol/L bilirubin 5 mg/dL.
    // Cockcroft-Gault: (140 - 40) x 72 / (72 x 1) = 100 mL/min (male),
    // 85 (female); held in mL/day.
    let text = |sex: &str| {
        format!(
            "drug: enoxaparin
patient: {{age: 40, weight: 72 kg, sex: {sex}, serum_creatinine: 88.4 umol/L, bilirubin: 85.5 µmol/L}}
course: {{phases: [{{dose: 1 mg/kg, frequency: every 12 hours, duration: 5 days}}]}}
"
        )
    };
    let r = ok(&text("male"));
    assert_eq!(r.get(0, Fact::SERUM_CREATININE), num("0.01"));
    assert_eq!(r.get(0, Fact::CRCL), num("144000"));
    let set = RuleSet::builtin().unwrap_or_else(|e| panic!("{e:?}"));
    let bilirubin = set
        .vocabulary
        .fact("patient.bilirubin")
        .unwrap_or_else(|| panic!("no bilirubin"));
    assert_eq!(r.get(0, bilirubin), num("0.05"));
    let r = ok(&text("female"));
    assert_eq!(r.get(0, Fact::CRCL), num("122400"));
    // Sex unknown: no clearance.
    let r = ok(&text("unknown"));
    assert_eq!(r.get(0, Fact::CRCL), None);
    // A clearance given is kept.
    let r = ok("drug: enoxaparin
patient: {age: 40, weight: 72 kg, sex: male, serum_creatinine: 1 mg/dL, crcl: 29 mL/min}
course: {phases: [{dose: 1 mg/kg, frequency: every 24 hours, duration: 5 days}]}
");
    assert_eq!(r.get(0, Fact::CRCL), num("41760"));
}

#[test]
fn as_needed_phases_read_their_maximum() {
    let r = ok("drug: acetaminophen
course:
  phases:
    - {dose: 650 mg, frequency: every 4 hours, as_needed: true, daily_dose: 3 g/day, duration: 2 days}
");
    assert_eq!(r.get(1, Fact::DOSE), num("650"));
    assert_eq!(r.get(1, Fact::DAILY_DOSE), num("3000"));
    assert_eq!(r.get(0, Fact::CUMULATIVE_DOSE), num("6000"));
    // Without a maximum, the daily dose is unknown, not 650 x 6.
    let r = ok("drug: acetaminophen
course: {phases: [{dose: 650 mg, frequency: every 4 hours, as_needed: true, duration: 2 days}]}
");
    assert_eq!(r.get(1, Fact::DAILY_DOSE), None);
    assert_eq!(r.get(0, Fact::CUMULATIVE_DOSE), None);
    assert_eq!(r.get(0, Fact::MAX_DAILY_DOSE), None);
    // A fixed schedule may not give both.
    let r = read(
        "drug: acetaminophen
course: {phases: [{dose: 650 mg, frequency: every 4 hours, daily_dose: 3 g/day, duration: 2 days}]}
",
    );
    assert_eq!(
        codes(&r),
        [(
            "input.conflicting-fields",
            "course.phases[1].daily_dose".to_owned()
        )]
    );
}

#[test]
fn units_that_fit_no_dose_are_refused_with_their_factor() {
    // A dose per day under `dose`, a flow, an area: none is a dose.
    for dose in ["15 mg/kg/day", "30 mL/min", "2 m2"] {
        let r = read(&format!(
            "drug: acetaminophen
course: {{phases: [{{dose: {dose}, frequency: once, duration: 1 day}}]}}
"
        ));
        assert_eq!(
            codes(&r),
            [("input.wrong-unit", "course.phases[1].dose".to_owned())],
            "{dose}"
        );
    }
    // A length is no weight, and a weight no height.
    let r = read(
        "drug: acetaminophen
patient: {weight: 170 cm, height: 70 kg}
course: {phases: [{dose: 1 g, frequency: once, duration: 1 day}]}
",
    );
    assert_eq!(
        codes(&r),
        [
            ("input.wrong-unit", "patient.weight".to_owned()),
            ("input.wrong-unit", "patient.height".to_owned())
        ]
    );
}

#[test]
fn indications_are_an_open_vocabulary() {
    let set = RuleSet::builtin().unwrap_or_else(|e| panic!("{e:?}"));
    let info = set.vocabulary.info(Fact::INDICATION);
    let with = |indication: &str| {
        read(&format!(
            "drug: enoxaparin
indication: {indication}
course: {{phases: [{{dose: 1 mg/kg, frequency: every 12 hours, duration: 5 days}}]}}
"
        ))
    };
    let value = |r: &Regimen| match r.get(0, Fact::INDICATION) {
        Some(Val::Enum(i)) => info.value_name(i).to_owned(),
        other => format!("{other:?}"),
    };
    for (written, read_as) in [
        ("dvt_treatment", "dvt_treatment"),
        ("vte_prophylaxis", "vte_prophylaxis"),
        // Any other lower_snake_case word is another condition.
        ("hip_replacement", "other"),
        ("Hip replacement", "other"),
        // A coded concept: by its SNOMED CT or ICD-10 code.
        (
            "{system: http://snomed.info/sct, code: \"128053003\"}",
            "dvt_treatment",
        ),
        (
            "{system: http://hl7.org/fhir/sid/icd-10, code: I80.2}",
            "dvt_treatment",
        ),
        (
            "{system: http://snomed.info/sct, code: \"69896004\"}",
            "rheumatoid_arthritis",
        ),
        (
            "{system: http://snomed.info/sct, code: \"1234567\"}",
            "other",
        ),
    ] {
        let r = with(written);
        assert!(r.problems.is_empty(), "{written}: {:#?}", r.problems);
        assert_eq!(value(&r), read_as, "{written}");
    }
    // Not a word: refused, with the list.
    let r = with("\"DVT!\"");
    assert_eq!(
        codes(&r),
        [("input.invalid-value", "regimen.indication".to_owned())]
    );
}

/// The shipped regimen templates (per kg, no patient) are checked, never
/// invalid: the acne template is not failed, 2.5 mg/kg/day fails on the
/// per-kg maximum.
#[test]
fn the_shipped_templates_are_checked_as_they_are() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/templates");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rxlint"))
        .args(["check", "--format", "json"])
        .arg(&dir)
        .output()
        .unwrap_or_else(|e| panic!("cannot run rxlint: {e}"));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let records: Vec<serde_json::Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(records.len() >= 2, "{stdout}");
    for r in &records {
        let fired: Vec<&str> = r["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["kind"] == "violation")
            .filter_map(|f| f["rule"].as_str())
            .collect();
        if r["id"] == "isotretinoin-too-high-template" {
            assert_eq!(r["verdict"], "fail", "{r}");
            assert!(fired.contains(&"isotretinoin.max-daily-dose"), "{r}");
        } else {
            assert!(r["verdict"] == "pass" || r["verdict"] == "warn", "{r}");
            assert!(fired.is_empty(), "{r}");
        }
    }
}

/// An indication no pack names is `other` to the rules, but a finding
/// shows the word the prescriber wrote beside it.
#[test]
fn a_finding_shows_the_indication_as_written() {
    let dir = std::env::temp_dir().join(format!("rxlint-indication-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    let file = dir.join("hip.yaml");
    std::fs::write(
        &file,
        "drug: methotrexate\nindication: hip_replacement\npatient: {weight: 70 kg}\ncourse: {phases: [{dose: 10 mg, frequency: once weekly, duration: 8 weeks}]}\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rxlint"))
        .args(["check", "--format", "json"])
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run rxlint: {e}"));
    let record: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)));
    let coverage = record["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["rule"] == "coverage.not-covered")
        .cloned()
        .unwrap_or_default();
    assert_eq!(
        coverage["values"]["indication"], "other (hip_replacement)",
        "{record}"
    );
    assert!(
        coverage["message"]
            .as_str()
            .is_some_and(|m| m.contains("(indication: other (hip_replacement))")),
        "{record}"
    );
}
