//! Golden tests: the rendered output of the real binary, byte for byte.
//!
//! `tests/golden/check/NAME.{yaml,json}` is checked with `rxlint check` (extra
//! arguments on a first line `# args: ...`) and must match `NAME.out`;
//! `tests/golden/rules/CASE/` is linted with `rxlint rules lint` and must
//! match `CASE.out`.
//!
//! `tests/golden/codes/` holds one case per diagnostic code, named by the
//! code (`input.missing-unit.yaml`, `rules.unit-mismatch/`, and
//! `CODE--VARIANT` for more than one): every code of the registry must have
//! a case whose output shows it, unless [`UNREACHABLE`] says why none can.
//! `tests/golden/packs/` holds one case per shipped pack, named by the pack.
//! In both, a file case is run with `rxlint check FILE` and a directory with
//! `rxlint rules lint DIR`, unless `CASE.args` gives the arguments (a case
//! may be only an `.args` file); YAML, JSON Lines, CSV and FHIR inputs are
//! all cases.
//!
//! An input without an expected file fails; run with `RXLINT_BLESS=1` to
//! write the expected files, then review the diff.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use rxlint::codes::AnyCode;
use rxlint::rules::RuleSet;

/// Codes that no input given to the binary can produce, and why.
const UNREACHABLE: &[(&str, &str)] = &[(
    "rules.duplicate-key",
    "the YAML reader (serde-saphyr) refuses a duplicate key itself, as \
     rules.yaml-syntax, before the loader's own check could see one; and a \
     `<<` merge key that repeats a key is resolved by the reader",
)];

fn run(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_rxlint"))
        .current_dir(dir)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run rxlint: {e}"));
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !stderr.is_empty() {
        text.push_str("--- stderr\n");
        text.push_str(&stderr);
    }
    text.push_str(&format!("--- exit {}\n", out.status.code().unwrap_or(-1)));
    text
}

fn compare(expected: &Path, actual: &str, failures: &mut Vec<String>) {
    if std::env::var_os("RXLINT_BLESS").is_some() {
        std::fs::write(expected, actual)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", expected.display()));
        return;
    }
    match std::fs::read_to_string(expected) {
        Ok(want) if want == actual => {}
        Ok(want) => failures.push(format!(
            "{} differs:\n--- expected\n{want}\n--- actual\n{actual}",
            expected.display()
        )),
        Err(_) => failures.push(format!(
            "{} is missing; actual output:\n{actual}",
            expected.display()
        )),
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

#[test]
fn check_outputs_match() {
    let dir = root().join("check");
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "json"))
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 20, "the golden inputs went missing");
    let mut failures = Vec::new();
    for input in inputs {
        let name = input
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let text = std::fs::read_to_string(&input).unwrap_or_default();
        let mut args = vec!["check".to_owned()];
        if let Some(extra) = text.lines().next().and_then(|l| l.strip_prefix("# args:")) {
            args.extend(extra.split_whitespace().map(str::to_owned));
        }
        args.push(name.clone());
        let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let actual = run(&dir, &arg_refs);
        compare(&input.with_extension("out"), &actual, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn rule_file_errors_match() {
    let dir = root().join("rules");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    cases.sort();
    assert!(cases.len() >= 6, "the golden rule cases went missing");
    let mut failures = Vec::new();
    for case in cases {
        let name = case
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let actual = run(&dir, &["rules", "lint", &name]);
        compare(&dir.join(format!("{name}.out")), &actual, &mut failures);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The cases of a golden directory: name to the arguments that run it.
fn cases(dir: &Path) -> BTreeMap<String, Vec<String>> {
    let mut cases = BTreeMap::new();
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let (case, default) = if path.is_dir() {
            (
                name.clone(),
                ["rules", "lint", &name].map(String::from).to_vec(),
            )
        } else {
            let Some((stem, ext)) = name.rsplit_once('.') else {
                continue;
            };
            match ext {
                "out" => continue,
                "args" => (stem.to_owned(), Vec::new()),
                _ => (stem.to_owned(), vec!["check".to_owned(), name.clone()]),
            }
        };
        let args = match std::fs::read_to_string(dir.join(format!("{case}.args"))) {
            Ok(text) => text.split_whitespace().map(str::to_owned).collect(),
            Err(_) => default,
        };
        cases.insert(case, args);
    }
    cases
}

/// Runs every case of a golden directory against its expected output;
/// gives each case's output.
fn run_cases(dir: &Path) -> BTreeMap<String, String> {
    let mut failures = Vec::new();
    let mut outputs = BTreeMap::new();
    let cases = cases(dir);
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{e}")) {
        let name = entry.map(|e| e.file_name()).unwrap_or_default();
        let name = name.to_string_lossy();
        if let Some(case) = name.strip_suffix(".out")
            && !cases.contains_key(case)
        {
            failures.push(format!("{name} is left from a case that is gone"));
        }
    }
    for (case, args) in cases {
        assert!(!args.is_empty(), "{case}: no input and no arguments");
        let arg_refs: Vec<&str> = args.iter().map(String::as_str).collect();
        let actual = run(dir, &arg_refs);
        compare(&dir.join(format!("{case}.out")), &actual, &mut failures);
        outputs.insert(case, actual);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    outputs
}

/// Whether a rendered report shows `code`: as the code line of a human
/// diagnostic (`input.missing-unit`, or `CODE: message` without a source)
/// or as a JSON finding's rule.
fn shows(output: &str, code: &str) -> bool {
    output.lines().any(|l| {
        l == code
            || l.strip_prefix(code)
                .is_some_and(|rest| rest.starts_with(": "))
            || l.contains(&format!("\"rule\":\"{code}\""))
    })
}

#[test]
fn every_code_has_a_golden_case_that_produces_it() {
    let outputs = run_cases(&root().join("codes"));
    let mut problems = Vec::new();
    for (case, output) in &outputs {
        let code = case.split("--").next().unwrap_or(case);
        if code.parse::<AnyCode>().is_err() {
            problems.push(format!("{case}: `{code}` is not a code of the registry"));
        } else if !shows(output, code) {
            problems.push(format!(
                "{case}: the output does not show {code}:\n{output}"
            ));
        }
    }
    for code in AnyCode::all().map(AnyCode::as_str) {
        let reason = UNREACHABLE.iter().find(|(c, _)| *c == code);
        let cased = outputs
            .keys()
            .any(|c| c == code || c.strip_prefix(code).is_some_and(|r| r.starts_with("--")));
        match (cased, reason) {
            (false, None) => problems.push(format!(
                "{code} has no golden case: add tests/golden/codes/{code}.yaml (or a directory, \
                 or .args) and bless it"
            )),
            (true, Some(_)) => {
                problems.push(format!("{code} has a golden case: take it off UNREACHABLE"))
            }
            _ => {}
        }
    }
    for (code, _) in UNREACHABLE {
        assert!(code.parse::<AnyCode>().is_ok(), "{code} is not a code");
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
}

#[test]
fn every_shipped_pack_has_a_golden_case() {
    let outputs = run_cases(&root().join("packs"));
    let set = RuleSet::builtin().unwrap_or_else(|e| panic!("the shipped packs do not load: {e:?}"));
    for pack in &set.packs {
        assert!(
            outputs.contains_key(&pack.name),
            "pack {} has no golden case tests/golden/packs/{}.*",
            pack.name,
            pack.name
        );
    }
    assert_eq!(
        outputs.len(),
        set.packs.len(),
        "a pack golden names no pack"
    );
}
