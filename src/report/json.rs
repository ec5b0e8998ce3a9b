//! `--format json`: one JSON object per regimen, in input order (the
//! contract in the README, "Command line").

use serde::Serialize;
use serde_json::value::RawValue;

use super::Shown;
use crate::eval::{Kind, Outcome};

#[derive(Serialize)]
struct Record<'a> {
    id: &'a str,
    input: &'a str,
    drug: Option<&'a str>,
    profile: &'a str,
    verdict: &'static str,
    findings: Vec<FindingRecord<'a>>,
}

#[derive(Serialize)]
struct FindingRecord<'a> {
    rule: Str<'a>,
    severity: &'static str,
    kind: &'static str,
    phase: Option<usize>,
    message: &'a str,
    values: Values<'a>,
    citation: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    missing: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    line: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help: Option<&'a str>,
}

/// A string: text to escape, or a rule's constant already escaped once
/// (a finding's rule id and citation are most of its bytes).
enum Str<'a> {
    Text(&'a str),
    Json(&'a RawValue),
}

impl Serialize for Str<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Str::Text(text) => s.serialize_str(text),
            Str::Json(json) => json.serialize(s),
        }
    }
}

/// A finding's values, written as a JSON object in fact order.
struct Values<'a>(&'a [(&'a str, String)]);

impl Serialize for Values<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (*k, v)))
    }
}

/// The phase a field path such as `course.phases[2].dose` belongs to.
pub(crate) fn phase_of(field: &str) -> Option<usize> {
    let rest = field.strip_prefix("course.phases[")?;
    rest.split(']').next()?.parse().ok()
}

/// Appends one regimen's JSON line, with its newline, to `out`.
pub fn line(outcome: &Outcome<'_>, profile: &str, out: &mut Vec<u8>) {
    line_shown(outcome, profile, &super::shown(outcome), out);
}

/// [`line`], with the findings' messages and values already computed
/// ([`super::shown`]), for a caller that shows them again.
pub fn line_shown(outcome: &Outcome<'_>, profile: &str, shown: &[Shown<'_>], out: &mut Vec<u8>) {
    let r = &outcome.regimen;
    let line_of = |span: Option<crate::source::Span>| {
        r.source
            .as_ref()
            .zip(span)
            .map(|(s, span)| s.line_col(span.start()).0)
    };
    let mut findings = Vec::with_capacity(shown.len());
    let mut shown = shown.iter();
    let mut next = || {
        shown
            .next()
            .map_or(("", &[][..]), |s| (&*s.message, &s.values[..]))
    };
    for p in &outcome.problems {
        let (message, _) = next();
        findings.push(FindingRecord {
            rule: Str::Text(p.code.as_str()),
            severity: p.code.level().as_str(),
            kind: Kind::Violation.as_str(),
            phase: phase_of(&p.field),
            message,
            values: Values(&[]),
            citation: None,
            missing: Vec::new(),
            field: (!p.field.is_empty()).then_some(p.field.as_str()),
            line: line_of(p.span),
            help: p.help.as_deref(),
        });
    }
    for f in &outcome.findings {
        let (message, values) = next();
        let primary = f
            .rule
            .primary
            .or_else(|| f.vocabulary.ordered(f.missing).next());
        findings.push(FindingRecord {
            rule: Str::Json(&f.rule.json_id),
            severity: f.severity.as_str(),
            kind: f.kind.as_str(),
            phase: f.phase,
            message,
            values: Values(values),
            citation: Some(&f.citation.json),
            missing: f
                .vocabulary
                .ordered(f.missing)
                .map(|m| f.vocabulary.info(m).path.as_str())
                .collect(),
            field: None,
            line: line_of(primary.and_then(|p| r.span_of(f.row(), p, f.vocabulary))),
            help: None,
        });
    }
    let record = Record {
        id: &r.id,
        input: &r.input,
        drug: outcome.drug.or(r.drug.as_ref().map(|d| d.value.as_str())),
        profile,
        verdict: outcome.verdict.as_str(),
        findings,
    };
    // Written straight into the batch's buffer: no copy, and no allocation
    // per record once the buffer has grown.
    let start = out.len();
    if let Err(e) = serde_json::to_writer(&mut *out, &record) {
        // Still one line for the record, its message escaped like any other.
        out.truncate(start);
        let error = serde_json::json!({ "error": format!("cannot serialise record: {e}") });
        let _ = serde_json::to_writer(&mut *out, &error);
    }
    out.push(b'\n');
}
