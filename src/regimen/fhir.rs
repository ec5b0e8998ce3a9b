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
//! | `drug` | `medicationCodeableConcept`, or the Medication of `medicationReference` (`#contained`, `Medication/<id>`, or a Bundle `fullUrl`) | RxNorm 6064 or SNOMED 387208003 anywhere in the code or the single ingredient -> `isotretinoin`; else the single ingredient's `text` or first `display`; else `code.text`; else the first coding `display` |
//! | phases | `dosageInstruction[]` | one phase each, ordered by `sequence`; several without `sequence`, or two with the same, are refused (they may run together) |
//! | `dose` | `doseAndRate[].doseQuantity`, or `doseRange.high` | the one `doseAndRate` with a dose (or the one typed `ordered`); `doseRange` gives its upper bound; a dose in units of presentation (`1 {Piece}`, `TAB`) is multiplied by the Medication's single `ingredient.strength` when its denominator is that unit |
//! | `frequency` | `timing.repeat` `frequency` / `period` / `periodUnit` (s, min, h, d, wk) | `N/day` when a whole number per day, `N/week` when a whole number per week; no `frequency` means once per period (FHIR R4); else one dose at each `when` (MORN, CV, ...) or `timeOfDay`; else `timing.code` QD, BID, TID, QID, AM, PM; ranges (`frequencyMax`, `periodMax`), `dayOfWeek`, months and years are refused |
//! | `duration` | `timing.repeat.boundsDuration`, `boundsPeriod` (start..end, inclusive days), or `count` / frequency | bounds and a `count` that disagree are refused; an open `boundsPeriod` or `boundsRange` is refused |
//! | `with_food` | `additionalInstruction` (SNOMED 311504000 with or after food: true; 311501008 before food: false), `when` (C, CM, CD, CV, PC*: true; AC*: false), and the words of `additionalInstruction.text`, `text`, `patientInstruction` (whole words; "not", "avoid", ... up to four words before a phrase reverses it; "with or without food" says neither) | absent when nothing says, or when they disagree |
//! | `indication` | `reasonCode[]` | SNOMED CT 11381005 acne, 69896004 rheumatoid arthritis, 9014002 psoriasis, 44054006 type 2 diabetes; ICD-10 L70, M05/M06 (not M06.1 or M06.4), L40 (not L40.5, psoriatic arthritis), E11; any other SNOMED CT or ICD-10 code is another condition; only a concept coded in neither is read by the words of its `text` or a `display`; absent when no reason names one, or reasons name different ones |
//! | `start` | the first phase's `timing.repeat.boundsPeriod.start`, else `authoredOn` | date part |
//! | `sex` | `Patient.gender` of `subject` | |
//! | `age` | `Patient.birthDate` | whole years completed at `start`; a `YYYY-MM` birth date only when that is unambiguous |
//! | `weight` | Observation LOINC 29463-7 or 3141-9 of the patient | latest `effective[x]` (else `issued`) on or before `start`; UCUM code as the unit (`[lb_av]`); a value with a `comparator` is left absent |
//! | `egfr` | Observation LOINC 33914-3, 48642-3, 48643-1, 62238-1, 98979-8 (value or `component`) | latest on or before `start`; one plain value -> `egfr`; a bound (`>60`) or several values are never taken as a number: if they place renal function in one category, `renal_impairment` is set to it (`<30` -> severe); if they rule out severe impairment (`>60`) nothing is set, which the rules read as not severe; otherwise the regimen is invalid |
//! | `pregnant` | Observation LOINC 82810-3 | latest on or before `start`; SNOMED 77386006 -> true, 60001007 -> false |
//!
//! Values read from another `.ndjson` file than the MedicationRequest's are
//! located at the request's `subject`, and their messages name their file
//! and line. `doNotPerform: true` and unresolvable references make the
//! regimen invalid.

use std::collections::HashMap;
use std::sync::Arc;

use rust_decimal::Decimal;

use super::{
    Builder, COURSE_FIELDS, Field, InputProblem, MAX_PHASES, PATIENT_FIELDS, PHASE_FIELDS,
    PhaseField, REGIMEN_FIELDS, Raw, RawValue, Regimen,
};
use crate::date::Date;
use crate::source::{LineIndex, SourceFile, Span};
use crate::tree::{Node, Value, json};
use crate::units::{self, Dim, Family, Unit};

const UCUM: &str = "http://unitsofmeasure.org";
const RXNORM: &str = "http://www.nlm.nih.gov/research/umls/rxnorm";
const SNOMED: &str = "http://snomed.info/sct";
const LOINC: &str = "http://loinc.org";
const DRUG_FORM: &str = "http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm";
const GTS: &str = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation";

/// Ingredient codes that name a drug rxlint has rules for.
const KNOWN_DRUGS: &[(&str, &str, &str)] = &[
    (RXNORM, "6064", "isotretinoin"),
    (SNOMED, "387208003", "isotretinoin"),
];

/// SNOMED units of presentation a strength may be given per.
const SNOMED_PRESENTATION: &[&str] = &["732936001", "732937005"];

/// UCUM codes that count "one unit of presentation" of whatever the product is.
const GENERIC_PIECE: &[&str] = &["1", "{Piece}", "{piece}"];

const WEIGHT_CODES: &[&str] = &["29463-7", "3141-9"];
const EGFR_CODES: &[&str] = &["33914-3", "48642-3", "48643-1", "62238-1", "98979-8"];
const PREGNANCY_CODE: &str = "82810-3";

/// Reads a FHIR R4 Bundle, or a single MedicationRequest, from a `.json`
/// file. Gives one regimen per MedicationRequest, in entry order; a file
/// that cannot be read, or holds no MedicationRequest, gives one invalid
/// regimen saying so.
pub fn read_bundle(source: &Arc<SourceFile>) -> Vec<Regimen> {
    let doc = match json::parse(source.text()) {
        Ok(doc) => doc,
        Err(err) => {
            return vec![unreadable(
                source,
                0,
                Span::new(0, source.text().len()),
                "input.syntax",
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
            0,
            whole,
            "input.not-a-regimen",
            format!("expected a FHIR Bundle or MedicationRequest, found {found}"),
            doc.span,
        )];
    }
    let lines = LineIndex::new(source.text());
    let sources = std::slice::from_ref(source);
    let mut index = Index::new(sources, "this file");
    index.collect(&doc, 0, &|offset| lines.line_of(offset) + 1, None);
    index.link();
    let regimens: Vec<Regimen> = index.requests().map(|r| map(&index, r)).collect();
    if regimens.is_empty() {
        return vec![unreadable(
            source,
            0,
            whole,
            "input.not-a-regimen",
            "this Bundle holds no MedicationRequest".into(),
            doc.span,
        )];
    }
    regimens
}

/// Reads Bulk Data `.ndjson` files (one resource per line: MedicationRequest,
/// Patient, Observation, Medication; other types are ignored), resolving
/// references across all of them. Gives one regimen per MedicationRequest,
/// in file and line order, plus one invalid regimen per line that is not a
/// readable resource; one invalid regimen when no file holds a
/// MedicationRequest.
pub fn read_ndjson(sources: &[Arc<SourceFile>]) -> Vec<Regimen> {
    let mut nodes: Vec<(usize, usize, Node)> = Vec::new();
    let mut out: Vec<((usize, usize), Regimen)> = Vec::new();
    for (file, source) in sources.iter().enumerate() {
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
            match json::parse(text) {
                Ok(mut node) => {
                    shift(&mut node, start);
                    if node.get("resourceType").and_then(Node::as_str).is_some() {
                        nodes.push((file, line, node));
                    } else {
                        let message = format!(
                            "expected a FHIR resource with `resourceType`, found {}",
                            node.value.kind()
                        );
                        out.push((
                            (file, line),
                            unreadable(
                                source,
                                line,
                                span,
                                "input.not-a-regimen",
                                message,
                                node.span,
                            ),
                        ));
                    }
                }
                Err(err) => out.push((
                    (file, line),
                    unreadable(
                        source,
                        line,
                        span,
                        "input.syntax",
                        format!("cannot read this line: {}", err.message),
                        err.span.offset(start),
                    ),
                )),
            }
        }
    }
    let mut index = Index::new(sources, "the ndjson files given");
    for (file, line, node) in &nodes {
        let line = *line;
        index.collect(node, *file, &move |_| line, None);
    }
    index.link();
    for r in index.requests() {
        out.push(((r.file, r.line), map(&index, r)));
    }
    if out.is_empty()
        && let Some(source) = sources.first()
    {
        let whole = Span::new(0, source.text().len());
        out.push((
            (0, 0),
            unreadable(
                source,
                0,
                whole,
                "input.not-a-regimen",
                "no MedicationRequest in the ndjson files given".into(),
                whole,
            ),
        ));
    }
    // Stable: the requests of one line keep their order.
    out.sort_by_key(|(at, _)| *at);
    out.into_iter().map(|(_, r)| r).collect()
}

/// One invalid regimen for input that is not a resource at all.
fn unreadable(
    source: &Arc<SourceFile>,
    line: usize,
    document: Span,
    code: &'static str,
    message: String,
    span: Span,
) -> Regimen {
    let line = if line == 0 {
        source.line_col(span.start()).0
    } else {
        line
    };
    let input = crate::source::position(source.name(), line);
    let mut b = Builder::new(document);
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
// The resources and their references.

/// A resource of the input (or one contained in a MedicationRequest).
#[derive(Clone, Copy)]
struct Resource<'a> {
    node: &'a Node,
    kind: &'a str,
    id: Option<&'a str>,
    file: usize,
    line: usize,
    contained: bool,
}

/// Every resource of the input, with lookups by reference.
struct Index<'a> {
    sources: &'a [Arc<SourceFile>],
    /// How to say "not in the input" in a message.
    scope: &'static str,
    all: Vec<Resource<'a>>,
    by_url: HashMap<&'a str, Vec<usize>>,
    by_key: HashMap<(&'a str, &'a str), Vec<usize>>,
    /// Observations by the index of the resource their `subject` resolves to.
    observations: HashMap<usize, Vec<usize>>,
}

/// What a reference resolves to.
enum Lookup {
    Found(usize),
    Missing,
    Ambiguous(usize),
}

impl<'a> Index<'a> {
    /// An empty index over `sources`; `scope` says "not in ..." in messages.
    fn new(sources: &'a [Arc<SourceFile>], scope: &'static str) -> Self {
        Self {
            sources,
            scope,
            all: Vec::new(),
            by_url: HashMap::new(),
            by_key: HashMap::new(),
            observations: HashMap::new(),
        }
    }

    /// Adds a resource, or every entry of a Bundle, found in `file`.
    fn collect(
        &mut self,
        node: &'a Node,
        file: usize,
        line: &dyn Fn(usize) -> usize,
        full_url: Option<&'a str>,
    ) {
        let Some(kind) = node.get("resourceType").and_then(Node::as_str) else {
            return;
        };
        if kind == "Bundle" {
            for entry in seq(node.get("entry")) {
                if let Some(resource) = entry.get("resource") {
                    let url = entry.get("fullUrl").and_then(Node::as_str);
                    self.collect(resource, file, line, url);
                }
            }
            return;
        }
        let i = self.all.len();
        let id = node.get("id").and_then(Node::as_str);
        self.all.push(Resource {
            node,
            kind,
            id,
            file,
            line: line(node.span.start()),
            contained: false,
        });
        if let Some(url) = full_url {
            self.by_url.entry(url).or_default().push(i);
        }
        if let Some(id) = id {
            self.by_key.entry((kind, id)).or_default().push(i);
        }
    }

    /// Files every Observation under the resource its `subject` names.
    fn link(&mut self) {
        for (i, r) in self.all.iter().enumerate() {
            if r.kind != "Observation" {
                continue;
            }
            let reference = r.node.get("subject").and_then(|s| text(s.get("reference")));
            if let Some(Lookup::Found(p)) = reference.map(|x| self.resolve(x)) {
                self.observations.entry(p).or_default().push(i);
            }
        }
    }

    /// The MedicationRequests, in input order.
    fn requests(&self) -> impl Iterator<Item = Resource<'a>> + '_ {
        self.all
            .iter()
            .filter(|r| r.kind == "MedicationRequest")
            .copied()
    }

    /// Resolves a literal reference: a Bundle `fullUrl`, else `Type/id`
    /// (relative, or the end of an absolute URL, without `/_history/..`).
    fn resolve(&self, reference: &str) -> Lookup {
        let one = |hits: &Vec<usize>| match hits.as_slice() {
            [i] => Lookup::Found(*i),
            [] => Lookup::Missing,
            more => Lookup::Ambiguous(more.len()),
        };
        if let Some(hits) = self.by_url.get(reference) {
            return one(hits);
        }
        let path = reference.split("/_history/").next().unwrap_or(reference);
        let mut parts = path.rsplit('/');
        match (parts.next(), parts.next()) {
            (Some(id), Some(kind)) => self.by_key.get(&(kind, id)).map_or(Lookup::Missing, one),
            _ => Lookup::Missing,
        }
    }

    /// The display name of source `file`.
    fn name(&self, file: usize) -> &str {
        self.sources.get(file).map_or("?", |s| s.name())
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

/// The number as written, for a [`RawValue::Quantity`].
fn number_text(node: Option<&Node>) -> Option<String> {
    match node.map(|n| &n.value) {
        Some(Value::Number(n) | Value::Str(n)) => Some(n.clone()),
        _ => None,
    }
}

/// The codings of a CodeableConcept: (coding, system, code).
fn codings(concept: Option<&Node>) -> impl Iterator<Item = (&Node, Option<&str>, Option<&str>)> {
    seq(concept.and_then(|c| c.get("coding")))
        .iter()
        .map(|c| (c, text(c.get("system")), text(c.get("code"))))
}

/// The coding of `concept` with `system` and one of `codes`.
fn coded<'n>(concept: Option<&'n Node>, system: &str, codes: &[&str]) -> Option<&'n Node> {
    codings(concept)
        .find(|(_, s, c)| *s == Some(system) && c.is_some_and(|c| codes.contains(&c)))
        .map(|(n, _, _)| n)
}

/// A schedule's rate: `doses` every `days` days (2 every 1 for 2/day, 1
/// every 7 for once weekly), kept apart so that a weekly rate stays exact.
#[derive(Clone, Copy, Debug)]
struct Rate {
    doses: Decimal,
    days: Decimal,
}

impl Rate {
    fn per_day(doses: Decimal) -> Rate {
        Rate {
            doses,
            days: Decimal::ONE,
        }
    }
}

/// The indication a `reasonCode` concept names: by SNOMED CT code, by
/// ICD-10 category, else (a concept coded in neither) by the words of its
/// `text` or codings' displays.
fn indication_of(concept: &Node) -> Option<&'static str> {
    const SNOMED: &str = "http://snomed.info/sct";
    const SNOMED_CODES: &[(&str, &str)] = &[
        ("11381005", "acne"),
        ("69896004", "rheumatoid_arthritis"),
        ("9014002", "psoriasis"),
        ("44054006", "type_2_diabetes"),
    ];
    // ICD-10 categories (any subcode, with or without the dot): L70 acne,
    // M05/M06 rheumatoid arthritis, L40 psoriasis, E11 type 2 diabetes;
    // except psoriatic arthritis (L40.5), adult-onset Still's disease
    // (M06.1) and inflammatory polyarthropathy (M06.4), which are none of them.
    const ICD10: &[(&str, &str)] = &[
        ("L70", "acne"),
        ("M05", "rheumatoid_arthritis"),
        ("M06", "rheumatoid_arthritis"),
        ("L40", "psoriasis"),
        ("E11", "type_2_diabetes"),
    ];
    const ICD10_OTHER: &[&str] = &["L405", "M061", "M064"];
    // A concept coded in SNOMED CT or ICD-10 is what its code says: a code
    // not listed here is another condition, whatever its display's words.
    let mut coded_otherwise = false;
    for (_, system, code) in codings(Some(concept)) {
        let (Some(system), Some(code)) = (system, code) else {
            continue;
        };
        if system == SNOMED {
            match SNOMED_CODES.iter().find(|(c, _)| *c == code) {
                Some((_, name)) => return Some(name),
                None => coded_otherwise = true,
            }
        } else if system.starts_with("http://hl7.org/fhir/sid/icd-10") {
            let code = code.replace('.', "");
            let name = ICD10
                .iter()
                .find(|(c, _)| code.starts_with(c))
                .filter(|_| !ICD10_OTHER.iter().any(|o| code.starts_with(o)));
            match name {
                Some((_, name)) => return Some(name),
                None => coded_otherwise = true,
            }
        }
    }
    if coded_otherwise {
        return None;
    }
    // Whole words only: "acneiform eruption" is not acne. Conditions that
    // merely contain a known name are another indication, never a guess.
    const NAMES: &[(&str, &str)] = &[
        ("acne", "acne"),
        ("rheumatoid arthritis", "rheumatoid_arthritis"),
        ("psoriasis", "psoriasis"),
        ("type 2 diabetes", "type_2_diabetes"),
        ("type ii diabetes", "type_2_diabetes"),
    ];
    const OTHER: &[&str] = &["psoriatic arthritis", "juvenile rheumatoid arthritis"];
    let texts = std::iter::once(text(concept.get("text")))
        .chain(codings(Some(concept)).map(|(c, _, _)| text(c.get("display"))))
        .flatten();
    let mut named: Option<&'static str> = None;
    for t in texts {
        let words = Words::of(t);
        let has = |phrase: &str| words.find(phrase).next().is_some();
        if OTHER.iter().any(|p| has(p)) {
            return None;
        }
        for (_, name) in NAMES.iter().filter(|(p, _)| has(p)) {
            match named {
                None => named = Some(name),
                Some(n) if n != *name => return None,
                Some(_) => {}
            }
        }
    }
    named
}

/// The date part of a FHIR date or dateTime, if it is a full date.
fn date_of(node: Option<&Node>) -> Option<Date> {
    let t = text(node)?;
    Date::parse(t.split_once('T').map_or(t, |(d, _)| d)).ok()
}

/// Year, month and (when given) day of a FHIR date (`1974-12-25`, `1974-12`).
fn ymd(t: &str) -> Option<(i64, i64, Option<i64>)> {
    let t = t.split_once('T').map_or(t, |(d, _)| d);
    let parts: Vec<&str> = t.split('-').collect();
    let num = |s: &&str| s.parse::<i64>().ok();
    match parts.as_slice() {
        [y, m] if y.len() == 4 && m.len() == 2 => {
            let m = num(m).filter(|m| (1..=12).contains(m))?;
            Some((num(y)?, m, None))
        }
        [y, m, d] => {
            Date::parse(t).ok()?;
            Some((num(y)?, num(m)?, Some(num(d)?)))
        }
        _ => None,
    }
}

/// Whole years from `birth` to `start`, when the text of `birth` decides them.
fn age_years(birth: &str, start: Date) -> Option<i64> {
    let (sy, sm, sd) = ymd(&start.to_string())?;
    let sd = sd?;
    let (by, bm, bd) = ymd(birth)?;
    let before_birthday = match bd {
        Some(bd) => (sm, sd) < (bm, bd),
        // Born in the start month, day unknown: the birthday may or may not have passed.
        None if sm == bm => return None,
        None => sm < bm,
    };
    Some(sy - by - i64::from(before_birthday))
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

/// Whether a Quantity counts units of presentation (capsules, tablets).
fn counts_pieces(q: &Node) -> bool {
    let code = text(q.get("code"));
    match text(q.get("system")) {
        None | Some(UCUM) => {
            code.is_some_and(|c| c == "1" || (c.starts_with('{') && c.ends_with('}')))
        }
        Some(DRUG_FORM) => true,
        Some(SNOMED) => code.is_some_and(|c| SNOMED_PRESENTATION.contains(&c)),
        Some(_) => false,
    }
}

/// Whether a dose in `dose` units can be multiplied by a strength per `per`.
fn same_unit(dose: &Node, per: &Node) -> bool {
    /// A Quantity's code system; none is UCUM's, as for any bare unit code.
    fn system(q: &Node) -> &str {
        text(q.get("system")).unwrap_or(UCUM)
    }
    let exact = system(dose) == system(per)
        && text(dose.get("code")).is_some_and(|c| Some(c) == text(per.get("code")));
    let piece = system(dose) == UCUM
        && text(dose.get("code")).is_some_and(|c| GENERIC_PIECE.contains(&c))
        && counts_pieces(per);
    exact || piece
}

/// Whether a text says the dose is taken with food (`Some(true)`), away from
/// food (`Some(false)`), or neither or both (`None`).
fn food_words(text: &str) -> Option<bool> {
    const AWAY: &[&str] = &[
        "without food",
        "without meals",
        "without a meal",
        "empty stomach",
        "before food",
        "before meals",
        "before a meal",
        "before eating",
    ];
    const WITH: &[&str] = &[
        "with food",
        "with meals",
        "with a meal",
        "with or after food",
        "after food",
        "after meals",
        "after a meal",
        "with breakfast",
        "with lunch",
        "with dinner",
        "with supper",
    ];
    // Say nothing either way: their words are not read as the phrases above.
    const EITHER: &[&str] = &["with or without food", "with or without meals"];
    // A negation up to four words before a phrase reverses it: "do not
    // take it with food", "avoid taking with meals", "not on an empty stomach".
    const NEGATIONS: &[&str] = &[
        "not",
        "no",
        "never",
        "avoid",
        "don't",
        "dont",
        "cannot",
        "can't",
        "shouldn't",
    ];
    let (mut with, mut away) = (false, false);
    for clause in text.split(['.', ',', ';', ':', '!', '?', '\n', '(', ')']) {
        let words = Words::of(clause);
        let neutral: Vec<(usize, usize)> = EITHER
            .iter()
            .flat_map(|p| words.find(p).map(move |i| (i, i + p.split(' ').count())))
            .collect();
        for (phrases, says_with) in [(WITH, true), (AWAY, false)] {
            for phrase in phrases {
                for i in words.find(phrase) {
                    if neutral.iter().any(|(a, b)| (*a..*b).contains(&i)) {
                        continue;
                    }
                    let negated = words.0[i.saturating_sub(4)..i]
                        .iter()
                        .any(|w| NEGATIONS.contains(&w.as_str()));
                    if says_with != negated {
                        with = true;
                    } else {
                        away = true;
                    }
                }
            }
        }
    }
    match (with, away) {
        (true, false) => Some(true),
        (false, true) => Some(false),
        _ => None,
    }
}

/// A text's words, lower-cased, for matching whole-word phrases: split at
/// anything but letters, digits and apostrophes (a typographic one is read
/// as `'`), so "acneiform" is not "acne" and "don't" stays one word.
struct Words(Vec<String>);

impl Words {
    fn of(text: &str) -> Words {
        Words(
            text.to_lowercase()
                .replace('\u{2019}', "'")
                .split(|c: char| !(c.is_alphanumeric() || c == '\''))
                .filter(|w| !w.is_empty())
                .map(str::to_owned)
                .collect(),
        )
    }

    /// Where `phrase` (words separated by single spaces) starts, each time.
    fn find<'a>(&'a self, phrase: &'a str) -> impl Iterator<Item = usize> + 'a {
        let len = phrase.split(' ').count();
        (0..self.0.len()).filter(move |&i| {
            self.0
                .get(i..i + len)
                .is_some_and(|w| w.iter().map(String::as_str).eq(phrase.split(' ')))
        })
    }
}

/// Event-timing codes of one daily time slot each, for counting doses per day.
const SLOTS: &[&[&str]] = &[
    &[
        "MORN",
        "MORN.early",
        "MORN.late",
        "WAKE",
        "CM",
        "ACM",
        "PCM",
    ],
    &["NOON", "CD", "ACD", "PCD"],
    &["AFT", "AFT.early", "AFT.late"],
    &["EVE", "EVE.early", "EVE.late", "CV", "ACV", "PCV"],
    &["NIGHT", "HS", "PHS"],
];

/// Renal impairment categories in mL/day, as `[low, high)`, named as in
/// [`crate::facts::RENAL`]; the thresholds are the regimen format's.
const RENAL_BANDS: &[(&str, i64, Option<i64>)] = &[
    ("none", 90 * 1440, None),
    ("mild", 60 * 1440, Some(90 * 1440)),
    ("moderate", 30 * 1440, Some(60 * 1440)),
    ("severe", 0, Some(30 * 1440)),
];

/// The renal categories an eGFR reading (in mL/day) with its comparator allows.
fn renal_bands(value: Decimal, comparator: Option<&str>) -> Option<Vec<&'static str>> {
    let mut out = Vec::new();
    for &(name, low, high) in RENAL_BANDS {
        let low = Decimal::from(low);
        let below_high = |v: Decimal| high.is_none_or(|h| v < Decimal::from(h));
        let possible = match comparator {
            None => low <= value && below_high(value),
            Some("<") => low < value,
            Some("<=") => low <= value,
            Some(">" | ">=") => below_high(value),
            Some(_) => return None,
        };
        if possible {
            out.push(name);
        }
    }
    Some(out)
}

// ---------------------------------------------------------------------------
// One MedicationRequest to one regimen.

/// Maps one MedicationRequest `mr` of `index` to its regimen.
fn map<'a>(index: &Index<'a>, mr: Resource<'a>) -> Regimen {
    let input = format!("{}:{}", index.name(mr.file), mr.line);
    let mut m = Mapper {
        index,
        mr,
        b: Builder::new(mr.node.span),
        notes: Vec::new(),
        covered: Vec::new(),
        subject: None,
        medication: None,
    };
    if let Some(id) = mr.node.get("id") {
        m.b.id(Raw {
            value: raw_value(id),
            span: Some(id.span),
        });
    }
    if let Some(flag) = mr.node.get("doNotPerform")
        && matches!(flag.value, Value::Bool(true))
    {
        m.report(
            "input.fhir-unmapped",
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
fn raw_value(node: &Node) -> RawValue {
    match &node.value {
        Value::Str(s) => RawValue::Text(s.clone()),
        Value::Number(n) => RawValue::Number(n.clone()),
        Value::Bool(b) => RawValue::Bool(*b),
        Value::NonFinite(n) => RawValue::NonFinite(n.clone()),
        Value::Null => RawValue::Null,
        Value::Seq(_) => RawValue::Other("a list"),
        Value::Map(_) => RawValue::Other("a mapping"),
    }
}

/// The state of mapping one MedicationRequest onto a [`Builder`].
struct Mapper<'a, 'x> {
    index: &'x Index<'a>,
    mr: Resource<'a>,
    b: Builder,
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
        code: &'static str,
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
            "input.fhir-unmapped",
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
    fn set(
        &mut self,
        field: Field,
        res: &Resource<'_>,
        node: &Node,
        value: RawValue,
        element: &str,
    ) {
        let name = PATIENT_FIELDS
            .iter()
            .find(|(_, f)| *f == field)
            .map(|(n, _)| format!("patient.{n}"))
            .or_else(|| {
                COURSE_FIELDS
                    .iter()
                    .find(|(_, f)| *f == field)
                    .map(|(n, _)| format!("course.{n}"))
            })
            .or_else(|| {
                REGIMEN_FIELDS
                    .iter()
                    .find(|(_, f)| *f == field)
                    .map(|(n, _)| (*n).to_owned())
            })
            .unwrap_or_default();
        let span = self.span(res, node);
        self.notes.push((name, self.describe(res, element)));
        self.b.field(field, Raw { value, span });
    }

    /// Sets a field of `phase` from `node`, the request's `element`.
    fn set_phase(
        &mut self,
        phase: usize,
        field: PhaseField,
        node: &Node,
        value: RawValue,
        element: &str,
    ) {
        let note = format!("`MedicationRequest.{element}`");
        self.set_phase_noted(phase, field, node, value, note);
    }

    /// Sets a field of `phase`, with the note for the builder's messages.
    fn set_phase_noted(
        &mut self,
        phase: usize,
        field: PhaseField,
        node: &Node,
        value: RawValue,
        note: String,
    ) {
        let name = PHASE_FIELDS
            .iter()
            .find(|(_, f)| *f == field)
            .map_or("?", |(n, _)| n);
        self.notes
            .push((format!("course.phases[{phase}].{name}"), note));
        self.b.phase_field(
            phase,
            field,
            Raw {
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
            .retain(|p| !(p.code == "input.missing-field" && covered.contains(&p.field)));
        for p in &mut regimen.problems {
            if p.code.starts_with("input.fhir-") {
                continue;
            }
            if let Some((_, element)) = self.notes.iter().find(|(f, _)| *f == p.field) {
                p.message.push_str(&format!(" (FHIR {element})"));
            }
        }
        regimen
    }

    // -- drug -------------------------------------------------------------

    /// Sets the drug from `medication[x]`, resolving a `medicationReference`.
    fn drug(&mut self) {
        let mr = self.mr;
        if let Some(concept) = mr.node.get("medicationCodeableConcept") {
            match concept_name(concept) {
                Some((name, node)) => self.set_drug(&mr, node, name, "medicationCodeableConcept"),
                None => self.unmapped(
                    &mr,
                    concept,
                    "medicationCodeableConcept",
                    "names no drug rxlint can read (no RxNorm 6064, no text, no coding display)"
                        .into(),
                    Some("drug".into()),
                ),
            }
            return;
        }
        let Some(reference) = mr.node.get("medicationReference") else {
            self.unmapped(
                &mr,
                mr.node,
                "medication[x]",
                "the request names no medication".into(),
                Some("drug".into()),
            );
            return;
        };
        let Some(target) = text(reference.get("reference")) else {
            match reference.get("display").filter(|d| text(Some(d)).is_some()) {
                Some(display) => self.set_drug(
                    &mr,
                    display,
                    raw_text(display),
                    "medicationReference.display",
                ),
                None => self.unmapped(
                    &mr,
                    reference,
                    "medicationReference",
                    "has neither a reference nor a display".into(),
                    Some("drug".into()),
                ),
            }
            return;
        };
        let Some(med) = self.medication_of(reference, target) else {
            self.covered.push("drug".into());
            return;
        };
        self.medication = Some(med);
        match medication_name(med.node) {
            Some((name, node)) => self.set_drug(&med, node, name, "code"),
            None => self.unmapped(
                &med,
                med.node,
                "code",
                "the Medication names no drug rxlint can read (no RxNorm 6064, ingredient, text or display)".into(),
                Some("drug".into()),
            ),
        }
    }

    /// Sets the drug name read from `node` of `res`.
    fn set_drug(&mut self, res: &Resource<'_>, node: &Node, name: String, element: &str) {
        let span = self.span(res, node);
        self.notes
            .push(("drug".into(), self.describe(res, element)));
        self.b.drug(Raw {
            value: RawValue::Text(name),
            span,
        });
    }

    /// The Medication `target` names: `#id` among the request's contained
    /// resources, else a resource of the input. Reports what it cannot find.
    fn medication_of(&mut self, reference: &Node, target: &str) -> Option<Resource<'a>> {
        let mr = self.mr;
        let found = if let Some(local) = target.strip_prefix('#') {
            let hit = seq(mr.node.get("contained"))
                .iter()
                .find(|c| text(c.get("id")) == Some(local));
            match hit {
                Some(node) => Ok(Resource {
                    node,
                    kind: node
                        .get("resourceType")
                        .and_then(Node::as_str)
                        .unwrap_or("?"),
                    id: node.get("id").and_then(Node::as_str),
                    file: mr.file,
                    line: mr.line,
                    contained: true,
                }),
                None => Err((
                    "input.fhir-missing-reference",
                    format!("`{target}` names no resource in this request's `contained`"),
                )),
            }
        } else {
            match self.index.resolve(target) {
                Lookup::Found(i) => self.index.all.get(i).copied().ok_or((
                    "input.fhir-missing-reference",
                    format!("`{target}` is not in {}", self.index.scope),
                )),
                Lookup::Missing => Err((
                    "input.fhir-missing-reference",
                    format!("`{target}` is not in {}", self.index.scope),
                )),
                Lookup::Ambiguous(n) => Err((
                    "input.fhir-ambiguous",
                    format!("`{target}` matches {n} resources in {}", self.index.scope),
                )),
            }
        };
        match found {
            Ok(res) if res.kind == "Medication" => Some(res),
            Ok(res) => {
                let message = format!("`{target}` is a {}, not a Medication", res.kind);
                self.unmapped(&mr, reference, "medicationReference", message, None);
                None
            }
            Err((code, message)) => {
                let label = if code == "input.fhir-ambiguous" {
                    "ambiguous"
                } else {
                    "not found"
                };
                self.report(
                    code,
                    &mr,
                    reference,
                    "medicationReference",
                    message,
                    label,
                    None,
                );
                None
            }
        }
    }

    // -- indication -------------------------------------------------------

    /// `indication` from `reasonCode`: the SNOMED CT or ICD-10 code of an
    /// indication the rule language knows, else the words of the concept's
    /// text or displays. Reasons that name none of them, or name different
    /// ones, leave it absent: rules that need it are then unevaluated.
    fn indication(&mut self) {
        let mr = self.mr;
        let mut found: Option<(&'static str, &Node, usize)> = None;
        for (i, reason) in seq(mr.node.get("reasonCode")).iter().enumerate() {
            let Some(name) = indication_of(reason) else {
                continue;
            };
            match found {
                None => found = Some((name, reason, i)),
                Some((first, ..)) if first != name => return,
                Some(_) => {}
            }
        }
        if let Some((name, node, i)) = found {
            let element = format!("reasonCode[{i}]");
            self.set(
                Field::Indication,
                &mr,
                node,
                RawValue::Text(name.into()),
                &element,
            );
        }
    }

    // -- course -----------------------------------------------------------

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
                "input.too-large",
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
        self.set(Field::Start, &mr, node, raw_value(node), element);
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
        let rate = self.frequency(phase, &at, d);
        self.dose(phase, &at, d);
        self.duration(phase, &at, d, rate);
        self.with_food(phase, &at, d);
    }

    /// Sets the frequency; gives the schedule's rate.
    fn frequency(&mut self, phase: usize, at: &str, d: &Node) -> Option<Rate> {
        let mr = self.mr;
        let cover = Some(format!("course.phases[{phase}].frequency"));
        let Some(timing) = d.get("timing") else {
            self.unmapped(
                &mr,
                d,
                at,
                "has no `timing`: how often the dose is taken is unknown".into(),
                cover,
            );
            return None;
        };
        if let Some(repeat) = timing.get("repeat") {
            let here = format!("{at}.timing.repeat");
            for key in ["frequencyMax", "periodMax"] {
                if let Some(node) = repeat.get(key) {
                    self.unmapped(
                        &mr,
                        node,
                        &format!("{here}.{key}"),
                        "a range of frequencies (such as every 4 to 6 hours) is not one number a day, and rxlint does not pick one".into(),
                        cover,
                    );
                    return None;
                }
            }
            if let Some(node) = repeat.get("dayOfWeek") {
                self.unmapped(
                    &mr,
                    node,
                    &format!("{here}.dayOfWeek"),
                    "doses on some days of the week are not a number a day".into(),
                    cover,
                );
                return None;
            }
            let frequency = repeat.get("frequency");
            let period = repeat.get("period");
            if frequency.is_some() || period.is_some() {
                return self.per_period(phase, &here, repeat, cover);
            }
            let when = seq(repeat.get("when"));
            let times = seq(repeat.get("timeOfDay"));
            if !when.is_empty() || !times.is_empty() {
                return self
                    .daily_events(phase, &here, repeat, cover)
                    .map(Rate::per_day);
            }
        }
        if let Some(code) = timing.get("code") {
            let n = codings(Some(code)).find_map(|(_, system, c)| {
                (system == Some(GTS)).then_some(())?;
                match c? {
                    "QD" | "AM" | "PM" => Some(1),
                    "BID" => Some(2),
                    "TID" => Some(3),
                    "QID" => Some(4),
                    _ => None,
                }
            });
            if let Some(n) = n {
                let element = format!("{at}.timing.code");
                self.set_phase(
                    phase,
                    PhaseField::Frequency,
                    code,
                    RawValue::Text(format!("{n}/day")),
                    &element,
                );
                return Some(Rate::per_day(Decimal::from(n)));
            }
        }
        self.unmapped(
            &mr,
            timing,
            &format!("{at}.timing"),
            "gives no frequency rxlint can read (`repeat.frequency`/`period`/`periodUnit`, `when`, `timeOfDay`, or a QD/BID/TID/QID code)".into(),
            cover,
        );
        None
    }

    /// `frequency` times per `period` `periodUnit`, as a whole number a day.
    fn per_period(
        &mut self,
        phase: usize,
        here: &str,
        repeat: &Node,
        cover: Option<String>,
    ) -> Option<Rate> {
        let mr = self.mr;
        // FHIR R4 Timing: with no frequency the event occurs once per period.
        let frequency = match repeat.get("frequency") {
            Some(node) => number(Some(node)),
            None => Some(Decimal::ONE),
        };
        let period = number(repeat.get("period"));
        let unit = text(repeat.get("periodUnit"));
        let (Some(frequency), Some(period), Some(unit)) = (frequency, period, unit) else {
            self.unmapped(
                &mr,
                repeat,
                here,
                "needs a numeric `frequency`, `period` and `periodUnit` to give doses a day".into(),
                cover,
            );
            return None;
        };
        // Doses per day = frequency x (units per day) / period, as an exact
        // fraction: a week is 1/7 of the way to a day, which no decimal holds.
        let per_unit: Option<(i64, i64)> = match unit {
            "s" => Some((86_400, 1)),
            "min" => Some((1440, 1)),
            "h" => Some((24, 1)),
            "d" => Some((1, 1)),
            "wk" => Some((1, 7)),
            _ => None,
        };
        let shown = format!(
            "{} per {} {unit}",
            units::display_number(frequency),
            units::display_number(period)
        );
        let Some(per_unit) = per_unit else {
            self.unmapped(
                &mr,
                repeat,
                &format!("{here}.periodUnit"),
                format!(
                    "{shown}: months and years vary in length, so this is no whole number a day"
                ),
                cover,
            );
            return None;
        };
        let per_day = frequency
            .checked_mul(Decimal::from(per_unit.0))
            .zip(period.checked_mul(Decimal::from(per_unit.1)))
            .and_then(|(a, b)| a.checked_div(b))
            .map(|d| d.normalize());
        match per_day {
            Some(n) if n >= Decimal::ONE && n.fract().is_zero() => {
                let element = here.to_owned();
                self.set_phase(
                    phase,
                    PhaseField::Frequency,
                    repeat,
                    RawValue::Text(format!("{n}/day")),
                    &element,
                );
                Some(Rate::per_day(n))
            }
            _ => {
                // A whole number a week (methotrexate once weekly) is a
                // weekly schedule, kept as doses per 7 days (its per-day
                // rate is no decimal).
                let per_week = frequency
                    .checked_mul(Decimal::from(per_unit.0 * 7))
                    .zip(period.checked_mul(Decimal::from(per_unit.1)))
                    .and_then(|(a, b)| a.checked_div(b))
                    .map(|d| d.normalize());
                if let Some(n) = per_week.filter(|n| *n >= Decimal::ONE && n.fract().is_zero()) {
                    let element = here.to_owned();
                    self.set_phase(
                        phase,
                        PhaseField::Frequency,
                        repeat,
                        RawValue::Text(format!("{n}/week")),
                        &element,
                    );
                    return Some(Rate {
                        doses: n,
                        days: Decimal::from(7),
                    });
                }
                self.unmapped(
                    &mr,
                    repeat,
                    here,
                    format!("{shown} is not a whole number of doses a day or a week"),
                    cover,
                );
                None
            }
        }
    }

    /// One dose at each daily `when` event or `timeOfDay`.
    fn daily_events(
        &mut self,
        phase: usize,
        here: &str,
        repeat: &Node,
        cover: Option<String>,
    ) -> Option<Decimal> {
        let mr = self.mr;
        let when = repeat.get("when");
        let times = repeat.get("timeOfDay");
        if let (Some(node), Some(_)) = (when, times) {
            self.unmapped(
                &mr,
                node,
                &format!("{here}.when"),
                "gives both `when` and `timeOfDay`, which FHIR forbids".into(),
                cover,
            );
            return None;
        }
        let (node, element, n) = if let Some(node) = when {
            let element = format!("{here}.when");
            let mut slots = Vec::new();
            for code in seq(Some(node)) {
                let code = code.as_str().unwrap_or("");
                match SLOTS.iter().position(|s| s.contains(&code)) {
                    Some(slot) if !slots.contains(&slot) => slots.push(slot),
                    Some(_) => {
                        self.unmapped(&mr, node, &element, format!("`{code}` falls in the same part of the day as another code, so the doses a day are unclear"), cover);
                        return None;
                    }
                    None => {
                        self.unmapped(
                            &mr,
                            node,
                            &element,
                            format!("`{code}` does not say how many times a day"),
                            cover,
                        );
                        return None;
                    }
                }
            }
            (node, element, slots.len())
        } else if let Some(node) = times {
            let mut distinct: Vec<&str> = seq(Some(node)).iter().filter_map(Node::as_str).collect();
            distinct.sort_unstable();
            distinct.dedup();
            (node, format!("{here}.timeOfDay"), distinct.len())
        } else {
            return None;
        };
        if n == 0 {
            self.unmapped(&mr, node, &element, "lists no time of day".into(), cover);
            return None;
        }
        self.set_phase(
            phase,
            PhaseField::Frequency,
            node,
            RawValue::Text(format!("{n}/day")),
            &element,
        );
        Some(Decimal::from(n))
    }

    /// Sets the dose per administration.
    fn dose(&mut self, phase: usize, at: &str, d: &Node) {
        let mr = self.mr;
        let cover = Some(format!("course.phases[{phase}].dose"));
        let entries = seq(d.get("doseAndRate"));
        let with_dose: Vec<(usize, &Node)> = entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.get("doseQuantity").is_some() || e.get("doseRange").is_some())
            .collect();
        let chosen = match with_dose.as_slice() {
            [one] => Some(*one),
            [] => None,
            many => {
                let ordered: Vec<&(usize, &Node)> = many
                    .iter()
                    .filter(|(_, e)| codings(e.get("type")).any(|(_, _, c)| c == Some("ordered")))
                    .collect();
                match ordered.as_slice() {
                    [one] => Some(**one),
                    _ => {
                        self.unmapped(
                            &mr,
                            d.get("doseAndRate").unwrap_or(d),
                            &format!("{at}.doseAndRate"),
                            "gives several doses and not exactly one of type `ordered`".into(),
                            cover,
                        );
                        return;
                    }
                }
            }
        };
        let Some((j, entry)) = chosen else {
            self.unmapped(
                &mr,
                d.get("doseAndRate").unwrap_or(d),
                &format!("{at}.doseAndRate"),
                "gives no `doseQuantity` or `doseRange`: the dose is unknown".into(),
                cover,
            );
            return;
        };
        let here = format!("{at}.doseAndRate[{j}]");
        let (q, element) = match (entry.get("doseQuantity"), entry.get("doseRange")) {
            (Some(q), _) => (q, format!("{here}.doseQuantity")),
            // The upper bound, so that the maximum-dose rules see the most the
            // order allows; the below-range and cumulative rules see it too.
            (None, Some(range)) => match range.get("high") {
                Some(high) => (high, format!("{here}.doseRange.high")),
                None => {
                    self.unmapped(
                        &mr,
                        range,
                        &format!("{here}.doseRange"),
                        "has no `high` bound".into(),
                        cover,
                    );
                    return;
                }
            },
            (None, None) => return,
        };
        if let Some(c) = text(q.get("comparator")) {
            self.unmapped(
                &mr,
                q,
                &element,
                format!("the dose is a bound (`{c}`), not a dose"),
                cover,
            );
            return;
        }
        let strength = self.strength();
        let by_strength = counts_pieces(q)
            || strength
                .as_ref()
                .is_some_and(|s| s.as_ref().is_ok_and(|(_, _, per)| same_unit(q, per)));
        if by_strength {
            self.dose_by_strength(phase, q, &element, strength, cover);
            return;
        }
        let value = RawValue::Quantity {
            value: number_text(q.get("value")).unwrap_or_default(),
            unit: unit_text(q).unwrap_or_default().to_owned(),
        };
        self.set_phase(phase, PhaseField::Dose, q, value, &element);
    }

    /// The strength of the requested Medication's one active ingredient:
    /// (ingredient index, numerator, denominator); `None` without a Medication.
    fn strength(&self) -> Option<Result<(usize, &'a Node, &'a Node), String>> {
        let med = self.medication?;
        let strengths: Vec<(usize, &'a Node)> = seq(med.node.get("ingredient"))
            .iter()
            .enumerate()
            .filter(|(_, ing)| {
                !matches!(
                    ing.get("isActive").map(|a| &a.value),
                    Some(Value::Bool(false))
                )
            })
            .filter_map(|(k, ing)| ing.get("strength").map(|s| (k, s)))
            .collect();
        Some(match strengths.as_slice() {
            [(k, s)] => match (s.get("numerator"), s.get("denominator")) {
                (Some(num), Some(den)) => Ok((*k, num, den)),
                _ => Err(format!(
                    "the strength of ingredient[{k}] lacks a numerator or denominator"
                )),
            },
            [] => Err("the Medication gives no ingredient strength".into()),
            more => Err(format!(
                "the Medication gives {} ingredient strengths",
                more.len()
            )),
        })
    }

    /// A dose in units of presentation times the strength per unit.
    fn dose_by_strength(
        &mut self,
        phase: usize,
        q: &Node,
        element: &str,
        strength: Option<Result<(usize, &Node, &Node), String>>,
        cover: Option<String>,
    ) {
        let mr = self.mr;
        let unit = unit_text(q)
            .or(text(q.get("code")))
            .unwrap_or("?")
            .to_owned();
        let why = match strength {
            None => Err("the medication is a code, with no strength".to_owned()),
            Some(Err(why)) => Err(why),
            Some(Ok((k, num, den))) if same_unit(q, den) => {
                let product = number(q.get("value")).zip(number(num.get("value")));
                let per = number(den.get("value"));
                let mass = product.zip(per).and_then(|((dose, n), per)| {
                    let total = dose.checked_mul(n)?;
                    let each = total.checked_div(per)?;
                    // Only an exact quotient: 10 mg per 3 tablets is not.
                    (each.checked_mul(per)? == total).then_some(each.normalize())
                });
                match (mass, unit_text(num)) {
                    (Some(mass), Some(num_unit)) => Ok((k, mass, num_unit.to_owned())),
                    _ => Err(format!(
                        "the strength of ingredient[{k}] is not an exact number with a unit"
                    )),
                }
            }
            Some(Ok((k, _, den))) => Err(format!(
                "the strength of ingredient[{k}] is per `{}`",
                unit_text(den).or(text(den.get("code"))).unwrap_or("?")
            )),
        };
        match why {
            Ok((k, mass, num_unit)) => {
                let strength = self.medication.map_or_else(String::new, |m| {
                    self.describe(&m, &format!("ingredient[{k}].strength"))
                });
                let note = format!("`MedicationRequest.{element}` times {strength}");
                let value = RawValue::Quantity {
                    value: mass.to_string(),
                    unit: num_unit,
                };
                self.set_phase_noted(phase, PhaseField::Dose, q, value, note);
            }
            Err(why) => self.unmapped(
                &mr,
                q,
                element,
                format!("the dose is in `{unit}` and {why}, so rxlint cannot tell the dose in mg"),
                cover,
            ),
        }
    }

    /// Sets the duration from bounds or count.
    fn duration(&mut self, phase: usize, at: &str, d: &Node, rate: Option<Rate>) {
        let mr = self.mr;
        let cover = Some(format!("course.phases[{phase}].duration"));
        let here = format!("{at}.timing.repeat");
        let Some(repeat) = d.get("timing").and_then(|t| t.get("repeat")) else {
            self.unmapped(
                &mr,
                d.get("timing").unwrap_or(d),
                &format!("{at}.timing"),
                "gives no `repeat.bounds[x]` or `count`: the length of the course is unknown"
                    .into(),
                cover,
            );
            return;
        };
        if let Some(node) = repeat.get("boundsRange") {
            self.unmapped(
                &mr,
                node,
                &format!("{here}.boundsRange"),
                "a range of durations is not one duration".into(),
                cover,
            );
            return;
        }
        if let Some(node) = repeat.get("countMax") {
            self.unmapped(
                &mr,
                node,
                &format!("{here}.countMax"),
                "a range of counts is not one duration".into(),
                cover,
            );
            return;
        }
        // (node, element, value, days when known)
        let mut bounds: Option<(&Node, String, RawValue, Option<Decimal>)> = None;
        if let Some(node) = repeat.get("boundsDuration") {
            let unit = unit_text(node).unwrap_or_default().to_owned();
            let value = number_text(node.get("value")).unwrap_or_default();
            let days = number(node.get("value")).and_then(|v| {
                let u = Unit::parse(&unit)
                    .ok()
                    .filter(|u| u.dim == Dim::TIME && u.family == Family::Time)?;
                u.factor.to_canonical(v)
            });
            bounds = Some((
                node,
                format!("{here}.boundsDuration"),
                RawValue::Quantity { value, unit },
                days,
            ));
        } else if let Some(node) = repeat.get("boundsPeriod") {
            let element = format!("{here}.boundsPeriod");
            let start = date_of(node.get("start"));
            let end = date_of(node.get("end"));
            match (start, end, node.get("end")) {
                (Some(s), Some(e), _) if e >= s => {
                    // Both days count: 12 September to 12 September is one day.
                    let days = i64::from(e.days()) - i64::from(s.days()) + 1;
                    let value = RawValue::Text(format!("{days} days"));
                    bounds = Some((node, element, value, Some(Decimal::from(days))));
                }
                (Some(_), Some(_), _) => {
                    self.unmapped(&mr, node, &element, "ends before it starts".into(), cover);
                    return;
                }
                (_, _, None) if repeat.get("count").is_some() => {}
                (_, _, None) => {
                    self.unmapped(
                        &mr,
                        node,
                        &element,
                        "has no `end`: the course is open-ended, and its length unknown".into(),
                        cover,
                    );
                    return;
                }
                _ => {
                    self.unmapped(
                        &mr,
                        node,
                        &element,
                        "needs a full `start` and `end` date (YYYY-MM-DD) to give a length".into(),
                        cover,
                    );
                    return;
                }
            }
        }
        let count = repeat.get("count").map(|node| {
            let days = number(Some(node))
                .zip(rate)
                .and_then(|(n, rate)| n.checked_mul(rate.days)?.checked_div(rate.doses))
                .map(|d| d.normalize());
            (node, days)
        });
        match (bounds, count) {
            (Some((node, element, value, days)), count) => {
                if let Some((_, Some(by_count))) = count
                    && days.is_some_and(|d| d != by_count)
                {
                    let message = format!(
                        "the bounds ({} days) and `count` ({} days) disagree, and rxlint does not choose",
                        days.map_or("?".to_owned(), units::display_number),
                        units::display_number(by_count)
                    );
                    self.unmapped(&mr, node, &element, message, cover);
                    return;
                }
                self.set_phase(phase, PhaseField::Duration, node, value, &element);
            }
            (None, Some((node, days))) => {
                let element = format!("{here}.count");
                match days {
                    Some(n) if n.fract().is_zero() && n >= Decimal::ONE => {
                        self.set_phase(phase, PhaseField::Duration, node, RawValue::Text(format!("{n} days")), &element);
                    }
                    Some(n) => self.unmapped(
                        &mr,
                        node,
                        &element,
                        format!("`count` at this frequency makes the course {} days long; it must be a whole number of days, at least 1", units::display_number(n)),
                        cover,
                    ),
                    // The frequency's problem is reported already.
                    None if rate.is_none() => self.covered.extend(cover),
                    None => self.unmapped(&mr, node, &element, "is not a number".into(), cover),
                }
            }
            (None, None) => self.unmapped(
                &mr,
                repeat,
                &here,
                "gives no `boundsDuration`, `boundsPeriod` or `count`: the length of the course is unknown".into(),
                cover,
            ),
        }
    }

    /// Sets `with_food` when the instruction says, and all of it agrees.
    fn with_food(&mut self, phase: usize, at: &str, d: &Node) {
        let mut votes: Vec<(bool, &Node, String)> = Vec::new();
        for (k, instruction) in seq(d.get("additionalInstruction")).iter().enumerate() {
            let element = format!("{at}.additionalInstruction[{k}]");
            for (coding, system, code) in codings(Some(instruction)) {
                let vote = match (system, code) {
                    (Some(SNOMED), Some("311504000")) => Some(true),
                    (Some(SNOMED), Some("311501008")) => Some(false),
                    _ => text(coding.get("display")).and_then(food_words),
                };
                if let Some(v) = vote {
                    votes.push((v, coding, element.clone()));
                }
            }
            if let Some(v) = text(instruction.get("text")).and_then(food_words) {
                votes.push((v, instruction, element.clone()));
            }
        }
        let repeat = d.get("timing").and_then(|t| t.get("repeat"));
        if let Some(when) = repeat.and_then(|r| r.get("when")) {
            for code in seq(Some(when)).iter().filter_map(Node::as_str) {
                let vote = match code {
                    "C" | "CM" | "CD" | "CV" | "PC" | "PCM" | "PCD" | "PCV" => Some(true),
                    "AC" | "ACM" | "ACD" | "ACV" => Some(false),
                    _ => None,
                };
                if let Some(v) = vote {
                    votes.push((v, when, format!("{at}.timing.repeat.when")));
                }
            }
        }
        for key in ["text", "patientInstruction"] {
            if let Some(node) = d.get(key)
                && let Some(v) = text(Some(node)).and_then(food_words)
            {
                votes.push((v, node, format!("{at}.{key}")));
            }
        }
        let Some((first, node, element)) = votes.first() else {
            return;
        };
        // Instructions that disagree leave it absent: the rule is then unevaluated.
        if votes.iter().all(|(v, _, _)| v == first) {
            let (value, node, element) = (*first, *node, element.clone());
            self.set_phase(
                phase,
                PhaseField::WithFood,
                node,
                RawValue::Bool(value),
                &element,
            );
        }
    }

    // -- patient ----------------------------------------------------------

    /// Sets sex, age and observations from the Patient of `subject`.
    fn patient(&mut self, start: Option<Date>) {
        let mr = self.mr;
        let Some(subject) = mr.node.get("subject") else {
            return;
        };
        // A subject given only by display or identifier names nobody we can read.
        let Some(target) = text(subject.get("reference")) else {
            return;
        };
        let patient = match self.index.resolve(target) {
            Lookup::Found(p) => p,
            Lookup::Missing => {
                let message = format!("`{target}` is not in {}", self.index.scope);
                let help =
                    Some("include the Patient (and its Observations) in the input".to_owned());
                self.report(
                    "input.fhir-missing-reference",
                    &mr,
                    subject,
                    "subject",
                    message,
                    "not found",
                    help,
                );
                return;
            }
            Lookup::Ambiguous(n) => {
                let message = format!("`{target}` matches {n} resources in {}", self.index.scope);
                self.report(
                    "input.fhir-ambiguous",
                    &mr,
                    subject,
                    "subject",
                    message,
                    "ambiguous",
                    None,
                );
                return;
            }
        };
        let Some(&res) = self.index.all.get(patient) else {
            return;
        };
        if res.kind != "Patient" {
            let message = format!("`{target}` is a {}, not a Patient", res.kind);
            self.unmapped(&mr, subject, "subject", message, None);
            return;
        }
        if let Some(gender) = res.node.get("gender") {
            self.set(Field::Sex, &res, gender, raw_value(gender), "gender");
        }
        if let (Some(birth), Some(start)) = (res.node.get("birthDate"), start)
            && let Some(years) = text(Some(birth)).and_then(|b| age_years(b, start))
        {
            self.set(
                Field::Age,
                &res,
                birth,
                RawValue::Text(format!("{years} years")),
                "birthDate",
            );
        }
        if let Some(start) = start {
            self.observations(patient, start);
        }
    }

    /// Weight, eGFR and pregnancy from the patient's latest Observations on
    /// or before `start`.
    fn observations(&mut self, patient: usize, start: Date) {
        let index = self.index;
        let mut weights: Vec<(Date, Resource<'a>)> = Vec::new();
        let mut egfrs: Vec<(Date, Resource<'a>)> = Vec::new();
        let mut pregnancies: Vec<(Date, Resource<'a>)> = Vec::new();
        for &i in index
            .observations
            .get(&patient)
            .map_or(&[][..], Vec::as_slice)
        {
            let Some(&res) = index.all.get(i) else {
                continue;
            };
            let obs = res.node;
            if matches!(
                text(obs.get("status")),
                Some("entered-in-error" | "cancelled")
            ) {
                continue;
            }
            // `issued` is no earlier than the observation, so it never lets a later one in.
            let date = date_of(obs.get("effectiveDateTime"))
                .or_else(|| date_of(obs.get("effectiveInstant")))
                .or_else(|| {
                    let period = obs.get("effectivePeriod");
                    date_of(period.and_then(|p| p.get("end")))
                        .or_else(|| date_of(period.and_then(|p| p.get("start"))))
                })
                .or_else(|| date_of(obs.get("issued")));
            let Some(date) = date.filter(|d| *d <= start) else {
                continue;
            };
            let code = obs.get("code");
            if coded(code, LOINC, WEIGHT_CODES).is_some() && obs.get("valueQuantity").is_some() {
                weights.push((date, res));
            }
            let egfr_parts = coded(code, LOINC, EGFR_CODES).is_some()
                || seq(obs.get("component"))
                    .iter()
                    .any(|c| coded(c.get("code"), LOINC, EGFR_CODES).is_some());
            if egfr_parts {
                egfrs.push((date, res));
            }
            if coded(code, LOINC, &[PREGNANCY_CODE]).is_some() {
                pregnancies.push((date, res));
            }
        }
        self.weight(latest(&weights));
        self.egfr(latest(&egfrs));
        self.pregnancy(latest(&pregnancies));
    }

    /// Sets the weight from the latest body-weight Observations.
    fn weight(&mut self, latest: Vec<Resource<'a>>) {
        let values: Vec<(Resource<'a>, &Node)> = latest
            .iter()
            .filter_map(|r| r.node.get("valueQuantity").map(|q| (*r, q)))
            .collect();
        let Some(&(res, q)) = values.first() else {
            return;
        };
        let key = |q: &Node| {
            (
                number(q.get("value")),
                unit_text(q).map(str::to_owned),
                text(q.get("comparator")).map(str::to_owned),
            )
        };
        if let Some((other, _)) = values.iter().find(|(_, o)| key(o) != key(q)) {
            let message = format!(
                "two body weights on the same day disagree (also {})",
                self.origin(other)
            );
            self.report(
                "input.fhir-ambiguous",
                &res,
                q,
                "valueQuantity",
                message,
                "ambiguous",
                None,
            );
            return;
        }
        // A bound (`>100 kg`) is not a weight; absent, the per-kg rules say so.
        if text(q.get("comparator")).is_some() {
            return;
        }
        let value = RawValue::Quantity {
            value: number_text(q.get("value")).unwrap_or_default(),
            unit: unit_text(q).unwrap_or_default().to_owned(),
        };
        self.set(Field::Weight, &res, q, value, "valueQuantity");
    }

    /// Sets the eGFR, or the renal category a bound decides, from the latest
    /// eGFR Observations.
    fn egfr(&mut self, latest: Vec<Resource<'a>>) {
        // (resource, quantity node, element)
        let mut readings: Vec<(Resource<'a>, &Node, String)> = Vec::new();
        for res in &latest {
            let obs = res.node;
            if coded(obs.get("code"), LOINC, EGFR_CODES).is_some()
                && let Some(q) = obs.get("valueQuantity")
            {
                readings.push((*res, q, "valueQuantity".into()));
            }
            for (k, c) in seq(obs.get("component")).iter().enumerate() {
                if coded(c.get("code"), LOINC, EGFR_CODES).is_some()
                    && let Some(q) = c.get("valueQuantity")
                {
                    readings.push((*res, q, format!("component[{k}].valueQuantity")));
                }
            }
        }
        let key = |q: &Node| {
            (
                number(q.get("value")),
                unit_text(q).map(str::to_owned),
                text(q.get("comparator")).map(str::to_owned),
            )
        };
        let mut distinct: Vec<(Resource<'a>, &Node, String)> = Vec::new();
        for r in readings {
            if !distinct.iter().any(|(_, q, _)| key(q) == key(r.1)) {
                distinct.push(r);
            }
        }
        let Some((res, q, element)) = distinct.first().cloned() else {
            return;
        };
        if distinct.len() == 1 && text(q.get("comparator")).is_none() {
            let value = RawValue::Quantity {
                value: number_text(q.get("value")).unwrap_or_default(),
                unit: unit_text(q).unwrap_or_default().to_owned(),
            };
            self.set(Field::Egfr, &res, q, value, &element);
            return;
        }
        // A bound (`>60`) or several values (one per population) is no number:
        // only the renal category they all allow can be used.
        let mut bands: Vec<&'static str> = Vec::new();
        for (r, q, element) in &distinct {
            let canonical = number(q.get("value")).and_then(|v| {
                let unit = Unit::parse(unit_text(q)?)
                    .ok()
                    .filter(|u| u.dim == Dim::FLOW)?;
                unit.factor.to_canonical(v)
            });
            let allowed = canonical.and_then(|v| renal_bands(v, text(q.get("comparator"))));
            let Some(allowed) = allowed else {
                let message =
                    "this eGFR has no number, unit or comparator rxlint can read".to_owned();
                self.unmapped(r, q, element, message, None);
                return;
            };
            for band in allowed {
                if !bands.contains(&band) {
                    bands.push(band);
                }
            }
        }
        let shown = distinct
            .iter()
            .map(|(_, q, _)| {
                format!(
                    "{}{}",
                    text(q.get("comparator")).unwrap_or(""),
                    number_text(q.get("value")).unwrap_or_default()
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        match bands.as_slice() {
            [band] => {
                let band = (*band).to_owned();
                self.set(
                    Field::RenalImpairment,
                    &res,
                    q,
                    RawValue::Text(band),
                    &element,
                );
            }
            // Not severe whatever the value: the rules read an absent renal
            // state as no impairment, which is all they would use it for.
            many if !many.contains(&"severe") => {}
            _ => {
                let message = format!(
                    "the eGFR ({shown}) may or may not be below 30 mL/min/1.73m2, so the renal rules cannot be applied"
                );
                self.report(
                    "input.fhir-ambiguous",
                    &res,
                    q,
                    &element,
                    message,
                    "ambiguous",
                    None,
                );
            }
        }
    }

    /// Sets `pregnant` from the latest pregnancy-status Observations.
    fn pregnancy(&mut self, latest: Vec<Resource<'a>>) {
        let status = |r: &Resource<'_>| {
            let value = r.node.get("valueCodeableConcept");
            if coded(value, SNOMED, &["77386006"]).is_some() {
                Some(true)
            } else if coded(value, SNOMED, &["60001007"]).is_some() {
                Some(false)
            } else {
                None
            }
        };
        let known: Vec<(Resource<'a>, bool)> = latest
            .iter()
            .filter_map(|r| status(r).map(|s| (*r, s)))
            .collect();
        let Some(&(res, value)) = known.first() else {
            return;
        };
        let Some(node) = res.node.get("valueCodeableConcept") else {
            return;
        };
        if let Some((other, _)) = known.iter().find(|(_, v)| *v != value) {
            let message = format!(
                "two pregnancy statuses on the same day disagree (also {})",
                self.origin(other)
            );
            self.report(
                "input.fhir-ambiguous",
                &res,
                node,
                "valueCodeableConcept",
                message,
                "ambiguous",
                None,
            );
            return;
        }
        self.set(
            Field::Pregnant,
            &res,
            node,
            RawValue::Bool(value),
            "valueCodeableConcept",
        );
    }
}

/// The resources dated on the latest day.
fn latest<'a>(dated: &[(Date, Resource<'a>)]) -> Vec<Resource<'a>> {
    let Some(last) = dated.iter().map(|(d, _)| *d).max() else {
        return Vec::new();
    };
    dated
        .iter()
        .filter(|(d, _)| *d == last)
        .map(|(_, r)| *r)
        .collect()
}

/// A string node's text, trimmed.
fn raw_text(node: &Node) -> String {
    node.as_str().unwrap_or("").trim().to_owned()
}

/// A drug name from a CodeableConcept: a known ingredient code's name, else
/// `text`, else the first coding's `display`; with the node it came from.
fn concept_name(concept: &Node) -> Option<(String, &Node)> {
    for &(system, code, name) in KNOWN_DRUGS {
        if let Some(coding) = coded(Some(concept), system, &[code]) {
            return Some((name.to_owned(), coding));
        }
    }
    if let Some(node) = concept.get("text").filter(|t| text(Some(t)).is_some()) {
        return Some((raw_text(node), node));
    }
    codings(Some(concept))
        .find_map(|(c, _, _)| c.get("display").filter(|d| text(Some(d)).is_some()))
        .map(|d| (raw_text(d), d))
}

/// A drug name from a Medication: a known ingredient code on the product or
/// its single ingredient, else that ingredient's name, else the product's.
fn medication_name(med: &Node) -> Option<(String, &Node)> {
    let code = med.get("code");
    let ingredients = seq(med.get("ingredient"));
    let single = match ingredients {
        [one] => one.get("itemCodeableConcept"),
        _ => None,
    };
    for concept in [code, single].into_iter().flatten() {
        for &(system, known, name) in KNOWN_DRUGS {
            if let Some(coding) = coded(Some(concept), system, &[known]) {
                return Some((name.to_owned(), coding));
            }
        }
    }
    single
        .and_then(concept_name)
        .or_else(|| code.and_then(concept_name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_are_whole_years_at_the_start() {
        let start = Date::parse("2016-09-12").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(age_years("1981-01-12", start), Some(35));
        assert_eq!(age_years("1998-09-12", start), Some(18));
        assert_eq!(age_years("1998-09-13", start), Some(17));
        assert_eq!(age_years("1998-08", start), Some(18));
        assert_eq!(age_years("1998-09", start), None);
        assert_eq!(age_years("1998", start), None);
        assert_eq!(age_years("2017-01-01", start), Some(-1));
    }

    #[test]
    fn food_words_read_negations() {
        assert_eq!(food_words("Take with food"), Some(true));
        assert_eq!(food_words("Do not take with food"), Some(false));
        assert_eq!(food_words("on an empty stomach"), Some(false));
        assert_eq!(food_words("7mg once daily"), None);
        assert_eq!(food_words("with food, or on an empty stomach"), None);
        // Negations anywhere before the phrase in its clause.
        assert_eq!(food_words("Do not take it with food"), Some(false));
        assert_eq!(food_words("Avoid taking with meals"), Some(false));
        assert_eq!(food_words("Don\u{2019}t take with a meal"), Some(false));
        assert_eq!(food_words("Never with or after food"), Some(false));
        // A negation reverses an away phrase too, and only within four words.
        assert_eq!(food_words("Do not take on an empty stomach"), Some(true));
        assert_eq!(
            food_words("Take with food, not on an empty stomach"),
            Some(true)
        );
        assert_eq!(
            food_words("Take no more than 2 tablets a day with meals"),
            Some(true)
        );
        assert_eq!(food_words("Take with or without food"), None);
        // A negation in another clause or sentence says nothing of the phrase.
        assert_eq!(food_words("Take with food. Do not crush"), Some(true));
        assert_eq!(food_words("Do not crush; take with breakfast"), Some(true));
        // Whole words only.
        assert_eq!(food_words("Take with foodstuffs"), None);
        assert_eq!(food_words("Swallow whole after mealtime prayers"), None);
        assert_eq!(food_words("TAKE WITH FOOD"), Some(true));
    }

    #[test]
    fn renal_bounds() {
        let ml_day = |n: i64| Decimal::from(n * 1440);
        assert_eq!(
            renal_bands(ml_day(60), Some(">")),
            Some(vec!["none", "mild"])
        );
        assert_eq!(renal_bands(ml_day(30), Some("<")), Some(vec!["severe"]));
        assert_eq!(
            renal_bands(ml_day(30), Some("<=")),
            Some(vec!["moderate", "severe"])
        );
        assert_eq!(renal_bands(ml_day(90), Some(">=")), Some(vec!["none"]));
        assert_eq!(renal_bands(ml_day(60), None), Some(vec!["mild"]));
        assert_eq!(renal_bands(ml_day(60), Some("ad")), None);
    }
}
