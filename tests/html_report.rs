//! The HTML report through the real binary: the CSP that forbids every
//! request, tiles that equal the summary line, rules that never fired, the
//! same page from `rxlint report` on the JSON Lines, and escaped input.

use std::path::Path;
use std::process::{Command, Output};

fn rxlint(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_rxlint"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap_or_else(|e| panic!("cannot run rxlint: {e}"))
}

fn summary(out: &Output) -> [usize; 5] {
    let err = String::from_utf8_lossy(&out.stderr);
    let line = err
        .lines()
        .find(|l| l.contains(" regimens: "))
        .unwrap_or_else(|| panic!("no summary line: {err}"));
    let n: Vec<usize> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .collect();
    [n[0], n[1], n[2], n[3], n[4]]
}

fn tile(html: &str, verdict: &str) -> usize {
    let at = html
        .find(&format!("data-verdict=\"{verdict}\""))
        .unwrap_or_else(|| panic!("no {verdict} tile"));
    let rest = &html[at..];
    let start = rest.find("class=\"count\">").map(|i| i + 14).unwrap_or(0);
    let end = rest[start..].find('<').map_or(start, |i| start + i);
    rest[start..end].parse().unwrap_or_else(|e| panic!("{e}"))
}

fn page(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn the_report_of_the_examples() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out_path = dir.path().join("report.html");
    let out_arg = out_path.to_string_lossy();
    let run = rxlint(&[
        "check",
        "examples/",
        "--format",
        "html",
        "--output",
        &out_arg,
    ]);
    assert_eq!(
        run.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let html = page(dir.path(), "report.html");
    assert!(html.contains(
        r#"<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">"#
    ));
    // Nothing is loaded from elsewhere.
    for outside in ["src=\"http", "href=\"http", "url(", "@import"] {
        assert!(!html.contains(outside), "{outside}");
    }
    let [total, pass, warn, fail, invalid] = summary(&run);
    assert_eq!(
        [
            tile(&html, "total"),
            tile(&html, "pass"),
            tile(&html, "warn"),
            tile(&html, "fail"),
            tile(&html, "invalid")
        ],
        [total, pass, warn, fail, invalid]
    );
    // A rule in force that no example breaks is listed all the same.
    assert!(html.contains("never fired"));
    assert!(html.contains("<line class=\"limit\" data-value=\"2\""));

    // The same page from the JSON Lines of the same run.
    let json = rxlint(&["check", "examples/", "--format", "json"]);
    let jsonl = dir.path().join("run.jsonl");
    std::fs::write(&jsonl, &json.stdout).unwrap_or_else(|e| panic!("{e}"));
    let again = dir.path().join("again.html");
    let run = rxlint(&[
        "report",
        &jsonl.to_string_lossy(),
        "--output",
        &again.to_string_lossy(),
    ]);
    assert_eq!(summary(&run), [total, pass, warn, fail, invalid]);
    let body = |html: &str| -> String {
        // Provenance differs: the command, its inputs and the time.
        let start = html.find("<h2>Verdicts</h2>").unwrap_or(0);
        html[start..].to_owned()
    };
    assert_eq!(body(&html), body(&page(dir.path(), "again.html")));
}

#[test]
fn input_is_escaped() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let hostile = "<script>alert(1)</script>";
    let record = serde_json::json!({
        "id": hostile,
        "input": format!("{hostile}.yaml:3"),
        "drug": "isotretinoin",
        "profile": "us",
        "verdict": "fail",
        "findings": [{
            "rule": "isotretinoin.max-daily-dose",
            "severity": "error",
            "kind": "violation",
            "phase": 1,
            "message": format!("\"quoted\" & {hostile}"),
            "values": {"daily_dose_per_kg": "3 mg/kg/day", "note": hostile},
            "citation": "x",
            "line": 4
        }, {
            "rule": hostile,
            "severity": "error",
            "kind": "unevaluated",
            "phase": null,
            "message": "m",
            "values": {},
            "citation": null,
            "missing": [hostile]
        }]
    });
    let jsonl = dir.path().join("hostile.jsonl");
    std::fs::write(&jsonl, format!("{record}\n")).unwrap_or_else(|e| panic!("{e}"));
    let out = dir.path().join("r.html");
    let run = rxlint(&[
        "report",
        &jsonl.to_string_lossy(),
        "--output",
        &out.to_string_lossy(),
    ]);
    assert_eq!(
        run.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let html = page(dir.path(), "r.html");
    assert!(!html.contains(hostile), "unescaped input in the page");
    assert!(
        html.contains("&#60;script&#62;alert(1)&#60;/script&#62;")
            || html.contains("&lt;script&gt;alert(1)&lt;/script&gt;")
    );
    // The page's own script is the only one.
    assert_eq!(html.matches("<script").count(), 1);
}
