//! Replays every saved input (`tests/fuzz_regressions/<target>/*`)
//! through the same code paths as the fuzz targets (`fuzz/src/lib.rs`,
//! included below, uses only `rxlint` and `csv`) and checks that each call
//! returns: no panic, and no hang (each input gets a generous time limit).
//!
//! Saved inputs are kept after their bug is fixed, so this test guards
//! against the bug coming back.
//!
//! The `linear_*` tests cover the hangs that no small input shows: work that
//! grows with the square of the input (a 64 MiB file would take hours). Each
//! times a run on an input and on one 8 times larger (fastest of two runs
//! each): linear work takes about 8 times as long, quadratic about 64 times;
//! the test fails above 24.

#[path = "../fuzz/src/lib.rs"]
mod drive;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Far above what any of these inputs needs when the code is right (the fuzz
/// targets run with a 10 s limit in an optimised build).
const LIMIT: Duration = Duration::from_secs(60);

fn inputs(target: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz_regressions")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Runs `drive` on every saved input of `target`; fails listing each input
/// that panicked or did not return in time.
fn replay(target: &str, drive: fn(&[u8])) {
    let mut failures = Vec::new();
    for path in inputs(target) {
        let data = match std::fs::read(&path) {
            Ok(data) => data,
            Err(e) => {
                failures.push(format!("{}: cannot read: {e}", path.display()));
                continue;
            }
        };
        let (tx, rx) = mpsc::channel();
        let name = path.display().to_string();
        std::thread::spawn(move || {
            let result = std::panic::catch_unwind(|| drive(&data));
            let _ = tx.send(result.map_err(|payload| {
                payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_else(|| "(non-text panic payload)".to_owned())
            }));
        });
        match rx.recv_timeout(LIMIT) {
            Ok(Ok(())) => {}
            Ok(Err(message)) => failures.push(format!("{name}: panicked: {message}")),
            Err(mpsc::RecvTimeoutError::Timeout) => {
                failures.push(format!("{name}: did not return within {LIMIT:?}"));
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                failures.push(format!("{name}: the worker thread died"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} input(s) of target `{target}` failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// The text targets skip input that is not UTF-8, as the fuzz targets do.
fn text(f: fn(&str)) -> impl Fn(&[u8]) {
    move |data| {
        if let Ok(s) = std::str::from_utf8(data) {
            f(s);
        }
    }
}

#[test]
fn expression() {
    replay("expression", |d| text(drive::expression)(d));
}

#[test]
fn rules() {
    replay("rules", |d| text(drive::rules)(d));
}

#[test]
fn document() {
    replay("document", |d| text(drive::document)(d));
}

#[test]
fn jsonl() {
    replay("jsonl", |d| text(drive::jsonl)(d));
}

#[test]
fn csv() {
    replay("csv", drive::csv);
}

#[test]
fn fhir() {
    replay("fhir", |d| text(drive::fhir)(d));
}

/// The fastest of three runs of `f`.
fn fastest(f: &dyn Fn()) -> Duration {
    (0..3)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

/// Fails when 8 times the input takes more than 24 times as long.
fn assert_linear(what: &str, n: usize, make: fn(usize) -> String, run: fn(&str)) {
    // One timing at a time: the tests of this file run on parallel
    // threads, and a neighbour's work would land in one timing only.
    static TIMING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _alone = TIMING
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let small = make(n);
    let large = make(8 * n);
    run(&small); // the builtin rules and other lazy statics, once
    let t1 = fastest(&|| run(&small));
    let t8 = fastest(&|| run(&large));
    let ratio = t8.as_secs_f64() / t1.as_secs_f64().max(1e-9);
    assert!(
        ratio < 24.0,
        "{what}: 8 times the input ({} -> {} bytes) took {ratio:.0} times as long \
         ({t1:.2?} -> {t8:.2?}); the work grows with the square of the input",
        small.len(),
        large.len()
    );
}

/// One pretty-printed regimen (about 250 bytes, 11 lines).
fn regimen_json(i: usize) -> String {
    format!(
        r#"{{"id": "R{i}", "drug": "isotretinoin",
 "patient": {{"weight": "70 kg", "age": 24, "sex": "male"}},
 "course": {{"phases": [
   {{"dose": "35 mg", "frequency": "2/day", "duration": "20 weeks", "with_food": true}}
 ]}}}}"#
    )
}

/// `regimens:` with many entries: `document::read_node` numbers each entry's
/// line with `SourceFile::line_col`, which counts from the start of the file.
#[test]
fn linear_regimen_list() {
    assert_linear(
        "reading a `regimens:` list",
        500,
        |n| {
            let items: Vec<String> = (0..n).map(regimen_json).collect();
            format!("{{\"regimens\": [\n{}\n]}}\n", items.join(",\n"))
        },
        |text| {
            let source = rxlint::source::SourceFile::new("big.json", text);
            std::hint::black_box(rxlint::regimen::document::read(
                &source,
                rxlint::regimen::document::Syntax::Json,
                &drive::builtin().vocabulary,
            ));
        },
    );
}

/// Renders every outcome as a JSON line under the default profile.
fn json_lines(regimens: Vec<rxlint::regimen::Regimen>) {
    let set = drive::builtin();
    let Ok(engine) = rxlint::eval::Engine::new(set, "us", false) else {
        panic!("the builtin rules have no `us` profile");
    };
    for regimen in regimens {
        let outcome = engine.evaluate(regimen);
        let mut line = Vec::new();
        rxlint::report::json::line(&outcome, "us", &mut line);
        std::hint::black_box(line);
    }
}

/// Bulk Data ndjson with many lines that are not resources: each gives an
/// invalid record whose source is the whole file, and its report line is
/// counted from the start of the file.
#[test]
fn linear_fhir_ndjson_records() {
    assert_linear(
        "reading and reporting FHIR ndjson",
        1000,
        |n| (0..n).map(|i| format!("{{\"line\": {i}}}\n")).collect(),
        |text| {
            let source: Arc<rxlint::source::SourceFile> =
                rxlint::source::SourceFile::new("bulk.ndjson", text);
            json_lines(rxlint::regimen::fhir::read_export(
                &[source],
                &drive::builtin().vocabulary,
            ));
        },
    );
}

/// The same records drawn for `--format human`: miette asks the source for
/// each label's lines, and `SourceFile::read_span` hands that to `str`'s,
/// which counts lines from the start of the whole file.
#[test]
fn linear_human_report() {
    assert_linear(
        "drawing FHIR ndjson records for --format human",
        250,
        |n| {
            let pad = "x".repeat(100);
            (0..n)
                .map(|i| format!("{{\"line\": {i}, \"pad\": \"{pad}\"}}\n"))
                .collect()
        },
        |text| {
            let source: Arc<rxlint::source::SourceFile> =
                rxlint::source::SourceFile::new("bulk.ndjson", text);
            let set = drive::builtin();
            let Ok(engine) = rxlint::eval::Engine::new(set, "us", false) else {
                panic!("the builtin rules have no `us` profile");
            };
            for regimen in rxlint::regimen::fhir::read_export(&[source], &set.vocabulary) {
                let outcome = engine.evaluate(regimen);
                std::hint::black_box(rxlint::report::human::outcome(
                    &outcome,
                    rxlint::report::human::Style::PLAIN,
                ));
            }
        },
    );
}

/// One JSON object with many distinct keys: `json::node` compares each key
/// with every key before it to refuse duplicates.
#[test]
fn linear_json_object_keys() {
    assert_linear(
        "parsing a JSON object with many keys",
        2000,
        |n| {
            let keys: Vec<String> = (0..n).map(|i| format!("\"k{i}\":{i}")).collect();
            format!("{{{}}}", keys.join(","))
        },
        |text| {
            std::hint::black_box(rxlint::tree::json::parse(text).is_ok());
        },
    );
}
