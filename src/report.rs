//! Outcomes to output: JSON Lines (the machine contract) and human
//! compiler-style diagnostics.

pub mod arrow;
pub mod csv;
pub mod github;
pub mod html;
pub mod human;
pub mod json;
pub mod junit;
pub mod sarif;

use std::borrow::Cow;

use crate::diagnostic::{Diagnostic, Label, Level};
use crate::eval::{Finding, Kind, Outcome, Verdict};
use crate::facts::Fact;
use crate::regimen::{InputProblem, Regimen};
use crate::vocabulary::Vocabulary;

/// Counts of verdicts over a run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Regimens with verdict pass.
    pub pass: usize,
    /// ... warn.
    pub warn: usize,
    /// ... fail.
    pub fail: usize,
    /// ... invalid.
    pub invalid: usize,
}

impl Summary {
    /// Counts one verdict.
    pub fn add(&mut self, verdict: Verdict) {
        match verdict {
            Verdict::Pass => self.pass += 1,
            Verdict::Warn => self.warn += 1,
            Verdict::Fail => self.fail += 1,
            Verdict::Invalid => self.invalid += 1,
        }
    }

    /// Total regimens.
    pub fn total(&self) -> usize {
        self.pass + self.warn + self.fail + self.invalid
    }

    /// The closing line: `N regimens: P pass, W warn, F fail, I invalid`.
    pub fn line(&self) -> String {
        // The contract's wording, even for one: scripts match it literally.
        let noun = "regimens";
        format!(
            "{} {noun}: {} pass, {} warn, {} fail, {} invalid",
            self.total(),
            self.pass,
            self.warn,
            self.fail,
            self.invalid
        )
    }
}

/// An input problem as a diagnostic pointing into the regimen's own text.
pub fn problem_diagnostic(regimen: &Regimen, problem: &InputProblem) -> Diagnostic {
    let mut d = Diagnostic::new(
        problem.code.as_str(),
        problem.code.level(),
        problem.message.clone(),
    );
    if let (Some(source), Some(span)) = (&regimen.source, problem.span) {
        d = d.at(source, span, problem.label.clone());
    }
    d.help = problem.help.clone();
    d
}

/// A rule finding as a diagnostic: the offending field underlined with its
/// computed value, the other facts the rule read labelled, help and citation.
pub fn finding_diagnostic(regimen: &Regimen, finding: &Finding<'_>) -> Diagnostic {
    let rule = finding.rule;
    let row = finding.row();
    let mut d = Diagnostic::new(
        rule.id.clone(),
        finding.severity.level(),
        finding.message(regimen),
    );
    let mut labels: Vec<Label> = Vec::new();
    let push = |labels: &mut Vec<Label>, span, text: String| {
        if !labels.iter().any(|l: &Label| l.span == span) {
            labels.push(Label { span, text });
        }
    };
    let vocabulary = finding.vocabulary;
    match finding.kind {
        Kind::Unevaluated => {
            for fact in vocabulary.ordered(finding.missing) {
                if let Some(span) = regimen.span_of(row, fact, vocabulary) {
                    push(
                        &mut labels,
                        span,
                        format!("no {} given", vocabulary.info(fact).name()),
                    );
                }
            }
        }
        Kind::Violation => {
            let read: Vec<Fact> = rule
                .primary
                .into_iter()
                .chain(rule.reads.iter().copied())
                .collect();
            let order = read
                .iter()
                .copied()
                .chain(read.iter().flat_map(|f| explained_by(*f, vocabulary)));
            for fact in order {
                let value = regimen.get(row, fact);
                let span = regimen
                    .spans
                    .get(row)
                    .and_then(|r| r.get(fact.index()).copied().flatten());
                if let (Some(v), Some(span)) = (value, span) {
                    push(
                        &mut labels,
                        span,
                        format!(
                            "{} {}",
                            vocabulary.info(fact).name(),
                            vocabulary.show(fact, v)
                        ),
                    );
                }
            }
        }
    }
    // A finding that reads no fact (a product without its own rules here,
    // no rule applied) is about what the regimen names.
    if labels.is_empty() {
        match regimen.product.as_ref().or(regimen.drug.as_ref()) {
            Some(name) => push(&mut labels, name.span, name.value.clone()),
            None => push(&mut labels, regimen.anchors.document, "this regimen".into()),
        }
    }
    if let Some(source) = &regimen.source {
        d.source = Some(source.clone());
        d.labels = labels;
    }
    let c = finding.citation;
    d.help = Some(format!(
        "{}\nsource: {}: \"{}\"",
        rule.help, c.short, c.quote
    ));
    d
}

/// The facts labelled beside `fact` so that a reader sees why it is what
/// it is: those the vocabulary says it is shown with, then the recorded
/// inputs it is derived from (`patient.weight` for a dose per kg).
fn explained_by(fact: Fact, vocabulary: &Vocabulary) -> impl Iterator<Item = Fact> + '_ {
    let info = vocabulary.info(fact);
    let shown = &info.shown_with;
    let inputs: &[Fact] = if shown.is_empty() { &info.inputs } else { &[] };
    shown.iter().chain(inputs).copied()
}

/// Every diagnostic of an outcome, input problems first.
pub fn diagnostics(outcome: &Outcome<'_>) -> Vec<Diagnostic> {
    let r = &outcome.regimen;
    outcome
        .problems
        .iter()
        .map(|p| problem_diagnostic(r, p))
        .chain(outcome.findings.iter().map(|f| finding_diagnostic(r, f)))
        .collect()
}

/// One regimen's outcome, owned and format-neutral, for the report formats
/// that are whole documents (SARIF, JUnit) or one line per finding (GitHub).
#[derive(Clone, Debug)]
pub struct Entry {
    /// Regimen id.
    pub id: String,
    /// The input file (`-` for standard input).
    pub file: String,
    /// Line of the regimen in the file.
    pub line: usize,
    /// Verdict.
    pub verdict: Verdict,
    /// Findings, input problems first.
    pub findings: Vec<EntryFinding>,
}

/// One finding of an [`Entry`].
#[derive(Clone, Debug)]
pub struct EntryFinding {
    /// Rule id or `input.*` code.
    pub rule: String,
    /// Severity.
    pub level: Level,
    /// `violation` or `unevaluated`.
    pub kind: &'static str,
    /// The message, with computed values.
    pub message: String,
    /// Help and citation, when there are.
    pub help: Option<String>,
    /// 1-based line and column in the file.
    pub position: Option<(usize, usize)>,
}

/// What a finding shows that is computed from the regimen: its message
/// and its values. Computed once per finding, for the formats that show
/// both its JSON and its table row (the Arrow and Parquet results).
#[derive(Clone, Debug, PartialEq)]
pub struct Shown<'a> {
    /// The message, with computed values.
    pub message: Cow<'a, str>,
    /// The present facts the rule read, shown with their units, by name.
    pub values: Vec<(&'a str, String)>,
}

/// The findings of an outcome as [`Shown`], input problems first.
pub fn shown<'a>(outcome: &'a Outcome<'_>) -> Vec<Shown<'a>> {
    let r = &outcome.regimen;
    let problems = outcome.problems.iter().map(|p| Shown {
        message: Cow::Borrowed(p.message.as_str()),
        values: Vec::new(),
    });
    let findings = outcome.findings.iter().map(|f| Shown {
        message: Cow::Owned(f.message(r)),
        values: f.values(r),
    });
    problems.chain(findings).collect()
}

/// One finding as a row of a table (`--format csv`, the Arrow and Parquet
/// results): input problems first, then rule findings, each flat.
#[derive(Clone, Debug, PartialEq)]
pub struct FindingRow<'a> {
    /// Rule id or `input.*` code.
    pub rule: &'a str,
    /// `error`, `warning` or `info`.
    pub severity: &'static str,
    /// `violation` or `unevaluated`.
    pub kind: &'static str,
    /// 1-based phase, for per-phase findings and phase fields.
    pub phase: Option<usize>,
    /// The message, with computed values.
    pub message: &'a str,
    /// The values shown, `fact=value; ...`.
    pub values: String,
    /// The citation, for rule findings.
    pub citation: Option<&'a str>,
}

/// The findings of an outcome as rows, input problems first, from their
/// [`shown`] parts.
pub fn finding_rows<'a>(outcome: &'a Outcome<'_>, shown: &'a [Shown<'a>]) -> Vec<FindingRow<'a>> {
    let problems = outcome.problems.iter().map(|p| {
        (
            p.code.as_str(),
            p.code.level().as_str(),
            Kind::Violation.as_str(),
            json::phase_of(&p.field),
            None,
        )
    });
    let findings = outcome.findings.iter().map(|f| {
        (
            f.rule.id.as_str(),
            f.severity.as_str(),
            f.kind.as_str(),
            f.phase,
            Some(f.citation.short.as_str()),
        )
    });
    problems
        .chain(findings)
        .zip(shown)
        .map(|((rule, severity, kind, phase, citation), shown)| {
            let mut values = String::new();
            for (k, v) in &shown.values {
                if !values.is_empty() {
                    values.push_str("; ");
                }
                values.push_str(k);
                values.push('=');
                values.push_str(v);
            }
            FindingRow {
                rule,
                severity,
                kind,
                phase,
                message: &shown.message,
                values,
                citation,
            }
        })
        .collect()
}

/// The format-neutral summary of an outcome.
pub fn entry(outcome: &Outcome<'_>) -> Entry {
    let r = &outcome.regimen;
    let (file, line) = match r.input.rsplit_once(':') {
        Some((file, line)) => (file.to_owned(), line.parse().unwrap_or(1)),
        None => (r.input.clone(), 1),
    };
    let findings = diagnostics(outcome)
        .into_iter()
        .zip(
            outcome
                .problems
                .iter()
                .map(|_| "violation")
                .chain(outcome.findings.iter().map(|f| f.kind.as_str())),
        )
        .map(|(d, kind)| EntryFinding {
            position: d.line_col(),
            rule: d.code,
            level: d.level,
            kind,
            message: d.message,
            help: d.help,
        })
        .collect();
    Entry {
        id: r.id.clone(),
        file,
        line,
        verdict: outcome.verdict,
        findings,
    }
}
