//! The code paths the fuzz targets drive, shared with the replay test
//! `tests/fuzz_regressions.rs` (which includes this file with `#[path]`), so
//! that a saved input is replayed exactly as the fuzzer ran it.
//!
//! Only `rxlint` and `csv` are used here: no fuzzing dependency.

#![allow(
    dead_code,
    reason = "the replay test and each target use part of this module"
)]

use std::sync::{Arc, OnceLock};

use rxlint::check::{Env, check_condition};
use rxlint::eval::Engine;
use rxlint::regimen::Regimen;
use rxlint::regimen::csv::{Header, Record, build};
use rxlint::regimen::document::{self, Syntax};
use rxlint::regimen::fhir;
use rxlint::report::{human, json};
use rxlint::rules::{RuleSet, load_sources};
use rxlint::source::SourceFile;
use rxlint::syntax::{parse_expression, parse_template};

/// The CSV header of the regimen format (used when the fuzzed header is
/// refused, so that the data rows are still exercised).
pub const CSV_HEADER: &str = "id,drug,weight_kg,age_years,sex,pregnant,childbearing_potential,pregnancy_test,contraception,egfr,renal_impairment,severity,scarring,truncal,start,previous_course_end,dose_mg,daily_dose_mg,frequency_per_day,duration_weeks,with_food";

/// Regimens the `rules` target evaluates with every fuzzed rule set: one
/// complete, one with most facts missing (so `unevaluated` paths run too).
const FIXED_REGIMENS: &[(&str, &str)] = &[
    (
        "fixed-full.yaml",
        "id: RX-FULL
drug: isotretinoin
patient:
  weight: 70 kg
  age: 24
  sex: female
  childbearing_potential: true
  pregnant: false
  pregnancy_test: negative
  contraception: true
  egfr: 45 mL/min/1.73m2
  severity: severe
  scarring: true
  truncal: true
course:
  start: 2026-03-02
  previous_course_end: 2025-01-10
  phases:
    - dose: 80 mg
      frequency: 2/day
      duration: 4 weeks
      with_food: true
    - daily_dose: 70 mg
      frequency: twice daily
      duration: 16 weeks
      with_food: false
",
    ),
    (
        "fixed-sparse.yaml",
        "drug: isotretinoin
course:
  phases:
    - dose: 20 mg
      frequency: 1/day
      duration: 20 weeks
",
    ),
];

/// The shipped rule packs, loaded once.
pub fn builtin() -> &'static RuleSet {
    static SET: OnceLock<RuleSet> = OnceLock::new();
    SET.get_or_init(|| match RuleSet::builtin() {
        Ok(set) => set,
        Err(problems) => panic!("the builtin rules do not load: {problems:?}"),
    })
}

/// Evaluates each regimen with the builtin rules under every profile they
/// define, and renders each outcome as JSON and as human text.
pub fn evaluate_and_render(regimens: Vec<Regimen>) {
    let set = builtin();
    let mut engines = Vec::new();
    for profile in set.profiles() {
        match Engine::new(set, &profile, false) {
            Ok(engine) => engines.push(engine),
            Err(e) => panic!("builtin profile {profile} does not build: {e}"),
        }
    }
    // The strict engine only for the default profile.
    if let Ok(engine) = Engine::new(set, "us", true) {
        engines.push(engine);
    }
    for regimen in regimens {
        let mut rendered_invalid = false;
        for engine in &engines {
            let outcome = engine.evaluate(regimen.clone());
            // An invalid regimen's diagnostics come from the reader and are
            // the same under every engine: draw them once (miette rendering
            // dominates the cost of a run otherwise).
            if outcome.verdict == rxlint::eval::Verdict::Invalid {
                std::hint::black_box(json_line(&outcome, engine.profile()));
                if !rendered_invalid {
                    std::hint::black_box(human::outcome(&outcome, human::Style::PLAIN));
                    rendered_invalid = true;
                }
            } else {
                render(&outcome, engine.profile());
            }
        }
    }
}

fn json_line(outcome: &rxlint::eval::Outcome<'_>, profile: &str) -> Vec<u8> {
    let mut line = Vec::new();
    json::line(outcome, profile, &mut line);
    line
}

fn render(outcome: &rxlint::eval::Outcome<'_>, profile: &str) {
    std::hint::black_box(json_line(outcome, profile));
    std::hint::black_box(human::outcome(outcome, human::Style::PLAIN));
}

/// `expression`: the expression and template parsers, then the type checker.
pub fn expression(text: &str) {
    if let Ok(expr) = parse_expression(text) {
        let vocabulary = &builtin().vocabulary;
        for phase in [true, false] {
            let _ = check_condition(&expr, Env { phase, vocabulary }, &mut Vec::new());
        }
    }
    let _ = parse_template(text);
}

/// `rules`: loads and type-checks one rule file; on success runs its
/// examples (`rxlint rules test`), builds an engine for each profile and
/// evaluates the fixed regimens (renamed to each pack's drug, so that the
/// fuzzed rules do run).
pub fn rules(text: &str) {
    let Ok(set) = load_sources(vec![SourceFile::new("f.yaml", text)]) else {
        return;
    };
    // `rxlint rules test`: the file's own examples and the bound probes.
    std::hint::black_box(rxlint::ruletest::run(&set));
    let mut regimens = Vec::new();
    for (name, text) in FIXED_REGIMENS {
        regimens.extend(document::read(
            &SourceFile::new(*name, *text),
            Syntax::Yaml,
            &set.vocabulary,
        ));
    }
    let mut drugs: Vec<String> = set.packs.iter().map(|p| p.drug.clone()).collect();
    drugs.dedup();
    let mut profiles = set.profiles();
    if profiles.is_empty() {
        profiles.push("us".to_owned());
    }
    for profile in &profiles {
        let Ok(engine) = Engine::new(&set, profile, false) else {
            continue;
        };
        for regimen in &regimens {
            let outcome = engine.evaluate(regimen.clone());
            render(&outcome, profile);
            for drug in &drugs {
                let mut r = regimen.clone();
                if let Some(d) = r.drug.as_mut() {
                    d.value.clone_from(drug);
                }
                render(&engine.evaluate(r), profile);
            }
        }
    }
}

/// `document`: one YAML or JSON regimen document (or a list of them).
pub fn document(text: &str) {
    let source = SourceFile::new("fuzz.yaml", text);
    let vocabulary = &builtin().vocabulary;
    evaluate_and_render(document::read(&source, Syntax::Yaml, vocabulary));
    let source = SourceFile::new("fuzz.json", text);
    evaluate_and_render(document::read(&source, Syntax::Json, vocabulary));
}

/// `jsonl`: JSON Lines, one regimen per line, as the batch reader cuts them.
pub fn jsonl(text: &str) {
    for (i, line) in text.split('\n').enumerate() {
        let line_no = i + 1;
        let line = line.trim_end_matches(['\n', '\r']);
        if line.bytes().all(|b| b.is_ascii_whitespace()) {
            continue;
        }
        let source = SourceFile::at_line("fuzz.jsonl", line, line_no);
        let input = format!("fuzz.jsonl:{line_no}");
        if let Ok(node) = rxlint::tree::json::parse(source.text()) {
            let vocabulary = &builtin().vocabulary;
            evaluate_and_render(document::read_one(
                node,
                &source,
                input.clone(),
                input,
                vocabulary,
            ));
        }
    }
}

/// `csv`: a header row, then data rows grouped by consecutive `id`, as the
/// batch reader does. A refused header is replaced by the standard one so
/// that the rows are still built.
pub fn csv(data: &[u8]) {
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(data);
    let mut record = ::csv::StringRecord::new();
    let header = match reader.read_record(&mut record) {
        Ok(true) => {
            let cells: Vec<String> = record.iter().map(str::to_owned).collect();
            Header::check("fuzz.csv", &cells, &builtin().vocabulary, None).ok()
        }
        _ => None,
    };
    let header = match header {
        Some(h) => h,
        None => {
            let cells: Vec<String> = CSV_HEADER.split(',').map(str::to_owned).collect();
            match Header::check("fuzz.csv", &cells, &builtin().vocabulary, None) {
                Ok(h) => h,
                Err(e) => panic!("the standard header is refused: {e:?}"),
            }
        }
    };
    let mut groups: Vec<Vec<Record>> = Vec::new();
    let mut group: Vec<Record> = Vec::new();
    let mut group_id: Option<String> = None;
    loop {
        match reader.read_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(_) => {
                if !group.is_empty() {
                    groups.push(std::mem::take(&mut group));
                    group_id = None;
                }
                if reader.is_done() {
                    break;
                }
                continue;
            }
        }
        let line = record.position().map_or(0, |p| p.line() as usize);
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let id = header.id_of(record.as_byte_record()).map(str::to_owned);
        let same = id.is_some() && id == group_id && group.len() < rxlint::regimen::MAX_PHASES;
        if !same && !group.is_empty() {
            groups.push(std::mem::take(&mut group));
        }
        group_id = id;
        group.push(Record::new(line, record.clone()));
    }
    if !group.is_empty() {
        groups.push(group);
    }
    let regimens: Vec<Regimen> = groups
        .iter()
        .map(|rows| build(&header, rows, &builtin().vocabulary))
        .collect();
    evaluate_and_render(regimens);
}

/// `fhir`: a FHIR R4 Bundle (or MedicationRequest) and Bulk Data ndjson.
pub fn fhir(text: &str) {
    let source: Arc<SourceFile> = SourceFile::new("fuzz.json", text);
    evaluate_and_render(fhir::read_bundle(&source, &builtin().vocabulary));
    let source: Arc<SourceFile> = SourceFile::new("fuzz.ndjson", text);
    evaluate_and_render(fhir::read_ndjson(&[source], &builtin().vocabulary));
}
