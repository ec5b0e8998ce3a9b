//! The repository is self-contained: a clone with nothing beside it builds,
//! tests and cites its sources. Nothing that `cargo test` compiles or reads,
//! and no rule pack, may reach outside the clone (the project's shared
//! folder exists on the developers' machines and in CI, not on a user's).

use std::path::{Path, PathBuf};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e == "rs" || e == "yaml" || e == "yml")
        {
            out.push(path);
        }
    }
}

#[test]
fn nothing_reads_outside_the_clone() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = vec![root.join("build.rs")];
    for dir in ["src", "tests", "rules"] {
        files(&root.join(dir), &mut all);
    }
    // Spelled in pieces so that this file does not match itself.
    let outside = [
        ["..", "/shared"].concat(),
        ["shared/", "sources/"].concat(),
        ["shared/", "data/"].concat(),
    ];
    let mut offenders = Vec::new();
    for path in &all {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        for (n, line) in text.lines().enumerate() {
            if outside.iter().any(|o| line.contains(o.as_str())) {
                offenders.push(format!("{}:{}: {}", path.display(), n + 1, line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "reads outside the clone:\n{}",
        offenders.join("\n")
    );
    assert!(all.len() > 50, "only {} files scanned", all.len());
}
