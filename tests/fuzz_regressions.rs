//! Replays every input the fuzzers found (`tests/fuzz_regressions/<target>/*`)
//! through the same code paths as the fuzz targets (`fuzz/src/lib.rs`,
//! included below, uses only `rxlint` and `csv`) and checks that each call
//! returns: no panic, and no hang (each input gets a generous time limit).
//!
//! Saved inputs are kept after their bug is fixed, so this test guards
//! against the bug coming back.

#[path = "../fuzz/src/lib.rs"]
mod drive;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

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
