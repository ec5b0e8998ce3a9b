//! The regimen vocabulary: `rules/vocabulary.yaml` to the one table of facts
//! that every stage reads.
//!
//! Takes the vocabulary file and gives a [`Vocabulary`]: for each fact its
//! path, scope, type (a quantity's dimension, an enum's values), display
//! unit, documentation, regimen-document key, CSV columns, FHIR codes and
//! plausible limits; the indications with their SNOMED CT and ICD-10 codes;
//! and the FHIR terminology the readers need. The facts the engine computes
//! with sit at fixed indices ([`Fact::WEIGHT`], ...) and must be declared
//! with the type the engine expects; every other fact is data alone: a new
//! lab value, flag or enum is an entry in the file, not Rust. Loading never
//! stops at the first problem: every one is reported, located in the file.

use std::collections::HashMap;
use std::sync::Arc;

use rust_decimal::Decimal;

use crate::codes::RuleCode;
use crate::diagnostic::{Diagnostic, Level as DiagLevel};
use crate::facts::{ENGINE_FACTS, EngineType, Fact, FactSet, Scope, Type, Val};
use crate::source::{SourceFile, Span, Spanned};
use crate::suggest;
use crate::tree::{self, Node, Value};
use crate::units::{self, Dim, Family, Unit};

/// The shipped vocabulary's text, built into the binary with the packs.
pub const BUILTIN: (&str, &str) = (
    "rules/vocabulary.yaml",
    include_str!("../rules/vocabulary.yaml"),
);

/// The file name a rules directory gives its own vocabulary in.
pub const FILE_NAME: &str = "vocabulary.yaml";

/// Where a key is written in a regimen document.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Block {
    /// At the top, beside `drug` (`formulation`).
    Regimen,
    /// In `patient`.
    Patient,
    /// In `course`, beside `phases`.
    Course,
    /// In an item of `course.phases`.
    Phase,
}

impl Block {
    const ALL: [Block; 4] = [Block::Regimen, Block::Patient, Block::Course, Block::Phase];

    fn slot(self) -> usize {
        match self {
            Block::Regimen => 0,
            Block::Patient => 1,
            Block::Course => 2,
            Block::Phase => 3,
        }
    }
}

/// Every fact rules can name, and how each stage knows it.
#[derive(Clone, Debug)]
pub struct Vocabulary {
    facts: Vec<FactInfo>,
    /// The facts in the order the file declares them (the engine's facts
    /// come first in `facts`, whatever their place in the file).
    order: Vec<Fact>,
    by_path: HashMap<String, Fact>,
    /// The keys of each [`Block`] of a regimen document, in file order.
    keys: [Vec<(String, Fact)>; 4],
    /// For each fact whose key others share, the facts written under it
    /// (itself included); empty for the rest.
    alike: Vec<Vec<Fact>>,
    /// The values of `regimen.indication`, with their codes.
    pub indications: Vec<Indication>,
    /// Codes of FHIR's own structure.
    pub terminology: Terminology,
    /// Ingredient codes that name a drug, from the packs' `codes:`.
    pub drugs: Vec<(Coding, String)>,
    /// The file it was read from.
    pub file: Arc<SourceFile>,
}

/// One fact: what it is, and how each stage reads, checks and shows it.
#[derive(Clone, Debug)]
pub struct FactInfo {
    /// The fact.
    pub fact: Fact,
    /// Its path in rule expressions (`patient.weight`).
    pub path: String,
    /// Course (patient, regimen and course facts) or phase.
    pub scope: Scope,
    /// Its type.
    pub ty: Type,
    /// The unit values are shown in, as written (`kg`), for a quantity.
    pub unit: Option<String>,
    /// `unit`, parsed (a mass as a body mass for a body weight).
    pub display: Option<Unit>,
    /// What one value of an enum is called in messages (`disease severity`).
    pub domain: String,
    /// An enum's values, in order.
    pub values: Vec<String>,
    /// Enum values that mean "not recorded" (`unknown` sex).
    pub missing: Vec<u8>,
    /// Other spellings of enum values (`f` for `female`).
    pub spellings: Vec<(String, u8)>,
    /// An open enum (indications): any lower_snake_case word is accepted,
    /// one not among `values` as the value `other`.
    pub open: bool,
    /// What it means.
    pub doc: String,
    /// The key a regimen document writes it under; `None` for a fact only
    /// the engine computes.
    pub key: Option<String>,
    /// The CSV columns that give it.
    pub csv: Vec<Column>,
    /// How FHIR input gives it.
    pub fhir: FhirSpec,
    /// A quantity accepts calendar units (months, years).
    pub calendar: bool,
    /// The unit families a written quantity may be in (see [`families`]).
    pub families: Vec<Family>,
    /// The unit of a bare number, when one is accepted (age: years).
    pub bare: Option<String>,
    /// For a lab value in mass per volume (mg/dL) also written in amount
    /// of substance per volume (umol/L): how much one unit it is shown in
    /// is, canonically (creatinine: 1 mg/dL is 88.4 umol/L).
    pub molar: Option<Decimal>,
    /// Plausible values, for a recorded quantity.
    pub limits: Option<Limits>,
    /// An example value for help texts.
    pub example: Option<String>,
    /// For a derived fact: how the engine computes it, in words.
    pub derived: Option<String>,
    /// For a derived fact that is arithmetic on others: the expression
    /// (`phase.dose / patient.weight`), checked when the vocabulary loads;
    /// `rules test` sets the fact through it.
    pub formula: Option<crate::check::Code>,
    /// For a derived fact: the recorded facts a missing value needs, which
    /// an unevaluated finding names instead of the fact itself.
    pub inputs: Vec<Fact>,
    /// Facts a finding labels beside this one, to show why it is what it is.
    pub shown_with: Vec<Fact>,
}

impl FactInfo {
    /// The last segment of the path, in words: `daily dose per kg`.
    pub fn name(&self) -> String {
        let path = self.path.as_str();
        path.rsplit('.').next().unwrap_or(path).replace('_', " ")
    }

    /// The index of an enum value, by its name or another spelling.
    pub fn value_index(&self, name: &str) -> Option<u8> {
        self.values
            .iter()
            .position(|v| v == name)
            .and_then(|i| u8::try_from(i).ok())
            .or_else(|| {
                self.spellings
                    .iter()
                    .find(|(s, _)| s == name)
                    .map(|(_, i)| *i)
            })
    }

    /// The name of the enum value at `index`.
    pub fn value_name(&self, index: u8) -> &str {
        self.values
            .get(usize::from(index))
            .map_or("?", String::as_str)
    }

    /// Whether the fact is computed by the engine rather than written.
    pub fn is_derived(&self) -> bool {
        self.derived.is_some()
    }
}

/// A CSV column of a fact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Column {
    /// The header name.
    pub name: String,
    /// The unit of its cells, when they are plain numbers.
    pub unit: Option<String>,
}

/// A code of a terminology: SNOMED CT, LOINC, ...
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Coding {
    /// The system URI.
    pub system: String,
    /// The code.
    pub code: String,
}

/// How FHIR R4 input gives a fact.
#[derive(Clone, Debug, Default)]
pub struct FhirSpec {
    /// LOINC codes of the Observations that record it.
    pub loinc: Vec<String>,
    /// What one such Observation is called in messages (default: the doc).
    pub called: Option<String>,
    /// For a coded Observation: the value each set of value codes means.
    pub values: Vec<(Val, Vec<Coding>)>,
    /// For a phase fact read from a dosage's `additionalInstruction`: the
    /// value each set of instruction codes means.
    pub instruction: Vec<(Val, Vec<Coding>)>,
}

/// A recorded quantity's plausible values, in canonical units.
#[derive(Clone, Debug)]
pub struct Limits {
    /// The lowest value, and whether it is itself accepted.
    pub min: (Decimal, bool),
    /// The highest value, and how to show it.
    pub max: (Decimal, String),
    /// The lowest plausible value above zero, and how to show it.
    pub floor: Option<(Decimal, String)>,
}

/// One value of `regimen.indication`, and the codes that name it.
#[derive(Clone, Debug, Default)]
pub struct Indication {
    /// The value (`rheumatoid_arthritis`).
    pub name: String,
    /// Its index among the fact's values.
    pub value: u8,
    /// SNOMED CT concepts.
    pub snomed: Vec<String>,
    /// ICD-10 categories, dots removed (`M05`).
    pub icd10: Vec<String>,
    /// ICD-10 codes under those that are another condition (`M061`).
    pub icd10_not: Vec<String>,
    /// Phrases a concept's text names it by (whole words, lowercase).
    pub words: Vec<String>,
    /// Phrases that name another condition (`psoriatic arthritis`).
    pub words_not: Vec<String>,
}

/// Codes of FHIR's own structure.
#[derive(Clone, Debug, Default)]
pub struct Terminology {
    /// Units of presentation a strength may be given per (a capsule).
    pub units_of_presentation: Vec<Coding>,
}

const FACT_KEYS: &[&str] = &[
    "type",
    "open",
    "name",
    "dimension",
    "unit",
    "values",
    "missing",
    "spellings",
    "doc",
    "key",
    "csv",
    "fhir",
    "accepts",
    "limits",
    "example",
    "derived",
    "formula",
    "inputs",
    "shown_with",
];
const TOP_KEYS: &[&str] = &["facts", "indications", "terminology"];
const TYPES: &[&str] = &["quantity", "enum", "bool", "date"];
const DIMENSIONS: &[(&str, Dim)] = &[
    ("number", Dim::NONE),
    ("drug mass", Dim::MASS),
    ("body mass", Dim::BODY_MASS),
    ("time", Dim::TIME),
    ("dose rate", Dim::DOSE_RATE),
    ("dose per kg", Dim::DOSE_PER_KG),
    ("dose rate per kg", Dim::DOSE_RATE_PER_KG),
    ("flow", Dim::FLOW),
    ("egfr", Dim::EGFR),
    ("length", Dim::LENGTH),
    ("area", Dim::AREA),
    ("dose per m2", Dim::DOSE_PER_M2),
    ("dose rate per m2", Dim::DOSE_RATE_PER_M2),
    ("concentration", Dim::MASS_CONCENTRATION),
];
const LIMIT_KEYS: &[&str] = &["above", "at_least", "at_most", "floor"];
const ACCEPT_KEYS: &[&str] = &["calendar", "bare", "molar"];
const FHIR_KEYS: &[&str] = &[
    "loinc",
    "called",
    "values",
    "instruction",
    "reading",
    "patient",
    "reason",
    "timing",
];
const INDICATION_KEYS: &[&str] = &["snomed", "icd10", "icd10_not", "words", "words_not"];
const TERMINOLOGY_KEYS: &[&str] = &["units_of_presentation"];
const CODING_KEYS: &[&str] = &["system", "code"];

impl Vocabulary {
    /// The shipped vocabulary.
    pub fn builtin() -> Result<Vocabulary, Vec<Diagnostic>> {
        Vocabulary::load(SourceFile::new(BUILTIN.0, BUILTIN.1))
    }

    /// The shipped vocabulary, for tests: a broken one is a failed test.
    #[cfg(test)]
    pub(crate) fn shipped() -> Vocabulary {
        Vocabulary::builtin()
            .unwrap_or_else(|e| panic!("the shipped vocabulary does not load: {e:?}"))
    }

    /// Reads a vocabulary file, reporting every problem.
    pub fn load(file: Arc<SourceFile>) -> Result<Vocabulary, Vec<Diagnostic>> {
        let mut loader = Loader {
            file: file.clone(),
            problems: Vec::new(),
        };
        let vocabulary = loader.vocabulary();
        match vocabulary {
            Some(v) if loader.problems.is_empty() => Ok(v),
            _ => Err(loader.problems),
        }
    }

    /// The fact at `path`.
    pub fn fact(&self, path: &str) -> Option<Fact> {
        self.by_path.get(path).copied()
    }

    /// What the vocabulary says of `fact`.
    pub fn info(&self, fact: Fact) -> &FactInfo {
        // Facts are only made by this vocabulary: every index is in range.
        &self.facts[fact.index()]
    }

    /// Every fact, in the order the file declares them.
    pub fn facts(&self) -> impl Iterator<Item = &FactInfo> {
        self.order.iter().map(|f| self.info(*f))
    }

    /// The fact a regimen document writes as `key` in `block`.
    pub fn keyed(&self, block: Block, key: &str) -> Option<Fact> {
        self.keys[block.slot()]
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, f)| *f)
    }

    /// The keys of `block`, in file order, each once (for "did you mean"
    /// and the list of what is known).
    pub fn keys(&self, block: Block) -> impl Iterator<Item = &str> {
        let list = &self.keys[block.slot()];
        list.iter()
            .enumerate()
            .filter(|(i, (k, _))| !list[..*i].iter().any(|(seen, _)| seen == k))
            .map(|(_, (k, _))| k.as_str())
    }

    /// The facts written under the same key as `fact` (itself included):
    /// `dose` is `phase.dose`, `phase.dose_per_kg` or `phase.dose_per_m2`
    /// as its unit says.
    /// Empty for a fact no other shares its key with.
    pub fn written_alike(&self, fact: Fact) -> &[Fact] {
        self.alike.get(fact.index()).map_or(&[], Vec::as_slice)
    }

    /// The key a fact is written under inside its block (`weight`), and the
    /// block.
    pub fn key_of(&self, fact: Fact) -> Option<(Block, &str)> {
        Block::ALL.into_iter().find_map(|b| {
            self.keys[b.slot()]
                .iter()
                .find(|(_, f)| *f == fact)
                .map(|(k, _)| (b, k.as_str()))
        })
    }

    /// The facts of `set` in the order people read them: the file's.
    pub fn ordered(&self, set: FactSet) -> impl Iterator<Item = Fact> + '_ {
        self.order.iter().copied().filter(move |f| set.contains(*f))
    }

    /// Every path, for "did you mean" suggestions.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.facts().map(|f| f.path.as_str())
    }

    /// How many facts there are: the width of a regimen's rows.
    pub fn len(&self) -> usize {
        self.facts.len()
    }

    /// Always false: the engine's facts are always declared.
    pub fn is_empty(&self) -> bool {
        self.facts.is_empty()
    }

    /// Shows a fact's value in its display unit (`70 kg`, `severe`).
    pub fn show(&self, fact: Fact, v: Val) -> String {
        let mut out = String::with_capacity(24);
        self.show_into(fact, v, &mut out);
        out
    }

    /// Appends a fact's value in its display unit to `out`.
    pub fn show_into(&self, fact: Fact, v: Val, out: &mut String) {
        let info = self.info(fact);
        match v {
            Val::Num(n) => match &info.display {
                Some(unit) => units::write_in(n, unit, out),
                None => units::write_number(n, out),
            },
            Val::Bool(b) => out.push_str(if b { "true" } else { "false" }),
            Val::Enum(i) => out.push_str(info.value_name(i)),
            Val::Date(d) => out.push_str(&d.to_string()),
        }
    }
}

struct Loader {
    file: Arc<SourceFile>,
    problems: Vec<Diagnostic>,
}

/// A fact as read, before the engine's facts are put in their places.
struct Read {
    info: FactInfo,
    span: Span,
    formula: Option<Spanned<String>>,
    inputs: Vec<Spanned<String>>,
    shown_with: Vec<Spanned<String>>,
}

impl Loader {
    fn error(&mut self, code: RuleCode, span: Span, message: impl Into<String>, label: &str) {
        self.problems.push(
            Diagnostic::new(code.as_str(), DiagLevel::Error, message).at(&self.file, span, label),
        );
    }

    fn unknown_keys(&mut self, node: &Node, known: &[&str], what: &str) {
        for (key, _) in node.as_map().unwrap_or_default() {
            if !known.contains(&key.value.as_str()) {
                let help = suggest::closest(&key.value, known.iter().copied()).map_or_else(
                    || format!("the keys of {what} are: {}", known.join(", ")),
                    |s| format!("did you mean `{s}`?"),
                );
                self.problems.push(
                    Diagnostic::new(
                        RuleCode::UnknownKey.as_str(),
                        DiagLevel::Error,
                        format!("unknown key `{}` in {what}", key.value),
                    )
                    .at(&self.file, key.span, "unknown key")
                    .help(help),
                );
            }
        }
    }

    fn text(&mut self, node: Option<&Node>, what: &str, at: Span) -> Option<String> {
        match node.map(|n| (&n.value, n.span)) {
            Some((Value::Str(s), _)) => Some(s.clone()),
            Some((Value::Number(n), _)) => Some(n.clone()),
            Some((Value::Bool(b), _)) => Some(b.to_string()),
            Some((other, span)) => {
                let kind = other.kind();
                self.error(
                    RuleCode::WrongType,
                    span,
                    format!("{what} must be text, not {kind}"),
                    "expected text",
                );
                None
            }
            None => {
                self.error(
                    RuleCode::MissingKey,
                    at,
                    format!("{what} is required"),
                    "here",
                );
                None
            }
        }
    }

    fn list(&mut self, node: Option<&Node>, field: &str) -> Vec<Spanned<String>> {
        let Some(node) = node else { return Vec::new() };
        tree::texts(node, field, true, &mut |span, message, label| {
            self.error(RuleCode::WrongType, span, message, label);
        })
    }

    fn vocabulary(&mut self) -> Option<Vocabulary> {
        let doc = match tree::yaml::parse(&self.file) {
            Ok(doc) => doc,
            Err(err) => {
                let message = format!("the vocabulary is not valid YAML: {}", err.message);
                self.error(RuleCode::YamlSyntax, err.span, message, "here");
                return None;
            }
        };
        if doc.as_map().is_none() {
            self.error(
                RuleCode::WrongType,
                doc.span,
                "the vocabulary must be a mapping with `facts`",
                "not a mapping",
            );
            return None;
        }
        self.unknown_keys(&doc, TOP_KEYS, "the vocabulary");
        let mut read: Vec<Read> = Vec::new();
        match doc.get("facts").and_then(Node::as_map) {
            Some(entries) => {
                for (path, node) in entries {
                    if let Some(r) = self.fact(path, node) {
                        read.push(r);
                    }
                }
            }
            None => self.error(
                RuleCode::MissingKey,
                doc.span,
                "the vocabulary must declare `facts`",
                "no facts",
            ),
        }
        let (facts, order, formulas) = self.place(read)?;
        let by_path: HashMap<String, Fact> =
            facts.iter().map(|f| (f.path.clone(), f.fact)).collect();
        let keys = self.keys(&facts, &order);
        let alike = facts
            .iter()
            .map(|info| {
                let shared: Vec<Fact> = keys
                    .iter()
                    .filter_map(|list| {
                        let (key, _) = list.iter().find(|(_, f)| *f == info.fact)?;
                        Some(list.iter().filter(move |(k, _)| k == key).map(|(_, f)| *f))
                    })
                    .flatten()
                    .collect();
                if shared.len() > 1 { shared } else { Vec::new() }
            })
            .collect();
        let mut vocabulary = Vocabulary {
            facts,
            order,
            by_path,
            keys,
            alike,
            indications: Vec::new(),
            terminology: Terminology::default(),
            drugs: Vec::new(),
            file: self.file.clone(),
        };
        vocabulary.indications = self.indications(doc.get("indications"), &vocabulary);
        vocabulary.terminology = self.terminology(doc.get("terminology"));
        for (fact, text) in formulas {
            if let Some(code) = self.formula(fact, &text, &vocabulary) {
                vocabulary.facts[fact.index()].formula = Some(code);
            }
        }
        Some(vocabulary)
    }

    /// A derived fact's `formula`, checked like a rule's expression: it
    /// must have the fact's own type.
    fn formula(
        &mut self,
        fact: Fact,
        text: &Spanned<String>,
        vocabulary: &Vocabulary,
    ) -> Option<crate::check::Code> {
        let info = vocabulary.info(fact);
        let expr = match crate::syntax::parse_expression(&text.value) {
            Ok(expr) => expr,
            Err(err) => {
                let message = format!(
                    "`formula` of `{}` does not parse: {}",
                    info.path, err.message
                );
                self.error(RuleCode::Syntax, text.span, message, "here");
                return None;
            }
        };
        let env = crate::check::Env {
            phase: info.scope == Scope::Phase,
            vocabulary,
        };
        let mut problems = Vec::new();
        let typed = crate::check::check(&expr, env, &mut problems);
        for p in problems {
            self.error(p.code, text.span, p.message, "in this formula");
        }
        let typed = typed?;
        if typed.ty != info.ty {
            let message = format!(
                "`formula` of `{}` is {}, but the fact is {}",
                info.path,
                typed.ty.describe(vocabulary),
                info.ty.describe(vocabulary)
            );
            self.error(RuleCode::VocabularyFact, text.span, message, "another type");
            return None;
        }
        Some(typed.code)
    }

    /// Each block's keys, from the facts' `key`s: `patient.weight` is
    /// `weight` in `patient`, `course.start` is `start` in `course`, a key
    /// without a block (`formulation`) is at the top, and a phase fact's
    /// key is inside each phase.
    fn keys(&mut self, facts: &[FactInfo], order: &[Fact]) -> [Vec<(String, Fact)>; 4] {
        let mut keys: [Vec<(String, Fact)>; 4] = Default::default();
        for fact in order {
            let Some(info) = facts.get(fact.index()) else {
                continue;
            };
            let Some(key) = &info.key else { continue };
            let (block, name) = match (info.scope, key.split_once('.')) {
                (Scope::Phase, None) => (Block::Phase, key.as_str()),
                (Scope::Course, Some(("patient", name))) => (Block::Patient, name),
                (Scope::Course, Some(("course", name))) => (Block::Course, name),
                (Scope::Course, None) => (Block::Regimen, key.as_str()),
                _ => {
                    let message = format!(
                        "`{}` cannot be written as `{key}`: a course fact's key is `patient.NAME`, `course.NAME` or `NAME` (at the top); a phase fact's is `NAME`",
                        info.path
                    );
                    self.error(RuleCode::VocabularyFact, Span::new(0, 0), message, "here");
                    continue;
                }
            };
            let list = &mut keys[block.slot()];
            // Quantities of different dimensions may share a key: the unit
            // written decides which (`dose: 20 mg`, `15 mg/kg`, `75 mg/m2`).
            let dim = |f: Fact| match facts.get(f.index()).map(|i| i.ty) {
                Some(Type::Quantity(d)) => Some(d),
                _ => None,
            };
            let clash = |other: Fact| match (dim(other), dim(*fact)) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            if list.iter().any(|(k, f)| k == name && clash(*f)) {
                let message = format!("two facts are written as `{key}`");
                self.error(RuleCode::DuplicateKey, Span::new(0, 0), message, "here");
                continue;
            }
            list.push((name.to_owned(), *fact));
        }
        keys
    }

    fn fact(&mut self, path: &Spanned<String>, node: &Node) -> Option<Read> {
        if node.as_map().is_none() {
            self.error(
                RuleCode::WrongType,
                node.span,
                format!("`{}` must be a mapping with `type` and `doc`", path.value),
                "not a mapping",
            );
            return None;
        }
        self.unknown_keys(node, FACT_KEYS, &format!("fact `{}`", path.value));
        let scope = match path.value.split_once('.') {
            Some(("phase", rest)) if !rest.is_empty() => Scope::Phase,
            Some(("patient" | "regimen" | "course", rest)) if !rest.is_empty() => Scope::Course,
            _ => {
                self.error(
                    RuleCode::VocabularyFact,
                    path.span,
                    format!("`{}` is not a fact path: write `patient.NAME`, `regimen.NAME`, `course.NAME` or `phase.NAME`", path.value),
                    "bad path",
                );
                return None;
            }
        };
        let well_formed = path.value.split('.').all(crate::text::is_snake_word);
        if !well_formed {
            self.error(
                RuleCode::VocabularyFact,
                path.span,
                format!(
                    "`{}` must be lower_snake_case words joined by dots",
                    path.value
                ),
                "bad path",
            );
        }
        let ty_name = self.text(node.get("type"), "`type`", node.span)?;
        let doc = self
            .text(node.get("doc"), "`doc`", node.span)
            .unwrap_or_default();
        let values = self.list(node.get("values"), "values");
        let mut ty = match ty_name.as_str() {
            "bool" => Type::Bool,
            "date" => Type::Date,
            // Placeholder until the fact's index is known.
            "enum" => Type::Enum(Fact::from_index(0)),
            "quantity" => match node.get("dimension") {
                // Without a name, the dimension is the unit's own (`mg/dL`
                // is a mass per volume): a lab value needs no new name.
                None => {
                    let unit = node.get("unit").and_then(Node::as_str).unwrap_or_default();
                    match Unit::parse(unit) {
                        Ok(u) => Type::Quantity(u.dim),
                        Err(_) => {
                            let message = format!(
                                "quantity `{}` needs a `unit` (or a `dimension`)",
                                path.value
                            );
                            self.error(RuleCode::VocabularyFact, node.span, message, "no unit");
                            return None;
                        }
                    }
                }
                Some(_) => {
                    let dim_name =
                        self.text(node.get("dimension"), "a quantity's `dimension`", node.span)?;
                    match DIMENSIONS.iter().find(|(n, _)| *n == dim_name) {
                        Some((_, dim)) => Type::Quantity(*dim),
                        None => {
                            let at = node.get("dimension").map_or(node.span, |n| n.span);
                            let help = suggest::did_you_mean(
                                &dim_name,
                                DIMENSIONS.iter().map(|(n, _)| *n),
                            );
                            self.error(
                                RuleCode::VocabularyFact,
                                at,
                                format!("`{dim_name}` is not a dimension{help}"),
                                "unknown dimension",
                            );
                            return None;
                        }
                    }
                }
            },
            other => {
                let at = node.get("type").map_or(node.span, |n| n.span);
                let help = suggest::did_you_mean(other, TYPES.iter().copied());
                self.error(
                    RuleCode::VocabularyFact,
                    at,
                    format!(
                        "`{other}` is not a type{help}; the types are quantity, enum, bool, date"
                    ),
                    "unknown type",
                );
                return None;
            }
        };
        if matches!(ty, Type::Enum(_)) && values.is_empty() {
            self.error(
                RuleCode::MissingKey,
                node.span,
                format!("enum `{}` must list its `values`", path.value),
                "no values",
            );
        }
        if values.len() > usize::from(u8::MAX) {
            self.error(
                RuleCode::VocabularyFact,
                node.span,
                "an enum has at most 255 values",
                "too many",
            );
        }
        let index_of = |name: &str| {
            values
                .iter()
                .position(|v| v.value == name)
                .and_then(|i| u8::try_from(i).ok())
        };
        let mut missing = Vec::new();
        for m in self.list(node.get("missing"), "missing") {
            match index_of(&m.value) {
                Some(i) => missing.push(i),
                None => self.error(
                    RuleCode::UnknownValue,
                    m.span,
                    format!("`{}` is not one of the values", m.value),
                    "unknown value",
                ),
            }
        }
        let mut spellings = Vec::new();
        if let Some(entries) = node.get("spellings").and_then(Node::as_map) {
            for (spelling, value) in entries {
                let name = value.as_str().unwrap_or_default();
                match index_of(name) {
                    Some(i) => spellings.push((spelling.value.clone(), i)),
                    None => self.error(
                        RuleCode::UnknownValue,
                        value.span,
                        format!("`{name}` is not one of the values"),
                        "unknown value",
                    ),
                }
            }
        }
        let unit = match node.get("unit") {
            Some(n) => self.text(Some(n), "`unit`", n.span),
            None => None,
        };
        let display = match (&ty, &unit) {
            (Type::Quantity(dim), Some(text)) => {
                self.display_unit(*dim, text, node.get("unit").map_or(node.span, |n| n.span))
            }
            (Type::Quantity(dim), None) if *dim != Dim::NONE => {
                self.error(
                    RuleCode::MissingKey,
                    node.span,
                    format!(
                        "quantity `{}` must give the `unit` it is shown in",
                        path.value
                    ),
                    "no unit",
                );
                None
            }
            _ => None,
        };
        let (calendar, bare, molar) = match node.get("accepts") {
            Some(a) => {
                self.unknown_keys(a, ACCEPT_KEYS, "`accepts`");
                let calendar =
                    matches!(a.get("calendar").map(|n| &n.value), Some(Value::Bool(true)));
                let bare = a.get("bare").and_then(Node::as_str).map(str::to_owned);
                let molar = a.get("molar").and_then(|n| self.molar(n, &ty));
                (calendar, bare, molar)
            }
            None => (false, None, None),
        };
        let limits = match (node.get("limits"), &ty) {
            (Some(l), Type::Quantity(dim)) => self.limits(l, *dim),
            (Some(l), _) => {
                self.error(
                    RuleCode::WrongType,
                    l.span,
                    "only a quantity has `limits`",
                    "not a quantity",
                );
                None
            }
            (None, _) => None,
        };
        let derived = match node.get("derived") {
            Some(n) => self.text(Some(n), "`derived`", n.span),
            None => None,
        };
        let key = match node.get("key") {
            Some(n) => self.text(Some(n), "`key`", n.span),
            // A fact only the engine computes has no key.
            None if derived.is_some() && node.get("csv").is_none() => None,
            None => Some(match path.value.split_once('.') {
                Some(("phase" | "regimen", name)) => name.to_owned(),
                _ => path.value.clone(),
            }),
        };
        let csv = self.columns(node.get("csv"));
        let fhir = self.fhir(node.get("fhir"), &ty, &values);
        let accepted = match ty {
            Type::Quantity(dim) => families(dim, calendar, display.as_ref()),
            _ => Vec::new(),
        };
        if let Type::Enum(_) = &mut ty {
            // Fixed up in `place`.
        }
        Some(Read {
            info: FactInfo {
                fact: Fact::from_index(0),
                path: path.value.clone(),
                scope,
                ty,
                unit,
                display,
                domain: node.get("name").and_then(Node::as_str).map_or_else(
                    || {
                        path.value
                            .rsplit('.')
                            .next()
                            .unwrap_or_default()
                            .replace('_', " ")
                    },
                    str::to_owned,
                ),
                values: values.into_iter().map(|v| v.value).collect(),
                missing,
                spellings,
                open: matches!(node.get("open").map(|n| &n.value), Some(Value::Bool(true))),
                doc,
                key,
                csv,
                fhir,
                families: accepted,
                calendar,
                bare,
                molar,
                limits,
                example: node
                    .get("example")
                    .and_then(Node::as_str)
                    .map(str::to_owned),
                derived,
                formula: None,
                inputs: Vec::new(),
                shown_with: Vec::new(),
            },
            span: path.span,
            formula: node
                .get("formula")
                .and_then(|n| n.as_str().map(|s| Spanned::new(s.to_owned(), n.span))),
            inputs: self.list(node.get("inputs"), "inputs"),
            shown_with: self.list(node.get("shown_with"), "shown_with"),
        })
    }

    /// A display unit, checked against the fact's dimension.
    fn display_unit(&mut self, dim: Dim, text: &str, at: Span) -> Option<Unit> {
        match Unit::parse(text) {
            Ok(unit) => {
                let unit = match dim {
                    Dim::BODY_MASS => unit.as_body_mass().unwrap_or(unit),
                    _ => unit,
                };
                if unit.dim == dim {
                    Some(unit)
                } else {
                    self.error(
                        RuleCode::VocabularyFact,
                        at,
                        format!("`{text}` is not a unit of {}", dim.describe()),
                        "wrong unit",
                    );
                    None
                }
            }
            Err(err) => {
                self.error(RuleCode::UnknownUnit, at, err.to_string(), "unknown unit");
                None
            }
        }
    }

    /// A quantity limit such as `700 kg`, in canonical units of `dim`.
    fn limit(&mut self, node: &Node, dim: Dim) -> Option<(Decimal, String)> {
        let text = match &node.value {
            Value::Str(s) => s.clone(),
            Value::Number(n) => n.clone(),
            other => {
                let kind = other.kind();
                self.error(
                    RuleCode::WrongType,
                    node.span,
                    format!("a limit must be a quantity such as `700 kg`, not {kind}"),
                    "expected a quantity",
                );
                return None;
            }
        };
        let parsed = units::split_quantity(&text)
            .ok()
            .and_then(|(value, unit_text)| {
                let unit = Unit::parse(unit_text).ok()?;
                let unit = match dim {
                    Dim::BODY_MASS => unit.as_body_mass().unwrap_or(unit),
                    Dim::DOSE_RATE if unit.dim == Dim::MASS => Unit {
                        dim: Dim::DOSE_RATE,
                        ..unit
                    },
                    _ => unit,
                };
                (unit.dim == dim)
                    .then(|| unit.factor.to_canonical(value))
                    .flatten()
            });
        match parsed {
            Some(v) => Some((v, text)),
            None => {
                self.error(
                    RuleCode::VocabularyFact,
                    node.span,
                    format!("`{text}` is not a quantity of {}", dim.describe()),
                    "not a limit",
                );
                None
            }
        }
    }

    /// `molar: 88.4 umol/L`: what one unit of a mass-per-volume lab value
    /// is in amount of substance per volume, canonically.
    fn molar(&mut self, node: &Node, ty: &Type) -> Option<Decimal> {
        let parsed = node.as_str().and_then(|text| {
            let (value, unit_text) = units::split_quantity(text).ok()?;
            let unit = Unit::parse(unit_text).ok()?;
            (unit.dim == Dim::AMOUNT_CONCENTRATION && value > Decimal::ZERO)
                .then(|| unit.factor.to_canonical(value))
                .flatten()
        });
        if parsed.is_none() || *ty != Type::Quantity(Dim::MASS_CONCENTRATION) {
            self.error(
                RuleCode::VocabularyFact,
                node.span,
                "`molar` gives what one unit of a mass concentration is in umol/L, \
                 e.g. `molar: 88.4 umol/L`, for a fact shown in mg/dL",
                "not a molar equivalent",
            );
            return None;
        }
        parsed
    }

    fn limits(&mut self, node: &Node, dim: Dim) -> Option<Limits> {
        self.unknown_keys(node, LIMIT_KEYS, "`limits`");
        let min = match (node.get("above"), node.get("at_least")) {
            (Some(a), None) => (self.limit(a, dim)?.0, false),
            (None, Some(a)) => (self.limit(a, dim)?.0, true),
            (None, None) => (Decimal::ZERO, true),
            (Some(_), Some(b)) => {
                self.error(
                    RuleCode::VocabularyFact,
                    b.span,
                    "give `above` or `at_least`, not both",
                    "both given",
                );
                return None;
            }
        };
        let Some(max_node) = node.get("at_most") else {
            self.error(
                RuleCode::MissingKey,
                node.span,
                "`limits` must give `at_most`, the highest plausible value",
                "no at_most",
            );
            return None;
        };
        let max = self.limit(max_node, dim)?;
        let floor = match node.get("floor") {
            Some(f) => Some(self.limit(f, dim)?),
            None => None,
        };
        Some(Limits { min, max, floor })
    }

    fn columns(&mut self, node: Option<&Node>) -> Vec<Column> {
        let Some(node) = node else { return Vec::new() };
        let items: Vec<&Node> = match &node.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![node],
        };
        let mut out = Vec::new();
        for item in items {
            if item.as_map().is_none() {
                self.error(
                    RuleCode::WrongType,
                    item.span,
                    "a CSV column is `{column: NAME, unit: UNIT}`",
                    "not a column",
                );
                continue;
            }
            self.unknown_keys(item, &["column", "unit"], "a CSV column");
            let Some(name) = self.text(item.get("column"), "`column`", item.span) else {
                continue;
            };
            let unit = item.get("unit").and_then(Node::as_str).map(str::to_owned);
            out.push(Column { name, unit });
        }
        out
    }

    fn coding(&mut self, node: &Node) -> Option<Coding> {
        if node.as_map().is_none() {
            self.error(
                RuleCode::WrongType,
                node.span,
                "a code is `{system: URI, code: CODE}`",
                "not a code",
            );
            return None;
        }
        self.unknown_keys(node, CODING_KEYS, "a code");
        Some(Coding {
            system: self.text(node.get("system"), "`system`", node.span)?,
            code: self.text(node.get("code"), "`code`", node.span)?,
        })
    }

    /// `{"true": [codes], "false": [codes]}` (or enum value names) to the
    /// value each set of codes means.
    fn coded_values(
        &mut self,
        node: &Node,
        ty: &Type,
        values: &[Spanned<String>],
    ) -> Vec<(Val, Vec<Coding>)> {
        let mut out = Vec::new();
        for (name, codes) in node.as_map().unwrap_or_default() {
            let val = match ty {
                Type::Bool if name.value == "true" => Some(Val::Bool(true)),
                Type::Bool if name.value == "false" => Some(Val::Bool(false)),
                Type::Enum(_) => values
                    .iter()
                    .position(|v| v.value == name.value)
                    .and_then(|i| u8::try_from(i).ok())
                    .map(Val::Enum),
                _ => None,
            };
            let Some(val) = val else {
                self.error(
                    RuleCode::UnknownValue,
                    name.span,
                    format!("`{}` is not a value of this fact", name.value),
                    "unknown value",
                );
                continue;
            };
            let codings = match &codes.value {
                Value::Seq(items) => items.iter().filter_map(|c| self.coding(c)).collect(),
                _ => {
                    self.error(
                        RuleCode::WrongType,
                        codes.span,
                        "the codes of a value are a list",
                        "expected a list",
                    );
                    Vec::new()
                }
            };
            out.push((val, codings));
        }
        out
    }

    fn fhir(&mut self, node: Option<&Node>, ty: &Type, values: &[Spanned<String>]) -> FhirSpec {
        let Some(node) = node else {
            return FhirSpec::default();
        };
        self.unknown_keys(node, FHIR_KEYS, "`fhir`");
        let loinc = self
            .list(node.get("loinc"), "loinc")
            .into_iter()
            .map(|s| s.value)
            .collect();
        let values_map = match node.get("values") {
            Some(v) => self.coded_values(v, ty, values),
            None => Vec::new(),
        };
        let instruction = match node.get("instruction") {
            Some(v) => self.coded_values(v, ty, values),
            None => Vec::new(),
        };
        FhirSpec {
            loinc,
            called: node.get("called").and_then(Node::as_str).map(str::to_owned),
            values: values_map,
            instruction,
        }
    }

    /// Puts the engine's facts at their fixed indices (checking each is
    /// declared with the type the engine computes with), the others after
    /// them, and resolves the facts named by `inputs` and `shown_with`.
    #[expect(
        clippy::type_complexity,
        reason = "three results of one pass, used once"
    )]
    fn place(
        &mut self,
        read: Vec<Read>,
    ) -> Option<(Vec<FactInfo>, Vec<Fact>, Vec<(Fact, Spanned<String>)>)> {
        let whole = Span::new(0, self.file.text().len().min(1));
        let mut slots: Vec<Option<Read>> = (0..ENGINE_FACTS.len()).map(|_| None).collect();
        let mut others: Vec<Read> = Vec::new();
        let mut file_order: Vec<String> = Vec::new();
        for r in read {
            if file_order.contains(&r.info.path) {
                self.error(
                    RuleCode::VocabularyFact,
                    r.span,
                    format!("`{}` is declared twice", r.info.path),
                    "second declaration",
                );
                continue;
            }
            file_order.push(r.info.path.clone());
            match ENGINE_FACTS.iter().position(|(p, _)| *p == r.info.path) {
                Some(i) => slots[i] = Some(r),
                None => others.push(r),
            }
        }
        let mut all: Vec<Read> = Vec::new();
        for (i, slot) in slots.into_iter().enumerate() {
            let (path, expected) = ENGINE_FACTS[i];
            match slot {
                Some(r) => {
                    let ok = match (expected, r.info.ty) {
                        (EngineType::Quantity(d), Type::Quantity(t)) => d == t,
                        (EngineType::Enum(needed), Type::Enum(_)) => {
                            needed.iter().all(|n| r.info.values.iter().any(|v| v == n))
                        }
                        (EngineType::Bool, Type::Bool) | (EngineType::Date, Type::Date) => true,
                        _ => false,
                    };
                    if !ok {
                        self.error(
                            RuleCode::VocabularyEngineFact,
                            r.span,
                            format!(
                                "the engine computes with `{path}` as {}; it is declared otherwise here",
                                expected.describe()
                            ),
                            "declared otherwise",
                        );
                    }
                    all.push(r);
                }
                None => {
                    self.error(
                        RuleCode::VocabularyEngineFact,
                        whole,
                        format!("the vocabulary must declare `{path}` ({}): the engine computes with it", expected.describe()),
                        "missing",
                    );
                }
            }
        }
        all.extend(others);
        if !self.problems.is_empty() {
            return None;
        }
        if all.len() > Fact::MAX {
            self.error(
                RuleCode::VocabularyFact,
                whole,
                format!("a vocabulary declares at most {} facts", Fact::MAX),
                "too many",
            );
            return None;
        }
        let paths: Vec<String> = all.iter().map(|r| r.info.path.clone()).collect();
        let resolve = |loader: &mut Loader, names: &[Spanned<String>]| -> Vec<Fact> {
            names
                .iter()
                .filter_map(|n| match paths.iter().position(|p| *p == n.value) {
                    Some(i) => Some(Fact::from_index(i)),
                    None => {
                        let help =
                            suggest::did_you_mean(&n.value, paths.iter().map(String::as_str));
                        loader.error(
                            RuleCode::UnknownFact,
                            n.span,
                            format!("no fact `{}`{help}", n.value),
                            "unknown fact",
                        );
                        None
                    }
                })
                .collect()
        };
        let mut facts = Vec::with_capacity(all.len());
        let mut formulas = Vec::new();
        for (i, mut r) in all.into_iter().enumerate() {
            let fact = Fact::from_index(i);
            r.info.fact = fact;
            if let Type::Enum(_) = r.info.ty {
                r.info.ty = Type::Enum(fact);
            }
            r.info.inputs = resolve(self, &r.inputs);
            r.info.shown_with = resolve(self, &r.shown_with);
            if let Some(f) = r.formula {
                formulas.push((fact, f));
            }
            facts.push(r.info);
        }
        let order = file_order
            .iter()
            .filter_map(|p| paths.iter().position(|q| q == p).map(Fact::from_index))
            .collect();
        Some((facts, order, formulas))
    }

    fn indications(&mut self, node: Option<&Node>, vocabulary: &Vocabulary) -> Vec<Indication> {
        let Some(node) = node else { return Vec::new() };
        let info = vocabulary.info(Fact::INDICATION);
        let mut out = Vec::new();
        for (name, spec) in node.as_map().unwrap_or_default() {
            let Some(value) = info.value_index(&name.value) else {
                let help =
                    suggest::did_you_mean(&name.value, info.values.iter().map(String::as_str));
                self.error(
                    RuleCode::UnknownValue,
                    name.span,
                    format!(
                        "`{}` is not a value of regimen.indication{help}",
                        name.value
                    ),
                    "unknown indication",
                );
                continue;
            };
            self.unknown_keys(
                spec,
                INDICATION_KEYS,
                &format!("indication `{}`", name.value),
            );
            let texts = |loader: &mut Loader, key: &str| -> Vec<String> {
                loader
                    .list(spec.get(key), key)
                    .into_iter()
                    .map(|s| s.value)
                    .collect()
            };
            let undotted = |codes: Vec<String>| -> Vec<String> {
                codes.into_iter().map(|c| c.replace('.', "")).collect()
            };
            let lower = |words: Vec<String>| -> Vec<String> {
                words.into_iter().map(|w| w.to_lowercase()).collect()
            };
            let snomed = texts(self, "snomed");
            let icd10 = undotted(texts(self, "icd10"));
            let icd10_not = undotted(texts(self, "icd10_not"));
            let words = lower(texts(self, "words"));
            let words_not = lower(texts(self, "words_not"));
            out.push(Indication {
                name: name.value.clone(),
                value,
                snomed,
                icd10,
                icd10_not,
                words,
                words_not,
            });
        }
        out
    }

    fn terminology(&mut self, node: Option<&Node>) -> Terminology {
        let Some(node) = node else {
            return Terminology::default();
        };
        self.unknown_keys(node, TERMINOLOGY_KEYS, "`terminology`");
        let units_of_presentation = match node.get("units_of_presentation").map(|n| &n.value) {
            Some(Value::Seq(items)) => items.iter().filter_map(|c| self.coding(c)).collect(),
            _ => Vec::new(),
        };
        Terminology {
            units_of_presentation,
        }
    }
}

/// The unit families a quantity of `dim` accepts, as the readers check
/// them; a dimension the engine has no name for (a lab value's mass per
/// volume) accepts the family of the unit it is shown in.
pub fn families(dim: Dim, calendar: bool, display: Option<&Unit>) -> Vec<Family> {
    match dim {
        Dim::MASS | Dim::BODY_MASS | Dim::DOSE_RATE => vec![Family::Mass],
        Dim::TIME if calendar => vec![Family::Time, Family::CalendarTime],
        Dim::TIME => vec![Family::Time],
        Dim::FLOW | Dim::EGFR => vec![Family::Volume],
        Dim::LENGTH | Dim::AREA => vec![Family::Length],
        _ => display.map(|u| u.family).into_iter().collect(),
    }
}
