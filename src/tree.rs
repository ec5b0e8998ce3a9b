//! The spanned document tree that YAML and JSON are both read into.
//!
//! Takes nothing itself: its two parsers, [`yaml`] and [`json`], turn text
//! into a [`Node`] tree in which every key and value knows its byte span.
//! The typed decoding of rule files and regimens works on this tree so that
//! it can report every problem at once instead of stopping at serde's first
//! error.

pub mod json;
pub mod yaml;

use crate::source::{Span, Spanned};

/// A document node and where it was written.
#[derive(Clone, Debug)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Its span (for a mapping or sequence, from its first to its last entry).
    pub span: Span,
}

/// The value of a [`Node`].
#[derive(Clone, Debug)]
pub enum Value {
    /// `~`, `null` or an empty value.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as the shortest decimal text that reads back to it (YAML
    /// gives integers and floats; rxlint turns the text into an exact decimal).
    Number(String),
    /// A number that is not finite: `.nan`, `.inf`, `1e400`.
    NonFinite(String),
    /// A string.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(Spanned<String>, Node)>),
}

impl Value {
    /// A short name of the value's type, for "expected X, found Y" messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "nothing",
            Value::Bool(_) => "a boolean",
            Value::Number(_) | Value::NonFinite(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

impl Node {
    /// The entries of a mapping, or `None`.
    pub fn as_map(&self) -> Option<&[(Spanned<String>, Node)]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The text of a string scalar, or `None`.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value under `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|(k, _)| k.value == key)
            .map(|(_, v)| v)
    }
}

/// A document that could not be read, and where.
#[derive(Clone, Debug)]
pub struct SyntaxError {
    /// What the parser said.
    pub message: String,
    /// Where (an empty span at the error position).
    pub span: Span,
}

/// A float a parser read, as the tree keeps it: the shortest text that
/// reads back to the same float, which is the decimal the author wrote for
/// any ordinary dose; a value that is not finite is kept apart.
pub(crate) fn float(v: f64) -> Value {
    if v.is_finite() {
        Value::Number(format!("{v}"))
    } else {
        Value::NonFinite(format!("{v}"))
    }
}

/// The scalar methods of a serde `Visitor` building a [`Value`], which the
/// YAML and JSON parsers share.
macro_rules! scalar_visits {
    () => {
        fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
            Ok(Value::Bool(v))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
            Ok(Value::Number(v.to_string()))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
            Ok(Value::Number(v.to_string()))
        }
        fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
            Ok($crate::tree::float(v))
        }
        fn visit_str<E>(self, v: &str) -> Result<Value, E> {
            Ok(Value::Str(v.to_owned()))
        }
        fn visit_string<E>(self, v: String) -> Result<Value, E> {
            Ok(Value::Str(v))
        }
        fn visit_unit<E>(self) -> Result<Value, E> {
            Ok(Value::Null)
        }
    };
}
pub(crate) use scalar_visits;

/// A list of text items, a lone text being a list of one; with `numbers`,
/// a number stands for its text (a code written unquoted). An item, or the
/// whole, of another kind goes to `wrong` as (span, message, label), and
/// is left out.
pub fn texts(
    node: &Node,
    field: &str,
    numbers: bool,
    wrong: &mut dyn FnMut(Span, String, &'static str),
) -> Vec<Spanned<String>> {
    let text = |n: &Node| match &n.value {
        Value::Str(s) => Some(s.clone()),
        Value::Number(s) if numbers => Some(s.clone()),
        _ => None,
    };
    match &node.value {
        Value::Seq(items) => items
            .iter()
            .filter_map(|item| match text(item) {
                Some(s) => Some(Spanned::new(s, item.span)),
                None => {
                    let message =
                        format!("`{field}` items must be text, not {}", item.value.kind());
                    wrong(item.span, message, "expected text");
                    None
                }
            })
            .collect(),
        _ => match text(node) {
            Some(s) => vec![Spanned::new(s, node.span)],
            None => {
                let message = format!("`{field}` must be a list, not {}", node.value.kind());
                wrong(node.span, message, "expected a list");
                Vec::new()
            }
        },
    }
}
