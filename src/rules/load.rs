//! Reading rule-pack YAML into [`Pack`]s, collecting every problem.

use std::sync::Arc;

use super::{
    Citation, Condition, Coverage, Example, Expected, Origin, Pack, Part, Product, Rule, RuleSet,
    Severity, Unprobed, Written,
};
use crate::check::{self, Code, Env, Problem};
use crate::codes::{CoverageCode, RuleCode};
use crate::diagnostic::{Diagnostic, Level};
use crate::facts::{Fact, FactSet, Scope, Type, Val};
use crate::source::{SourceFile, Span, Spanned};
use crate::suggest;
use crate::syntax::{self, Piece};
use crate::tree::{Node, Value, yaml};
use crate::vocabulary::{Coding, Vocabulary};

const PACK_KEYS: &[&str] = &[
    "pack",
    "description",
    "drug",
    "aliases",
    "profiles",
    "sources",
    "rules",
    "base",
    "tests",
    "extends",
    "products",
    "remove",
    "covers",
    "codes",
];
const COVERS_KEYS: &[&str] = &["indications", "population"];
const TEST_KEYS: &[&str] = &["name", "profile", "regimen", "expect"];
const EXPECT_KEYS: &[&str] = &["rule", "severity", "kind", "phase"];
const RULE_KEYS: &[&str] = &[
    "id",
    "title",
    "severity",
    "scope",
    "when",
    "violation",
    "unless",
    "message",
    "help",
    "citation",
    "citation_for",
    "at",
    "unprobed",
];
const SOURCE_KEYS: &[&str] = &["title", "document", "url"];
const CITATION_KEYS: &[&str] = &["source", "section", "quote"];

/// Loads rule files given as text. Returns the set, or every problem found.
pub fn load_sources(files: Vec<Arc<SourceFile>>) -> Result<RuleSet, Vec<Diagnostic>> {
    // A `vocabulary.yaml` among the files replaces the shipped vocabulary.
    let (vocabularies, files): (Vec<_>, Vec<_>) = files.into_iter().partition(|f| {
        std::path::Path::new(f.name())
            .file_name()
            .is_some_and(|n| n == crate::vocabulary::FILE_NAME)
    });
    let vocabulary = match vocabularies.into_iter().next() {
        Some(file) => Vocabulary::load(file),
        None => Vocabulary::builtin(),
    };
    let mut vocabulary = Arc::new(vocabulary?);
    let mut problems = Vec::new();
    let mut packs = Vec::new();
    for file in files {
        let mut loader = Loader {
            file: file.clone(),
            vocabulary: vocabulary.clone(),
            problems: Vec::new(),
        };
        if let Some(pack) = loader.pack() {
            packs.push(pack);
        }
        problems.append(&mut loader.problems);
    }
    // The packs' ingredient codes name their drug in FHIR input.
    let codes: Vec<(Coding, String)> = packs
        .iter()
        .flat_map(|p| p.codes.iter().map(|c| (c.clone(), p.drug.clone())))
        .collect();
    Arc::make_mut(&mut vocabulary).drugs = codes;
    check_extends(&packs, &mut problems);
    check_duplicates(&packs, &mut problems);
    check_aliases(&packs, &mut problems);
    if problems.is_empty() {
        Ok(RuleSet { packs, vocabulary })
    } else {
        Err(problems)
    }
}

struct Loader {
    file: Arc<SourceFile>,
    vocabulary: Arc<Vocabulary>,
    problems: Vec<Diagnostic>,
}

impl Loader {
    fn error(
        &mut self,
        code: RuleCode,
        span: Span,
        message: impl Into<String>,
        label: impl Into<String>,
        help: Option<String>,
    ) {
        let mut d =
            Diagnostic::new(code.as_str(), Level::Error, message).at(&self.file, span, label);
        d.help = help;
        self.problems.push(d);
    }

    /// The first line of `span`: where a "missing key" points, rather
    /// than at a whole block.
    fn head(&self, span: Span) -> Span {
        let text = self.file.slice(span);
        Span::new(
            span.start(),
            span.start() + text.find('\n').unwrap_or(text.len()),
        )
    }

    fn locate(&self, node: &Node, text: &str) -> Origin {
        let raw = self.file.slice(node.span);
        if raw == text {
            return Origin::At(node.span.start());
        }
        for quote in ['"', '\''] {
            if raw.starts_with(quote) && raw.get(1..).is_some_and(|r| r.starts_with(text)) {
                return Origin::At(node.span.start() + 1);
            }
        }
        match raw.find(text) {
            Some(i) if !text.is_empty() => Origin::At(node.span.start() + i),
            _ => Origin::Whole(node.span),
        }
    }

    fn unknown_keys(&mut self, entries: &[(Spanned<String>, Node)], known: &[&str], what: &str) {
        for (key, _) in entries {
            if !known.contains(&key.value.as_str()) {
                let help = suggest::closest(&key.value, known.iter().copied()).map_or_else(
                    || format!("the keys of {what} are: {}", known.join(", ")),
                    |s| format!("did you mean `{s}`?"),
                );
                self.error(
                    RuleCode::UnknownKey,
                    key.span,
                    format!("unknown key `{}` in {what}", key.value),
                    "unknown key",
                    Some(help),
                );
            }
        }
        let mut seen: Vec<&str> = Vec::new();
        for (key, _) in entries {
            if seen.contains(&key.value.as_str()) {
                self.error(
                    RuleCode::DuplicateKey,
                    key.span,
                    format!("`{}` is given twice", key.value),
                    "duplicate",
                    None,
                );
            }
            seen.push(&key.value);
        }
    }

    fn string(
        &mut self,
        node: Option<&Node>,
        field: &str,
        parent: Span,
    ) -> Option<Spanned<String>> {
        match node {
            None => {
                self.error(
                    RuleCode::MissingKey,
                    self.head(parent),
                    format!("`{field}` is required"),
                    format!("no `{field}`"),
                    None,
                );
                None
            }
            Some(node) => match &node.value {
                Value::Str(s) if !s.trim().is_empty() => Some(Spanned::new(s.clone(), node.span)),
                Value::Number(n) => Some(Spanned::new(n.clone(), node.span)),
                other => {
                    self.error(
                        RuleCode::WrongType,
                        node.span,
                        format!("`{field}` must be text, not {}", other.kind()),
                        "expected text",
                        None,
                    );
                    None
                }
            },
        }
    }

    fn string_list(&mut self, node: Option<&Node>, field: &str) -> Vec<Spanned<String>> {
        let Some(node) = node else { return Vec::new() };
        crate::tree::texts(node, field, false, &mut |span, message, label| {
            self.error(RuleCode::WrongType, span, message, label, None);
        })
    }

    fn pack(&mut self) -> Option<Pack> {
        let doc = match yaml::parse(&self.file) {
            Ok(doc) => doc,
            Err(err) => {
                self.error(
                    RuleCode::YamlSyntax,
                    err.span,
                    format!("this rule file is not valid YAML: {}", err.message),
                    "here",
                    None,
                );
                return None;
            }
        };
        let Some(entries) = doc.as_map() else {
            self.error(
                RuleCode::WrongType,
                doc.span,
                "a rule file must be a mapping with `drug` and `rules`",
                "not a mapping",
                None,
            );
            return None;
        };
        self.unknown_keys(entries, PACK_KEYS, "a rule pack");
        let name = self.string(doc.get("pack"), "pack", doc.span);
        let drug = self.string(doc.get("drug"), "drug", doc.span);
        let aliases = self.string_list(doc.get("aliases"), "aliases");
        let profiles = self.string_list(doc.get("profiles"), "profiles");
        let sources = self.sources(doc.get("sources"));
        let (name, drug) = (name?, drug?);
        let drug_name = drug.value.to_lowercase();
        let profile_names: Vec<String> = profiles.iter().map(|p| p.value.clone()).collect();
        let mut rules = Vec::new();
        match doc.get("rules").map(|n| &n.value) {
            Some(Value::Seq(items)) => {
                for item in items {
                    if let Some(rule) =
                        self.rule(item, &sources, &drug_name, &name.value, &profile_names)
                    {
                        rules.push(rule);
                    }
                }
            }
            Some(other) => {
                let span = doc.get("rules").map_or(doc.span, |n| n.span);
                self.error(
                    RuleCode::WrongType,
                    span,
                    format!("`rules` must be a list, not {}", other.kind()),
                    "expected a list",
                    None,
                );
            }
            None => self.error(
                RuleCode::MissingKey,
                self.head(doc.span),
                "`rules` is required",
                "no `rules`",
                None,
            ),
        }
        let products = self.products(doc.get("products"));
        let codes = self.codes(doc.get("codes"));
        let extends = doc
            .get("extends")
            .and_then(|n| n.as_str())
            .map(str::to_owned);
        let coverage = self.coverage(
            doc.get("covers"),
            &drug_name,
            &name.value,
            &profile_names,
            (extends.is_some() && !profile_names.is_empty()).then_some(&products[..]),
        );
        Some(Pack {
            name: name.value,
            drug: drug_name,
            aliases: aliases
                .into_iter()
                .map(|a| a.value.to_lowercase())
                .collect(),
            profiles: profile_names,
            products,
            codes,
            extends,
            coverage,
            remove: self
                .string_list(doc.get("remove"), "remove")
                .into_iter()
                .map(|r| r.value)
                .collect(),
            rules,
            base: doc.get("base").cloned(),
            examples: self.examples(doc.get("tests")),
            file: self.file.clone(),
        })
    }

    /// `products:`, a list of names, or a map from a name to the facts the
    /// product fixes (`Glucophage XR: {regimen.formulation: extended_release}`).
    fn products(&mut self, node: Option<&Node>) -> Vec<Product> {
        let Some(node) = node else { return Vec::new() };
        let Some(entries) = node.as_map() else {
            return self
                .string_list(Some(node), "products")
                .into_iter()
                .map(|p| Product {
                    name: p.value.to_lowercase(),
                    written: p.value,
                    fixes: Vec::new(),
                })
                .collect();
        };
        let mut out = Vec::new();
        for (name, facts) in entries {
            let fixes = match facts.as_map() {
                Some(facts) => facts
                    .iter()
                    .filter_map(|(path, value)| self.fixed_fact(path, value))
                    .collect(),
                None if matches!(facts.value, Value::Null) => Vec::new(),
                None => {
                    self.error(
                        RuleCode::WrongType,
                        facts.span,
                        format!(
                            "`{}` must map facts to the values the product fixes",
                            name.value
                        ),
                        "expected a mapping",
                        Some(
                            "e.g. `Glucophage XR: {regimen.formulation: extended_release}`".into(),
                        ),
                    );
                    Vec::new()
                }
            };
            out.push(Product {
                name: name.value.to_lowercase(),
                written: name.value.clone(),
                fixes,
            });
        }
        out
    }

    /// `codes:`, the ingredient codes (RxNorm, SNOMED CT) that name the
    /// pack's drug in FHIR input: `[{system: URI, code: CODE}]`.
    fn codes(&mut self, node: Option<&Node>) -> Vec<Coding> {
        let Some(node) = node else { return Vec::new() };
        let Value::Seq(items) = &node.value else {
            self.error(
                RuleCode::WrongType,
                node.span,
                "`codes` must be a list of `{system: URI, code: CODE}`",
                "expected a list",
                None,
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            let (Some(system), Some(code)) = (
                item.get("system").and_then(Node::as_str),
                item.get("code").and_then(Node::as_str),
            ) else {
                self.error(
                    RuleCode::WrongType,
                    item.span,
                    "a code is `{system: URI, code: CODE}`",
                    "not a code",
                    None,
                );
                continue;
            };
            out.push(Coding {
                system: system.to_owned(),
                code: code.to_owned(),
            });
        }
        out
    }

    /// One fact a product fixes: a course fact that is an enum or a boolean.
    fn fixed_fact(&mut self, path: &Spanned<String>, value: &Node) -> Option<(Fact, Val)> {
        let vocabulary = self.vocabulary.clone();
        let Some(fact) = vocabulary.fact(&path.value) else {
            let help = suggest::closest(&path.value, vocabulary.paths())
                .map(|s| format!("did you mean `{s}`?"));
            self.error(
                RuleCode::UnknownFact,
                path.span,
                "a product can fix only a fact of the regimen",
                "unknown fact",
                help,
            );
            return None;
        };
        let info = vocabulary.info(fact);
        let text = match &value.value {
            Value::Str(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            other => other.kind().to_owned(),
        };
        let val = match info.ty {
            _ if info.scope != Scope::Course => None,
            Type::Enum(_) => info.value_index(&text).map(Val::Enum),
            Type::Bool => match text.as_str() {
                "true" => Some(Val::Bool(true)),
                "false" => Some(Val::Bool(false)),
                _ => None,
            },
            Type::Quantity(_) | Type::Date => None,
        };
        if val.is_none() {
            let help = match info.ty {
                Type::Enum(_) => suggest::closest(&text, info.values.iter().map(String::as_str))
                    .map_or_else(|| format!("{} is {}", info.path, info.ty.describe(&vocabulary)), |s| format!("did you mean `{s}`?")),
                _ => "a product fixes course facts that are an enum or true/false (`regimen.formulation`)".into(),
            };
            self.error(
                RuleCode::BadValue,
                value.span,
                format!(
                    "`{text}` is not a value a product can fix for {}",
                    info.path
                ),
                "not a fixed value",
                Some(help),
            );
        }
        val.map(|v| (fact, v))
    }

    /// `covers:` and the coverage findings of the pack. `elsewhere` is given
    /// for a product pack limited to some profiles: its products.
    fn coverage(
        &mut self,
        node: Option<&Node>,
        drug: &str,
        pack: &str,
        profiles: &[String],
        elsewhere: Option<&[Product]>,
    ) -> Coverage {
        let at = node.map_or(Span::new(0, 0), |n| n.span);
        let file = self.file.clone();
        let reader = self.vocabulary.clone();
        let citation = |declared: &str| {
            Citation::new(
                format!("rule pack {pack}"),
                "covers".into(),
                declared.to_owned(),
                Some(file.name().to_owned()),
            )
        };
        // Each synthesized rule is a warning on the whole course.
        let synthesized = |id: &str,
                           title: &str,
                           violation: Condition,
                           message: Vec<Part>,
                           help: &str,
                           cite: Citation,
                           primary: Option<Fact>| Rule {
            json_id: super::json_string(id),
            id: id.to_owned(),
            title: title.to_owned(),
            severity: Severity::Warning,
            scope: Scope::Course,
            when: None,
            facts: violation.facts,
            reads: reader.ordered(violation.facts).collect(),
            violation,
            unless: None,
            message,
            help: help.to_owned(),
            citation: cite,
            citation_for: Vec::new(),
            unprobed: Vec::new(),
            primary,
            drug: drug.to_owned(),
            pack: pack.to_owned(),
            profiles: profiles.to_vec(),
            file: file.clone(),
            span: at,
        };
        let always = || Condition {
            code: Code::Const(Val::Bool(true)),
            text: "true".into(),
            facts: FactSet::EMPTY,
            written: Vec::new(),
        };
        let nothing_applied = synthesized(
            CoverageCode::NoRuleApplied.as_str(),
            "At least one rule applied",
            always(),
            vec![Part::Text(format!(
                "no {drug} rule applied to this regimen: the condition (`when`) of every rule was false, so nothing was checked"
            ))],
            "Check this regimen against its label by hand; the rules in force do not speak to it.",
            citation("every rule has a `when` condition"),
            None,
        );
        let elsewhere = elsewhere.map(|products| {
            let names: Vec<&str> = products.iter().map(|p| p.written.as_str()).collect();
            synthesized(
                CoverageCode::NotCovered.as_str(),
                "A rule pack for the product in this profile",
                always(),
                vec![Part::Text(format!(
                    "{} has rules only under profile {}: the generic {drug} rules were checked, not the limits of its own label",
                    names.join(", "),
                    profiles.join(", ")
                ))],
                "Check this product against its own label, or check it under the profile whose packs cover it.",
                citation(&format!("products: {}; profiles: {}", names.join(", "), profiles.join(", "))),
                None,
            )
        });
        let Some(node) = node else {
            return Coverage {
                declared: None,
                outside: None,
                nothing_applied,
                elsewhere,
            };
        };
        let Some(entries) = node.as_map() else {
            self.error(
                RuleCode::WrongType,
                node.span,
                "`covers` must be a mapping with `indications` (and optionally `population`)",
                "expected a mapping",
                Some("e.g. `covers: {indications: [rheumatoid_arthritis]}`".into()),
            );
            return Coverage {
                declared: None,
                outside: None,
                nothing_applied,
                elsewhere,
            };
        };
        self.unknown_keys(entries, COVERS_KEYS, "`covers`");
        let vocabulary = self.vocabulary.clone();
        let course = Env {
            phase: false,
            vocabulary: &vocabulary,
        };
        let mut parts: Vec<(String, Condition)> = Vec::new();
        let indications = self.string_list(node.get("indications"), "indications");
        if !indications.is_empty() {
            let domain = vocabulary.info(Fact::INDICATION);
            let mut ok = true;
            for i in &indications {
                if domain.value_index(&i.value).is_none() {
                    ok = false;
                    let help = suggest::closest(&i.value, domain.values.iter().map(String::as_str))
                        .map_or_else(
                            || format!("the indications are: {}", domain.values.join(", ")),
                            |s| format!("did you mean `{s}`?"),
                        );
                    self.error(
                        RuleCode::UnknownValue,
                        i.span,
                        format!("`{}` is not an indication", i.value),
                        "unknown indication",
                        Some(help),
                    );
                }
            }
            let text = indications
                .iter()
                .map(|i| format!("regimen.indication == {}", i.value))
                .collect::<Vec<_>>()
                .join(" or ");
            if ok && let Some(c) = self.generated(&text, node.span, course) {
                let names: Vec<&str> = indications.iter().map(|i| i.value.as_str()).collect();
                parts.push((format!("indications: {}", names.join(", ")), c));
            }
        } else if node.get("indications").is_some() {
            self.error(
                RuleCode::WrongType,
                node.span,
                "`indications` names no indication",
                "empty",
                None,
            );
        }
        if let Some(p) = node.get("population")
            && let Some(c) = self.expression(p, "population", course, true)
        {
            parts.push((
                format!(
                    "population: {}",
                    c.text.split_whitespace().collect::<Vec<_>>().join(" ")
                ),
                c,
            ));
        }
        let Some((first_words, first)) = parts.first().cloned() else {
            self.error(
                RuleCode::MissingKey,
                self.head(node.span),
                "`covers` must name `indications` or a `population`",
                "covers nothing",
                None,
            );
            return Coverage {
                declared: None,
                outside: None,
                nothing_applied,
                elsewhere,
            };
        };
        let (declared, covered) =
            parts
                .into_iter()
                .skip(1)
                .fold((first_words, first), |(w, a), (wb, b)| {
                    (
                        format!("{w}; {wb}"),
                        Condition {
                            code: Code::And(Box::new(a.code), Box::new(b.code)),
                            text: format!("({}) and ({})", a.text, b.text),
                            facts: a.facts.union(b.facts),
                            written: Vec::new(),
                        },
                    )
                });
        let violation = Condition {
            code: Code::Not(Box::new(covered.code)),
            text: format!("not ({})", covered.text),
            facts: covered.facts,
            written: Vec::new(),
        };
        let message = self.generated_template(
            &format!("this {drug} regimen (indication: {{regimen.indication}}) is outside what the rules cover ({pack} covers {declared}): only the rules that hold for every indication were checked"),
            node.span,
        );
        let outside = message.map(|message| {
            synthesized(
                CoverageCode::NotCovered.as_str(),
                "Covered by a rule pack",
                violation,
                message,
                "Check the dose against the label for this indication and patient by hand, or add a rule pack that covers them (`covers:`).",
                citation(&declared),
                Some(Fact::INDICATION),
            )
        });
        Coverage {
            declared: Some(declared),
            outside,
            nothing_applied,
            elsewhere,
        }
    }

    /// A condition the loader writes itself from a declaration; its
    /// problems (an unknown name) point at the declaration.
    fn generated(&mut self, text: &str, at: Span, env: Env) -> Option<Condition> {
        let expr = syntax::parse_expression(text).ok()?;
        let mut problems = Vec::new();
        let typed = check::check_condition(&expr, env, &mut problems);
        self.check_problems(problems, Origin::Whole(at));
        let typed = typed?;
        Some(Condition {
            facts: typed.facts,
            code: typed.code,
            text: text.to_owned(),
            written: Vec::new(),
        })
    }

    /// A message the loader writes itself (see [`Loader::generated`]).
    fn generated_template(&mut self, text: &str, at: Span) -> Option<Vec<Part>> {
        let pieces = syntax::parse_template(text).ok()?;
        let vocabulary = self.vocabulary.clone();
        let mut parts = Vec::new();
        for piece in pieces {
            match piece {
                Piece::Text(t) => parts.push(Part::Text(t)),
                Piece::Hole(expr) => {
                    let mut problems = Vec::new();
                    let env = Env {
                        phase: false,
                        vocabulary: &vocabulary,
                    };
                    let typed = check::check(&expr, env, &mut problems);
                    self.check_problems(problems, Origin::Whole(at));
                    parts.push(Part::Value(typed?));
                }
            }
        }
        Some(parts)
    }

    fn examples(&mut self, node: Option<&Node>) -> Vec<Example> {
        let Some(node) = node else { return Vec::new() };
        let Value::Seq(items) = &node.value else {
            self.error(
                RuleCode::WrongType,
                node.span,
                "`tests` must be a list of examples",
                "expected a list",
                None,
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for item in items {
            let Some(entries) = item.as_map() else {
                self.error(
                    RuleCode::WrongType,
                    item.span,
                    "an example needs `name`, `regimen` and `expect`",
                    "not an example",
                    None,
                );
                continue;
            };
            self.unknown_keys(entries, TEST_KEYS, "an example");
            let name = self.string(item.get("name"), "name", item.span);
            let profile = item
                .get("profile")
                .and_then(|p| p.as_str())
                .map(str::to_owned);
            let regimen = match item.get("regimen") {
                Some(r) if r.as_map().is_some() => Some(r.clone()),
                Some(r) => {
                    self.error(
                        RuleCode::WrongType,
                        r.span,
                        "`regimen` must be a mapping (the fields that differ from `base`)",
                        "expected a mapping",
                        None,
                    );
                    None
                }
                None => {
                    let at = self.head(item.span);
                    self.error(
                        RuleCode::MissingKey,
                        at,
                        "`regimen` is required",
                        "no `regimen`",
                        None,
                    );
                    None
                }
            };
            let expect = item.get("expect").map(|e| (self.expectations(e), e.span));
            if expect.is_none() {
                let at = self.head(item.span);
                self.error(
                    RuleCode::MissingKey,
                    at,
                    "`expect` is required: the findings, or `none`",
                    "no `expect`",
                    None,
                );
            }
            if let (Some(name), Some(regimen), Some((Some(expect), expect_span))) =
                (name, regimen, expect)
            {
                out.push(Example {
                    name,
                    profile,
                    regimen,
                    expect,
                    expect_span,
                });
            }
        }
        out
    }

    /// `none`, or a list of rule ids and `{rule, severity, kind, phase}` mappings.
    fn expectations(&mut self, node: &Node) -> Option<Vec<Expected>> {
        match &node.value {
            Value::Str(s) if s == "none" => return Some(Vec::new()),
            Value::Seq(_) => {}
            _ => {
                self.error(
                    RuleCode::WrongType,
                    node.span,
                    "`expect` must be `none` or a list of findings",
                    "expected a list",
                    None,
                );
                return None;
            }
        }
        let Value::Seq(items) = &node.value else {
            return None;
        };
        let mut out = Vec::new();
        for item in items {
            match &item.value {
                Value::Str(rule) => out.push(Expected {
                    rule: rule.clone(),
                    severity: None,
                    kind: None,
                    phase: None,
                }),
                Value::Map(entries) => {
                    self.unknown_keys(entries, EXPECT_KEYS, "an expected finding");
                    let rule = self.string(item.get("rule"), "rule", item.span)?;
                    let text = |k: &str| item.get(k).and_then(|n| n.as_str()).map(str::to_owned);
                    let phase = match item.get("phase").map(|n| &n.value) {
                        Some(Value::Number(n)) => n.parse().ok(),
                        _ => None,
                    };
                    out.push(Expected {
                        rule: rule.value,
                        severity: text("severity"),
                        kind: text("kind"),
                        phase,
                    });
                }
                _ => {
                    self.error(
                        RuleCode::WrongType,
                        item.span,
                        "an expected finding is a rule id or a mapping",
                        "not a finding",
                        None,
                    );
                    return None;
                }
            }
        }
        Some(out)
    }

    fn sources(&mut self, node: Option<&Node>) -> Vec<(String, Citation)> {
        let Some(node) = node else { return Vec::new() };
        let Some(entries) = node.as_map() else {
            self.error(
                RuleCode::WrongType,
                node.span,
                "`sources` must map a short name to a document",
                "expected a mapping",
                None,
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, value) in entries {
            let Some(fields) = value.as_map() else {
                self.error(
                    RuleCode::WrongType,
                    value.span,
                    "a source needs `title` (and `document` or `url`)",
                    "expected a mapping",
                    None,
                );
                continue;
            };
            self.unknown_keys(fields, SOURCE_KEYS, "a source");
            let title = self.string(value.get("title"), "title", value.span);
            let location = value
                .get("document")
                .or_else(|| value.get("url"))
                .and_then(|n| n.as_str())
                .map(str::to_owned);
            if let Some(title) = title {
                out.push((
                    key.value.clone(),
                    Citation::new(title.value, String::new(), String::new(), location),
                ));
            }
        }
        out
    }

    fn expression(
        &mut self,
        node: &Node,
        field: &str,
        env: Env,
        condition: bool,
    ) -> Option<Condition> {
        let text = match &node.value {
            Value::Str(s) => s.clone(),
            Value::Bool(b) => b.to_string(),
            other => {
                self.error(
                    RuleCode::WrongType,
                    node.span,
                    format!("`{field}` must be an expression, not {}", other.kind()),
                    "expected an expression",
                    None,
                );
                return None;
            }
        };
        let at = self.locate(node, &text);
        let expr = match syntax::parse_expression(&text) {
            Ok(expr) => expr,
            Err(err) => {
                let span = at.map(err.span);
                self.error(
                    RuleCode::Syntax,
                    span,
                    format!("syntax error in `{field}`: {}", err.message),
                    err.message.clone(),
                    None,
                );
                return None;
            }
        };
        let mut problems = Vec::new();
        let typed = if condition {
            check::check_condition(&expr, env, &mut problems)
        } else {
            check::check(&expr, env, &mut problems)
        };
        self.check_problems(problems, at);
        let typed = typed?;
        Some(Condition {
            facts: typed.facts,
            code: typed.code,
            written: vec![Written {
                text: text.clone(),
                origin: at,
            }],
            text,
        })
    }

    fn check_problems(&mut self, problems: Vec<Problem>, at: Origin) {
        for p in problems {
            self.error(p.code, at.map(p.span), p.message, p.label, p.help);
        }
    }

    fn conditions(&mut self, node: &Node, field: &str, env: Env) -> Option<Condition> {
        // `unless` may be a list of exceptions; any one of them excuses.
        let Value::Seq(items) = &node.value else {
            return self.expression(node, field, env, true);
        };
        let mut combined: Option<Condition> = None;
        for item in items {
            let c = self.expression(item, field, env, true)?;
            combined = Some(match combined {
                None => c,
                Some(mut prev) => {
                    prev.written.extend(c.written);
                    Condition {
                        code: Code::Or(Box::new(prev.code), Box::new(c.code)),
                        text: format!("{} or {}", prev.text, c.text),
                        facts: prev.facts.union(c.facts),
                        written: prev.written,
                    }
                }
            });
        }
        combined
    }

    fn template(&mut self, node: &Node, env: Env) -> Option<Vec<Part>> {
        let Some(text) = node.as_str() else {
            self.error(
                RuleCode::WrongType,
                node.span,
                "`message` must be text",
                "expected text",
                None,
            );
            return None;
        };
        let at = self.locate(node, text);
        let pieces = match syntax::parse_template(text) {
            Ok(p) => p,
            Err(err) => {
                self.error(
                    RuleCode::Syntax,
                    at.map(err.span),
                    format!("syntax error in `message`: {}", err.message),
                    err.message.clone(),
                    Some(
                        "a `{` opens an interpolated expression; write `{{` for a literal brace"
                            .into(),
                    ),
                );
                return None;
            }
        };
        let mut parts = Vec::new();
        let mut ok = true;
        for piece in pieces {
            match piece {
                Piece::Text(t) => parts.push(Part::Text(t)),
                Piece::Hole(expr) => {
                    let mut problems = Vec::new();
                    match check::check(&expr, env, &mut problems) {
                        Some(t) => parts.push(Part::Value(t)),
                        None => ok = false,
                    }
                    self.check_problems(problems, at);
                }
            }
        }
        ok.then_some(parts)
    }

    fn rule(
        &mut self,
        node: &Node,
        sources: &[(String, Citation)],
        drug: &str,
        pack: &str,
        profiles: &[String],
    ) -> Option<Rule> {
        let Some(entries) = node.as_map() else {
            self.error(
                RuleCode::WrongType,
                node.span,
                "a rule must be a mapping with `id`, `violation`, `message`, ...",
                "not a rule",
                None,
            );
            return None;
        };
        self.unknown_keys(entries, RULE_KEYS, "a rule");
        let id = self.string(node.get("id"), "id", node.span);
        if let Some(id) = &id {
            let well_formed = id.value.split('.').count() >= 2
                && id.value.split(['.', '-']).all(|w| {
                    !w.is_empty()
                        && w.chars()
                            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                });
            if !well_formed {
                self.error(
                    RuleCode::BadId,
                    id.span,
                    format!(
                        "rule id `{}` is not of the form `drug.kebab-case-name`",
                        id.value
                    ),
                    "bad id",
                    Some("e.g. `isotretinoin.max-daily-dose`".into()),
                );
            }
        }
        let title = self.string(node.get("title"), "title", node.span);
        let help = self.string(node.get("help"), "help", node.span);
        let severity = self
            .string(node.get("severity"), "severity", node.span)
            .and_then(|s| match s.value.as_str() {
                "error" => Some(Severity::Error),
                "warning" => Some(Severity::Warning),
                "info" => Some(Severity::Info),
                other => {
                    let help = suggest::did_you_mean(other, ["error", "warning", "info"]);
                    self.error(
                        RuleCode::BadSeverity,
                        s.span,
                        format!("severity must be error, warning or info, not `{other}`"),
                        format!("unknown severity{help}"),
                        None,
                    );
                    None
                }
            });
        let scope = match node.get("scope") {
            None => Some(Scope::Course),
            Some(n) => match n.as_str() {
                Some("phase") => Some(Scope::Phase),
                Some("course") => Some(Scope::Course),
                _ => {
                    let text = n.as_str().unwrap_or("");
                    let help = suggest::did_you_mean(text, ["phase", "course"]);
                    self.error(
                        RuleCode::BadScope,
                        n.span,
                        format!("scope must be `phase` or `course`{help}"),
                        "unknown scope",
                        None,
                    );
                    None
                }
            },
        };
        let vocabulary = self.vocabulary.clone();
        let env = Env {
            phase: scope == Some(Scope::Phase),
            vocabulary: &vocabulary,
        };
        let when = node.get("when").map(|n| self.conditions(n, "when", env));
        let unless = node
            .get("unless")
            .map(|n| self.conditions(n, "unless", env));
        let violation = match node.get("violation") {
            Some(n) => self.conditions(n, "violation", env),
            None => {
                self.error(
                    RuleCode::MissingKey,
                    self.head(node.span),
                    "`violation` is required: the condition under which the rule fires",
                    "no `violation`",
                    None,
                );
                None
            }
        };
        let message = match node.get("message") {
            Some(n) => self.template(n, env),
            None => {
                self.error(
                    RuleCode::MissingKey,
                    self.head(node.span),
                    "`message` is required",
                    "no `message`",
                    None,
                );
                None
            }
        };
        let citation = self.citation(node, sources);
        let citation_for = self.citation_for(node, sources, profiles);
        let primary = match node.get("at") {
            None => None,
            Some(n) => match n.as_str().and_then(|p| vocabulary.fact(p)) {
                Some(f) => Some(f),
                None => {
                    let help = suggest::closest(n.as_str().unwrap_or(""), vocabulary.paths())
                        .map(|s| format!("did you mean `{s}`?"));
                    self.error(
                        RuleCode::UnknownFact,
                        n.span,
                        "`at` must name a fact of the regimen",
                        "unknown fact",
                        help,
                    );
                    None
                }
            },
        };
        let (id, title, help, severity, scope, violation, message, citation) = (
            id?, title?, help?, severity?, scope?, violation?, message?, citation?,
        );
        let citation_for = citation_for?;
        let when = when.map(|c| c.ok_or(())).transpose().ok()?;
        let unless = unless.map(|c| c.ok_or(())).transpose().ok()?;
        let facts = violation
            .facts
            .union(when.as_ref().map_or(FactSet::EMPTY, |c| c.facts))
            .union(unless.as_ref().map_or(FactSet::EMPTY, |c| c.facts));
        let primary = primary.or_else(|| violation.code.facts().first().copied());
        let unprobed = node
            .get("unprobed")
            .map(|n| self.unprobed(n))
            .unwrap_or_default();
        let rule = Rule {
            json_id: super::json_string(&id.value),
            id: id.value,
            title: title.value,
            severity,
            scope,
            when,
            violation,
            unless,
            message,
            help: help.value,
            citation,
            citation_for,
            primary,
            unprobed,
            reads: self.vocabulary.ordered(facts).collect(),
            facts,
            drug: drug.to_owned(),
            pack: pack.to_owned(),
            profiles: profiles.to_vec(),
            file: self.file.clone(),
            span: id.span,
        };
        self.check_unprobed(&rule);
        self.check_first_phase(&rule);
        Some(rule)
    }

    /// A rule that reads `previous(...)` runs from the second phase, so it
    /// must not be able to fire without the previous phase: for no truth
    /// of its other tests may it fire whatever its tests of the previous
    /// phase say (the tests taken as independent, which can only refuse
    /// more).
    fn check_first_phase(&mut self, rule: &Rule) {
        if !rule.reads_previous() {
            return;
        }
        let Some(formula) = crate::ruletest::bounds::formula(rule, &self.vocabulary) else {
            return;
        };
        let (before, rest): (Vec<usize>, Vec<usize>) =
            (0..formula.atoms.len()).partition(|i| !formula.atoms[*i].previous.is_empty());
        if formula.atoms.len() > 16 {
            return;
        }
        let fires_anyway = (0u32..1 << rest.len()).any(|r| {
            (0u32..1 << before.len()).all(|b| {
                formula
                    .shape
                    .holds(&|i| match rest.iter().position(|x| *x == i) {
                        Some(k) => r & (1 << k) != 0,
                        None => before
                            .iter()
                            .position(|x| *x == i)
                            .is_some_and(|k| b & (1 << k) != 0),
                    })
            })
        });
        if fires_anyway {
            let span = rule
                .violation
                .written
                .first()
                .map_or(rule.span, |w| w.origin.map(Span::new(0, w.text.len())));
            self.error(
                RuleCode::FiresWithoutPrevious,
                span,
                format!(
                    "rule `{}` reads `previous(...)`, so it does not apply to the first phase, but it can fire without it",
                    rule.id
                ),
                "can fire without the previous phase",
                Some("put the test that does not read the previous phase in a rule of its own".into()),
            );
        }
    }

    /// `unprobed:`, a mapping from a bound as written (or a fact) to the
    /// reason `rules test` cannot probe it.
    fn unprobed(&mut self, node: &Node) -> Vec<Unprobed> {
        let Some(entries) = node.as_map() else {
            self.error(
                RuleCode::WrongType,
                node.span,
                "`unprobed` must map a bound (as written) to why it cannot be probed",
                "expected a mapping",
                Some(
                    "e.g. `unprobed: {\"phase.period < 7 days\": a period is 1 or 7 days}`".into(),
                ),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (key, value) in entries {
            match value.as_str().map(str::trim) {
                Some(reason) if !reason.is_empty() => out.push(Unprobed {
                    bound: key.clone(),
                    reason: reason.to_owned(),
                }),
                _ => self.error(
                    RuleCode::WrongType,
                    value.span,
                    format!("`unprobed` must say why `{}` cannot be probed", key.value),
                    "expected the reason, as text",
                    None,
                ),
            }
        }
        out
    }

    /// Every `unprobed` key must name a bound of the rule (or a fact one
    /// bounds): a declaration that names nothing would excuse nothing.
    fn check_unprobed(&mut self, rule: &Rule) {
        if rule.unprobed.is_empty() {
            return;
        }
        // The one call from loading up into the test runner's stage: the
        // bounds are found there, with the evaluator folding constants.
        let bounds = crate::ruletest::bounds::formula(rule, &self.vocabulary)
            .map(|f| f.bounds)
            .unwrap_or_default();
        for declared in &rule.unprobed {
            if bounds
                .iter()
                .any(|b| b.named_by(&declared.bound.value, &self.vocabulary))
            {
                continue;
            }
            let mut names: Vec<String> = bounds.iter().map(|b| b.text.clone()).collect();
            names.extend(bounds.iter().flat_map(|b| {
                b.facts
                    .iter()
                    .map(|f| self.vocabulary.info(f).path.to_owned())
            }));
            names.dedup();
            let help = suggest::closest(&declared.bound.value, names.iter().map(String::as_str))
                .map_or_else(
                    || {
                        if names.is_empty() {
                            "this rule has no numeric bound".to_owned()
                        } else {
                            format!("the rule's bounds: {}", names.join(", "))
                        }
                    },
                    |s| format!("did you mean `{s}`?"),
                );
            self.error(
                RuleCode::UnknownBound,
                declared.bound.span,
                format!(
                    "`{}` is not a bound of rule `{}`",
                    declared.bound.value, rule.id
                ),
                "no such bound",
                Some(help),
            );
        }
    }

    /// `citation_for`: a citation per profile, each replacing the rule's own
    /// under that profile. `None` when one is wrong (reported).
    fn citation_for(
        &mut self,
        rule: &Node,
        sources: &[(String, Citation)],
        profiles: &[String],
    ) -> Option<Vec<(String, Citation)>> {
        let Some(node) = rule.get("citation_for") else {
            return Some(Vec::new());
        };
        let Some(entries) = node.as_map() else {
            self.error(
                RuleCode::WrongType,
                node.span,
                "`citation_for` must map profiles to citations",
                "expected a mapping",
                Some(
                    "e.g. `citation_for: {eu: {source: ..., section: ..., quote: \"...\"}}`".into(),
                ),
            );
            return None;
        };
        let mut out = Vec::with_capacity(entries.len());
        let mut ok = true;
        for (profile, value) in entries {
            if !profiles.is_empty() && !profiles.contains(&profile.value) {
                let help = suggest::closest(&profile.value, profiles.iter().map(String::as_str))
                    .map_or_else(
                        || format!("the pack's profiles: {}", profiles.join(", ")),
                        |s| format!("did you mean `{s}`?"),
                    );
                self.error(
                    RuleCode::UnknownProfile,
                    profile.span,
                    format!("`{}` is not a profile of this pack", profile.value),
                    "unknown profile",
                    Some(help),
                );
                ok = false;
                continue;
            }
            match self.citation_of(value, sources) {
                Some(citation) => out.push((profile.value.clone(), citation)),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn citation(&mut self, rule: &Node, sources: &[(String, Citation)]) -> Option<Citation> {
        let Some(node) = rule.get("citation") else {
            self.error(
                RuleCode::MissingCitation,
                self.head(rule.span),
                "every rule must cite the label or guideline sentence it enforces",
                "no `citation`",
                Some(
                    "add `citation: {source: <key of sources>, section: ..., quote: \"...\"}`"
                        .into(),
                ),
            );
            return None;
        };
        self.citation_of(node, sources)
    }

    /// A citation mapping: `source` (a key of `sources`), `section`, `quote`.
    fn citation_of(&mut self, node: &Node, sources: &[(String, Citation)]) -> Option<Citation> {
        let Some(entries) = node.as_map() else {
            self.error(
                RuleCode::WrongType,
                node.span,
                "`citation` must be a mapping with `source`, `section` and `quote`",
                "expected a mapping",
                None,
            );
            return None;
        };
        self.unknown_keys(entries, CITATION_KEYS, "a citation");
        let source = self.string(node.get("source"), "source", node.span);
        let section = self.string(node.get("section"), "section", node.span);
        let quote = self.string(node.get("quote"), "quote", node.span);
        let source = source?;
        let Some((_, doc)) = sources.iter().find(|(k, _)| *k == source.value) else {
            let keys: Vec<&str> = sources.iter().map(|(k, _)| k.as_str()).collect();
            let help = suggest::closest(&source.value, keys.iter().copied()).map_or_else(
                || format!("declared sources: {}", keys.join(", ")),
                |s| format!("did you mean `{s}`?"),
            );
            self.error(
                RuleCode::UnknownSource,
                source.span,
                format!("`{}` is not declared under `sources`", source.value),
                "unknown source",
                Some(help),
            );
            return None;
        };
        Some(Citation::new(
            doc.source.clone(),
            section?.value,
            quote?.value,
            doc.location.clone(),
        ))
    }
}

fn overlap(a: &[String], b: &[String]) -> Option<String> {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => Some("every profile".into()),
        (true, false) => b.first().cloned(),
        (false, true) => a.first().cloned(),
        (false, false) => a.iter().find(|p| b.contains(p)).cloned(),
    }
}

/// A product pack must extend a pack of the same drug that exists, and
/// remove only rules that pack has.
fn check_extends(packs: &[Pack], problems: &mut Vec<Diagnostic>) {
    for pack in packs.iter().filter(|p| p.is_product_pack()) {
        let Some(name) = &pack.extends else {
            continue;
        };
        if pack.products.is_empty() {
            problems.push(
                Diagnostic::new(
                    RuleCode::ProductWithoutBase.as_str(),
                    Level::Error,
                    format!(
                        "pack `{}` extends `{name}` but names no `products` that select it",
                        pack.name
                    ),
                )
                .at(&pack.file, Span::new(0, 0), "here"),
            );
        }
        let Some(base) = packs.iter().find(|p| p.name == *name) else {
            let names: Vec<&str> = packs.iter().map(|p| p.name.as_str()).collect();
            problems.push(
                Diagnostic::new(
                    RuleCode::UnknownPack.as_str(),
                    Level::Error,
                    format!(
                        "pack `{}` extends `{name}`, which is not loaded{}",
                        pack.name,
                        suggest::did_you_mean(name, names)
                    ),
                )
                .at(&pack.file, Span::new(0, 0), "here"),
            );
            continue;
        };
        if base.drug != pack.drug {
            problems.push(
                Diagnostic::new(
                    RuleCode::ExtendsOtherDrug.as_str(),
                    Level::Error,
                    format!(
                        "pack `{}` ({}) extends `{name}` ({})",
                        pack.name, pack.drug, base.drug
                    ),
                )
                .at(&pack.file, Span::new(0, 0), "here"),
            );
        }
        for id in &pack.remove {
            if !packs
                .iter()
                .filter(|p| p.drug == pack.drug && !p.is_product_pack())
                .any(|p| p.rules.iter().any(|r| r.id == *id))
            {
                problems.push(
                    Diagnostic::new(
                        RuleCode::UnknownRule.as_str(),
                        Level::Error,
                        format!(
                            "pack `{}` removes `{id}`, which no {} pack defines",
                            pack.name, pack.drug
                        ),
                    )
                    .at(&pack.file, Span::new(0, 0), "here"),
                );
            }
        }
    }
}

fn check_duplicates(packs: &[Pack], problems: &mut Vec<Diagnostic>) {
    // A product pack's rules replace the generic ones of the same id, and
    // each product pack is a rule list of its own: rules clash among the
    // base packs, or within one product pack.
    let base: Vec<&Rule> = packs
        .iter()
        .filter(|p| !p.is_product_pack())
        .flat_map(|p| p.rules.iter())
        .collect();
    duplicates_among(&base, problems);
    for pack in packs.iter().filter(|p| p.is_product_pack()) {
        duplicates_among(&pack.rules.iter().collect::<Vec<_>>(), problems);
    }
}

fn duplicates_among(rules: &[&Rule], problems: &mut Vec<Diagnostic>) {
    for (i, rule) in rules.iter().enumerate() {
        if let Some((first, profile)) = rules[..i].iter().find_map(|r| {
            (r.id == rule.id)
                .then(|| overlap(&r.profiles, &rule.profiles).map(|p| (r, p)))
                .flatten()
        }) {
            let (line, _) = first.file.line_col(first.span.start());
            problems.push(
                Diagnostic::new(
                    RuleCode::DuplicateId.as_str(),
                    Level::Error,
                    format!(
                        "rule `{}` is defined twice for profile `{profile}`",
                        rule.id
                    ),
                )
                .at(&rule.file, rule.span, "second definition")
                .help(format!(
                    "the first is in {} line {line}; give one of them another id or other profiles",
                    first.file.name()
                )),
            );
        }
    }
}

fn check_aliases(packs: &[Pack], problems: &mut Vec<Diagnostic>) {
    for (i, pack) in packs.iter().enumerate() {
        for other in &packs[..i] {
            if other.drug == pack.drug {
                continue;
            }
            let names = |p: &'_ Pack| -> Vec<String> {
                p.aliases
                    .iter()
                    .cloned()
                    .chain(std::iter::once(p.drug.clone()))
                    .chain(p.products.iter().map(|x| x.name.clone()))
                    .collect()
            };
            let theirs = names(other);
            for alias in &names(pack) {
                if theirs.contains(alias) {
                    problems.push(Diagnostic::new(
                        RuleCode::AmbiguousAlias.as_str(),
                        Level::Error,
                        format!(
                            "`{alias}` names both {} ({}) and {} ({})",
                            other.drug,
                            other.file.name(),
                            pack.drug,
                            pack.file.name()
                        ),
                    ));
                }
            }
        }
    }
}
