//! Hostile inputs through the real binary, each with its expected outcome:
//! never a panic, never a hang, every record accounted for, and nothing
//! unreadable ever `pass`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rxlint-hostile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{e}"));
    dir
}

/// Runs `rxlint check --format json ARGS` on `file` holding `bytes`, within
/// a time limit; asserts no crash (exit 0, 1 or 2 only).
fn check(name: &str, bytes: &[u8], args: &[&str]) -> (Output, Vec<Value>) {
    let d = dir(name);
    let path = d.join(name);
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{e}"));
    let start = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_rxlint"))
        .current_dir(&d)
        .args(["check", "--format", "json"])
        .args(args)
        .arg(name)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        start.elapsed() < Duration::from_secs(60),
        "{name}: took {:?}",
        start.elapsed()
    );
    let code = out.status.code();
    assert!(
        matches!(code, Some(0..=2)),
        "{name}: exit {code:?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{name}: {stderr}");
    let records = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{name}: not JSON ({e}): {l}")))
        .collect();
    (out, records)
}

/// Asserts one invalid record whose first finding has `code`.
fn invalid(name: &str, bytes: &[u8], code: &str) {
    let (out, records) = check(name, bytes, &[]);
    assert_eq!(records.len(), 1, "{name}: {records:?}");
    assert_eq!(records[0]["verdict"], "invalid", "{name}: {records:?}");
    let codes: Vec<&str> = records[0]["findings"]
        .as_array()
        .map(|f| f.iter().filter_map(|x| x["rule"].as_str()).collect())
        .unwrap_or_default();
    assert!(
        codes.contains(&code),
        "{name}: expected {code} in {codes:?}"
    );
    assert!(
        codes.iter().all(|c| c.starts_with("input.")),
        "{name}: {codes:?}"
    );
    assert_eq!(out.status.code(), Some(1), "{name}");
}

const GOOD: &str = "drug: isotretinoin\npatient: {weight: 70 kg, age: 24, sex: male}\ncourse:\n  phases: [{dose: 35 mg, frequency: 2/day, duration: 20 weeks, with_food: true}]\n";

fn regimen_with(patient: &str, phase: &str) -> String {
    format!("drug: isotretinoin\npatient: {{{patient}}}\ncourse:\n  phases: [{{{phase}}}]\n")
}

#[test]
fn empty_and_garbage_files() {
    invalid("empty.yaml", b"", "input.not-a-regimen");
    invalid("spaces.yaml", b"   \n\n  ", "input.not-a-regimen");
    invalid("empty.json", b"", "input.syntax");
    let mut random = Vec::new();
    let mut x: u32 = 2_463_534_242;
    for _ in 0..4096 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        random.push(x as u8);
    }
    invalid("random.yaml", &random, "input.not-utf8");
    invalid(
        "latin1.yaml",
        b"drug: isotr\xe9tino\xefn\n",
        "input.not-utf8",
    );
    invalid("text.yaml", b"just some words", "input.not-a-regimen");
}

#[test]
fn yaml_bombs_nesting_and_duplicates() {
    let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 0..9 {
        let prev = if i == 0 {
            "a".to_owned()
        } else {
            format!("l{}", i - 1)
        };
        bomb.push_str(&format!("l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
    }
    invalid("bomb.yaml", bomb.as_bytes(), "input.syntax");
    let deep = format!("drug: {}{}\n", "[".repeat(300_000), "]".repeat(300_000));
    invalid("deep.yaml", deep.as_bytes(), "input.syntax");
    let deep_json = format!("{}{}", "[".repeat(300_000), "]".repeat(300_000));
    invalid("deep.json", deep_json.as_bytes(), "input.syntax");
    invalid(
        "dup.yaml",
        format!("{GOOD}drug: accutane\n").as_bytes(),
        "input.syntax",
    );
}

#[test]
fn huge_strings_are_refused_quickly_and_quoted_short() {
    let huge = regimen_with(
        &format!("weight: {}", "7".repeat(3_000_000)),
        "dose: 35 mg, frequency: 2/day, duration: 20 weeks",
    );
    let (_, records) = check("huge.yaml", huge.as_bytes(), &[]);
    assert_eq!(records[0]["verdict"], "invalid");
    let message = records[0]["findings"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.len() < 300,
        "a 3 MB value flooded the message: {} bytes",
        message.len()
    );
}

#[test]
fn odd_numbers() {
    let cases = [
        ("e400.yaml", "weight: 1e400 kg", "input.invalid-number"),
        ("nan.yaml", "weight: NaN kg", "input.invalid-number"),
        ("neg-zero.yaml", "weight: -0 kg", "input.out-of-range"),
        ("zero.yaml", "weight: 0 kg", "input.out-of-range"),
        ("negative.yaml", "weight: -70 kg", "input.out-of-range"),
        ("too-heavy.yaml", "weight: 701 kg", "input.out-of-range"),
        ("letter-o.yaml", "weight: 7O kg", "input.invalid-number"),
        // A decimal comma, quoted (unquoted, YAML's flow syntax splits it).
        ("comma.yaml", "weight: \"70,5 kg\"", "input.invalid-number"),
    ];
    for (name, patient, code) in cases {
        let text = regimen_with(patient, "dose: 35 mg, frequency: 2/day, duration: 20 weeks");
        invalid(name, text.as_bytes(), code);
    }
    for (name, phase, code) in [
        (
            "zero-dose.yaml",
            "dose: 0 mg, frequency: 2/day, duration: 20 weeks",
            "input.out-of-range",
        ),
        (
            "neg-duration.yaml",
            "dose: 35 mg, frequency: 2/day, duration: -1 weeks",
            "input.out-of-range",
        ),
        (
            "zero-frequency.yaml",
            "dose: 35 mg, frequency: 0/day, duration: 20 weeks",
            "input.out-of-range",
        ),
        (
            "inf-dose.yaml",
            "dose: .inf, frequency: 2/day, duration: 20 weeks",
            "input.syntax",
        ),
    ] {
        let text = regimen_with("weight: 70 kg", phase);
        invalid(name, text.as_bytes(), code);
    }
}

#[test]
fn impossible_dates_and_wrong_types() {
    let text = GOOD.replace("course:\n", "course:\n  start: 2026-02-30\n");
    invalid("feb30.yaml", text.as_bytes(), "input.invalid-date");
    invalid("seventy.yaml", b"drug: isotretinoin\npatient: seventy\ncourse: {phases: [{dose: 35 mg, frequency: 2/day, duration: 20 weeks}]}\n", "input.wrong-type");
    invalid(
        "phases-map.yaml",
        b"drug: isotretinoin\ncourse: {phases: {dose: 35 mg}}\n",
        "input.wrong-type",
    );
    invalid(
        "no-phases.yaml",
        b"drug: isotretinoin\ncourse: {phases: []}\n",
        "input.missing-field",
    );
    invalid(
        "drug-list.yaml",
        b"drug: [a, b]\ncourse: {phases: [{dose: 35 mg, frequency: 2/day, duration: 20 weeks}]}\n",
        "input.wrong-type",
    );
    // An id that is no text or number is said, not replaced in silence by
    // the record's position.
    for (name, id) in [
        ("id-map.yaml", "{a: 1}"),
        ("id-list.yaml", "[1, 2]"),
        ("id-bool.yaml", "true"),
    ] {
        invalid(
            name,
            format!("id: {id}\n{GOOD}").as_bytes(),
            "input.wrong-type",
        );
    }
    let (_, records) = check("id-number.yaml", format!("id: 17\n{GOOD}").as_bytes(), &[]);
    assert_eq!(records[0]["id"], "17");
    assert_ne!(records[0]["verdict"], "invalid", "{records:?}");
}

#[test]
fn ten_thousand_phases_are_refused_with_a_limit() {
    let mut text =
        String::from("drug: isotretinoin\npatient: {weight: 70 kg}\ncourse:\n  phases:\n");
    for _ in 0..10_000 {
        text.push_str("    - {dose: 1 mg, frequency: 1/day, duration: 1 day, with_food: true}\n");
    }
    invalid("many.yaml", text.as_bytes(), "input.too-large");
}

const HEADER: &str = "id,drug,weight_kg,age_years,sex,pregnant,childbearing_potential,pregnancy_test,contraception,egfr,renal_impairment,severity,scarring,truncal,start,previous_course_end,dose_mg,daily_dose_mg,frequency_per_day,duration_weeks,with_food";
const ROW: &str = "R1,isotretinoin,70,24,male,,,,,,,,,,,,35,,2,20,true";

#[test]
fn csv_headers_and_cells() {
    // An unknown column is ignored with a warning: the weight it held is
    // missing, which leaves the rules that need it unevaluated, never a pass.
    let unknown = HEADER.replace("weight_kg", "weight_lbs");
    let (out, records) = check("unknown.csv", format!("{unknown}\n{ROW}\n").as_bytes(), &[]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("1 column is ignored: `weight_lbs`"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let verdicts: Vec<&str> = records
        .iter()
        .filter_map(|r| r["verdict"].as_str())
        .collect();
    assert_eq!(verdicts, ["warn"]);
    for (name, header) in [
        ("missing.csv", HEADER.replace(",duration_weeks", "")),
        ("dup.csv", format!("{HEADER},drug")),
    ] {
        let (out, records) = check(name, format!("{header}\n{ROW}\n").as_bytes(), &[]);
        assert_eq!(out.status.code(), Some(2), "{name}");
        assert!(records.is_empty(), "{name}");
    }
    let body = [
        ROW.to_owned(),
        ROW.replace("R1,isotretinoin,70", "R2,isotretinoin,7O"),
        ROW.replace("R1", "R3") + ",extra",
        ROW.replace("R1", "R4")
            .rsplit_once(',')
            .map_or(String::new(), |(a, _)| a.to_owned()),
        ROW.replace("R1", "R5"),
    ]
    .join("\n");
    let (out, records) = check("cells.csv", format!("{HEADER}\n{body}\n").as_bytes(), &[]);
    let verdicts: Vec<&str> = records
        .iter()
        .filter_map(|r| r["verdict"].as_str())
        .collect();
    assert_eq!(verdicts, ["pass", "invalid", "invalid", "invalid", "pass"]);
    assert_eq!(out.status.code(), Some(1));
    // An empty CSV has no header to check: the tool cannot read it (exit 2).
    let (out, records) = check("empty.csv", b"", &[]);
    assert_eq!((out.status.code(), records.len()), (Some(2), 0));
}

#[test]
fn a_broken_json_line_in_the_middle() {
    let good = r#"{"drug":"isotretinoin","patient":{"weight":"70 kg","age":24,"sex":"male"},"course":{"phases":[{"dose":"35 mg","frequency":"2/day","duration":"20 weeks","with_food":true}]}}"#;
    let mut text = String::new();
    for i in 0..100 {
        if i == 50 {
            text.push_str("{\"drug\": \"isotretinoin\", \"patient\": {\n");
        } else {
            text.push_str(good);
            text.push('\n');
        }
    }
    let (_, records) = check("mid.jsonl", text.as_bytes(), &[]);
    assert_eq!(records.len(), 100);
    assert_eq!(records[50]["verdict"], "invalid");
    assert_eq!(
        records.iter().filter(|r| r["verdict"] == "pass").count(),
        99
    );
}

#[test]
fn fhir_with_missing_references_and_odd_units() {
    let bundle = r#"{"resourceType":"Bundle","type":"collection","entry":[
      {"resource":{"resourceType":"MedicationRequest","id":"mr1","status":"active","intent":"order",
        "subject":{"reference":"Patient/nobody"},
        "medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"6064"}]},
        "dosageInstruction":[{"timing":{"repeat":{"frequency":2,"period":1,"periodUnit":"d","boundsDuration":{"value":20,"unit":"wk","system":"http://unitsofmeasure.org","code":"wk"}}},
          "doseAndRate":[{"doseQuantity":{"value":35,"unit":"furlong","system":"http://unitsofmeasure.org","code":"[fur_us]"}}]}]}}]}"#;
    let (_, records) = check("bundle.json", bundle.as_bytes(), &[]);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["id"], "mr1");
    assert_eq!(records[0]["verdict"], "invalid");
}

#[test]
fn standard_input_that_is_not_what_it_claims() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_rxlint"))
        .args(["check", "--format", "json", "--input-format", "csv", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(b"\x00\x01\x02 not csv at all");
    }
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    assert!(matches!(out.status.code(), Some(1 | 2)), "{:?}", out.status);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    let _ = Path::new(".");
}

/// An id over 256 bytes makes its regimen `invalid` (`input.too-large`) in
/// every reader, and is not echoed; 256 bytes is accepted.
#[test]
fn ids_over_256_bytes_are_too_large_in_every_reader() {
    let long = "X".repeat(257);
    let fine = "Y".repeat(256);
    let doc = |id: &str| format!("id: {id}\n{GOOD}");
    let json_doc = |id: &str| {
        format!(
            r#"{{"id":"{id}","drug":"isotretinoin","patient":{{"weight":"70 kg","age":24,"sex":"male"}},"course":{{"phases":[{{"dose":"35 mg","frequency":"2/day","duration":"20 weeks","with_food":true}}]}}}}"#
        )
    };
    let csv = |id: &str| format!("{HEADER}\n{}\n", ROW.replace("R1", id));
    let fhir = |id: &str| {
        format!(
            r#"{{"resourceType":"Bundle","type":"collection","entry":[{{"resource":{{"resourceType":"MedicationRequest","id":"{id}","status":"active","intent":"order","medicationCodeableConcept":{{"coding":[{{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"6064"}}]}},"dosageInstruction":[{{"timing":{{"repeat":{{"frequency":2,"period":1,"periodUnit":"d","boundsDuration":{{"value":20,"unit":"wk","system":"http://unitsofmeasure.org","code":"wk"}}}}}},"doseAndRate":[{{"doseQuantity":{{"value":35,"unit":"mg","system":"http://unitsofmeasure.org","code":"mg"}}}}]}}]}}}}]}}"#
        )
    };
    let make = |name: &str, id: &str| match name {
        "id.yaml" => doc(id),
        "id.json" | "id.jsonl" => json_doc(id),
        "id.csv" => csv(id),
        _ => fhir(id),
    };
    for name in ["id.yaml", "id.json", "id.jsonl", "id.csv", "bundle.json"] {
        let (_, records) = check(name, make(name, &long).as_bytes(), &[]);
        assert_eq!(records.len(), 1, "{name}");
        let r = &records[0];
        assert_eq!(r["verdict"], "invalid", "{name}: {r}");
        assert_eq!(r["findings"][0]["rule"], "input.too-large", "{name}: {r}");
        assert_eq!(r["findings"][0]["field"], "id", "{name}: {r}");
        assert!(
            !r["id"].as_str().unwrap_or("").contains(&long),
            "{name}: the long id was echoed"
        );
        let (_, records) = check(name, make(name, &fine).as_bytes(), &[]);
        let codes = records[0]["findings"].to_string();
        assert!(!codes.contains("input.too-large"), "{name}: {codes}");
        assert_eq!(records[0]["id"], fine.as_str(), "{name}");
    }
    // A CSV row that cannot be used keeps its own id, unless it is too long.
    let text = format!(
        "{HEADER}\n{}\n",
        ROW.replace("R1", &long).replace("male", "m?le")
    );
    // Latin-1 `é`: a cell that is not UTF-8.
    let bytes: Vec<u8> = text
        .bytes()
        .map(|b| if b == b'?' { 0xe9 } else { b })
        .collect();
    let (_, records) = check("bad-row.csv", &bytes, &[]);
    assert_eq!(records[0]["verdict"], "invalid");
    assert!(!records[0]["id"].as_str().unwrap_or("").contains(&long));
}
