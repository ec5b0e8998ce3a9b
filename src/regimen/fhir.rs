//! FHIR R4 JSON to [`Regimen`]s.
//!
//! Takes a Bundle (or a single MedicationRequest) in a `.json` file, or Bulk
//! Data `.ndjson` files, and gives one [`Regimen`] per MedicationRequest, in
//! input order. Resources are parsed with spans ([`json::parse`]) and
//! mapped onto a [`Builder`], which validates units, ranges and dates. This
//! module only maps: what it cannot map it leaves absent (a rule that needs
//! it is then `unevaluated`) or reports as an `input.fhir-*` problem naming
//! the FHIR element, which makes the regimen `invalid`. It never guesses.
//!
//! | rxlint field | FHIR R4 source | how |
//! |---|---|---|
//! | `id` | `MedicationRequest.id` | else the input position |
//! | `drug` | `medicationCodeableConcept`, or the Medication of `medicationReference` (`#contained`, `Medication/<id>`, or a Bundle `fullUrl`) | a coding a pack declares for its drug (`codes:`, RxNorm or SNOMED CT) anywhere in the code or the single ingredient -> that drug; else the single ingredient's `text` or first `display`; else `code.text`; else the first coding `display` |
//! | phases | `dosageInstruction[]` | one phase each, ordered by `sequence`; several without `sequence`, or two with the same, are refused (they may run together) |
//! | `dose` | `doseAndRate[].doseQuantity`, or `doseRange.high` | the one `doseAndRate` with a dose (or the one typed `ordered`); `doseRange` gives its upper bound; a dose in units of presentation (`1 {Piece}`, `TAB`) is multiplied by the Medication's single `ingredient.strength` when its denominator is that unit |
//! | `frequency` | `timing.repeat` `frequency` / `period` / `periodUnit` (s, min, h, d, wk) | `N/day` when a whole number per day, `N/week` when a whole number per week; no `frequency` means once per period (FHIR R4); else one dose at each `when` (MORN, CV, ...) or `timeOfDay`; else `timing.code` QD, BID, TID, QID, AM, PM; ranges (`frequencyMax`, `periodMax`), `dayOfWeek`, months and years are refused |
//! | `duration` | `timing.repeat.boundsDuration`, `boundsPeriod` (start..end, inclusive days), or `count` / frequency | bounds and a `count` that disagree are refused; an open `boundsPeriod` or `boundsRange` is refused |
//! | `with_food` | `additionalInstruction` coded as the vocabulary declares for `phase.with_food` (the facts table's FHIR column), `when` (C, CM, CD, CV, PC*: true; AC*: false), and the words of `additionalInstruction.text`, `text`, `patientInstruction` (whole words; "not", "avoid", ... up to four words before a phrase reverses it; "with or without food" says neither) | absent when nothing says, or when they disagree |
//! | `indication` | `reasonCode[]` | the SNOMED CT codes and ICD-10 prefixes (with their exceptions, such as L40.5 psoriatic arthritis under L40 psoriasis) of each indication in `rules/vocabulary.yaml`; any other SNOMED CT or ICD-10 code is another condition; only a concept coded in neither is read by the words of its `text` or a `display`; absent when no reason names one, or reasons name different ones |
//! | `start` | the first phase's `timing.repeat.boundsPeriod.start`, else `authoredOn` | date part |
//! | `sex` | `Patient.gender` of `subject` | |
//! | `age` | `Patient.birthDate` | whole years completed at `start`; a `YYYY-MM` birth date only when that is unambiguous |
//! | `weight` | Observation of the patient with a LOINC code of `patient.weight` | latest `effective[x]` (else `issued`) on or before `start`; UCUM code as the unit (`[lb_av]`); a value with a `comparator` is left absent |
//! | `egfr` | Observation with a LOINC code of `patient.egfr` (value or `component`) | latest on or before `start`; one plain value -> `egfr`; a bound (`>60`) or several values are never taken as a number: if they place renal function in one category, `renal_impairment` is set to it (`<30` -> severe); if they rule out severe impairment (`>60`) nothing is set, which the rules read as not severe; otherwise the regimen is invalid |
//! | `pregnant` | Observation with a LOINC code of `patient.pregnant` | latest on or before `start`; its value coded as the vocabulary declares |
//!
//! Values read from another `.ndjson` file than the MedicationRequest's are
//! located at the request's `subject`, and their messages name their file
//! and line. `doNotPerform: true` and unresolvable references make the
//! regimen invalid.
//!
//! This module holds the entry points and the mapping of one request onto
//! the builder; its parts read what their names say: `index` (the
//! resources and their references), `terminology` (codes, concepts,
//! indications, food texts), `timing` (frequency and duration), `dose`
//! (doses and strengths) and `patient` (Patient and Observations).

mod dose;
mod index;
mod patient;
mod terminology;
pub(crate) use terminology::indication_of;
mod timing;

use std::sync::Arc;

use rust_decimal::Decimal;

use super::{Block, Builder, Given, GivenAt, InputProblem, MAX_PHASES, Regimen};
use crate::codes::InputCode;
use crate::date::Date;
use crate::facts::Fact;
use crate::source::{LineIndex, SourceFile, Span};
use crate::tree::{Node, Value, json};
use crate::units;
use crate::vocabulary::Vocabulary;
use index::{Index, Resource};
use terminology::UCUM;

/// Reads a FHIR R4 Bundle, or a single MedicationRequest, from a `.json`
/// file. Gives one regimen per MedicationRequest, in entry order; a file
/// that cannot be read, or holds no MedicationRequest, gives one invalid
/// regimen saying so.
pub fn read_bundle(source: &Arc<SourceFile>, vocabulary: &Vocabulary) -> Vec<Regimen> {
    let doc = match json::parse(source.text()) {
        Ok(doc) => doc,
        Err(err) => {
            return vec![unreadable(
                source,
                vocabulary,
                0,
                Span::new(0, source.text().len()),
                InputCode::Syntax,
                format!("cannot read this file: {}", err.message),
                err.span,
            )];
        }
    };
    let whole = Span::new(0, source.text().len());
    let kind = doc.get("resourceType").and_then(Node::as_str);
    if !matches!(kind, Some("Bundle" | "MedicationRequest")) {
        let found = kind.map_or_else(|| doc.value.kind().to_owned(), |k| format!("`{k}`"));
        return vec![unreadable(
            source,
            vocabulary,
            0,
            whole,
            InputCode::NotARegimen,
            format!("expected a FHIR Bundle or MedicationRequest, found {found}"),
            doc.span,
        )];
    }
    let lines = LineIndex::new(source.text());
    let sources = std::slice::from_ref(source);
    let mut index = Index::new(sources, "this file");
    index.collect(&doc, 0, &|offset| lines.line_of(offset) + 1, None);
    index.link();
    let regimens: Vec<Regimen> = index
        .requests()
        .map(|r| map(&index, r, vocabulary))
        .collect();
    if regimens.is_empty() {
        return vec![unreadable(
            source,
            vocabulary,
            0,
            whole,
            InputCode::NotARegimen,
            "this Bundle holds no MedicationRequest".into(),
            doc.span,
        )];
    }
    regimens
}

/// Reads the files of a FHIR export together, resolving references across
/// all of them: Bulk Data `.ndjson` (one resource per line) and `.json`
/// files of one resource each (MedicationRequest, Patient, Observation,
/// Medication; other types are ignored). Gives one regimen per
/// MedicationRequest, in file and line order, plus one invalid regimen per
/// line or file that is not a readable resource; one invalid regimen when
/// no file holds a MedicationRequest.
pub fn read_export(sources: &[Arc<SourceFile>], vocabulary: &Vocabulary) -> Vec<Regimen> {
    // Lines of ndjson (file, line, resource), and whole `.json` files.
    let mut nodes: Vec<(usize, usize, Node)> = Vec::new();
    let mut documents: Vec<(usize, Node)> = Vec::new();
    let mut out: Vec<((usize, usize), Regimen)> = Vec::new();
    for (file, source) in sources.iter().enumerate() {
        if !looks_like_ndjson(source.name(), source.text()) {
            let whole = Span::new(0, source.text().len());
            let (code, message, at) = match json::parse(source.text()) {
                Ok(node) if node.get("resourceType").and_then(Node::as_str).is_some() => {
                    documents.push((file, node));
                    continue;
                }
                Ok(node) => (
                    InputCode::NotARegimen,
                    format!(
                        "expected a FHIR resource with `resourceType`, found {}",
                        node.value.kind()
                    ),
                    node.span,
                ),
                Err(err) => (
                    InputCode::Syntax,
                    format!("cannot read this file: {}", err.message),
                    err.span,
                ),
            };
            let line = source.line_col(at.start()).0;
            out.push((
                (file, line),
                unreadable(source, vocabulary, 0, whole, code, message, at),
            ));
            continue;
        }
        let mut offset = 0;
        for (i, raw_line) in source.text().split_inclusive('\n').enumerate() {
            let line = i + 1;
            let start = offset;
            offset += raw_line.len();
            let text = raw_line.trim_end_matches(['\n', '\r']);
            if text.trim().is_empty() {
                continue;
            }
            let span = Span::new(start, start + text.len());
            // A line that is a resource joins the index; any other is one
            // invalid regimen saying why.
            let (code, message, at) = match json::parse(text) {
                Ok(mut node) => {
                    shift(&mut node, start);
                    if node.get("resourceType").and_then(Node::as_str).is_some() {
                        nodes.push((file, line, node));
                        continue;
                    }
                    let message = format!(
                        "expected a FHIR resource with `resourceType`, found {}",
                        node.value.kind()
                    );
                    (InputCode::NotARegimen, message, node.span)
                }
                Err(err) => (
                    InputCode::Syntax,
                    format!("cannot read this line: {}", err.message),
                    err.span.offset(start),
                ),
            };
            out.push((
                (file, line),
                unreadable(source, vocabulary, line, span, code, message, at),
            ));
        }
    }
    let mut index = Index::new(sources, "the FHIR files given");
    for (file, line, node) in &nodes {
        let line = *line;
        index.collect(node, *file, &move |_| line, None);
    }
    let lines: Vec<(usize, LineIndex)> = documents
        .iter()
        .map(|(file, _)| (*file, LineIndex::new(sources[*file].text())))
        .collect();
    for ((file, node), (_, at)) in documents.iter().zip(&lines) {
        index.collect(node, *file, &|offset| at.line_of(offset) + 1, None);
    }
    index.link();
    for r in index.requests() {
        out.push(((r.file, r.line), map(&index, r, vocabulary)));
    }
    if out.is_empty()
        && let Some(source) = sources.first()
    {
        let whole = Span::new(0, source.text().len());
        out.push((
            (0, 0),
            unreadable(
                source,
                vocabulary,
                0,
                whole,
                InputCode::NotARegimen,
                "no MedicationRequest in the FHIR files given".into(),
                whole,
            ),
        ));
    }
    // Stable: the requests of one line keep their order.
    out.sort_by_key(|(at, _)| *at);
    out.into_iter().map(|(_, r)| r).collect()
}

/// Whether FHIR text is Bulk Data ndjson rather than one JSON document: by
/// extension, or else (standard input) because it is not one JSON value.
pub fn looks_like_ndjson(name: &str, text: &str) -> bool {
    if name.ends_with(".ndjson") || name.ends_with(".jsonl") {
        return true;
    }
    if name.ends_with(".json") {
        return false;
    }
    serde_json::from_str::<serde::de::IgnoredAny>(text).is_err()
}

/// One invalid regimen for input that is not a resource at all.
fn unreadable(
    source: &Arc<SourceFile>,
    vocabulary: &Vocabulary,
    line: usize,
    document: Span,
    code: InputCode,
    message: String,
    span: Span,
) -> Regimen {
    let line = if line == 0 {
        source.line_col(span.start()).0
    } else {
        line
    };
    let input = crate::source::position(source.name(), line);
    let mut b = Builder::new(document, vocabulary);
    b.problem(InputProblem {
        code,
        field: String::new(),
        message,
        span: Some(span),
        label: "here".into(),
        help: Some("rxlint reads FHIR R4 Bundles, MedicationRequests and Bulk Data ndjson".into()),
    });
    b.finish(input.clone(), input, Some(source.clone()))
}

/// Moves every span of a tree parsed from one line to its place in the file.
fn shift(node: &mut Node, by: usize) {
    node.span = node.span.offset(by);
    match &mut node.value {
        Value::Seq(items) => items.iter_mut().for_each(|n| shift(n, by)),
        Value::Map(entries) => {
            for (key, value) in entries {
                key.span = key.span.offset(by);
                shift(value, by);
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// Small readers of FHIR JSON.

/// The items of a list, or none.
fn seq(node: Option<&Node>) -> &[Node] {
    match node.map(|n| &n.value) {
        Some(Value::Seq(items)) => items,
        _ => &[],
    }
}

/// A non-empty string.
fn text(node: Option<&Node>) -> Option<&str> {
    node.and_then(Node::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

/// A number, exactly.
fn number(node: Option<&Node>) -> Option<Decimal> {
    match node.map(|n| &n.value) {
        Some(Value::Number(n)) => units::parse_decimal(n),
        _ => None,
    }
}

/// The number as written, for a [`Given::Quantity`].
fn number_text(node: Option<&Node>) -> Option<String> {
    match node.map(|n| &n.value) {
        Some(Value::Number(n) | Value::Str(n)) => Some(n.clone()),
        _ => None,
    }
}

/// The date part of a FHIR date or dateTime, if it is a full date.
fn date_of(node: Option<&Node>) -> Option<Date> {
    let t = text(node)?;
    Date::parse(t.split_once('T').map_or(t, |(d, _)| d)).ok()
}

/// A Quantity's unit: the UCUM code, else the written `unit`.
fn unit_text(q: &Node) -> Option<&str> {
    let code = text(q.get("code"));
    let unit = text(q.get("unit"));
    match text(q.get("system")) {
        None | Some(UCUM) => code.or(unit),
        // A code of another system (a form code, a SNOMED concept) is no UCUM unit.
        Some(_) => unit,
    }
}

/// A string node's text, trimmed.
fn raw_text(node: &Node) -> String {
    node.as_str().unwrap_or("").trim().to_owned()
}

// ---------------------------------------------------------------------------
// One MedicationRequest to one regimen.

/// Maps one MedicationRequest `mr` of `index` to its regimen.
fn map<'a>(index: &Index<'a>, mr: Resource<'a>, vocabulary: &Vocabulary) -> Regimen {
    let input = format!("{}:{}", index.name(mr.file), mr.line);
    let mut m = Mapper {
        index,
        mr,
        b: Builder::new(mr.node.span, vocabulary),
        notes: Vec::new(),
        covered: Vec::new(),
        subject: None,
        medication: None,
    };
    if let Some(id) = mr.node.get("id") {
        m.b.id(GivenAt {
            value: given(id),
            span: Some(id.span),
        });
    }
    if let Some(flag) = mr.node.get("doNotPerform")
        && matches!(flag.value, Value::Bool(true))
    {
        m.report(
            InputCode::FhirUnmapped,
            &mr,
            flag,
            "doNotPerform",
            "this request says the medication must not be given; it is no regimen to check".into(),
            "do not perform",
            None,
        );
    }
    if let Some(subject) = mr.node.get("subject") {
        m.subject = Some(subject.span);
        m.b.patient_block(subject.span);
    }
    m.drug();
    m.indication();
    let start = m.course();
    m.patient(start);
    m.finish(input)
}

/// A scalar as the builder takes it.
fn given(node: &Node) -> Given {
    match &node.value {
        Value::Str(s) => Given::Text(s.clone()),
        Value::Number(n) => Given::Number(n.clone()),
        Value::Bool(b) => Given::Bool(*b),
        Value::NonFinite(n) => Given::NonFinite(n.clone()),
        Value::Null => Given::Null,
        Value::Seq(_) => Given::Other("a list"),
        Value::Map(_) => Given::Other("a mapping"),
    }
}

/// The state of mapping one MedicationRequest onto a [`Builder`].
struct Mapper<'a, 'x> {
    index: &'x Index<'a>,
    mr: Resource<'a>,
    b: Builder<'x>,
    /// Regimen field path -> the FHIR element it was read from, added to the
    /// builder's messages about that field.
    notes: Vec<(String, String)>,
    /// Regimen field paths whose absence has been reported here already.
    covered: Vec<String>,
    /// The request's `subject`, where values from other files are located.
    subject: Option<Span>,
    /// The Medication the request names, once resolved.
    medication: Option<Resource<'a>>,
}

impl<'a> Mapper<'a, '_> {
    /// Where to underline `node` of `res`: itself in the request's file,
    /// else the request's `subject`, which brought the value in.
    fn span(&self, res: &Resource<'_>, node: &Node) -> Option<Span> {
        if res.file == self.mr.file {
            Some(node.span)
        } else {
            self.subject.or(Some(self.mr.node.span))
        }
    }

    /// `Observation.valueQuantity`: the FHIR path of an element.
    fn path(res: &Resource<'_>, element: &str) -> String {
        if element.is_empty() {
            res.kind.to_owned()
        } else {
            format!("{}.{element}", res.kind)
        }
    }

    /// Which resource, for messages: empty for the request itself.
    fn origin(&self, res: &Resource<'_>) -> String {
        if std::ptr::eq(res.node, self.mr.node) {
            return String::new();
        }
        let id = res.id.unwrap_or("(no id)");
        if res.contained {
            return format!("contained {} #{id}", res.kind);
        }
        format!(
            "{}/{id} ({}:{})",
            res.kind,
            self.index.name(res.file),
            res.line
        )
    }

    /// The element for a note: `` `Observation.valueQuantity` of Observation/w1 (f:3) ``.
    fn describe(&self, res: &Resource<'_>, element: &str) -> String {
        let origin = self.origin(res);
        let path = Self::path(res, element);
        if origin.is_empty() {
            format!("`{path}`")
        } else {
            format!("`{path}` of {origin}")
        }
    }

    /// Records a problem with `element` of `res`, underlining `node`.
    #[expect(
        clippy::too_many_arguments,
        reason = "every argument is a distinct part of the problem"
    )]
    fn report(
        &mut self,
        code: InputCode,
        res: &Resource<'_>,
        node: &Node,
        element: &str,
        message: String,
        label: &str,
        help: Option<String>,
    ) {
        let origin = self.origin(res);
        let message = if origin.is_empty() {
            format!("`{}`: {message}", Self::path(res, element))
        } else {
            format!("`{}` of {origin}: {message}", Self::path(res, element))
        };
        self.b.problem(InputProblem {
            code,
            field: Self::path(res, element),
            message,
            span: self.span(res, node),
            label: label.to_owned(),
            help,
        });
    }

    /// Reports an element that cannot be mapped; `covers` is the regimen
    /// field left missing because of it.
    fn unmapped(
        &mut self,
        res: &Resource<'_>,
        node: &Node,
        element: &str,
        message: String,
        covers: Option<String>,
    ) {
        self.report(
            InputCode::FhirUnmapped,
            res,
            node,
            element,
            message,
            "cannot be mapped",
            None,
        );
        self.covered.extend(covers);
    }

    /// Sets a patient or course field from `node` of `res`.
    fn set(&mut self, fact: Fact, res: &Resource<'_>, node: &Node, value: Given, element: &str) {
        let name = match self.b.vocabulary().key_of(fact) {
            Some((Block::Patient, key)) => format!("patient.{key}"),
            Some((Block::Course, key)) => format!("course.{key}"),
            Some((_, key)) => key.to_owned(),
            None => String::new(),
        };
        let span = self.span(res, node);
        self.notes.push((name, self.describe(res, element)));
        self.b.field(fact, GivenAt { value, span });
    }

    /// Sets a field of `phase` from `node`, the request's `element`.
    fn set_phase(&mut self, phase: usize, fact: Fact, node: &Node, value: Given, element: &str) {
        let note = format!("`MedicationRequest.{element}`");
        self.set_phase_noted(phase, fact, node, value, note);
    }

    /// Sets a field of `phase`, with the note for the builder's messages.
    fn set_phase_noted(
        &mut self,
        phase: usize,
        fact: Fact,
        node: &Node,
        value: Given,
        note: String,
    ) {
        let name = self.b.vocabulary().key_of(fact).map_or("?", |(_, k)| k);
        self.notes
            .push((format!("course.phases[{phase}].{name}"), note));
        self.b.phase_field(
            phase,
            fact,
            GivenAt {
                value,
                span: Some(node.span),
            },
        );
    }

    /// Validates through the builder, then names the FHIR element in the
    /// builder's messages and drops its "missing" problems for fields whose
    /// absence was already explained here.
    fn finish(self, input: String) -> Regimen {
        let source = self.index.sources.get(self.mr.file).cloned();
        let mut regimen = self.b.finish(input.clone(), input, source);
        let covered = &self.covered;
        regimen
            .problems
            .retain(|p| !(p.code == InputCode::MissingField && covered.contains(&p.field)));
        for p in &mut regimen.problems {
            if p.code.is_fhir() {
                continue;
            }
            if let Some((_, element)) = self.notes.iter().find(|(f, _)| *f == p.field) {
                p.message.push_str(&format!(" (FHIR {element})"));
            }
        }
        regimen
    }

    /// Maps the dosage instructions to phases and sets the start; gives the
    /// start date, which patient facts are dated against.
    fn course(&mut self) -> Option<Date> {
        let mr = self.mr;
        let list = mr.node.get("dosageInstruction");
        let dosages = seq(list);
        if let Some(list) = list {
            self.b.course_block(list.span);
        }
        let first = if dosages.is_empty() {
            self.unmapped(
                &mr,
                list.unwrap_or(mr.node),
                "dosageInstruction",
                "the request gives no dosage instruction".into(),
                Some("course.phases".into()),
            );
            None
        } else if dosages.len() > MAX_PHASES {
            self.report(
                InputCode::TooLarge,
                &mr,
                list.unwrap_or(mr.node),
                "dosageInstruction",
                format!(
                    "{} dosage instructions; rxlint reads at most {MAX_PHASES}",
                    dosages.len()
                ),
                "too many phases",
                None,
            );
            None
        } else {
            let order = self.order(dosages);
            for &i in &order {
                if let Some(d) = dosages.get(i) {
                    self.phase(i, d);
                }
            }
            order.first().and_then(|&i| dosages.get(i))
        };
        let bounds_start = first
            .and_then(|d| d.get("timing"))
            .and_then(|t| t.get("repeat"))
            .and_then(|r| r.get("boundsPeriod"))
            .and_then(|p| p.get("start"));
        let (node, element) = match bounds_start {
            Some(n) => (
                Some(n),
                "dosageInstruction.timing.repeat.boundsPeriod.start",
            ),
            None => (mr.node.get("authoredOn"), "authoredOn"),
        };
        let node = node?;
        self.set(Fact::START, &mr, node, given(node), element);
        date_of(Some(node))
    }

    /// The order of the dosage instructions: by `sequence`. Several without
    /// one, or two with the same one, may be taken together, which phases
    /// cannot say: that is reported, and array order kept.
    fn order(&mut self, dosages: &[Node]) -> Vec<usize> {
        let mut order: Vec<usize> = (0..dosages.len()).collect();
        if dosages.len() < 2 {
            return order;
        }
        let mr = self.mr;
        let sequence = |i: usize| number(dosages.get(i).and_then(|d| d.get("sequence")));
        if let Some(i) = order.iter().copied().find(|&i| sequence(i).is_none()) {
            let node = dosages.get(i).unwrap_or(mr.node);
            self.unmapped(
                &mr,
                node,
                &format!("dosageInstruction[{i}].sequence"),
                "several dosage instructions and this one has no `sequence`: rxlint cannot tell whether they follow one another or are taken together".into(),
                None,
            );
            return order;
        }
        order.sort_by_key(|&i| sequence(i));
        for pair in order.windows(2) {
            if let [a, b] = *pair
                && sequence(a) == sequence(b)
            {
                let node = dosages.get(b).unwrap_or(mr.node);
                self.unmapped(
                    &mr,
                    node,
                    &format!("dosageInstruction[{b}].sequence"),
                    format!("dosage instructions [{a}] and [{b}] share a `sequence`: they are taken together, which rxlint cannot express as phases"),
                    None,
                );
            }
        }
        order
    }

    /// Maps dosage instruction `i` to the next phase.
    fn phase(&mut self, i: usize, d: &Node) {
        let phase = self.b.phase(d.span);
        let at = format!("dosageInstruction[{i}]");
        // An as-needed order may give no timing: its most a day is in
        // `maxDosePerPeriod`, and without it the daily dose is unknown.
        let as_needed = self.as_needed(phase, &at, d);
        let rate = if as_needed && d.get("timing").is_none() {
            None
        } else {
            self.frequency(phase, &at, d)
        };
        self.dose(phase, &at, d);
        self.duration(phase, &at, d, rate);
        self.with_food(phase, &at, d);
    }
}
