//! Golden tests: the rendered output of the real binary, byte for byte.
//!
//! `tests/golden/check/NAME.{yaml,json}` is checked with `rxlint check` (extra
//! arguments on a first line `# args: ...`) and must match `NAME.out`;
//! `tests/golden/rules/CASE/` is linted with `rxlint rules lint` and must
//! match `CASE.out`. An input without an expected file fails; run with
//! `RXLINT_BLESS=1` to write the expected files, then review the diff.

use std::path::{Path, PathBuf};
use std::process::Command;

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
