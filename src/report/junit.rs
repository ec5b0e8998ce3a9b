//! `--format junit`: JUnit XML built with quick-junit: one test suite per
//! input file, one test case per regimen; `fail` and `invalid` regimens are
//! failures carrying their findings, warnings are written to system-out.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::Entry;
use crate::eval::Verdict;

/// A JUnit report under construction.
#[derive(Default)]
pub struct Junit {
    suites: Vec<TestSuite>,
}

impl Junit {
    /// Adds one regimen as a test case of its file's suite.
    pub fn add(&mut self, entry: &Entry) {
        let suite = match self
            .suites
            .iter()
            .position(|s| s.name.as_str() == entry.file)
        {
            Some(i) => &mut self.suites[i],
            None => {
                self.suites.push(TestSuite::new(entry.file.clone()));
                let last = self.suites.len() - 1;
                &mut self.suites[last]
            }
        };
        let details: Vec<String> = entry
            .findings
            .iter()
            .map(|f| {
                let at = f
                    .position
                    .map_or_else(String::new, |(l, c)| format!(" at {}:{l}:{c}", entry.file));
                format!(
                    "[{}] {} ({}){at}: {}",
                    level_name(f.level),
                    f.rule,
                    f.kind,
                    f.message
                )
            })
            .collect();
        let status = match entry.verdict {
            Verdict::Fail | Verdict::Invalid => {
                let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
                let first = entry
                    .findings
                    .iter()
                    .find(|f| f.level == crate::diagnostic::Level::Error)
                    .or(entry.findings.first());
                if let TestCaseStatus::NonSuccess {
                    message,
                    ty,
                    description,
                    ..
                } = &mut status
                {
                    *message = first.map(|f| format!("{}: {}", f.rule, f.message).into());
                    *ty = Some(entry.verdict.as_str().into());
                    *description = Some(details.join("\n").into());
                }
                status
            }
            Verdict::Pass | Verdict::Warn => TestCaseStatus::success(),
        };
        let mut case = TestCase::new(entry.id.clone(), status);
        case.set_classname(format!("{}:{}", entry.file, entry.line));
        if entry.verdict == Verdict::Warn {
            case.set_system_out(details.join("\n"));
        }
        suite.add_test_case(case);
    }

    /// The finished XML.
    pub fn finish(self) -> String {
        let mut report = Report::new("rxlint");
        report.add_test_suites(self.suites);
        report
            .to_string()
            .unwrap_or_else(|e| format!("<!-- cannot serialise JUnit: {e} -->"))
    }
}

fn level_name(level: crate::diagnostic::Level) -> &'static str {
    match level {
        crate::diagnostic::Level::Error => "error",
        crate::diagnostic::Level::Warning => "warning",
        crate::diagnostic::Level::Info => "info",
    }
}
