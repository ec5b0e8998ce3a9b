//! `--format github`: GitHub Actions workflow commands, one annotation per
//! finding (`::error file=F,line=L,col=C,title=RULE::message`).
//!
//! The format is a line protocol of GitHub's, not a document; there is no
//! crate for it beyond the escaping rules below.

use super::Entry;
use crate::diagnostic::Level;

/// Escapes a message: `%`, CR and LF.
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value: as [`data`], plus `:` and `,`.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

/// The annotations of one regimen, each ending with a newline.
pub fn lines(entry: &Entry) -> String {
    let mut out = String::new();
    for f in &entry.findings {
        let command = match f.level {
            Level::Error => "error",
            Level::Warning => "warning",
            Level::Info => "notice",
        };
        let (line, col) = f.position.unwrap_or((entry.line, 1));
        out.push_str(&format!(
            "::{command} file={},line={line},col={col},title={}::{}: {}\n",
            property(&entry.file),
            property(&f.rule),
            data(&entry.id),
            data(&f.message)
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::Verdict;
    use crate::report::EntryFinding;

    #[test]
    fn escapes_per_the_protocol() {
        let entry = Entry {
            id: "RX-1".into(),
            file: "a,b.yaml".into(),
            line: 3,
            verdict: Verdict::Fail,
            findings: vec![EntryFinding {
                rule: "x.y".into(),
                level: Level::Error,
                kind: "violation",
                message: "100% wrong\nreally".into(),
                help: None,
                position: Some((4, 7)),
            }],
        };
        assert_eq!(
            lines(&entry),
            "::error file=a%2Cb.yaml,line=4,col=7,title=x.y::RX-1: 100%25 wrong%0Areally\n"
        );
    }
}
