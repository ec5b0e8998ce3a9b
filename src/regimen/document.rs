//! Regimen documents (YAML or JSON) to [`Regimen`]s.
//!
//! A file holds one regimen document, or `regimens:` with a list of them (a
//! top-level list is also accepted). Unknown fields are refused with a
//! suggestion: a misspelt `wieght` silently ignored would leave the weight
//! "missing" and a rule unevaluated for the wrong reason.

use std::sync::Arc;

use super::{Block, Builder, Given, GivenAt, InputProblem, Regimen};
use crate::codes::InputCode;
use crate::facts::Fact;
use crate::source::{SourceFile, Span};
use crate::suggest;
use crate::tree::{Node, Value, json, yaml};
use crate::units::Unit;
use crate::vocabulary::Vocabulary;

/// How to read the text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Syntax {
    /// YAML 1.2.
    Yaml,
    /// Strict JSON.
    Json,
}

/// Reads every regimen in a document file. A file that cannot be parsed at
/// all gives one invalid regimen carrying the syntax error.
pub fn read(source: &Arc<SourceFile>, syntax: Syntax, vocabulary: &Vocabulary) -> Vec<Regimen> {
    let parsed = match syntax {
        Syntax::Yaml => yaml::parse(source),
        Syntax::Json => json::parse(source.text()),
    };
    let stem = stem_of(source.name());
    match parsed {
        Ok(doc) => read_node(doc, source, &stem, vocabulary),
        Err(err) => {
            let mut b = Builder::new(Span::new(0, source.text().len()), vocabulary);
            b.problem(InputProblem {
                code: InputCode::Syntax,
                field: String::new(),
                message: format!("cannot read this file: {}", err.message),
                span: Some(err.span),
                label: "here".into(),
                help: None,
            });
            let (line, _) = source.line_col(err.span.start());
            vec![b.finish(
                stem,
                crate::source::position(source.name(), line),
                Some(source.clone()),
            )]
        }
    }
}

/// Reads the regimens of an already parsed document.
pub fn read_node(
    doc: Node,
    source: &Arc<SourceFile>,
    stem: &str,
    vocabulary: &Vocabulary,
) -> Vec<Regimen> {
    let doc = match doc.value {
        Value::Seq(items) => return read_list(items, source, vocabulary),
        Value::Map(mut entries) if entries.len() == 1 && entries[0].0.value == "regimens" => {
            match entries.pop() {
                Some((
                    _,
                    Node {
                        value: Value::Seq(items),
                        ..
                    },
                )) => return read_list(items, source, vocabulary),
                Some(entry) => Node {
                    value: Value::Map(vec![entry]),
                    span: doc.span,
                },
                None => Node {
                    value: Value::Map(entries),
                    span: doc.span,
                },
            }
        }
        value => Node {
            value,
            span: doc.span,
        },
    };
    let (line, _) = source.line_col(doc.span.start());
    vec![read_regimen(
        doc,
        source,
        stem.to_owned(),
        crate::source::position(source.name(), line),
        vocabulary,
    )]
}

/// The regimens of a list, each named by its line.
fn read_list(items: Vec<Node>, source: &Arc<SourceFile>, vocabulary: &Vocabulary) -> Vec<Regimen> {
    items
        .into_iter()
        .map(|item| {
            let (line, _) = source.line_col(item.span.start());
            let input = crate::source::position(source.name(), line);
            read_regimen(item, source, input.clone(), input, vocabulary)
        })
        .collect()
}

/// Reads a node that must be exactly one regimen (a JSON Lines record).
pub fn read_one(
    doc: Node,
    source: &Arc<SourceFile>,
    default_id: String,
    input: String,
    vocabulary: &Vocabulary,
) -> Vec<Regimen> {
    vec![read_regimen(doc, source, default_id, input, vocabulary)]
}

/// The file stem, as the regimen format's default id: the name without its
/// directory and its last extension (`rx.2026.yaml` is `rx.2026`).
fn stem_of(name: &str) -> String {
    let file = name.rsplit(['/', '\\']).next().unwrap_or(name);
    std::path::Path::new(file)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or(file)
        .to_owned()
}

/// A field's value as the builder takes it; the tree's strings move.
fn given_at(node: Node) -> GivenAt {
    let value = match node.value {
        Value::Null => Given::Null,
        Value::Bool(b) => Given::Bool(b),
        Value::Number(n) => Given::Number(n),
        Value::NonFinite(n) => Given::NonFinite(n),
        Value::Str(s) => Given::Text(s),
        Value::Seq(_) => Given::Other("a list"),
        Value::Map(entries) => quantity_object(entries).unwrap_or(Given::Other("a mapping")),
    };
    GivenAt {
        value,
        span: Some(node.span),
    }
}

/// A FHIR-style quantity `{value: 70, unit: kg}` (`code` also accepted).
fn quantity_object(entries: Vec<(crate::source::Spanned<String>, Node)>) -> Option<Given> {
    let mut value = None;
    let mut unit: Option<String> = None;
    let mut code: Option<String> = None;
    for (k, v) in entries {
        match (k.value.as_str(), v.value) {
            ("value", Value::Number(n) | Value::Str(n)) => value = Some(n),
            ("unit", Value::Str(s)) => unit = Some(s),
            ("code", Value::Str(s)) => code = Some(s),
            // A comparator makes the number a bound (`<50 kg`), not a value:
            // reading it as the value could pass what it should not.
            ("comparator", _) => {
                return Some(Given::Unusable(
                    "a value with a `comparator` is a bound, not a measurement; give the measured value".into(),
                ));
            }
            ("system", _) => {}
            _ => return None,
        }
    }
    let unit = match (unit, code) {
        (Some(u), Some(c)) if u != c => {
            let same = matches!((Unit::parse(&u), Unit::parse(&c)), (Ok(a), Ok(b)) if a.dim == b.dim && a.factor == b.factor);
            if !same {
                return Some(Given::Unusable(format!(
                    "its `unit` ({u}) and `code` ({c}) disagree"
                )));
            }
            c
        }
        (u, c) => c.or(u).unwrap_or_default(),
    };
    Some(Given::Quantity {
        value: value?,
        unit,
    })
}

fn unknown(
    b: &mut Builder<'_>,
    key: &crate::source::Spanned<String>,
    parent: &str,
    known: &[&str],
) {
    let field = if parent.is_empty() {
        key.value.clone()
    } else {
        format!("{parent}.{}", key.value)
    };
    let help = suggest::closest(&key.value, known.iter().copied()).map_or_else(
        || format!("known fields here: {}", known.join(", ")),
        |s| format!("did you mean `{s}`?"),
    );
    b.problem(InputProblem {
        code: InputCode::UnknownField,
        field,
        message: format!(
            "unknown field `{}`{}",
            crate::diagnostic::excerpt(&key.value),
            suggest::did_you_mean(&key.value, known.iter().copied())
        ),
        span: Some(key.span),
        label: "not a field of the regimen format".into(),
        help: Some(help),
    });
}

fn wrong_shape(b: &mut Builder<'_>, field: &str, value: &Value, span: Span, want: &str) {
    b.problem(InputProblem {
        code: InputCode::WrongType,
        field: field.to_owned(),
        message: format!("`{field}` must be {want}, not {}", value.kind()),
        span: Some(span),
        label: format!("expected {want}"),
        help: None,
    });
}

fn read_regimen(
    node: Node,
    source: &Arc<SourceFile>,
    default_id: String,
    input: String,
    vocabulary: &Vocabulary,
) -> Regimen {
    let mut b = Builder::new(node.span, vocabulary);
    match node.value {
        Value::Map(entries) => {
            for (key, value) in entries {
                match key.value.as_str() {
                    "id" => b.id(given_at(value)),
                    "drug" => b.drug(given_at(value)),
                    "product" => b.product(given_at(value)),
                    "patient" => read_fields(&mut b, value, Block::Patient),
                    "course" => read_fields(&mut b, value, Block::Course),
                    _ if matches!(value.value, Value::Null) => {}
                    other => match vocabulary.keyed(Block::Regimen, other) {
                        // A coded indication (`{system: SNOMED, code: ...}`):
                        // the one its code names, else another condition.
                        Some(Fact::INDICATION) if matches!(value.value, Value::Map(_)) => {
                            let name = crate::regimen::fhir::indication_of(&value, vocabulary)
                                .unwrap_or("other");
                            let given = GivenAt {
                                value: Given::Text(name.to_owned()),
                                span: Some(value.span),
                            };
                            b.field(Fact::INDICATION, given);
                        }
                        Some(fact) => b.field(fact, given_at(value)),
                        None => {
                            let known: Vec<&str> = ["id", "drug", "product"]
                                .into_iter()
                                .chain(vocabulary.keys(Block::Regimen))
                                .chain(["patient", "course"])
                                .collect();
                            unknown(&mut b, &key, "", &known);
                        }
                    },
                }
            }
        }
        other => {
            let want = "a regimen (a mapping with `drug`, `patient` and `course`)";
            b.problem(InputProblem {
                code: InputCode::NotARegimen,
                field: String::new(),
                message: format!("expected {want}, found {}", other.kind()),
                span: Some(node.span),
                label: "not a regimen".into(),
                help: Some("see the regimen format in README.md".into()),
            });
        }
    }
    b.finish(default_id, input, Some(source.clone()))
}

/// The fields of `patient` or of `course` (whose `phases` are read apart),
/// each by its key in the vocabulary.
fn read_fields(b: &mut Builder<'_>, node: Node, block: Block) {
    let name = if block == Block::Patient {
        "patient"
    } else {
        "course"
    };
    let Value::Map(entries) = node.value else {
        match block {
            // An empty `patient:` gives no patient facts; a course needs phases.
            Block::Patient if matches!(node.value, Value::Null) => {}
            Block::Patient => {
                let want = "a mapping of patient fields";
                wrong_shape(b, name, &node.value, node.span, want);
            }
            _ => wrong_shape(b, name, &node.value, node.span, "a mapping with `phases`"),
        }
        return;
    };
    if block == Block::Patient {
        b.patient_block(node.span);
    } else {
        b.course_block(node.span);
    }
    let vocabulary = b.vocabulary();
    // The names a misspelt key is compared with, listed only when one is.
    let names = || -> Vec<&str> {
        let extra = (block == Block::Course).then_some("phases");
        vocabulary.keys(block).chain(extra).collect()
    };
    for (key, value) in entries {
        if block == Block::Course && key.value == "phases" {
            read_phases(b, value);
            continue;
        }
        // `field: ~` is the same as leaving the field out.
        if matches!(value.value, Value::Null) {
            continue;
        }
        match vocabulary.keyed(block, &key.value) {
            Some(fact) => b.field(fact, given_at(value)),
            None => unknown(b, &key, name, &names()),
        }
    }
}

fn read_phases(b: &mut Builder<'_>, node: Node) {
    let Value::Seq(items) = node.value else {
        return wrong_shape(
            b,
            "course.phases",
            &node.value,
            node.span,
            "a list of phases",
        );
    };
    if items.len() > super::MAX_PHASES {
        b.problem(InputProblem {
            code: InputCode::TooLarge,
            field: "course.phases".into(),
            message: format!(
                "{} phases; rxlint reads at most {}",
                items.len(),
                super::MAX_PHASES
            ),
            span: Some(node.span),
            label: "too many phases".into(),
            help: None,
        });
        return;
    }
    let vocabulary = b.vocabulary();
    let names = || -> Vec<&str> { vocabulary.keys(Block::Phase).collect() };
    for item in items {
        let index = b.phase(item.span);
        let Value::Map(entries) = item.value else {
            let field = format!("course.phases[{index}]");
            let want = "a mapping with dose, frequency and duration";
            wrong_shape(b, &field, &item.value, item.span, want);
            continue;
        };
        for (key, value) in entries {
            if matches!(value.value, Value::Null) {
                continue;
            }
            match vocabulary.keyed(Block::Phase, &key.value) {
                Some(fact) => b.phase_field(index, fact, given_at(value)),
                None => unknown(b, &key, &format!("course.phases[{index}]"), &names()),
            }
        }
    }
}
