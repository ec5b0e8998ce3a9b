//! The FHIR R4 reader through the library: real HL7 and CHMED examples, a
//! small Bulk Data export, and tables of hand-built resources. Expected
//! values are worked by hand (arithmetic in the comments), never copied from
//! the reader's output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;

use rust_decimal::Decimal;
use rxlint::codes::InputCode;
use rxlint::eval::{Engine, Kind, Outcome, Verdict};
use rxlint::facts::{Fact, Val};
use rxlint::regimen::Regimen;
use rxlint::rules::RuleSet;
use rxlint::source::SourceFile;
use rxlint::vocabulary::Vocabulary;
use serde_json::{Value, json};

const UCUM: &str = "http://unitsofmeasure.org";
const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
const SNOMED: &str = "http://snomed.info/sct";
const LOINC: &str = "http://loinc.org";

const PREV: &str = "isotretinoin.pregnancy-prevention";
const PREG: &str = "isotretinoin.pregnancy";
const BELOW: &str = "isotretinoin.dose-below-range";
const FOOD: &str = "isotretinoin.with-food";
const DUR: &str = "isotretinoin.course-duration";
const DIV: &str = "isotretinoin.divided-doses";
const RENAL: &str = "isotretinoin.renal-low-start";
const ABOVE: &str = "isotretinoin.dose-above-range";
const MAX: &str = "isotretinoin.max-daily-dose";
const CUM: &str = "isotretinoin.cumulative-dose";

// -- helpers -----------------------------------------------------------------

/// (problem code, field)
type Problem<'a> = (&'a str, &'a str);
/// (file, request id, drug as read, problems)
type Hl7Case<'a> = (&'a str, &'a str, &'a str, Vec<Problem<'a>>);

fn hl7_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/fhir/hl7-r4-core")
}

fn file(path: &str) -> Arc<SourceFile> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    SourceFile::new(path, text)
}

fn hl7(name: &str) -> Value {
    let path = hl7_dir().join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// The shipped vocabulary, which the readers read FHIR against.
fn vocabulary() -> &'static Vocabulary {
    static SET: std::sync::OnceLock<RuleSet> = std::sync::OnceLock::new();
    &SET.get_or_init(rules).vocabulary
}

/// `patient.pregnant`, a fact the vocabulary declares (not an engine one).
fn pregnant() -> Fact {
    vocabulary()
        .fact("patient.pregnant")
        .unwrap_or_else(|| panic!("the vocabulary has no patient.pregnant"))
}

fn read_bundle(source: &Arc<SourceFile>) -> Vec<Regimen> {
    rxlint::regimen::fhir::read_bundle(source, vocabulary())
}

fn read_export(sources: &[Arc<SourceFile>]) -> Vec<Regimen> {
    rxlint::regimen::fhir::read_export(sources, vocabulary())
}

fn bundle_of(resources: &[Value]) -> Arc<SourceFile> {
    let entries: Vec<Value> = resources.iter().map(|r| json!({ "resource": r })).collect();
    let doc = json!({ "resourceType": "Bundle", "type": "collection", "entry": entries });
    SourceFile::new("test.json", serde_json::to_string_pretty(&doc).unwrap())
}

fn one(resources: &[Value]) -> Regimen {
    let mut all = read_bundle(&bundle_of(resources));
    assert_eq!(all.len(), 1, "{all:?}");
    all.remove(0)
}

fn dec(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}"))
}

fn num(s: &str) -> Option<Val> {
    Some(Val::Num(dec(s)))
}

fn date(s: &str) -> Option<Val> {
    Some(Val::Date(rxlint::date::Date::parse(s).unwrap()))
}

fn problems(r: &Regimen) -> Vec<(&'static str, String)> {
    let mut out: Vec<_> = r
        .problems
        .iter()
        .map(|p| (p.code.as_str(), p.field.clone()))
        .collect();
    out.sort();
    out
}

fn expect_problems(r: &Regimen, want: &[(&str, &str)]) {
    let mut want: Vec<(&str, String)> = want.iter().map(|(c, f)| (*c, (*f).to_owned())).collect();
    want.sort();
    let got: Vec<(&str, String)> = problems(r).into_iter().collect();
    assert_eq!(got, want, "{}: {:#?}", r.id, r.problems);
}

/// The text a problem of `r` with `field` underlines.
fn underlined(r: &Regimen, field: &str) -> String {
    let p = r
        .problems
        .iter()
        .find(|p| p.field == field)
        .unwrap_or_else(|| panic!("no problem on {field}: {:#?}", r.problems));
    let source = r.source.as_ref().unwrap();
    source.slice(p.span.unwrap()).to_owned()
}

/// (rule id, violation or unevaluated, phase) of each finding, sorted.
fn findings(o: &Outcome<'_>) -> Vec<(String, Kind, Option<usize>)> {
    let mut out: Vec<_> = o
        .findings
        .iter()
        .map(|f| (f.rule.id.clone(), f.kind, f.phase))
        .collect();
    out.sort_by(|a, b| (&a.0, a.2).cmp(&(&b.0, b.2)));
    out
}

fn v(rule: &str, phase: Option<usize>) -> (String, Kind, Option<usize>) {
    (rule.to_owned(), Kind::Violation, phase)
}

fn u(rule: &str, phase: Option<usize>) -> (String, Kind, Option<usize>) {
    (rule.to_owned(), Kind::Unevaluated, phase)
}

fn sorted(mut f: Vec<(String, Kind, Option<usize>)>) -> Vec<(String, Kind, Option<usize>)> {
    f.sort_by(|a, b| (&a.0, a.2).cmp(&(&b.0, b.2)));
    f
}

fn rules() -> RuleSet {
    RuleSet::builtin().unwrap_or_else(|e| panic!("{e:?}"))
}

fn mg(n: f64) -> Value {
    json!({ "value": n, "unit": "mg", "system": UCUM, "code": "mg" })
}

fn weeks(n: u32) -> Value {
    json!({ "value": n, "unit": "weeks", "system": UCUM, "code": "wk" })
}

/// 2/day for 20 weeks.
fn bid_20_weeks() -> Value {
    json!({ "frequency": 2, "period": 1, "periodUnit": "d", "boundsDuration": weeks(20) })
}

fn dosage(repeat: Value, dose: Value) -> Value {
    json!({ "timing": { "repeat": repeat }, "doseAndRate": [{ "doseQuantity": dose }] })
}

/// An isotretinoin request (RxNorm 6064) for Patient/p, authored 2026-03-02.
fn request(dosages: Value) -> Value {
    json!({
        "resourceType": "MedicationRequest",
        "id": "rx",
        "medicationCodeableConcept": {
            "coding": [{ "system": RXNORM, "code": "6064", "display": "isotretinoin" }]
        },
        "subject": { "reference": "Patient/p" },
        "authoredOn": "2026-03-02",
        "dosageInstruction": dosages
    })
}

/// Male, born 1990-01-01: 36 years old on 2026-03-02.
fn patient() -> Value {
    json!({ "resourceType": "Patient", "id": "p", "gender": "male", "birthDate": "1990-01-01" })
}

fn weight(id: &str, day: &str, value: Value) -> Value {
    json!({
        "resourceType": "Observation",
        "id": id,
        "status": "final",
        "code": { "coding": [{ "system": LOINC, "code": "29463-7", "display": "Body weight" }] },
        "subject": { "reference": "Patient/p" },
        "effectiveDateTime": day,
        "valueQuantity": value
    })
}

// -- the HL7 core examples ------------------------------------------------------

/// Every HL7 example read alone gives exactly one regimen; none of the
/// requests is isotretinoin or mappable as given, and each says which FHIR
/// element stopped it.
#[test]
fn every_hl7_example_gives_one_regimen() {
    let subject = ("input.fhir-missing-reference", "MedicationRequest.subject");
    let no_length = (
        "input.fhir-unmapped",
        "MedicationRequest.dosageInstruction[0].timing.repeat",
    );
    let tab =
        |i: usize| format!("MedicationRequest.dosageInstruction[{i}].doseAndRate[0].doseQuantity");
    let (tab0, tab1, tab2) = (tab(0), tab(1), tab(2));
    let period_max = (
        "input.fhir-unmapped",
        "MedicationRequest.dosageInstruction[0].timing.repeat.periodMax",
    );
    #[rustfmt::skip]
    let table: &[Hl7Case<'_>] = &[
        // q4-6h: a range; 1-2 TAB of a Medication without strength; no bounds.
        ("medicationrequest0301.json", "medrx0301", "Oral Form Oxycodone (product)", vec![
            period_max,
            ("input.fhir-unmapped", "MedicationRequest.dosageInstruction[0].doseAndRate[0].doseRange.high"),
            no_length, subject]),
        // The prednisone taper: three phases in TAB, boundsPeriod lengths fine.
        ("medicationrequest0303.json", "medrx0303", "Prednisone 5mg tablet (Product)", vec![
            ("input.fhir-unmapped", &tab0), ("input.fhir-unmapped", &tab1),
            ("input.fhir-unmapped", &tab2), subject]),
        ("medicationrequest0305.json", "medrx0305", "Alprazolam 0.25mg Oral Tablet", vec![
            period_max, ("input.fhir-unmapped", &tab0), subject]),
        // 500 mg daily, but "for 5 days" is only in the text.
        ("medicationrequest0313.json", "medrx0313", "Azithromycin 250mg capsule (product)", vec![
            no_length, subject]),
        // Every 15 min is 96 a day (its dose range in mg/kg is read).
        ("medicationrequest0315.json", "medrx0315", "Lorazepam (substance)", vec![
            no_length, subject,
            ("input.out-of-range", "course.phases[1].frequency")]),
        // 1.8 mg/kg every 3 weeks, 16 cycles: a 21-day interval, 336 days.
        ("medicationrequest0316.json", "medrx0316", "Adcetris", vec![subject]),
        ("medicationrequest0324.json", "medrx0324", "Paracetamol 240mg suppository (product)", vec![
            no_length, subject]),
        ("medicationrequest0331.json", "medrx0331", "Warfarin Sodium", vec![no_length, subject]),
    ];
    let set = rules();
    let us = Engine::new(&set, "us", false).unwrap();
    for (name, id, drug, want) in table {
        let path = hl7_dir().join(name).display().to_string();
        let all = read_bundle(&file(&path));
        assert_eq!(all.len(), 1, "{name}");
        let r = &all[0];
        assert_eq!(r.id, *id);
        assert_eq!(r.drug.as_ref().map(|d| d.value.as_str()), Some(*drug));
        expect_problems(r, want);
        assert!(
            r.problems
                .iter()
                .all(|p| p.code.as_str().starts_with("input."))
        );
        let outcome = us.evaluate(r.clone());
        assert_eq!(outcome.verdict, Verdict::Invalid, "{name}");
        assert!(outcome.findings.is_empty());
    }
    // The non-request examples are one invalid regimen each.
    for name in [
        "patient-example.json",
        "patient-example-f201-roel.json",
        "observation-example.json",
        "observation-example-f205-egfr.json",
        "observation-example-f204-creatinine.json",
    ] {
        let all = read_bundle(&file(&hl7_dir().join(name).display().to_string()));
        assert_eq!(all.len(), 1, "{name}");
        expect_problems(&all[0], &[("input.not-a-regimen", "")]);
    }
}

/// Builder problems name the FHIR element; reader problems underline it.
#[test]
fn problems_name_and_underline_the_fhir_element() {
    let path = hl7_dir()
        .join("medicationrequest0301.json")
        .display()
        .to_string();
    let r = &read_bundle(&file(&path))[0];
    assert_eq!(
        underlined(
            r,
            "MedicationRequest.dosageInstruction[0].timing.repeat.periodMax"
        ),
        "6"
    );
    assert!(underlined(r, "MedicationRequest.subject").contains("\"Patient/pat1\""));
    // A dose in mL/min (no dose at all) is named by its FHIR element.
    let flow = json!({ "value": 30, "unit": "mL/min", "system": UCUM, "code": "mL/min" });
    let r = &one(&[request(json!([dosage(bid_20_weeks(), flow)])), patient()]);
    let dose = r
        .problems
        .iter()
        .find(|p| p.field == "course.phases[1].dose")
        .unwrap();
    assert!(
        dose.message.ends_with(
            "(FHIR `MedicationRequest.dosageInstruction[0].doseAndRate[0].doseQuantity`)"
        ),
        "{}",
        dose.message
    );
    assert!(underlined(r, "course.phases[1].dose").contains("\"mL/min\""));
}

/// All thirteen examples as one Bulk Data file: the eight requests, in order.
#[test]
fn hl7_examples_as_one_ndjson_file() {
    let mut names: Vec<String> = std::fs::read_dir(hl7_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    let lines: Vec<String> = names
        .iter()
        .map(|n| serde_json::to_string(&hl7(n)).unwrap())
        .collect();
    let source = SourceFile::new("all.ndjson", lines.join("\n") + "\n");
    let all = read_export(&[source]);
    let ids: Vec<&str> = all.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "medrx0301",
            "medrx0303",
            "medrx0305",
            "medrx0313",
            "medrx0315",
            "medrx0316",
            "medrx0324",
            "medrx0331"
        ]
    );
    let inputs: Vec<&str> = all.iter().map(|r| r.input.as_str()).collect();
    let want: Vec<String> = (1..=8).map(|l| format!("all.ndjson:{l}")).collect();
    assert_eq!(inputs, want);
}

/// 185 [lb_av] is exactly 83.91458845 kg (185 x 0.45359237), taken only
/// when measured on or before the start.
#[test]
fn hl7_weight_in_pounds_converts_exactly() {
    let mut rx = hl7("medicationrequest0331.json");
    rx["subject"]["reference"] = json!("Patient/example");
    rx["authoredOn"] = json!("2016-04-01");
    rx["dosageInstruction"][0]["timing"]["repeat"]["boundsDuration"] = weeks(16);
    let resources = [
        rx.clone(),
        hl7("patient-example.json"),
        hl7("observation-example.json"),
    ];
    let source = bundle_of(&resources);
    let r = &read_bundle(&source)[0];
    assert!(r.problems.is_empty(), "{:#?}", r.problems);
    assert_eq!(r.get(0, Fact::WEIGHT), num("83.91458845"));
    let span = r.span_of(0, Fact::WEIGHT, vocabulary()).unwrap();
    assert!(
        source.slice(span).contains("\"[lb_av]\""),
        "{}",
        source.slice(span)
    );
    // Born 1974-12-25: 41 on 2016-04-01; years are 365.25 days.
    assert_eq!(r.get(0, Fact::AGE), num("14975.25"));
    assert_eq!(r.get(0, Fact::SEX), Some(Val::Enum(1)));
    assert_eq!(r.get(0, Fact::START), date("2016-04-01"));
    // 7 mg once daily for 16 weeks.
    assert_eq!(r.get(1, Fact::DAILY_DOSE), num("7"));
    assert_eq!(r.get(1, Fact::DURATION), num("112"));
    // The engine knows no warfarin rules.
    let set = rules();
    let us = Engine::new(&set, "us", false).unwrap();
    let outcome = us.evaluate(r.clone());
    assert_eq!(outcome.verdict, Verdict::Invalid);
    assert_eq!(outcome.problems[0].code, InputCode::UnknownDrug);

    // Authored before the weighing (2016-03-28): no weight, and 40 years old.
    rx["authoredOn"] = json!("2015-01-15");
    let r = one(&[
        rx,
        hl7("patient-example.json"),
        hl7("observation-example.json"),
    ]);
    assert!(r.problems.is_empty(), "{:#?}", r.problems);
    assert_eq!(r.get(0, Fact::WEIGHT), None);
    assert_eq!(r.get(0, Fact::AGE), num("14610"));
}

// -- the Swiss Roaccutan prescription -----------------------------------------

/// ROACCUTAN 10 mg, one capsule in the morning as needed, 2016-09-12 to
/// 2020-09-12, for a 72 kg woman born 1981-01-12. As needed with no
/// maximum a day, its dose rules are unevaluated, never passed.
#[test]
fn roaccutan_breaks_us_and_eu_limits() {
    let source = file("tests/fhir/roaccutan-bundle.json");
    let all = read_bundle(&source);
    assert_eq!(all.len(), 1);
    let r = &all[0];
    assert!(r.problems.is_empty(), "{:#?}", r.problems);
    assert_eq!(r.id, "pre-medicationrequest-s01-1-roaccutan");
    assert_eq!(r.input, "tests/fhir/roaccutan-bundle.json:8");
    // The product text "ROACCUTAN Kaps 10 mg 30 Stk" names no rule pack;
    // its single ingredient, SNOMED 387208003, is isotretinoin.
    let drug = r.drug.as_ref().unwrap();
    assert_eq!(drug.value, "isotretinoin");
    assert!(source.slice(drug.span).contains("\"387208003\""));
    assert_eq!(r.get(0, Fact::WEIGHT), num("72"));
    assert_eq!(r.get(0, Fact::AGE), num("12783.75")); // 35 x 365.25
    assert_eq!(r.get(0, Fact::SEX), Some(Val::Enum(0)));
    assert_eq!(r.get(0, Fact::START), date("2016-09-12"));
    // 1 {Piece} x 10 mg per capsule; when MORN is once a day.
    assert_eq!(r.get(1, Fact::DOSE), num("10"));
    assert!(
        source
            .slice(r.span_of(1, Fact::DOSE, vocabulary()).unwrap())
            .contains("{Piece}")
    );
    assert_eq!(r.get(1, Fact::TIMES_PER_DAY), num("1"));
    // As needed, with no maximum a day: the daily dose is unknown (it is
    // not read as a capsule every morning), and so is the total.
    assert_eq!(r.get(1, Fact::AS_NEEDED), Some(Val::Bool(true)));
    assert_eq!(r.get(1, Fact::DAILY_DOSE), None);
    // 2016-09-12..2020-09-12 inclusive: 4 x 365 + 1 (2020-02-29) + 1 = 1462 days.
    assert_eq!(r.get(1, Fact::DURATION), num("1462"));
    assert_eq!(r.get(0, Fact::CUMULATIVE_DOSE), None);
    // Nothing says with or without food.
    assert_eq!(r.get(1, Fact::WITH_FOOD), None);

    let set = rules();
    // US: 10/72 = 0.139 mg/kg/day < 0.5; 208.9 weeks; once a day; a woman
    // with no documented test or contraception; food unknown.
    let us = Engine::new(&set, "us", false).unwrap();
    let o = us.evaluate(r.clone());
    assert_eq!(o.verdict, Verdict::Warn);
    assert_eq!(
        findings(&o),
        sorted(vec![
            u(BELOW, Some(1)),
            u(ABOVE, Some(1)),
            u(MAX, Some(1)),
            u(CUM, None),
            v(DUR, None),
            v(DIV, Some(1)),
            v(PREV, None),
            u(FOOD, Some(1)),
        ])
    );
    // EU: the same, but once daily is allowed.
    let eu = Engine::new(&set, "eu", false).unwrap();
    let o = eu.evaluate(r.clone());
    assert_eq!(o.verdict, Verdict::Warn);
    assert_eq!(
        findings(&o),
        sorted(vec![
            u(BELOW, Some(1)),
            u(ABOVE, Some(1)),
            u(MAX, Some(1)),
            u(CUM, None),
            v(DUR, None),
            v(PREV, None),
            u(FOOD, Some(1)),
        ])
    );
}

/// The same Medication as a Bundle entry instead of a contained resource,
/// referenced by `Medication/<id>` and by `fullUrl`.
#[test]
fn roaccutan_with_a_referenced_medication() {
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string("tests/fhir/roaccutan-bundle.json").unwrap())
            .unwrap();
    let mut rx = doc["entry"][0]["resource"].clone();
    let med = rx["contained"][0].clone();
    rx.as_object_mut().unwrap().remove("contained");
    let rest: Vec<Value> = (1..3)
        .map(|i| doc["entry"][i]["resource"].clone())
        .collect();
    for reference in [
        "Medication/s01-roaccutan",
        "urn:uuid:0c3b5d2e-1111-4a4a-9e9e-222233334444",
    ] {
        rx["medicationReference"]["reference"] = json!(reference);
        let mut entries = vec![
            json!({ "resource": rx }),
            json!({ "fullUrl": "urn:uuid:0c3b5d2e-1111-4a4a-9e9e-222233334444", "resource": med }),
        ];
        entries.extend(rest.iter().map(|r| json!({ "resource": r })));
        let text =
            serde_json::to_string(&json!({ "resourceType": "Bundle", "entry": entries })).unwrap();
        let r = &read_bundle(&SourceFile::new("b.json", text))[0];
        assert!(r.problems.is_empty(), "{reference}: {:#?}", r.problems);
        assert_eq!(r.drug.as_ref().unwrap().value, "isotretinoin");
        assert_eq!(r.get(1, Fact::DOSE), num("10"));
    }
}

// -- eGFR ---------------------------------------------------------------------

/// HL7 f205 gives two MDRD values, ">60" and "60": neither is taken as the
/// eGFR. They rule out severe impairment, so nothing is set.
#[test]
fn egfr_bound_is_not_a_number() {
    let rx = |subject: &str| {
        let mut rx = request(json!([dosage(bid_20_weeks(), mg(20.0))]));
        rx["subject"]["reference"] = json!(subject);
        rx["authoredOn"] = json!("2013-05-01");
        rx
    };
    let f201 = hl7("patient-example-f201-roel.json");
    let f205 = hl7("observation-example-f205-egfr.json");
    let r = one(&[rx("Patient/f201"), f201.clone(), f205.clone()]);
    assert!(r.problems.is_empty(), "{:#?}", r.problems);
    assert_eq!(r.get(0, Fact::EGFR), None);
    assert_eq!(r.get(0, Fact::RENAL_IMPAIRMENT), None);
    // Born 1960-03-13: 53 on 2013-05-01.
    assert_eq!(r.get(0, Fact::AGE), num("19358.25"));
    let set = rules();
    let us = Engine::new(&set, "us", false).unwrap();
    assert!(!findings(&us.evaluate(r)).iter().any(|f| f.0 == RENAL));

    // Only the plain "60" left: that is a number, and mild impairment.
    let mut plain = f205.clone();
    plain["component"].as_array_mut().unwrap().remove(0);
    let r = one(&[rx("Patient/f201"), f201.clone(), plain]);
    assert_eq!(r.get(0, Fact::EGFR), num("86400")); // 60 mL/min = 86400 mL/day
    assert_eq!(r.get(0, Fact::RENAL_IMPAIRMENT), Some(Val::Enum(1)));

    // "<15" in both: severe whatever the value; 40 mg/day is no low start.
    let mut low = f205.clone();
    for c in low["component"].as_array_mut().unwrap() {
        c["valueQuantity"]["value"] = json!(15);
        c["valueQuantity"]["comparator"] = json!("<");
    }
    let r = one(&[rx("Patient/f201"), f201.clone(), low]);
    assert!(r.problems.is_empty(), "{:#?}", r.problems);
    assert_eq!(r.get(0, Fact::EGFR), None);
    assert_eq!(r.get(0, Fact::RENAL_IMPAIRMENT), Some(Val::Enum(3)));
    let o = us.evaluate(r);
    assert_eq!(o.verdict, Verdict::Fail);
    assert!(findings(&o).contains(&v(RENAL, None)));

    // "<45" and "60": maybe severe, maybe not; the renal rules cannot run.
    let mut unsure = f205;
    unsure["component"][0]["valueQuantity"]["value"] = json!(45);
    unsure["component"][0]["valueQuantity"]["comparator"] = json!("<");
    let r = one(&[rx("Patient/f201"), f201, unsure]);
    expect_problems(
        &r,
        &[(
            "input.fhir-ambiguous",
            "Observation.component[0].valueQuantity",
        )],
    );
    assert!(r.problems[0].message.contains("Observation/f205"));
}

// -- references and units ---------------------------------------------------------

#[test]
fn missing_references_make_the_regimen_invalid() {
    let base = request(json!([dosage(bid_20_weeks(), mg(20.0))]));
    let mut by_id = base.clone();
    by_id
        .as_object_mut()
        .unwrap()
        .remove("medicationCodeableConcept");
    by_id["medicationReference"] = json!({ "reference": "Medication/nowhere" });
    let r = one(&[by_id, patient()]);
    expect_problems(
        &r,
        &[(
            "input.fhir-missing-reference",
            "MedicationRequest.medicationReference",
        )],
    );
    assert!(
        r.problems[0]
            .message
            .contains("`Medication/nowhere` is not in this file")
    );

    let mut contained = base.clone();
    contained
        .as_object_mut()
        .unwrap()
        .remove("medicationCodeableConcept");
    contained["medicationReference"] = json!({ "reference": "#gone" });
    let r = one(&[contained, patient()]);
    expect_problems(
        &r,
        &[(
            "input.fhir-missing-reference",
            "MedicationRequest.medicationReference",
        )],
    );

    let mut not_a_drug = base.clone();
    not_a_drug
        .as_object_mut()
        .unwrap()
        .remove("medicationCodeableConcept");
    not_a_drug["medicationReference"] = json!({ "reference": "Patient/p" });
    let r = one(&[not_a_drug, patient()]);
    expect_problems(
        &r,
        &[(
            "input.fhir-unmapped",
            "MedicationRequest.medicationReference",
        )],
    );

    let mut nobody = base.clone();
    nobody["subject"]["reference"] = json!("Patient/nobody");
    let r = one(&[nobody, patient()]);
    expect_problems(
        &r,
        &[("input.fhir-missing-reference", "MedicationRequest.subject")],
    );
    assert!(underlined(&r, "MedicationRequest.subject").contains("Patient/nobody"));

    // Two patients with one id: never pick one.
    let lines = [base.clone(), patient(), patient()]
        .iter()
        .map(|v| serde_json::to_string(v).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let r = &read_export(&[SourceFile::new("dup.ndjson", lines)])[0];
    expect_problems(r, &[("input.fhir-ambiguous", "MedicationRequest.subject")]);

    // No medication and no dosage at all.
    let mut bare = base;
    bare.as_object_mut()
        .unwrap()
        .remove("medicationCodeableConcept");
    bare.as_object_mut().unwrap().remove("dosageInstruction");
    let r = one(&[bare, patient()]);
    expect_problems(
        &r,
        &[
            ("input.fhir-unmapped", "MedicationRequest.dosageInstruction"),
            ("input.fhir-unmapped", "MedicationRequest.medication[x]"),
        ],
    );
}

#[test]
fn unexpected_units() {
    let rx = request(json!([dosage(bid_20_weeks(), mg(30.0))]));
    let with = |value: Value| one(&[rx.clone(), patient(), weight("w", "2026-03-01", value)]);
    // 11 stone = 154 lb = 154 x 0.45359237 kg = 69.85322498 kg, exactly.
    let r = with(json!({ "value": 11, "unit": "st", "system": UCUM, "code": "[stone_av]" }));
    assert!(r.problems.is_empty(), "{:#?}", r.problems);
    assert_eq!(r.get(0, Fact::WEIGHT), num("69.85322498"));
    // A length is no weight.
    let r = with(json!({ "value": 170, "unit": "cm", "system": UCUM, "code": "cm" }));
    expect_problems(&r, &[("input.wrong-unit", "patient.weight")]);
    assert!(
        r.problems[0]
            .message
            .contains("`Observation.valueQuantity` of Observation/w")
    );
    assert!(underlined(&r, "patient.weight").contains("\"cm\""));
    // No unit at all.
    let r = with(json!({ "value": 70 }));
    expect_problems(&r, &[("input.missing-unit", "patient.weight")]);
    // A bound is no weight: left absent, the per-kg rules are unevaluated.
    let r = with(json!({ "value": 100, "comparator": ">", "system": UCUM, "code": "kg" }));
    assert!(r.problems.is_empty(), "{:#?}", r.problems);
    assert_eq!(r.get(0, Fact::WEIGHT), None);
    // A dose in capsules of a coded medication has no strength to use.
    let capsule = json!({ "value": 1, "unit": "capsule", "system": UCUM, "code": "{capsule}" });
    let r = one(&[request(json!([dosage(bid_20_weeks(), capsule)])), patient()]);
    expect_problems(
        &r,
        &[(
            "input.fhir-unmapped",
            "MedicationRequest.dosageInstruction[0].doseAndRate[0].doseQuantity",
        )],
    );
    // A dose in grams is a mass: 0.03 g is 30 mg.
    let r = one(&[
        request(json!([dosage(
            bid_20_weeks(),
            json!({ "value": 0.03, "system": UCUM, "code": "g" })
        )])),
        patient(),
    ]);
    assert_eq!(r.get(1, Fact::DOSE), num("30"));
}

// -- timing, dose and food tables -------------------------------------------------

#[test]
fn frequencies() {
    let wk = weeks(20);
    let with = |mut repeat: Value| {
        repeat["boundsDuration"] = wk.clone();
        repeat
    };
    let table: &[(Value, Result<&str, &str>)] = &[
        (
            json!({ "frequency": 1, "period": 1, "periodUnit": "d" }),
            Ok("1"),
        ),
        (
            json!({ "frequency": 2, "period": 1, "periodUnit": "d" }),
            Ok("2"),
        ),
        (
            json!({ "frequency": 3, "period": 1, "periodUnit": "d" }),
            Ok("3"),
        ),
        // No frequency: once per period (FHIR R4).
        (json!({ "period": 12, "periodUnit": "h" }), Ok("2")),
        (
            json!({ "frequency": 1, "period": 8, "periodUnit": "h" }),
            Ok("3"),
        ),
        (
            json!({ "frequency": 14, "period": 1, "periodUnit": "wk" }),
            Ok("2"),
        ),
        (json!({ "when": ["CM", "CV"] }), Ok("2")),
        (json!({ "when": ["MORN"] }), Ok("1")),
        (json!({ "timeOfDay": ["08:00:00", "20:00:00"] }), Ok("2")),
        // Every 2 days, every 5 hours (4.8 a day), every 3 weeks: an
        // interval, as `every N days` / `every N hours` is in a document.
        (
            json!({ "frequency": 1, "period": 2, "periodUnit": "d" }),
            Ok("0.5"),
        ),
        (
            json!({ "frequency": 1, "period": 5, "periodUnit": "h" }),
            Ok("4.8"),
        ),
        (
            json!({ "frequency": 1, "period": 3, "periodUnit": "wk" }),
            Ok("0.0476190476190476190476190476"),
        ),
        (
            json!({ "frequency": 1, "period": 1, "periodUnit": "mo" }),
            Err("timing.repeat.periodUnit"),
        ),
        (
            json!({ "frequency": 1, "frequencyMax": 2, "period": 1, "periodUnit": "d" }),
            Err("timing.repeat.frequencyMax"),
        ),
        (
            json!({ "dayOfWeek": ["mon", "thu"] }),
            Err("timing.repeat.dayOfWeek"),
        ),
        (
            json!({ "when": ["MORN", "ACM"] }),
            Err("timing.repeat.when"),
        ),
        (json!({ "when": ["C"] }), Err("timing.repeat.when")),
        (
            json!({ "frequency": "2", "period": 1, "periodUnit": "d" }),
            Err("timing.repeat"),
        ),
    ];
    for (repeat, want) in table {
        let r = one(&[
            request(json!([dosage(with(repeat.clone()), mg(20.0))])),
            patient(),
        ]);
        match want {
            Ok(n) => {
                assert!(r.problems.is_empty(), "{repeat}: {:#?}", r.problems);
                assert_eq!(r.get(1, Fact::TIMES_PER_DAY), num(n), "{repeat}");
            }
            Err(element) => expect_problems(
                &r,
                &[(
                    "input.fhir-unmapped",
                    &format!("MedicationRequest.dosageInstruction[0].{element}"),
                )],
            ),
        }
    }
    // timing.code BID when the repeat gives only the bounds.
    let mut d = dosage(json!({ "boundsDuration": weeks(20) }), mg(20.0));
    d["timing"]["code"] = json!({ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation", "code": "BID" }] });
    let r = one(&[request(json!([d])), patient()]);
    assert!(r.problems.is_empty(), "{:#?}", r.problems);
    assert_eq!(r.get(1, Fact::TIMES_PER_DAY), num("2"));
}

#[test]
fn durations() {
    let bid = |extra: Value| {
        let mut repeat = json!({ "frequency": 2, "period": 1, "periodUnit": "d" });
        for (k, v) in extra.as_object().unwrap() {
            repeat[k] = v.clone();
        }
        repeat
    };
    let table: &[(Value, Result<&str, Problem<'_>>)] = &[
        // 2 March to 19 July, both counted: 30 + 30 + 31 + 30 + 19 = 140 days.
        (
            json!({ "boundsPeriod": { "start": "2026-03-02", "end": "2026-07-19" } }),
            Ok("140"),
        ),
        (
            json!({ "boundsPeriod": { "start": "2026-03-02T08:00:00Z", "end": "2026-03-02T20:00:00Z" } }),
            Ok("1"),
        ),
        (json!({ "boundsDuration": weeks(20) }), Ok("140")),
        (
            json!({ "boundsDuration": { "value": 140, "system": UCUM, "code": "d" } }),
            Ok("140"),
        ),
        // 280 doses at 2 a day.
        (json!({ "count": 280 }), Ok("140")),
        (
            json!({ "count": 280, "boundsDuration": weeks(20) }),
            Ok("140"),
        ),
        (
            json!({ "count": 281 }),
            Err((
                "input.fhir-unmapped",
                "MedicationRequest.dosageInstruction[0].timing.repeat.count",
            )),
        ),
        (
            json!({ "count": 100, "boundsDuration": weeks(20) }),
            Err((
                "input.fhir-unmapped",
                "MedicationRequest.dosageInstruction[0].timing.repeat.boundsDuration",
            )),
        ),
        (
            json!({ "boundsPeriod": { "start": "2026-03-02" } }),
            Err((
                "input.fhir-unmapped",
                "MedicationRequest.dosageInstruction[0].timing.repeat.boundsPeriod",
            )),
        ),
        (
            json!({ "boundsPeriod": { "start": "2026-03-02", "end": "2026-03-01" } }),
            Err((
                "input.fhir-unmapped",
                "MedicationRequest.dosageInstruction[0].timing.repeat.boundsPeriod",
            )),
        ),
        (
            json!({ "boundsRange": { "low": weeks(15), "high": weeks(20) } }),
            Err((
                "input.fhir-unmapped",
                "MedicationRequest.dosageInstruction[0].timing.repeat.boundsRange",
            )),
        ),
        (
            json!({}),
            Err((
                "input.fhir-unmapped",
                "MedicationRequest.dosageInstruction[0].timing.repeat",
            )),
        ),
        // Months are refused by the builder, which names the FHIR element.
        (
            json!({ "boundsDuration": { "value": 5, "system": UCUM, "code": "mo" } }),
            Err(("input.wrong-unit", "course.phases[1].duration")),
        ),
    ];
    for (extra, want) in table {
        let r = one(&[
            request(json!([dosage(bid(extra.clone()), mg(20.0))])),
            patient(),
        ]);
        match want {
            Ok(days) => {
                assert!(r.problems.is_empty(), "{extra}: {:#?}", r.problems);
                assert_eq!(r.get(1, Fact::DURATION), num(days), "{extra}");
            }
            Err(problem) => expect_problems(&r, &[*problem]),
        }
    }
    // The months problem names where it came from.
    let r = one(&[
        request(json!([dosage(
            bid(json!({ "boundsDuration": { "value": 5, "system": UCUM, "code": "mo" } })),
            mg(20.0)
        )])),
        patient(),
    ]);
    assert!(
        r.problems[0]
            .message
            .contains("timing.repeat.boundsDuration"),
        "{}",
        r.problems[0].message
    );
    // The first phase's boundsPeriod start is the course start, before authoredOn.
    let r = one(&[
        request(json!([dosage(
            bid(json!({ "boundsPeriod": { "start": "2026-03-09", "end": "2026-07-26" } })),
            mg(20.0)
        )])),
        patient(),
    ]);
    assert_eq!(r.get(0, Fact::START), date("2026-03-09"));
}

#[test]
fn phases_follow_sequence() {
    let phase = |seq: Option<u32>, dose: f64, wk: u32| {
        let mut d = dosage(
            json!({ "frequency": 2, "period": 1, "periodUnit": "d", "boundsDuration": weeks(wk) }),
            mg(dose),
        );
        if let Some(s) = seq {
            d["sequence"] = json!(s);
        }
        d
    };
    let r = one(&[
        request(json!([phase(Some(2), 40.0, 16), phase(Some(1), 20.0, 4)])),
        patient(),
    ]);
    assert!(r.problems.is_empty(), "{:#?}", r.problems);
    assert_eq!(r.phase_count(), 2);
    assert_eq!(r.get(1, Fact::DOSE), num("20"));
    assert_eq!(r.get(2, Fact::DOSE), num("40"));
    // 40 x 28 + 80 x 112 = 10080 mg
    assert_eq!(r.get(0, Fact::CUMULATIVE_DOSE), num("10080"));
    let r = one(&[
        request(json!([phase(Some(1), 40.0, 16), phase(Some(1), 20.0, 4)])),
        patient(),
    ]);
    expect_problems(
        &r,
        &[(
            "input.fhir-unmapped",
            "MedicationRequest.dosageInstruction[1].sequence",
        )],
    );
    let r = one(&[
        request(json!([phase(None, 40.0, 16), phase(None, 20.0, 4)])),
        patient(),
    ]);
    expect_problems(
        &r,
        &[(
            "input.fhir-unmapped",
            "MedicationRequest.dosageInstruction[0].sequence",
        )],
    );
}

#[test]
fn dose_range_uses_its_high_bound() {
    let mut d = dosage(bid_20_weeks(), Value::Null);
    d["doseAndRate"] = json!([{ "doseRange": { "low": mg(20.0), "high": mg(40.0) } }]);
    let r = one(&[request(json!([d])), patient()]);
    assert!(r.problems.is_empty(), "{:#?}", r.problems);
    assert_eq!(r.get(1, Fact::DOSE), num("40"));
    let mut d = dosage(bid_20_weeks(), Value::Null);
    d["doseAndRate"] = json!([{ "rateQuantity": mg(40.0) }]);
    let r = one(&[request(json!([d])), patient()]);
    expect_problems(
        &r,
        &[(
            "input.fhir-unmapped",
            "MedicationRequest.dosageInstruction[0].doseAndRate",
        )],
    );
}

#[test]
fn with_food() {
    let snomed = |code: &str| json!([{ "coding": [{ "system": SNOMED, "code": code }] }]);
    let table: &[(&str, Value, Option<bool>)] = &[
        ("additionalInstruction", snomed("311504000"), Some(true)),
        ("additionalInstruction", snomed("311501008"), Some(false)),
        (
            "additionalInstruction",
            json!([{ "text": "Take with meals" }]),
            Some(true),
        ),
        (
            "patientInstruction",
            json!("Swallow on an empty stomach"),
            Some(false),
        ),
        ("text", json!("20 mg twice daily with food"), Some(true)),
        ("text", json!("do not take with food"), Some(false)),
        ("text", json!("20 mg twice daily"), None),
    ];
    for (key, value, want) in table {
        let mut d = dosage(bid_20_weeks(), mg(20.0));
        d[*key] = value.clone();
        let r = one(&[request(json!([d])), patient()]);
        assert!(r.problems.is_empty(), "{value}: {:#?}", r.problems);
        assert_eq!(r.get(1, Fact::WITH_FOOD), want.map(Val::Bool), "{value}");
    }
    // Coded "with or after food" against "empty stomach" in the text: absent.
    let mut d = dosage(bid_20_weeks(), mg(20.0));
    d["additionalInstruction"] = snomed("311504000");
    d["text"] = json!("on an empty stomach");
    let r = one(&[request(json!([d])), patient()]);
    assert_eq!(r.get(1, Fact::WITH_FOOD), None);
}

#[test]
fn pregnancy_status_is_read() {
    let status = |day: &str, code: &str| {
        json!({
            "resourceType": "Observation", "id": format!("preg-{day}"), "status": "final",
            "code": { "coding": [{ "system": LOINC, "code": "82810-3" }] },
            "subject": { "reference": "Patient/p" },
            "effectiveDateTime": day,
            "valueCodeableConcept": { "coding": [{ "system": SNOMED, "code": code }] }
        })
    };
    let mut woman = patient();
    woman["gender"] = json!("female");
    let rx = request(json!([dosage(bid_20_weeks(), mg(30.0))]));
    // The latest status on or before the start counts; a later one does not.
    let r = one(&[
        rx.clone(),
        woman.clone(),
        status("2026-01-10", "60001007"),
        status("2026-02-20", "77386006"),
        status("2026-03-05", "60001007"),
    ]);
    assert!(r.problems.is_empty(), "{:#?}", r.problems);
    assert_eq!(r.get(0, pregnant()), Some(Val::Bool(true)));
    let set = rules();
    let us = Engine::new(&set, "us", false).unwrap();
    let o = us.evaluate(r);
    assert_eq!(o.verdict, Verdict::Fail);
    assert!(findings(&o).contains(&v(PREG, None)));
    // Two statuses on one day that disagree are not resolved by guessing.
    let r = one(&[
        rx,
        woman,
        status("2026-02-20", "77386006"),
        status("2026-02-20", "60001007"),
    ]);
    assert_eq!(r.problems.len(), 1);
    assert_eq!(r.problems[0].code, InputCode::FhirAmbiguous);
}

// -- Bulk Data ndjson -----------------------------------------------------------------

#[test]
fn bulk_export_across_files() {
    let sources: Vec<_> = ["MedicationRequest", "Patient", "Observation", "Medication"]
        .iter()
        .map(|n| file(&format!("tests/fhir/bulk/{n}.ndjson")))
        .collect();
    let all = read_export(&sources);
    assert_eq!(all.len(), 2);
    let (rx1, rx2) = (&all[0], &all[1]);
    for r in [rx1, rx2] {
        assert!(r.problems.is_empty(), "{}: {:#?}", r.id, r.problems);
        assert_eq!(
            r.source.as_ref().unwrap().name(),
            "tests/fhir/bulk/MedicationRequest.ndjson"
        );
    }
    assert_eq!(rx1.id, "rx-1");
    assert_eq!(rx1.input, "tests/fhir/bulk/MedicationRequest.ndjson:1");
    assert_eq!(rx2.input, "tests/fhir/bulk/MedicationRequest.ndjson:2");

    // rx-1: p1, female, born 2000-05-20: 25 on 2026-03-02 (25 x 365.25).
    assert_eq!(rx1.get(0, Fact::AGE), num("9131.25"));
    // Latest weight on or before 2026-03-02 is 120 [lb_av] on 2026-02-20 (not
    // 60 kg in 2025, not 80 kg in April): 120 x 0.45359237 = 54.4310844 kg.
    assert_eq!(rx1.get(0, Fact::WEIGHT), num("54.4310844"));
    // Read from Observation.ndjson, so located at the request's subject.
    let span = rx1.span_of(0, Fact::WEIGHT, vocabulary()).unwrap();
    assert_eq!(sources[0].slice(span), r#"{"reference":"Patient/p1"}"#);
    assert_eq!(rx1.get(0, pregnant()), Some(Val::Bool(false)));
    assert_eq!(rx1.get(1, Fact::DAILY_DOSE), num("50"));
    assert_eq!(rx1.get(1, Fact::DURATION), num("140"));
    assert_eq!(rx1.get(1, Fact::WITH_FOOD), Some(Val::Bool(true)));

    // rx-2: phases ordered by sequence; capsules of 20 mg (Medication.ndjson).
    assert_eq!(rx2.drug.as_ref().unwrap().value, "isotretinoin");
    assert_eq!(rx2.phase_count(), 2);
    assert_eq!(rx2.get(1, Fact::DOSE), num("20"));
    assert_eq!(rx2.get(1, Fact::DURATION), num("28"));
    assert_eq!(rx2.get(2, Fact::DOSE), num("40"));
    assert_eq!(rx2.get(2, Fact::TIMES_PER_DAY), num("2")); // every 12 h
    assert_eq!(rx2.get(2, Fact::DURATION), num("112"));
    // 80 kg (the 40 kg entered-in-error is ignored); 95 mL/min/1.73m2.
    assert_eq!(rx2.get(0, Fact::WEIGHT), num("80"));
    assert_eq!(rx2.get(0, Fact::EGFR), num("136800"));
    assert_eq!(rx2.get(0, Fact::RENAL_IMPAIRMENT), Some(Val::Enum(0)));
    // 0.5 and 1 mg/kg/day; 40 x 28 + 80 x 112 = 10080 mg = 126 mg/kg.
    assert_eq!(rx2.get(1, Fact::DAILY_DOSE_PER_KG), num("0.5"));
    assert_eq!(rx2.get(2, Fact::DAILY_DOSE_PER_KG), num("1"));
    assert_eq!(rx2.get(0, Fact::CUMULATIVE_DOSE_PER_KG), num("126"));

    let set = rules();
    for profile in ["us", "eu"] {
        let engine = Engine::new(&set, profile, false).unwrap();
        let o = engine.evaluate(rx1.clone());
        assert_eq!(o.verdict, Verdict::Warn, "{profile}");
        assert_eq!(findings(&o), vec![v(PREV, None)], "{profile}");
        let o = engine.evaluate(rx2.clone());
        assert_eq!(o.verdict, Verdict::Pass, "{profile}: {:?}", findings(&o));
        assert!(findings(&o).is_empty());
    }
}

/// The Bulk Data export's resources, one pretty-printed `.json` file each,
/// named by type and id (as a folder of single resources is exported).
fn single_resource_files() -> Vec<Arc<SourceFile>> {
    let mut files = Vec::new();
    for n in ["MedicationRequest", "Patient", "Observation", "Medication"] {
        let text = std::fs::read_to_string(format!("tests/fhir/bulk/{n}.ndjson")).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let resource: Value = serde_json::from_str(line).unwrap();
            let name = format!("{n}-{}.json", resource["id"].as_str().unwrap());
            files.push(SourceFile::new(
                name,
                serde_json::to_string_pretty(&resource).unwrap(),
            ));
        }
    }
    files
}

#[test]
fn single_resource_files_read_as_one_export() {
    let sources = single_resource_files();
    let bulk: Vec<_> = ["MedicationRequest", "Patient", "Observation", "Medication"]
        .iter()
        .map(|n| file(&format!("tests/fhir/bulk/{n}.ndjson")))
        .collect();
    let (files, lines) = (read_export(&sources), read_export(&bulk));
    assert_eq!(
        files.len(),
        2,
        "one regimen per MedicationRequest, none per Patient"
    );
    for (a, b) in files.iter().zip(&lines) {
        assert!(a.problems.is_empty(), "{}: {:#?}", a.id, a.problems);
        assert_eq!(a.id, b.id);
        // The same facts, worked by hand in bulk_export_across_files.
        assert_eq!(a.rows, b.rows, "{}", a.id);
    }
    assert_eq!(files[0].input, "MedicationRequest-rx-1.json:1");
    assert_eq!(files[1].input, "MedicationRequest-rx-2.json:1");
    assert_eq!(files[1].get(0, Fact::WEIGHT), num("80"));
    // A weight read from another file is located at the request's subject,
    // on its own line of the pretty-printed request.
    let span = files[0].span_of(0, Fact::WEIGHT, vocabulary()).unwrap();
    assert_eq!(
        sources[0].slice(span),
        "{\n    \"reference\": \"Patient/p1\"\n  }"
    );
}

#[test]
fn a_single_resource_file_that_is_not_a_resource() {
    let mut sources = single_resource_files();
    sources.push(SourceFile::new(
        "broken.json",
        "{\"resourceType\": \"Patient\",".to_owned(),
    ));
    sources.push(SourceFile::new("list.json", "[1, 2]".to_owned()));
    let all = read_export(&sources);
    assert_eq!(all.len(), 4);
    let bad: Vec<(&str, Vec<(&'static str, String)>)> = all
        .iter()
        .filter(|r| !r.problems.is_empty())
        .map(|r| (r.input.as_str(), problems(r)))
        .collect();
    assert_eq!(
        bad,
        vec![
            ("broken.json:1", vec![("input.syntax", String::new())]),
            ("list.json:1", vec![("input.not-a-regimen", String::new())]),
        ]
    );
}

#[test]
fn ndjson_lines_that_are_not_resources() {
    let rx = |id: &str| {
        let mut r = request(json!([dosage(bid_20_weeks(), mg(20.0))]));
        r["id"] = json!(id);
        serde_json::to_string(&r).unwrap()
    };
    let text = format!(
        "{}\n{{\"resourceType\": \"MedicationRequest\", \"id\": \n\n[1, 2]\n{}\n{}\r\n",
        rx("a"),
        serde_json::to_string(&patient()).unwrap(),
        rx("b")
    );
    let all = read_export(&[SourceFile::new("x.ndjson", text)]);
    let got: Vec<(&str, &str, Vec<&str>)> = all
        .iter()
        .map(|r| {
            (
                r.id.as_str(),
                r.input.as_str(),
                r.problems.iter().map(|p| p.code.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("a", "x.ndjson:1", vec![]),
            ("x.ndjson:2", "x.ndjson:2", vec!["input.syntax"]),
            ("x.ndjson:4", "x.ndjson:4", vec!["input.not-a-regimen"]),
            ("b", "x.ndjson:6", vec![]),
        ]
    );
    // Nothing to check is said, not silently passed.
    let none = read_export(&[SourceFile::new(
        "p.ndjson",
        serde_json::to_string(&patient()).unwrap(),
    )]);
    assert_eq!(none.len(), 1);
    assert_eq!(none[0].problems[0].code, InputCode::NotARegimen);
    assert!(read_export(&[]).is_empty());
}

// -- robustness ------------------------------------------------------------------------

/// No input panics: odd documents, every HL7 example cut short, and every
/// leaf of the Roaccutan bundle replaced by a value of the wrong kind.
#[test]
fn never_panics() {
    let set = rules();
    let us = Engine::new(&set, "us", false).unwrap();
    let check = |text: String| {
        let all = read_bundle(&SourceFile::new("f.json", text.clone()));
        assert!(!all.is_empty(), "{text}");
        for r in all {
            let _ = us.evaluate(r);
        }
        let all = read_export(&[SourceFile::new("f.ndjson", text.replace('\n', " "))]);
        for r in all {
            let _ = us.evaluate(r);
        }
    };
    for text in [
        "",
        "null",
        "[]",
        "{}",
        "\"x\"",
        "{\"resourceType\": 5}",
        "{\"resourceType\": \"Bundle\", \"entry\": 5}",
        "{\"resourceType\": \"Bundle\", \"entry\": [5, {\"resource\": []}]}",
        "{\"resourceType\": \"MedicationRequest\", \"dosageInstruction\": \"x\"}",
        "{\"resourceType\": \"MedicationRequest\", \"dosageInstruction\": [{\"timing\": []}]}",
        "{\"resourceType\": \"MedicationRequest\", \"dosageInstruction\": [{\"timing\": {\"repeat\": {\"frequency\": 1e400, \"period\": 0, \"periodUnit\": \"d\", \"count\": -3}}}]}",
        "{\"resourceType\": \"MedicationRequest\", \"subject\": {\"reference\": \"/\"}, \"medicationReference\": {\"reference\": \"#\"}, \"contained\": 3}",
    ] {
        check(text.to_owned());
    }
    let mut names: Vec<_> = std::fs::read_dir(hl7_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    names.retain(|p| p.extension().is_some_and(|e| e == "json"));
    for path in names {
        let text = std::fs::read_to_string(&path).unwrap();
        for cut in (0..text.len()).step_by(211) {
            if text.is_char_boundary(cut) {
                check(text[..cut].to_owned());
            }
        }
    }
    let doc: Value =
        serde_json::from_str(&std::fs::read_to_string("tests/fhir/roaccutan-bundle.json").unwrap())
            .unwrap();
    let mut pointers = Vec::new();
    leaves(&doc, String::new(), &mut pointers);
    assert!(pointers.len() > 50);
    for pointer in pointers {
        for odd in [
            json!(null),
            json!("x"),
            json!(-1),
            json!(0),
            json!([]),
            json!({}),
            json!(1e300),
        ] {
            let mut copy = doc.clone();
            *copy.pointer_mut(&pointer).unwrap() = odd;
            let text = serde_json::to_string_pretty(&copy).unwrap();
            let all = read_bundle(&SourceFile::new("f.json", text));
            assert_eq!(all.len(), 1, "{pointer}");
            let _ = us.evaluate(all.into_iter().next().unwrap());
        }
    }
}

fn leaves(v: &Value, at: String, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => map
            .iter()
            .for_each(|(k, v)| leaves(v, format!("{at}/{k}"), out)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| leaves(v, format!("{at}/{i}"), out)),
        _ => out.push(at),
    }
}

// -- indication from reasonCode -----------------------------------------------

const ICD10: &str = "http://hl7.org/fhir/sid/icd-10";

/// `regimen.indication` read from a request with these `reasonCode`s.
fn indication(reasons: Value) -> Option<&'static str> {
    let mut mr = request(json!([dosage(bid_20_weeks(), mg(20.0))]));
    mr["reasonCode"] = reasons;
    let r = one(&[mr, patient()]);
    let course = r.rows.first().unwrap_or_else(|| panic!("{:?}", r.problems));
    course[Fact::INDICATION.index()].map(|v| match v {
        Val::Enum(i) => vocabulary().info(Fact::INDICATION).value_name(i),
        other => panic!("{other:?}"),
    })
}

#[test]
fn reason_codes_give_the_indication_and_nothing_is_guessed() {
    let coded =
        |system: &str, code: &str| json!([{ "coding": [{ "system": system, "code": code }] }]);
    let cases: Vec<(Value, Option<&str>)> = vec![
        (coded(SNOMED, "69896004"), Some("rheumatoid_arthritis")),
        (coded(SNOMED, "11381005"), Some("acne")),
        (coded(SNOMED, "9014002"), Some("psoriasis")),
        (coded(SNOMED, "44054006"), Some("type_2_diabetes")),
        (coded(ICD10, "M06.9"), Some("rheumatoid_arthritis")),
        (
            coded("http://hl7.org/fhir/sid/icd-10-cm", "L70.0"),
            Some("acne"),
        ),
        (coded(ICD10, "L40.0"), Some("psoriasis")),
        // Psoriatic arthritis is neither psoriasis nor rheumatoid arthritis.
        (coded(ICD10, "L40.50"), None),
        (json!([{ "text": "psoriatic arthritis" }]), None),
        // A code rxlint does not know, in a known system: nothing, even
        // when its display has a known name in it.
        (coded(SNOMED, "73211009"), None),
        (
            json!([{ "coding": [{ "system": ICD10, "code": "L40.50", "display": "Arthropathic psoriasis, unspecified" }] }]),
            None,
        ),
        (
            json!([{ "coding": [{ "system": SNOMED, "code": "33339001", "display": "Psoriasis with arthropathy" }], "text": "psoriasis with arthropathy" }]),
            None,
        ),
        (coded(ICD10, "M06.1"), None),
        (coded(ICD10, "M064"), None),
        (coded(ICD10, "M0690"), Some("rheumatoid_arthritis")),
        (coded("http://example.org/local", "M06.9"), None),
        (
            json!([{ "text": "Severe nodular acne with scarring" }]),
            Some("acne"),
        ),
        (
            json!([{ "coding": [{ "system": "http://example.org", "code": "x", "display": "Rheumatoid arthritis" }] }]),
            Some("rheumatoid_arthritis"),
        ),
        (
            json!([{ "text": "Type II diabetes mellitus" }]),
            Some("type_2_diabetes"),
        ),
        // Whole words and whole names only: these are other conditions.
        (json!([{ "text": "acneiform drug eruption" }]), None),
        (json!([{ "text": "Juvenile rheumatoid arthritis" }]), None),
        (
            json!([{ "text": "Acne/rosacea clinic referral" }]),
            Some("acne"),
        ),
        // Two reasons naming the same indication agree; different ones leave it out.
        (
            json!([{ "text": "acne" }, { "coding": [{ "system": SNOMED, "code": "11381005" }] }]),
            Some("acne"),
        ),
        (
            json!([{ "text": "acne" }, { "coding": [{ "system": SNOMED, "code": "9014002" }] }]),
            None,
        ),
        (json!([]), None),
    ];
    for (reasons, want) in cases {
        assert_eq!(indication(reasons.clone()), want, "{reasons}");
    }
}

/// A methotrexate request (RxNorm 6851) with `reasonCode`s and one dosage.
fn methotrexate(reasons: Value, repeat: Value) -> Value {
    let mut mr = request(json!([dosage(repeat, mg(7.5))]));
    mr["medicationCodeableConcept"] =
        json!({ "coding": [{ "system": RXNORM, "code": "6851", "display": "methotrexate" }] });
    mr["reasonCode"] = reasons;
    mr
}

/// Methotrexate's rules need the indication: from `reasonCode` they now
/// run on FHIR input instead of being unevaluated.
#[test]
fn methotrexate_rules_run_on_a_coded_reason() {
    let daily_for_4_weeks =
        || json!({ "frequency": 1, "period": 1, "periodUnit": "d", "boundsDuration": weeks(4) });
    let mtx = |reasons: Value| methotrexate(reasons, daily_for_4_weeks());
    let set = rules();
    let engine = Engine::new(&set, "us", false).unwrap();
    let daily = "methotrexate.daily-schedule";
    let ra = engine.evaluate(one(&[
        mtx(json!([{ "coding": [{ "system": SNOMED, "code": "69896004" }] }])),
        patient(),
    ]));
    assert!(
        findings(&ra).contains(&v(daily, Some(1))),
        "{:?}",
        findings(&ra)
    );
    // An unreadable reason: daily dosing is the fatal error whatever the
    // indication, and whether the pack covers the regimen is unknown.
    let unknown = engine.evaluate(one(&[mtx(json!([{ "text": "off-label" }])), patient()]));
    let found = findings(&unknown);
    assert!(found.contains(&v(daily, Some(1))), "{found:?}");
    assert!(
        found
            .iter()
            .any(|(rule, kind, _)| rule == "coverage.not-covered" && *kind == Kind::Unevaluated),
        "{found:?}"
    );
    assert_eq!(unknown.verdict, Verdict::Fail);
}

/// Seven doses a week, however FHIR writes them, are a daily schedule:
/// `frequency: 7, period: 1, periodUnit: wk` used to pass 2.5 mg a day.
#[test]
fn seven_a_week_is_daily_methotrexate() {
    let set = rules();
    let engine = Engine::new(&set, "us", false).unwrap();
    let ra = || json!([{ "coding": [{ "system": SNOMED, "code": "69896004" }] }]);
    for (repeat, daily) in [
        (
            json!({ "frequency": 7, "period": 1, "periodUnit": "wk", "boundsDuration": weeks(4) }),
            true,
        ),
        (
            json!({ "frequency": 4, "period": 1, "periodUnit": "wk", "boundsDuration": weeks(4) }),
            true,
        ),
        (
            json!({ "frequency": 3, "period": 1, "periodUnit": "wk", "boundsDuration": weeks(4) }),
            false,
        ),
        (
            json!({ "frequency": 1, "period": 1, "periodUnit": "wk", "boundsDuration": weeks(4) }),
            false,
        ),
    ] {
        let outcome = engine.evaluate(one(&[methotrexate(ra(), repeat.clone()), patient()]));
        let found = findings(&outcome);
        assert_eq!(
            found.contains(&v("methotrexate.daily-schedule", Some(1))),
            daily,
            "{repeat}: {found:?}"
        );
    }
}

/// A weekly schedule's `count` gives its duration: count x 7 / doses a
/// week, in whole days, and must agree with any bounds.
#[test]
fn weekly_counts_give_whole_day_durations() {
    let weekly = |repeat: Value| one(&[methotrexate(json!([]), repeat), patient()]);
    let duration = |r: &Regimen| r.rows.get(1).and_then(|row| row[Fact::DURATION.index()]);
    // Once a week, 12 doses: 84 days.
    let r = weekly(json!({ "frequency": 1, "period": 1, "periodUnit": "wk", "count": 12 }));
    assert_eq!(duration(&r), num("84"), "{:?}", r.problems);
    // Twice a week, 6 doses: 21 days.
    let r = weekly(json!({ "frequency": 2, "period": 1, "periodUnit": "wk", "count": 6 }));
    assert_eq!(duration(&r), num("21"), "{:?}", r.problems);
    // Twice a week, 5 doses: 17.5 days is no whole number of days.
    let r = weekly(json!({ "frequency": 2, "period": 1, "periodUnit": "wk", "count": 5 }));
    assert!(r.rows.is_empty());
    assert!(
        problems(&r)
            .iter()
            .any(|(code, field)| *code == "input.fhir-unmapped" && field.contains("count")),
        "{:?}",
        problems(&r)
    );
    // Bounds and count agree (12 weeks, 12 doses), or disagree (10 doses).
    let r = weekly(
        json!({ "frequency": 1, "period": 1, "periodUnit": "wk", "count": 12, "boundsDuration": weeks(12) }),
    );
    assert_eq!(duration(&r), num("84"), "{:?}", r.problems);
    let r = weekly(
        json!({ "frequency": 1, "period": 1, "periodUnit": "wk", "count": 10, "boundsDuration": weeks(12) }),
    );
    assert!(r.rows.is_empty(), "{:?}", r.rows);
}

/// As-needed orders are not fixed schedules: `maxDosePerPeriod` is the
/// phase's daily dose, and without it the daily dose is unknown.
#[test]
fn as_needed_orders_read_their_maximum() {
    let q6h = json!({ "frequency": 1, "period": 6, "periodUnit": "h", "boundsDuration": weeks(1) });
    let prn = |extra: Value| {
        let mut d = dosage(q6h.clone(), mg(650.0));
        for (k, v) in extra.as_object().unwrap() {
            d[k] = v.clone();
        }
        one(&[request(json!([d])), patient()])
    };
    let g = |n: f64, unit: &str, code: &str| json!({ "value": n, "unit": unit, "system": UCUM, "code": code });
    // 3 g per 24 h: 3000 mg a day, not 650 x 4 = 2600.
    let r = prn(json!({
        "asNeededBoolean": true,
        "maxDosePerPeriod": { "numerator": g(3.0, "g", "g"), "denominator": g(24.0, "h", "h") }
    }));
    assert!(r.problems.is_empty(), "{:#?}", r.problems);
    assert_eq!(r.get(1, Fact::AS_NEEDED), Some(Val::Bool(true)));
    assert_eq!(r.get(1, Fact::DAILY_DOSE), num("3000"));
    assert_eq!(r.get(1, Fact::DOSE), num("650"));
    // 14 g per 1 week: 2 g a day.
    let r = prn(json!({
        "asNeededCodeableConcept": { "text": "pain" },
        "maxDosePerPeriod": { "numerator": g(14.0, "g", "g"), "denominator": g(1.0, "wk", "wk") }
    }));
    assert!(r.problems.is_empty(), "{:#?}", r.problems);
    assert_eq!(r.get(1, Fact::DAILY_DOSE), num("2000"));
    // No maximum: the daily dose is unknown, never read off the schedule.
    let r = prn(json!({ "asNeededBoolean": true }));
    assert!(r.problems.is_empty(), "{:#?}", r.problems);
    assert_eq!(r.get(1, Fact::DAILY_DOSE), None);
    assert_eq!(r.get(1, Fact::INTERVAL), num("0.25"));
    // asNeededBoolean false is a fixed schedule.
    let r = prn(json!({ "asNeededBoolean": false }));
    assert_eq!(r.get(1, Fact::DAILY_DOSE), num("2600"));
}

/// The dose-range contract's LOINC codes: height, BSA, serum creatinine
/// in mg/dL and umol/L, creatinine clearance, bilirubin in mg/dL and
/// umol/L; and a dose in mg/m2.
#[test]
fn body_size_and_labs_by_loinc() {
    let obs = |id: &str, code: &str, value: f64, unit: &str| {
        let mut o = weight(
            id,
            "2026-03-01",
            json!({ "value": value, "unit": unit, "system": UCUM, "code": unit }),
        );
        o["code"]["coding"][0]["code"] = json!(code);
        o
    };
    let set = rules();
    let fact = |path: &str| set.vocabulary.fact(path).unwrap();
    let per_m2 = json!({ "value": 75, "unit": "mg/m2", "system": UCUM, "code": "mg/m2" });
    let r = one(&[
        request(json!([dosage(bid_20_weeks(), per_m2)])),
        patient(),
        weight(
            "w",
            "2026-03-01",
            json!({ "value": 80, "unit": "kg", "system": UCUM, "code": "kg" }),
        ),
        obs("h", "8302-2", 180.0, "cm"),
        obs("s", "14682-9", 88.4, "umol/L"),
        obs("b", "14631-6", 85.5, "umol/L"),
    ]);
    assert!(r.problems.is_empty(), "{:#?}", r.problems);
    // Height is held in m; Mosteller sqrt(180 x 80 / 3600) = 2 m2.
    assert_eq!(r.get(0, Fact::HEIGHT), num("1.8"));
    assert_eq!(r.get(0, Fact::BSA), num("2"));
    assert_eq!(r.get(1, Fact::DOSE_PER_M2), num("75"));
    assert_eq!(r.get(1, Fact::DOSE), num("150"));
    // 88.4 umol/L is 1 mg/dL (held in mg/mL); 85.5 umol/L bilirubin 5 mg/dL.
    assert_eq!(r.get(0, Fact::SERUM_CREATININE), num("0.01"));
    assert_eq!(r.get(0, fact("patient.bilirubin")), num("0.05"));
    // Born 1990-01-01, 36.16 years on 2026-03-02: Cockcroft-Gault gives a
    // clearance for this man.
    assert!(r.get(0, Fact::CRCL).is_some());
    // Given BSA and clearance win over the derived ones.
    let r = one(&[
        request(json!([dosage(bid_20_weeks(), mg(30.0))])),
        patient(),
        obs("a", "8277-6", 1.7, "m2"),
        obs("c", "2164-2", 25.0, "mL/min"),
        obs("s", "2160-0", 1.2, "mg/dL"),
    ]);
    assert!(r.problems.is_empty(), "{:#?}", r.problems);
    assert_eq!(r.get(0, Fact::BSA), num("1.7"));
    assert_eq!(r.get(0, Fact::CRCL), num("36000"));
    assert_eq!(r.get(0, Fact::SERUM_CREATININE), num("0.012"));
}

/// Through the binary: a folder of single resources is one export, and a
/// Bundle beside them is still read on its own.
#[test]
fn a_folder_of_single_resources_through_the_cli() {
    let dir = std::env::temp_dir().join(format!("rxlint-fhir-folder-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for source in single_resource_files() {
        std::fs::write(dir.join(source.name()), source.text()).unwrap();
    }
    std::fs::copy(
        "tests/fhir/roaccutan-bundle.json",
        dir.join("roaccutan-bundle.json"),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rxlint"))
        .args(["check", "--format", "json"])
        .arg(&dir)
        .output()
        .unwrap();
    let records: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let got: Vec<(String, String)> = records
        .iter()
        .map(|r| {
            let input = r["input"].as_str().unwrap();
            let file = input.rsplit('/').next().unwrap().to_owned();
            (file, r["verdict"].as_str().unwrap().to_owned())
        })
        .collect();
    // The export's records take the place of its first file (in name
    // order, Medication-...); the Bundle's come in its own place.
    assert_eq!(
        got,
        vec![
            (
                "MedicationRequest-rx-1.json:1".to_owned(),
                "warn".to_owned()
            ),
            (
                "MedicationRequest-rx-2.json:1".to_owned(),
                "pass".to_owned()
            ),
            ("roaccutan-bundle.json:8".to_owned(), "warn".to_owned()),
        ],
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
