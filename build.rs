//! Embeds every rule file under `rules/` into the binary, so that `rxlint
//! check` runs from any directory and a new drug needs a new file, not code.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml")
            // The vocabulary is not a pack: `src/vocabulary.rs` includes it.
            && path.file_name().is_none_or(|n| n != "vocabulary.yaml")
        {
            out.push(path);
        }
    }
}

fn main() {
    println!("cargo::rerun-if-changed=rules");
    println!("cargo::rerun-if-changed=rules/vocabulary.yaml");
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let mut files = Vec::new();
    collect(&root.join("rules"), &mut files);
    files.sort();
    let mut code = String::from(
        "/// Shipped rule files: (path, text).\npub static FILES: &[(&str, &str)] = &[\n",
    );
    for file in &files {
        println!("cargo::rerun-if-changed={}", file.display());
        let rel = file.strip_prefix(&root).unwrap_or(file);
        let _ = writeln!(
            code,
            "    ({:?}, include_str!({:?})),",
            rel.display().to_string(),
            file.display().to_string()
        );
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap_or_default()).join("builtin_rules.rs");
    if let Err(e) = std::fs::write(&out, code) {
        println!("cargo::error=cannot write {}: {e}", out.display());
    }
}
