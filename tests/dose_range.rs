//! The dose-range packs (acetaminophen, doxorubicin, enoxaparin) and a
//! weight-based isotretinoin template, through the real binary.
//!
//! Every regimen is worked by hand from the label sentences in
//! `rules/sources/` (the working is in the comments), at, just inside and
//! just outside each bound, and in more than one unit: doses in g and mcg,
//! weights in lb (1 lb = 0.45359237 kg exactly), bilirubin in umol/L (1
//! mg/dL = 17.1 umol/L), serum creatinine in umol/L (1 mg/dL = 88.4 umol/L),
//! doses per kg and per m2 with and without the weight or BSA. Expectations
//! are never copied from the binary's output.

use std::process::Command;

use serde_json::Value;

mod support;
use support::temp_dir;

/// One regimen and what the packs must say about it: the verdict and every
/// finding as (rule, kind), exactly.
struct Case {
    id: &'static str,
    /// The regimen as a YAML flow mapping, without its id.
    regimen: &'static str,
    verdict: &'static str,
    findings: &'static [(&'static str, &'static str)],
}

const V: &str = "violation";
const U: &str = "unevaluated";

/// Checks every (id, regimen) in one run (a `regimens:` list) and returns
/// the JSON records with their ids, in order.
fn check_all(name: &str, regimens: &[(&str, &str)]) -> Vec<(String, Value)> {
    let mut yaml = String::from("regimens:\n");
    for (id, regimen) in regimens {
        let body = regimen
            .trim()
            .strip_prefix('{')
            .unwrap_or_else(|| panic!("{id}: not a flow mapping"));
        yaml.push_str(&format!("  - {{id: {id}, {body}\n"));
    }
    let file = temp_dir(name).join(format!("{name}.yaml"));
    std::fs::write(&file, &yaml).unwrap_or_else(|e| panic!("{e}"));
    let out = Command::new(env!("CARGO_BIN_EXE_rxlint"))
        .args(["check", "--format", "json"])
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("cannot run rxlint: {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    let records: Vec<(String, Value)> = text
        .lines()
        .map(|line| {
            let record: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{name}: not JSON ({e}): {line}"));
            (record["id"].as_str().unwrap_or_default().to_owned(), record)
        })
        .collect();
    assert_eq!(
        records.len(),
        regimens.len(),
        "{name}: one record per regimen expected\nstdout: {text}\nstderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    records
}

/// (rule, kind) of every finding, sorted.
fn findings(record: &Value) -> Vec<(String, String)> {
    let mut out: Vec<_> = record["findings"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap_or_default().to_owned(),
                f["kind"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

/// Runs the cases and reports every mismatch at once.
fn assert_cases(name: &str, cases: &[Case]) {
    let regimens: Vec<(&str, &str)> = cases.iter().map(|c| (c.id, c.regimen)).collect();
    let records = check_all(name, &regimens);
    let mut wrong = Vec::new();
    for (case, (id, record)) in cases.iter().zip(&records) {
        assert_eq!(id, case.id, "{name}: records out of order");
        let mut want: Vec<(String, String)> = case
            .findings
            .iter()
            .map(|(r, k)| ((*r).to_owned(), (*k).to_owned()))
            .collect();
        want.sort();
        let got = findings(record);
        if record["verdict"] != case.verdict || got != want {
            wrong.push(format!(
                "{}: want {} {want:?}\n   got {} {got:?}",
                case.id, case.verdict, record["verdict"]
            ));
        }
    }
    assert!(wrong.is_empty(), "{name}:\n{}", wrong.join("\n"));
}

const SINGLE: &str = "acetaminophen.max-single-dose";
const DAILY: &str = "acetaminophen.max-daily-dose";
const INTERVAL: &str = "acetaminophen.min-interval";

/// Acetaminophen: 1000 mg and 4000 mg/day at any age; 15 mg/kg and 75
/// mg/kg/day from 2 to 12 years and from 13 years under 50 kg; 60 mg/kg/day
/// from 29 days to 2 years, 50 mg/kg/day up to 28 days; every 4 hours at
/// the closest, every 6 hours under 2 years.
#[test]
fn acetaminophen_bands_and_bounds() {
    assert_cases(
        "acetaminophen",
        &[
            // 1000 mg every 6 hours: 4000 mg/day, exactly both maxima.
            Case {
                id: "APAP-ADULT-1000MG",
                regimen: "{drug: acetaminophen, patient: {weight: 70 kg, age: 40}, course: {phases: [{dose: 1000 mg, frequency: every 6 hours, duration: 2 days}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "APAP-ADULT-1G",
                regimen: "{drug: Ofirmev, patient: {weight: 70 kg, age: 40}, course: {phases: [{dose: 1 g, frequency: q6h, duration: 2 days}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "APAP-ADULT-1000000MCG",
                regimen: "{drug: paracetamol, patient: {weight: 70 kg, age: 40}, course: {phases: [{dose: 1000000 mcg, frequency: every 6 hours, duration: 2 days}]}}",
                verdict: "pass",
                findings: &[],
            },
            // 1000001 mcg = 1000.001 mg every 8 hours: 3000.003 mg/day.
            Case {
                id: "APAP-ADULT-1000001MCG-Q8H",
                regimen: "{drug: acetaminophen, patient: {weight: 70 kg, age: 40}, course: {phases: [{dose: 1000001 mcg, frequency: every 8 hours, duration: 2 days}]}}",
                verdict: "fail",
                findings: &[(SINGLE, V)],
            },
            // 1.000001 g = 1000.001 mg every 6 hours: 4000.004 mg/day.
            Case {
                id: "APAP-ADULT-1.000001G-Q6H",
                regimen: "{drug: acetaminophen, patient: {weight: 70 kg, age: 40}, course: {phases: [{dose: 1.000001 g, frequency: every 6 hours, duration: 2 days}]}}",
                verdict: "fail",
                findings: &[(SINGLE, V), (DAILY, V)],
            },
            // Every 5 hours is 4.8 doses a day: 833.333 mg x 4.8 =
            // 3999.9984 mg/day; 833.334 mg x 4.8 = 4000.0032 mg/day.
            Case {
                id: "APAP-Q5H-INSIDE",
                regimen: "{drug: acetaminophen, patient: {weight: 70 kg, age: 40}, course: {phases: [{dose: 833.333 mg, frequency: every 5 hours, duration: 2 days}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "APAP-Q5H-OUTSIDE",
                regimen: "{drug: acetaminophen, patient: {weight: 70 kg, age: 40}, course: {phases: [{dose: 833.334 mg, frequency: every 5 hours, duration: 2 days}]}}",
                verdict: "fail",
                findings: &[(DAILY, V)],
            },
            // Every 4 hours is the closest from 2 years on; every 3 hours
            // (300 mg, 2400 mg/day, 34.3 mg/kg/day) is too close.
            Case {
                id: "APAP-Q4H",
                regimen: "{drug: acetaminophen, patient: {weight: 70 kg, age: 40}, course: {phases: [{dose: 650 mg, frequency: q4h, duration: 2 days}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "APAP-Q3H",
                regimen: "{drug: acetaminophen, patient: {weight: 70 kg, age: 40}, course: {phases: [{dose: 300 mg, frequency: every 3 hours, duration: 2 days}]}}",
                verdict: "fail",
                findings: &[(INTERVAL, V)],
            },
            // 50 kg = 110.2311310924... lb. 110.231131 lb = 49.99999995807047
            // kg: under 50 kg, so 1000 mg is 20.0000000168 mg/kg (> 15) and
            // 80 mg/kg/day (> 75). 110.2311311 lb = 50.000000003429707 kg:
            // the adult band.
            Case {
                id: "APAP-13Y-JUST-UNDER-50KG-LB",
                regimen: "{drug: acetaminophen, patient: {weight: 110.231131 lb, age: 13}, course: {phases: [{dose: 1000 mg, frequency: every 6 hours, duration: 2 days}]}}",
                verdict: "fail",
                findings: &[(SINGLE, V), (DAILY, V)],
            },
            Case {
                id: "APAP-13Y-JUST-OVER-50KG-LB",
                regimen: "{drug: acetaminophen, patient: {weight: 110.2311311 lb, age: 13}, course: {phases: [{dose: 1000 mg, frequency: every 6 hours, duration: 2 days}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "APAP-13Y-50KG",
                regimen: "{drug: acetaminophen, patient: {weight: 50 kg, age: 13 years}, course: {phases: [{dose: 1000 mg, frequency: every 6 hours, duration: 2 days}]}}",
                verdict: "pass",
                findings: &[],
            },
            // 13 years at 45 kg: 15 mg/kg (675 mg) every 6 hours is 60
            // mg/kg/day; 15.001 mg/kg is above the single maximum only.
            Case {
                id: "APAP-13Y-45KG-15MGKG",
                regimen: "{drug: acetaminophen, patient: {weight: 45 kg, age: 13}, course: {phases: [{dose: 15 mg/kg, frequency: every 6 hours, duration: 2 days}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "APAP-13Y-45KG-15.001MGKG",
                regimen: "{drug: acetaminophen, patient: {weight: 45 kg, age: 13}, course: {phases: [{dose: 15.001 mg/kg, frequency: every 6 hours, duration: 2 days}]}}",
                verdict: "fail",
                findings: &[(SINGLE, V)],
            },
            // 675 mg at 45 kg is exactly 15 mg/kg; 675.045 mg is 15.001.
            Case {
                id: "APAP-13Y-45KG-675MG",
                regimen: "{drug: acetaminophen, patient: {weight: 45 kg, age: 13}, course: {phases: [{dose: 675 mg, frequency: every 6 hours, duration: 2 days}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "APAP-13Y-45KG-675.045MG",
                regimen: "{drug: acetaminophen, patient: {weight: 45 kg, age: 13}, course: {phases: [{dose: 675.045 mg, frequency: every 6 hours, duration: 2 days}]}}",
                verdict: "fail",
                findings: &[(SINGLE, V)],
            },
            // 12 years at 60 kg: the child band whatever the weight; 1000 mg
            // is 16.67 mg/kg (66.7 mg/kg/day, within 75).
            Case {
                id: "APAP-12Y-60KG-1000MG",
                regimen: "{drug: acetaminophen, patient: {weight: 60 kg, age: 12}, course: {phases: [{dose: 1000 mg, frequency: every 6 hours, duration: 2 days}]}}",
                verdict: "fail",
                findings: &[(SINGLE, V)],
            },
            // Infant, 1 year, 10 kg: 15 mg/kg every 6 hours is exactly 60
            // mg/kg/day; every 5 hours is too close and 72 mg/kg/day.
            Case {
                id: "APAP-1Y-15MGKG-Q6H",
                regimen: "{drug: acetaminophen, patient: {weight: 10 kg, age: 1}, course: {phases: [{dose: 15 mg/kg, frequency: every 6 hours, duration: 2 days}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "APAP-1Y-15MGKG-Q5H",
                regimen: "{drug: acetaminophen, patient: {weight: 10 kg, age: 1}, course: {phases: [{dose: 15 mg/kg, frequency: every 5 hours, duration: 2 days}]}}",
                verdict: "fail",
                findings: &[(INTERVAL, V), (DAILY, V)],
            },
            // Neonate, 20 days, 3.5 kg: 12.5 mg/kg every 6 hours is exactly
            // 50 mg/kg/day; 13 mg/kg is 52.
            Case {
                id: "APAP-20D-12.5MGKG",
                regimen: "{drug: acetaminophen, patient: {weight: 3.5 kg, age: 20 days}, course: {phases: [{dose: 12.5 mg/kg, frequency: every 6 hours, duration: 2 days}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "APAP-20D-13MGKG",
                regimen: "{drug: acetaminophen, patient: {weight: 3.5 kg, age: 20 days}, course: {phases: [{dose: 13 mg/kg, frequency: every 6 hours, duration: 2 days}]}}",
                verdict: "fail",
                findings: &[(DAILY, V)],
            },
            // 13.75 mg/kg every 6 hours is 55 mg/kg/day: above the neonatal
            // 50 up to and including 28 days (4 weeks), within the infant 60
            // from 29 days.
            Case {
                id: "APAP-28D-55MGKGDAY",
                regimen: "{drug: acetaminophen, patient: {weight: 4 kg, age: 28 days}, course: {phases: [{dose: 13.75 mg/kg, frequency: every 6 hours, duration: 2 days}]}}",
                verdict: "fail",
                findings: &[(DAILY, V)],
            },
            Case {
                id: "APAP-4WK-55MGKGDAY",
                regimen: "{drug: acetaminophen, patient: {weight: 4 kg, age: 4 weeks}, course: {phases: [{dose: 13.75 mg/kg, frequency: every 6 hours, duration: 2 days}]}}",
                verdict: "fail",
                findings: &[(DAILY, V)],
            },
            Case {
                id: "APAP-29D-55MGKGDAY",
                regimen: "{drug: acetaminophen, patient: {weight: 4 kg, age: 29 days}, course: {phases: [{dose: 13.75 mg/kg, frequency: every 6 hours, duration: 2 days}]}}",
                verdict: "pass",
                findings: &[],
            },
            // 20 mg/kg every 8 hours is 60 mg/kg/day: within every daily
            // maximum under 13, above the 15 mg/kg single maximum from 2
            // years (24 months x 30.4375 = 730.5 days = 2 years), with none
            // under 2 years (23 months = 700.0625 days).
            Case {
                id: "APAP-24MO-20MGKG",
                regimen: "{drug: acetaminophen, patient: {weight: 10 kg, age: 24 months}, course: {phases: [{dose: 20 mg/kg, frequency: every 8 hours, duration: 2 days}]}}",
                verdict: "fail",
                findings: &[(SINGLE, V)],
            },
            Case {
                id: "APAP-23MO-20MGKG",
                regimen: "{drug: acetaminophen, patient: {weight: 10 kg, age: 23 months}, course: {phases: [{dose: 20 mg/kg, frequency: every 8 hours, duration: 2 days}]}}",
                verdict: "pass",
                findings: &[],
            },
            // A template without a weight: the per-kg limits are checked
            // exactly, the 1000 mg and 4000 mg/day need the weight.
            Case {
                id: "APAP-TEMPLATE-8Y-15MGKG",
                regimen: "{drug: acetaminophen, patient: {age: 8}, course: {phases: [{dose: 15 mg/kg, frequency: every 6 hours, duration: 2 days}]}}",
                verdict: "warn",
                findings: &[(SINGLE, U), (DAILY, U)],
            },
            Case {
                id: "APAP-TEMPLATE-8Y-20MGKG",
                regimen: "{drug: acetaminophen, patient: {age: 8}, course: {phases: [{dose: 20 mg/kg, frequency: every 6 hours, duration: 2 days}]}}",
                verdict: "fail",
                findings: &[(SINGLE, V), (DAILY, V)],
            },
            // Neither age nor weight: 1001 mg every 6 hours is above both
            // absolute maxima (4004 mg/day) at any age; 1000 mg needs both.
            Case {
                id: "APAP-NO-AGE-NO-WEIGHT-1001MG",
                regimen: "{drug: acetaminophen, course: {phases: [{dose: 1001 mg, frequency: every 6 hours, duration: 2 days}]}}",
                verdict: "fail",
                findings: &[(SINGLE, V), (DAILY, V)],
            },
            Case {
                id: "APAP-NO-AGE-NO-WEIGHT-1000MG",
                regimen: "{drug: acetaminophen, course: {phases: [{dose: 1000 mg, frequency: every 6 hours, duration: 2 days}]}}",
                verdict: "warn",
                findings: &[(SINGLE, U), (DAILY, U)],
            },
            // No age at 70 kg: 1000 mg every 6 hours is 14.3 mg/kg (within
            // every single maximum) and 57.1 mg/kg/day (above the neonatal
            // 50 only).
            Case {
                id: "APAP-NO-AGE-70KG",
                regimen: "{drug: acetaminophen, patient: {weight: 70 kg}, course: {phases: [{dose: 1000 mg, frequency: every 6 hours, duration: 2 days}]}}",
                verdict: "warn",
                findings: &[(DAILY, U)],
            },
            // A single administration: no interval to check.
            Case {
                id: "APAP-ONCE-1000MG",
                regimen: "{drug: acetaminophen, patient: {weight: 70 kg, age: 40}, course: {phases: [{dose: 1000 mg, frequency: once, duration: 1 day}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "APAP-ONCE-1001MG",
                regimen: "{drug: acetaminophen, patient: {weight: 70 kg, age: 40}, course: {phases: [{dose: 1001 mg, frequency: once, duration: 1 day}]}}",
                verdict: "fail",
                findings: &[(SINGLE, V)],
            },
        ],
    );
}

const PER_CYCLE: &str = "doxorubicin.dose-per-cycle";
const CYCLE: &str = "doxorubicin.cycle-interval";
const CUMULATIVE: &str = "doxorubicin.cumulative-dose";
const CONTRA: &str = "doxorubicin.hepatic-contraindicated";
const HEPATIC: &str = "doxorubicin.hepatic-dose";

/// Doxorubicin: 75 mg/m2 a dose, 21 days between cycles, 550 mg/m2 in a
/// lifetime (400 after other cardiotoxic therapy), contraindicated above a
/// bilirubin of 5 mg/dL, 50% of 75 mg/m2 at 1.2-3 mg/dL and 25% above 3.
///
/// 180 cm and 80 kg give a BSA of sqrt(180 x 80 / 3600) = sqrt(4) = 2 m2
/// (Mosteller). Twelve weeks every 21 days are ceil(84 / 21) = 4 cycles.
#[test]
fn doxorubicin_bounds() {
    assert_cases(
        "doxorubicin",
        &[
            // 60 mg/m2 x 4 = 240 mg/m2, after 100: 340 mg/m2.
            Case {
                id: "DOX-BASE",
                regimen: "{drug: doxorubicin, patient: {weight: 80 kg, height: 180 cm, prior_cardiotoxic_therapy: false, bilirubin: 0.8 mg/dL}, course: {prior_cumulative_dose: 100 mg/m2, phases: [{dose: 60 mg/m2, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "pass",
                findings: &[],
            },
            // 150 mg / 2 m2 = 75 mg/m2; 150.002 mg = 75.001 mg/m2.
            Case {
                id: "DOX-150MG-MOSTELLER",
                regimen: "{drug: Adriamycin, patient: {weight: 80 kg, height: 180 cm, prior_cardiotoxic_therapy: false}, course: {prior_cumulative_dose: 100 mg/m2, phases: [{dose: 150 mg, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "DOX-0.15G-HEIGHT-IN-M",
                regimen: "{drug: doxorubicin, patient: {weight: 80 kg, height: 1.8 m, prior_cardiotoxic_therapy: false}, course: {prior_cumulative_dose: 100 mg/m2, phases: [{dose: 0.15 g, frequency: q21d, duration: 12 weeks}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "DOX-150002MCG",
                regimen: "{drug: doxorubicin, patient: {weight: 80 kg, height: 180 cm, prior_cardiotoxic_therapy: false}, course: {prior_cumulative_dose: 100 mg/m2, phases: [{dose: 150002 mcg, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "fail",
                findings: &[(PER_CYCLE, V)],
            },
            Case {
                id: "DOX-75.001MGM2",
                regimen: "{drug: doxorubicin, patient: {weight: 80 kg, height: 180 cm, prior_cardiotoxic_therapy: false}, course: {prior_cumulative_dose: 100 mg/m2, phases: [{dose: 75.001 mg/m2, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "fail",
                findings: &[(PER_CYCLE, V)],
            },
            // A recorded BSA: 135 mg / 1.8 m2 = 75 mg/m2.
            Case {
                id: "DOX-BSA-GIVEN",
                regimen: "{drug: doxorubicin, patient: {bsa: 1.8 m2, prior_cardiotoxic_therapy: false}, course: {prior_cumulative_dose: 100 mg/m2, phases: [{dose: 135 mg, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "pass",
                findings: &[],
            },
            // A dose in mg without a height: no BSA, so no dose per m2 and
            // no cumulative dose per m2.
            Case {
                id: "DOX-MG-NO-BSA",
                regimen: "{drug: doxorubicin, patient: {weight: 80 kg, prior_cardiotoxic_therapy: false}, course: {prior_cumulative_dose: 100 mg/m2, phases: [{dose: 150 mg, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "warn",
                findings: &[(PER_CYCLE, U), (CUMULATIVE, U)],
            },
            // A dose in mg/m2 needs no BSA.
            Case {
                id: "DOX-MGM2-NO-BSA",
                regimen: "{drug: doxorubicin, patient: {prior_cardiotoxic_therapy: false}, course: {prior_cumulative_dose: 100 mg/m2, phases: [{dose: 75 mg/m2, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "pass",
                findings: &[],
            },
            // Every 20 days: ceil(84 / 20) = 5 cycles, 300 mg/m2 + 100.
            Case {
                id: "DOX-EVERY-20-DAYS",
                regimen: "{drug: doxorubicin, patient: {prior_cardiotoxic_therapy: false}, course: {prior_cumulative_dose: 100 mg/m2, phases: [{dose: 60 mg/m2, frequency: every 20 days, duration: 12 weeks}]}}",
                verdict: "warn",
                findings: &[(CYCLE, V)],
            },
            Case {
                id: "DOX-ONCE",
                regimen: "{drug: doxorubicin, patient: {prior_cardiotoxic_therapy: false}, course: {prior_cumulative_dose: 100 mg/m2, phases: [{dose: 75 mg/m2, frequency: once, duration: 1 day}]}}",
                verdict: "pass",
                findings: &[],
            },
            // 310 + 240 = 550 mg/m2; 310.001 + 240 = 550.001.
            Case {
                id: "DOX-LIFETIME-550",
                regimen: "{drug: doxorubicin, patient: {prior_cardiotoxic_therapy: false}, course: {prior_cumulative_dose: 310 mg/m2, phases: [{dose: 60 mg/m2, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "DOX-LIFETIME-550.001",
                regimen: "{drug: doxorubicin, patient: {prior_cardiotoxic_therapy: false}, course: {prior_cumulative_dose: 310.001 mg/m2, phases: [{dose: 60 mg/m2, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "fail",
                findings: &[(CUMULATIVE, V)],
            },
            // A prior dose in mg, per m2 at this course's 2 m2: 620 mg = 310
            // mg/m2; 620.002 mg = 310.001 mg/m2.
            Case {
                id: "DOX-PRIOR-620MG",
                regimen: "{drug: doxorubicin, patient: {weight: 80 kg, height: 180 cm, prior_cardiotoxic_therapy: false}, course: {prior_cumulative_dose: 620 mg, phases: [{dose: 60 mg/m2, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "DOX-PRIOR-620.002MG",
                regimen: "{drug: doxorubicin, patient: {weight: 80 kg, height: 180 cm, prior_cardiotoxic_therapy: false}, course: {prior_cumulative_dose: 620.002 mg, phases: [{dose: 60 mg/m2, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "fail",
                findings: &[(CUMULATIVE, V)],
            },
            // After cardiotoxic therapy: 160 + 240 = 400; 160.001 + 240.
            Case {
                id: "DOX-CARDIO-400",
                regimen: "{drug: doxorubicin, patient: {prior_cardiotoxic_therapy: true}, course: {prior_cumulative_dose: 160 mg/m2, phases: [{dose: 60 mg/m2, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "DOX-CARDIO-400.001",
                regimen: "{drug: doxorubicin, patient: {prior_cardiotoxic_therapy: true}, course: {prior_cumulative_dose: 160.001 mg/m2, phases: [{dose: 60 mg/m2, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "fail",
                findings: &[(CUMULATIVE, V)],
            },
            // No prior dose: 240 mg/m2 may be above 550 in a lifetime.
            Case {
                id: "DOX-NO-PRIOR",
                regimen: "{drug: doxorubicin, patient: {prior_cardiotoxic_therapy: false}, course: {phases: [{dose: 60 mg/m2, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "warn",
                findings: &[(CUMULATIVE, U)],
            },
            // No prior dose, this course alone: 24 weeks = ceil(168 / 21) =
            // 8 cycles; 75 x 8 = 600 mg/m2 (> 550), 68.75 x 8 = 550.
            Case {
                id: "DOX-NO-PRIOR-COURSE-600",
                regimen: "{drug: doxorubicin, patient: {prior_cardiotoxic_therapy: false}, course: {phases: [{dose: 75 mg/m2, frequency: every 21 days, duration: 24 weeks}]}}",
                verdict: "fail",
                findings: &[(CUMULATIVE, V)],
            },
            Case {
                id: "DOX-NO-PRIOR-COURSE-550",
                regimen: "{drug: doxorubicin, patient: {prior_cardiotoxic_therapy: false}, course: {phases: [{dose: 68.75 mg/m2, frequency: every 21 days, duration: 24 weeks}]}}",
                verdict: "warn",
                findings: &[(CUMULATIVE, U)],
            },
            // No prior dose after cardiotoxic therapy: 18 weeks = 6 cycles,
            // 75 x 6 = 450 mg/m2 (> 400) this course alone.
            Case {
                id: "DOX-NO-PRIOR-CARDIO-COURSE-450",
                regimen: "{drug: doxorubicin, patient: {prior_cardiotoxic_therapy: true}, course: {phases: [{dose: 75 mg/m2, frequency: every 21 days, duration: 18 weeks}]}}",
                verdict: "fail",
                findings: &[(CUMULATIVE, V)],
            },
            // prior_cardiotoxic_therapy not recorded: it decides only
            // between 400 and 550 mg/m2 in a lifetime.
            Case {
                id: "DOX-CARDIO-UNKNOWN-340",
                regimen: "{drug: doxorubicin, course: {prior_cumulative_dose: 100 mg/m2, phases: [{dose: 60 mg/m2, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "DOX-CARDIO-UNKNOWN-400",
                regimen: "{drug: doxorubicin, course: {prior_cumulative_dose: 160 mg/m2, phases: [{dose: 60 mg/m2, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "DOX-CARDIO-UNKNOWN-400.001",
                regimen: "{drug: doxorubicin, course: {prior_cumulative_dose: 160.001 mg/m2, phases: [{dose: 60 mg/m2, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "warn",
                findings: &[(CUMULATIVE, U)],
            },
            Case {
                id: "DOX-CARDIO-UNKNOWN-550",
                regimen: "{drug: doxorubicin, course: {prior_cumulative_dose: 310 mg/m2, phases: [{dose: 60 mg/m2, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "warn",
                findings: &[(CUMULATIVE, U)],
            },
            Case {
                id: "DOX-CARDIO-UNKNOWN-550.001",
                regimen: "{drug: doxorubicin, course: {prior_cumulative_dose: 310.001 mg/m2, phases: [{dose: 60 mg/m2, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "fail",
                findings: &[(CUMULATIVE, V)],
            },
            // Bilirubin in umol/L (1 mg/dL = 17.1 umol/L): 85.5 umol/L is 5
            // mg/dL, the top of the 25% band, so 60 mg/m2 is above 18.75;
            // 85.6 umol/L is 5.00585 mg/dL, the contraindication.
            Case {
                id: "DOX-BILI-85.5UMOL",
                regimen: "{drug: doxorubicin, patient: {bilirubin: 85.5 umol/L, prior_cardiotoxic_therapy: false}, course: {prior_cumulative_dose: 100 mg/m2, phases: [{dose: 60 mg/m2, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "fail",
                findings: &[(HEPATIC, V)],
            },
            Case {
                id: "DOX-BILI-85.6UMOL",
                regimen: "{drug: doxorubicin, patient: {bilirubin: 85.6 umol/L, prior_cardiotoxic_therapy: false}, course: {prior_cumulative_dose: 100 mg/m2, phases: [{dose: 60 mg/m2, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "fail",
                findings: &[(CONTRA, V)],
            },
            Case {
                id: "DOX-BILI-5MGDL-18.75",
                regimen: "{drug: doxorubicin, patient: {bilirubin: 5 mg/dL, prior_cardiotoxic_therapy: false}, course: {prior_cumulative_dose: 100 mg/m2, phases: [{dose: 18.75 mg/m2, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "pass",
                findings: &[],
            },
            // 20.52 umol/L is exactly 1.2 mg/dL: 37.5 mg/m2 is 50% of 75;
            // 37.501 is above it.
            Case {
                id: "DOX-BILI-20.52UMOL-37.5",
                regimen: "{drug: doxorubicin, patient: {bilirubin: 20.52 umol/L, prior_cardiotoxic_therapy: false}, course: {prior_cumulative_dose: 100 mg/m2, phases: [{dose: 37.5 mg/m2, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "DOX-BILI-20.52UMOL-37.501",
                regimen: "{drug: doxorubicin, patient: {bilirubin: 20.52 umol/L, prior_cardiotoxic_therapy: false}, course: {prior_cumulative_dose: 100 mg/m2, phases: [{dose: 37.501 mg/m2, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "fail",
                findings: &[(HEPATIC, V)],
            },
            // 1.199 mg/dL: no reduction.
            Case {
                id: "DOX-BILI-1.199",
                regimen: "{drug: doxorubicin, patient: {bilirubin: 1.199 mg/dL, prior_cardiotoxic_therapy: false}, course: {prior_cumulative_dose: 100 mg/m2, phases: [{dose: 75 mg/m2, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "pass",
                findings: &[],
            },
            // 3 mg/dL is the top of the 50% band; 3.001 is in the 25% band.
            Case {
                id: "DOX-BILI-3-37.5",
                regimen: "{drug: doxorubicin, patient: {bilirubin: 3 mg/dL, prior_cardiotoxic_therapy: false}, course: {prior_cumulative_dose: 100 mg/m2, phases: [{dose: 37.5 mg/m2, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "DOX-BILI-3.001-37.5",
                regimen: "{drug: doxorubicin, patient: {bilirubin: 3.001 mg/dL, prior_cardiotoxic_therapy: false}, course: {prior_cumulative_dose: 100 mg/m2, phases: [{dose: 37.5 mg/m2, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "fail",
                findings: &[(HEPATIC, V)],
            },
            // No bilirubin and no hepatic impairment recorded: none known,
            // so no hepatic finding (and no unevaluated one).
            Case {
                id: "DOX-NO-HEPATIC-DATA",
                regimen: "{drug: doxorubicin, patient: {prior_cardiotoxic_therapy: false}, course: {prior_cumulative_dose: 100 mg/m2, phases: [{dose: 75 mg/m2, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "DOX-CHILD-PUGH-C",
                regimen: "{drug: doxorubicin, patient: {hepatic_impairment: severe, prior_cardiotoxic_therapy: false}, course: {prior_cumulative_dose: 100 mg/m2, phases: [{dose: 60 mg/m2, frequency: every 21 days, duration: 12 weeks}]}}",
                verdict: "fail",
                findings: &[(CONTRA, V)],
            },
        ],
    );
}

const TREATMENT: &str = "enoxaparin.treatment-dose";
const RENAL: &str = "enoxaparin.renal-dose";
const NOT_COVERED: &str = "coverage.not-covered";

/// Enoxaparin: 1 mg/kg every 12 hours or 1.5 mg/kg once daily for deep
/// vein thrombosis; below a creatinine clearance of 30 mL/min, 1 mg/kg once
/// daily, and 30 mg once daily for prophylaxis.
///
/// Cockcroft-Gault at 68 years, 60 kg, male: (140 - 68) x 60 / (72 x SCr)
/// = 4320 / (72 x SCr) = 60 / SCr. SCr 2 mg/dL (176.8 umol/L / 88.4) gives
/// exactly 30 mL/min; 177 umol/L is 2.0022624 mg/dL, 29.966 mL/min; a woman
/// at 2 mg/dL has 0.85 x 30 = 25.5 mL/min.
#[test]
fn enoxaparin_bounds() {
    assert_cases(
        "enoxaparin",
        &[
            Case {
                id: "ENOX-1MGKG-Q12H",
                regimen: "{drug: enoxaparin, indication: dvt_treatment, patient: {weight: 80 kg, age: 60, sex: male, crcl: 80 mL/min}, course: {phases: [{dose: 1 mg/kg, frequency: every 12 hours, duration: 7 days}]}}",
                verdict: "pass",
                findings: &[],
            },
            // 80 mg at 80 kg = 1 mg/kg; 80080 mcg = 80.08 mg = 1.001 mg/kg.
            Case {
                id: "ENOX-0.08G-BID",
                regimen: "{drug: Lovenox, indication: dvt_treatment, patient: {weight: 80 kg, age: 60, sex: male, crcl: 80 mL/min}, course: {phases: [{dose: 0.08 g, frequency: BID, duration: 7 days}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "ENOX-80080MCG-Q12H",
                regimen: "{drug: enoxaparin, indication: dvt_treatment, patient: {weight: 80 kg, age: 60, sex: male, crcl: 80 mL/min}, course: {phases: [{dose: 80080 mcg, frequency: q12h, duration: 7 days}]}}",
                verdict: "fail",
                findings: &[(TREATMENT, V)],
            },
            // 100 kg = 220.46226218... lb. 100 mg at 220.4622622 lb
            // (100.0000000069 kg) is just under 1 mg/kg; at 220.4622621 lb
            // (99.9999999615 kg) just over.
            Case {
                id: "ENOX-100MG-LB-INSIDE",
                regimen: "{drug: enoxaparin, indication: dvt_treatment, patient: {weight: 220.4622622 lb, age: 60, sex: male, crcl: 80 mL/min}, course: {phases: [{dose: 100 mg, frequency: every 12 hours, duration: 7 days}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "ENOX-100MG-LB-OUTSIDE",
                regimen: "{drug: enoxaparin, indication: dvt_treatment, patient: {weight: 220.4622621 lb, age: 60, sex: male, crcl: 80 mL/min}, course: {phases: [{dose: 100 mg, frequency: every 12 hours, duration: 7 days}]}}",
                verdict: "fail",
                findings: &[(TREATMENT, V)],
            },
            Case {
                id: "ENOX-1.5MGKG-DAILY",
                regimen: "{drug: enoxaparin, indication: dvt_treatment, patient: {weight: 80 kg, age: 60, sex: male, crcl: 80 mL/min}, course: {phases: [{dose: 1.5 mg/kg, frequency: once daily, duration: 7 days}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "ENOX-1.501MGKG-DAILY",
                regimen: "{drug: enoxaparin, indication: dvt_treatment, patient: {weight: 80 kg, age: 60, sex: male, crcl: 80 mL/min}, course: {phases: [{dose: 1.501 mg/kg, frequency: every 24 hours, duration: 7 days}]}}",
                verdict: "fail",
                findings: &[(TREATMENT, V)],
            },
            Case {
                id: "ENOX-Q11H",
                regimen: "{drug: enoxaparin, indication: dvt_treatment, patient: {weight: 80 kg, age: 60, sex: male, crcl: 80 mL/min}, course: {phases: [{dose: 0.8 mg/kg, frequency: every 11 hours, duration: 7 days}]}}",
                verdict: "fail",
                findings: &[(TREATMENT, V)],
            },
            // A template without a weight: per-kg limits checked exactly.
            Case {
                id: "ENOX-TEMPLATE-1MGKG",
                regimen: "{drug: enoxaparin, indication: dvt_treatment, patient: {crcl: 80 mL/min}, course: {phases: [{dose: 1 mg/kg, frequency: every 12 hours, duration: 7 days}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "ENOX-TEMPLATE-1.2MGKG",
                regimen: "{drug: enoxaparin, indication: dvt_treatment, patient: {crcl: 80 mL/min}, course: {phases: [{dose: 1.2 mg/kg, frequency: every 12 hours, duration: 7 days}]}}",
                verdict: "fail",
                findings: &[(TREATMENT, V)],
            },
            // A dose in mg without a weight: the per-kg limits need it.
            Case {
                id: "ENOX-MG-NO-WEIGHT",
                regimen: "{drug: enoxaparin, indication: dvt_treatment, patient: {crcl: 80 mL/min}, course: {phases: [{dose: 80 mg, frequency: every 12 hours, duration: 7 days}]}}",
                verdict: "warn",
                findings: &[(TREATMENT, U)],
            },
            Case {
                id: "ENOX-CRCL-29.999",
                regimen: "{drug: enoxaparin, indication: dvt_treatment, patient: {weight: 80 kg, age: 60, sex: male, crcl: 29.999 mL/min}, course: {phases: [{dose: 1 mg/kg, frequency: every 12 hours, duration: 7 days}]}}",
                verdict: "fail",
                findings: &[(RENAL, V)],
            },
            Case {
                id: "ENOX-CRCL-30",
                regimen: "{drug: enoxaparin, indication: dvt_treatment, patient: {weight: 80 kg, age: 60, sex: male, crcl: 30 mL/min}, course: {phases: [{dose: 1 mg/kg, frequency: every 12 hours, duration: 7 days}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "ENOX-CRCL-20-1MGKG-DAILY",
                regimen: "{drug: enoxaparin, indication: dvt_treatment, patient: {weight: 80 kg, age: 60, sex: male, crcl: 20 mL/min}, course: {phases: [{dose: 1 mg/kg, frequency: once daily, duration: 7 days}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "ENOX-CRCL-20-1.001MGKG-DAILY",
                regimen: "{drug: enoxaparin, indication: dvt_treatment, patient: {weight: 80 kg, age: 60, sex: male, crcl: 20 mL/min}, course: {phases: [{dose: 1.001 mg/kg, frequency: once daily, duration: 7 days}]}}",
                verdict: "fail",
                findings: &[(RENAL, V)],
            },
            // Cockcroft-Gault (see above).
            Case {
                id: "ENOX-CG-2MGDL",
                regimen: "{drug: enoxaparin, indication: dvt_treatment, patient: {weight: 60 kg, age: 68, sex: male, serum_creatinine: 2 mg/dL}, course: {phases: [{dose: 1 mg/kg, frequency: every 12 hours, duration: 7 days}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "ENOX-CG-176.8UMOL",
                regimen: "{drug: enoxaparin, indication: dvt_treatment, patient: {weight: 60 kg, age: 68, sex: male, serum_creatinine: 176.8 umol/L}, course: {phases: [{dose: 1 mg/kg, frequency: every 12 hours, duration: 7 days}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "ENOX-CG-177UMOL",
                regimen: "{drug: enoxaparin, indication: dvt_treatment, patient: {weight: 60 kg, age: 68, sex: male, serum_creatinine: 177 umol/L}, course: {phases: [{dose: 1 mg/kg, frequency: every 12 hours, duration: 7 days}]}}",
                verdict: "fail",
                findings: &[(RENAL, V)],
            },
            Case {
                id: "ENOX-CG-FEMALE",
                regimen: "{drug: enoxaparin, indication: dvt_treatment, patient: {weight: 60 kg, age: 68, sex: female, serum_creatinine: 2 mg/dL}, course: {phases: [{dose: 1 mg/kg, frequency: every 12 hours, duration: 7 days}]}}",
                verdict: "fail",
                findings: &[(RENAL, V)],
            },
            // Sex unknown: no Cockcroft-Gault, so the clearance is unknown;
            // it matters every 12 hours, not at 1 mg/kg once daily.
            Case {
                id: "ENOX-CG-SEX-UNKNOWN",
                regimen: "{drug: enoxaparin, indication: dvt_treatment, patient: {weight: 60 kg, age: 68, sex: unknown, serum_creatinine: 2 mg/dL}, course: {phases: [{dose: 1 mg/kg, frequency: every 12 hours, duration: 7 days}]}}",
                verdict: "warn",
                findings: &[(RENAL, U)],
            },
            Case {
                id: "ENOX-CG-NO-SEX-DAILY",
                regimen: "{drug: enoxaparin, indication: dvt_treatment, patient: {weight: 60 kg, age: 68, serum_creatinine: 2 mg/dL}, course: {phases: [{dose: 1 mg/kg, frequency: once daily, duration: 7 days}]}}",
                verdict: "pass",
                findings: &[],
            },
            // Prophylaxis below 30 mL/min: 30 mg/day at most.
            Case {
                id: "ENOX-PROPH-30MG",
                regimen: "{drug: enoxaparin, indication: vte_prophylaxis, patient: {weight: 80 kg, age: 60, sex: male, crcl: 25 mL/min}, course: {phases: [{dose: 30 mg, frequency: once daily, duration: 10 days}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "ENOX-PROPH-15MG-BID",
                regimen: "{drug: enoxaparin, indication: vte_prophylaxis, patient: {weight: 80 kg, age: 60, sex: male, crcl: 25 mL/min}, course: {phases: [{dose: 15 mg, frequency: 2/day, duration: 10 days}]}}",
                verdict: "pass",
                findings: &[],
            },
            Case {
                id: "ENOX-PROPH-30001MCG",
                regimen: "{drug: enoxaparin, indication: vte_prophylaxis, patient: {weight: 80 kg, age: 60, sex: male, crcl: 25 mL/min}, course: {phases: [{dose: 30001 mcg, frequency: once daily, duration: 10 days}]}}",
                verdict: "fail",
                findings: &[(RENAL, V)],
            },
            Case {
                id: "ENOX-PROPH-40MG-NORMAL",
                regimen: "{drug: enoxaparin, indication: vte_prophylaxis, patient: {weight: 80 kg, age: 60, sex: male, crcl: 80 mL/min}, course: {phases: [{dose: 40 mg, frequency: once daily, duration: 10 days}]}}",
                verdict: "pass",
                findings: &[],
            },
            // No indication: within both limits whatever it is, so only the
            // coverage is unevaluated; 2 mg/kg every 12 hours below 30
            // mL/min leaves both rules unevaluated.
            Case {
                id: "ENOX-NO-INDICATION-1MGKG",
                regimen: "{drug: enoxaparin, patient: {weight: 80 kg, age: 60, sex: male, crcl: 80 mL/min}, course: {phases: [{dose: 1 mg/kg, frequency: every 12 hours, duration: 7 days}]}}",
                verdict: "warn",
                findings: &[(NOT_COVERED, U)],
            },
            Case {
                id: "ENOX-NO-INDICATION-2MGKG-CRCL-20",
                regimen: "{drug: enoxaparin, patient: {weight: 80 kg, age: 60, sex: male, crcl: 20 mL/min}, course: {phases: [{dose: 2 mg/kg, frequency: every 12 hours, duration: 7 days}]}}",
                verdict: "warn",
                findings: &[(TREATMENT, U), (RENAL, U), (NOT_COVERED, U)],
            },
            Case {
                id: "ENOX-OTHER-INDICATION",
                regimen: "{drug: enoxaparin, indication: other, patient: {weight: 80 kg, age: 60, sex: male, crcl: 80 mL/min}, course: {phases: [{dose: 1 mg/kg, frequency: every 12 hours, duration: 7 days}]}}",
                verdict: "warn",
                findings: &[(NOT_COVERED, V)],
            },
        ],
    );
}

/// The unevaluated findings of a missing indication name it.
#[test]
fn a_missing_indication_is_named() {
    let records = check_all(
        "enoxaparin-missing",
        &[(
            "ENOX-NO-INDICATION",
            "{drug: enoxaparin, patient: {weight: 80 kg, age: 60, sex: male, crcl: 20 mL/min}, course: {phases: [{dose: 2 mg/kg, frequency: every 12 hours, duration: 7 days}]}}",
        )],
    );
    let record = &records[0].1;
    for rule in [TREATMENT, RENAL] {
        let finding = record["findings"]
            .as_array()
            .and_then(|all| all.iter().find(|f| f["rule"] == rule))
            .unwrap_or_else(|| panic!("no {rule} finding in {record}"));
        assert_eq!(finding["kind"], U, "{finding}");
        let missing = finding["missing"].to_string();
        assert!(missing.contains("regimen.indication"), "{rule}: {finding}");
    }
}

/// A weight-based isotretinoin template, "0.5 mg/kg/day for 4 weeks, then
/// 1 mg/kg/day", is checked, not refused: without a weight it is never
/// `invalid` and the 2 mg/kg/day maximum is checked exactly, per kg.
#[test]
fn isotretinoin_templates_are_checked_per_kg() {
    let records = check_all(
        "isotretinoin-template",
        &[
            (
                "ISO-TEMPLATE",
                "{drug: isotretinoin, patient: {age: 24, sex: male}, course: {phases: [{daily_dose: 0.5 mg/kg/day, frequency: 2/day, duration: 4 weeks, with_food: true}, {daily_dose: 1 mg/kg/day, frequency: 2/day, duration: 16 weeks, with_food: true}]}}",
            ),
            (
                "ISO-TEMPLATE-2.5",
                "{drug: isotretinoin, patient: {age: 24, sex: male}, course: {phases: [{daily_dose: 2.5 mg/kg/day, frequency: 2/day, duration: 20 weeks, with_food: true}]}}",
            ),
        ],
    );
    let template = &records[0].1;
    assert_ne!(template["verdict"], "invalid", "{template}");
    assert!(
        findings(template)
            .iter()
            .all(|(rule, _)| rule != "isotretinoin.max-daily-dose" && !rule.starts_with("input.")),
        "{template}"
    );
    let high = &records[1].1;
    assert_eq!(high["verdict"], "fail", "{high}");
    assert!(
        findings(high).contains(&("isotretinoin.max-daily-dose".to_owned(), V.to_owned())),
        "{high}"
    );
}
