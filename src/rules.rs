//! Rule files to a checked, compiled rule set.
//!
//! Takes rule-pack YAML files and gives a [`RuleSet`]: packs with their
//! drug, aliases, profiles and sources, and rules whose conditions and
//! message holes are compiled [`Code`]. Loading never stops at the first
//! problem: every YAML, key, expression, type and unit error in every file is
//! returned at once, each with its span, and a set with any error is refused.

mod load;

use std::sync::Arc;

use crate::check::{Code, Typed};
use crate::codes::RuleCode;
use crate::diagnostic::{Diagnostic, Level};
use crate::facts::{Fact, FactSet, Scope, Val};
use crate::source::{SourceFile, Span, Spanned};
use crate::tree::Node;
use crate::vocabulary::Vocabulary;

pub use load::load_sources;

/// Severity a rule assigns to its violations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Reported, never changes the verdict.
    Info,
    /// Makes the verdict `warn`.
    Warning,
    /// Makes the verdict `fail`.
    Error,
}

impl Severity {
    /// The name used in rule files and JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }

    /// As a diagnostic level.
    pub fn level(self) -> Level {
        match self {
            Severity::Info => Level::Info,
            Severity::Warning => Level::Warning,
            Severity::Error => Level::Error,
        }
    }
}

/// A compiled condition and the text it came from.
#[derive(Clone, Debug)]
pub struct Condition {
    /// The compiled code.
    pub code: Code,
    /// The expression as written.
    pub text: String,
    /// The facts it reads.
    pub facts: FactSet,
    /// The expressions as written, one per item of a list (`unless` may
    /// list several), each with where it is in the rule file: what a
    /// diagnostic about one bound of the condition points at.
    pub written: Vec<Written>,
}

/// One expression of a condition, and where its text is in the rule file.
#[derive(Clone, Debug)]
pub struct Written {
    /// The expression text.
    pub text: String,
    /// Where that text is.
    pub origin: Origin,
}

/// Where an expression's text sits in its rule file.
#[derive(Clone, Copy, Debug)]
pub enum Origin {
    /// The text starts at this byte of the file, unchanged.
    At(usize),
    /// The text was transformed (escapes, folding): only the whole value
    /// can be pointed at.
    Whole(Span),
}

impl Origin {
    /// The file span of `span`, a span inside the expression text.
    pub fn map(self, span: Span) -> Span {
        match self {
            Origin::At(base) => span.offset(base),
            Origin::Whole(whole) => whole,
        }
    }
}

/// A bound a rule declares it cannot probe (`unprobed:`), and why.
#[derive(Clone, Debug)]
pub struct Unprobed {
    /// The bound as written (`phase.period < 7 days`), or a fact
    /// (`phase.period`) standing for each of the rule's bounds on it.
    pub bound: Spanned<String>,
    /// Why it cannot be probed.
    pub reason: String,
}

/// A piece of a compiled message template.
#[derive(Clone, Debug)]
pub enum Part {
    /// Literal text.
    Text(String),
    /// A value to interpolate.
    Value(Typed),
}

/// Where a rule comes from.
#[derive(Clone, Debug)]
pub struct Citation {
    /// The source document's title (`US prescribing information`).
    pub source: String,
    /// The section (`Dosage and Administration`).
    pub section: String,
    /// The sentence the rule rests on, quoted.
    pub quote: String,
    /// Where the document can be read, if given.
    pub location: Option<String>,
    /// `source, section`, the form used in JSON output.
    pub short: String,
    /// `short` as a JSON string, escaped once: JSON Lines output writes it
    /// for every finding.
    pub json: Box<serde_json::value::RawValue>,
}

impl Citation {
    /// A citation, with its short form and JSON string.
    pub fn new(source: String, section: String, quote: String, location: Option<String>) -> Self {
        let short = if section.is_empty() {
            source.clone()
        } else {
            format!("{source}, {section}")
        };
        Citation {
            json: json_string(&short),
            source,
            section,
            quote,
            location,
            short,
        }
    }
}

/// `text` as a JSON string.
pub fn json_string(text: &str) -> Box<serde_json::value::RawValue> {
    // A string always serialises; the fallback (`null`) is never used.
    serde_json::value::to_raw_value(text).unwrap_or_default()
}

/// One checked rule.
#[derive(Clone, Debug)]
pub struct Rule {
    /// Stable id, `drug.kebab-name`.
    pub id: String,
    /// One-line title.
    pub title: String,
    /// Severity of a violation.
    pub severity: Severity,
    /// Once per phase, or once per course.
    pub scope: Scope,
    /// Guard: the rule applies only when this holds.
    pub when: Option<Condition>,
    /// The rule is violated when this holds...
    pub violation: Condition,
    /// ...unless this holds (an exception).
    pub unless: Option<Condition>,
    /// Message template.
    pub message: Vec<Part>,
    /// What to do about a violation.
    pub help: String,
    /// Where the rule comes from.
    pub citation: Citation,
    /// Citations that replace `citation` under a profile (`citation_for`):
    /// a rule of a common pack rests on a different document in each.
    pub citation_for: Vec<(String, Citation)>,
    /// The id as a JSON string, escaped once (see [`Citation::json`]).
    pub json_id: Box<serde_json::value::RawValue>,
    /// The fact whose field a finding underlines.
    pub primary: Option<Fact>,
    /// Bounds `rules test` cannot probe, each with the reason (`unprobed:`).
    pub unprobed: Vec<Unprobed>,
    /// Every fact the conditions read.
    pub facts: FactSet,
    /// The same, in the order people read them (the vocabulary's): the
    /// values a finding shows, worked out once.
    pub reads: Vec<Fact>,
    /// The canonical drug name of its pack.
    pub drug: String,
    /// The pack it belongs to.
    pub pack: String,
    /// The profiles it is in force for (empty: every profile).
    pub profiles: Vec<String>,
    /// Its file and the span of its id there.
    pub file: Arc<SourceFile>,
    /// Span of the rule's id in its file.
    pub span: Span,
}

impl Rule {
    /// The first row the rule is evaluated on: 0 for a course rule, 1 for a
    /// phase rule, and 2 for one that reads `previous(...)`: the first
    /// phase has no phase before it, so no step to check, and the rule
    /// does not apply there (as if its `when` were false).
    pub fn first_row(&self) -> usize {
        match self.scope {
            Scope::Course => 0,
            Scope::Phase if self.reads_previous() => 2,
            Scope::Phase => 1,
        }
    }

    /// Whether a condition of the rule reads the previous phase.
    pub fn reads_previous(&self) -> bool {
        [
            self.when.as_ref(),
            Some(&self.violation),
            self.unless.as_ref(),
        ]
        .into_iter()
        .flatten()
        .any(|c| c.code.reads_previous())
    }

    /// The citation in force under `profile`: the one `citation_for`
    /// gives for it, else the rule's own.
    pub fn citation_in(&self, profile: &str) -> &Citation {
        self.citation_for
            .iter()
            .find(|(p, _)| p == profile)
            .map_or(&self.citation, |(_, c)| c)
    }

    /// True when the rule is in force under `profile`.
    pub fn in_profile(&self, profile: &str) -> bool {
        self.profiles.is_empty() || self.profiles.iter().any(|p| p == profile)
    }
}

/// A rule pack: one file's rules for one drug.
#[derive(Clone, Debug)]
pub struct Pack {
    /// The pack's name.
    pub name: String,
    /// The canonical drug name.
    pub drug: String,
    /// Other names the drug is prescribed under (brands).
    pub aliases: Vec<String>,
    /// Profiles the pack belongs to (empty: all).
    pub profiles: Vec<String>,
    /// The products the pack names: each selects the pack's rules (for a
    /// product pack, the extended pack's rules with its own overrides) and
    /// may fix facts of the regimen.
    pub products: Vec<Product>,
    /// The ingredient codes (RxNorm, SNOMED CT) that name the drug in FHIR
    /// input (`codes:`).
    pub codes: Vec<crate::vocabulary::Coding>,
    /// For a product pack: the pack it extends.
    pub extends: Option<String>,
    /// For a product pack: ids of the extended pack's rules that do not apply.
    pub remove: Vec<String>,
    /// The rules.
    pub rules: Vec<Rule>,
    /// The regimen every example starts from.
    pub base: Option<Node>,
    /// The examples the rules must get right (`rxlint rules test`).
    pub examples: Vec<Example>,
    /// What the pack covers, and the findings that say a regimen is outside it.
    pub coverage: Coverage,
    /// The file.
    pub file: Arc<SourceFile>,
}

impl Pack {
    /// A product pack: one that extends another pack for its products.
    pub fn is_product_pack(&self) -> bool {
        self.extends.is_some()
    }
}

/// A product (brand, formulation) a pack names: `Glucophage XR` is
/// metformin whose formulation is extended release; `Absorica LD` selects
/// its own pack.
#[derive(Clone, Debug)]
pub struct Product {
    /// The name, lowercase.
    pub name: String,
    /// The name as the pack writes it, for messages.
    pub written: String,
    /// The facts the product fixes, set on every regimen that names it.
    pub fixes: Vec<(Fact, Val)>,
}

/// What a pack covers (`covers:`), and the rules the engine reports from
/// it: a regimen is `pass` only when the rules of its drug were in force
/// for it.
#[derive(Clone, Debug)]
pub struct Coverage {
    /// The declaration in words (`indications: rheumatoid_arthritis`);
    /// `None`: the pack covers every regimen of its drug.
    pub declared: Option<String>,
    /// Fires on a regimen outside the declaration (`coverage.not-covered`).
    pub outside: Option<Rule>,
    /// Reported when none of the selected rules applied
    /// (`coverage.no-rule-applied`).
    pub nothing_applied: Rule,
    /// For a product pack in some profiles only: reported when a regimen
    /// names the product under another profile, where the generic rules
    /// are checked instead of the product's own (`coverage.not-covered`).
    pub elsewhere: Option<Rule>,
}

/// An example in a rule file: a regimen (over the pack's `base`) and the
/// findings it must produce.
#[derive(Clone, Debug)]
pub struct Example {
    /// What it shows.
    pub name: Spanned<String>,
    /// The profile to run it under; `None`: each of the pack's profiles.
    pub profile: Option<String>,
    /// The regimen, as written (merged over the base when run).
    pub regimen: Node,
    /// The findings expected, exactly; empty for a clean pass.
    pub expect: Vec<Expected>,
    /// Where `expect` is written.
    pub expect_span: Span,
}

/// One expected finding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Expected {
    /// Rule id (or `input.*` code).
    pub rule: String,
    /// `error`, `warning` or `info`, when stated.
    pub severity: Option<String>,
    /// `violation` or `unevaluated`, when stated.
    pub kind: Option<String>,
    /// 1-based phase, when stated.
    pub phase: Option<usize>,
}

/// Every loaded pack.
#[derive(Clone, Debug)]
pub struct RuleSet {
    /// The packs, in load order.
    pub packs: Vec<Pack>,
    /// The facts the packs and the readers share: the rules directory's
    /// `vocabulary.yaml`, else the shipped one.
    pub vocabulary: Arc<Vocabulary>,
}

/// The shipped rule files, as (name, text).
pub fn builtin_sources() -> impl Iterator<Item = (&'static str, &'static str)> {
    builtin::FILES.iter().copied()
}

/// The rule files under `dir` (every `*.yaml`/`*.yml`, recursively, in
/// path order) as (name, text), and the problem of each that cannot be
/// read; an error when there is no rule file to read.
#[expect(
    clippy::type_complexity,
    reason = "the files and the problems, read in one walk"
)]
pub fn dir_sources(
    dir: &std::path::Path,
) -> Result<(Vec<(String, String)>, Vec<Diagnostic>), Vec<Diagnostic>> {
    let mut paths = Vec::new();
    crate::source::walk(dir, &["yaml", "yml"], &mut paths).map_err(|e| {
        vec![Diagnostic::new(
            RuleCode::Unreadable.as_str(),
            Level::Error,
            format!("cannot read rules directory {}: {e}", dir.display()),
        )]
    })?;
    paths.sort();
    if paths.iter().all(|p| {
        p.file_name()
            .is_some_and(|n| n == crate::vocabulary::FILE_NAME)
    }) {
        return Err(vec![Diagnostic::new(
            RuleCode::Empty.as_str(),
            Level::Error,
            format!("no rule files (*.yaml) under {}", dir.display()),
        )]);
    }
    let mut files = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => files.push((path.display().to_string(), text)),
                Err(_) => problems.push(Diagnostic::new(
                    RuleCode::NotUtf8.as_str(),
                    Level::Error,
                    format!("{} is not UTF-8 text", path.display()),
                )),
            },
            Err(e) => problems.push(Diagnostic::new(
                RuleCode::Unreadable.as_str(),
                Level::Error,
                format!("cannot read {}: {e}", path.display()),
            )),
        }
    }
    Ok((files, problems))
}

mod builtin {
    include!(concat!(env!("OUT_DIR"), "/builtin_rules.rs"));
}

impl RuleSet {
    /// The packs shipped in `rules/`, built into the binary.
    pub fn builtin() -> Result<RuleSet, Vec<Diagnostic>> {
        let files = builtin::FILES
            .iter()
            .map(|(name, text)| SourceFile::new(*name, *text))
            .collect();
        load_sources(files)
    }

    /// Every `*.yaml`/`*.yml` file under `dir`, recursively, in path order.
    pub fn from_dir(dir: &std::path::Path) -> Result<RuleSet, Vec<Diagnostic>> {
        let (files, mut problems) = dir_sources(dir)?;
        let files = files
            .into_iter()
            .map(|(name, text)| SourceFile::new(name, text))
            .collect();
        // Files that cannot be read are reported with the problems of
        // those that can.
        match load_sources(files) {
            Ok(set) if problems.is_empty() => Ok(set),
            Ok(_) => Err(problems),
            Err(mut more) => {
                problems.append(&mut more);
                Err(problems)
            }
        }
    }

    /// Every profile named by some pack, sorted.
    pub fn profiles(&self) -> Vec<String> {
        let mut all: Vec<String> = self
            .packs
            .iter()
            .flat_map(|p| p.profiles.iter().cloned())
            .collect();
        all.sort();
        all.dedup();
        all
    }

    /// Every rule, in load order.
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.packs.iter().flat_map(|p| p.rules.iter())
    }

    /// The coverage rules the engine reports from the packs' declarations
    /// (not written under `rules:`), in load order.
    pub fn coverage_rules(&self) -> impl Iterator<Item = &Rule> {
        self.packs.iter().flat_map(|p| {
            let c = &p.coverage;
            c.outside
                .iter()
                .chain(std::iter::once(&c.nothing_applied))
                .chain(c.elsewhere.iter())
        })
    }
}

#[cfg(test)]
mod tests {

    /// The pre-escaped strings are exactly what serde_json writes for them.
    #[test]
    fn json_strings_escape_like_serde_json() {
        for text in [
            "isotretinoin.dose",
            "a \"quoted\" \\ path",
            "line\nnext\ttab",
            "µg, ≥ 2",
            "",
        ] {
            let expected = serde_json::to_string(text).unwrap_or_default();
            assert_eq!(super::json_string(text).get(), expected);
        }
        let c = super::Citation::new("a \"label\"".into(), "2.1".into(), "q".into(), None);
        assert_eq!(c.short, "a \"label\", 2.1");
        assert_eq!(c.json.get(), r#""a \"label\", 2.1""#);
    }
}
