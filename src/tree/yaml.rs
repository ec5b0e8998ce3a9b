//! YAML text to the spanned [`Node`] tree.
//!
//! Takes a [`SourceFile`] and gives a [`Node`] tree in which every key and
//! value knows its byte span. serde-saphyr does the parsing (with its budget
//! against alias bombs, deep nesting and oversized documents). It also reads
//! JSON, which YAML 1.2 contains; `.json` files take the strict
//! [`json`](super::json) parser instead.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

use super::{Node, SyntaxError, Value};
use crate::source::{LineIndex, SourceFile, Span, Spanned};

/// Parses YAML (or JSON, which YAML 1.2 contains) into a [`Node`] tree.
///
/// Errors: `a: [1, 2` (unclosed flow sequence), `a: 1\na: 2` (duplicate
/// key), a billion-laughs alias bomb, nesting deeper than 64 levels.
pub fn parse(source: &SourceFile) -> Result<Node, SyntaxError> {
    let text = source.text();
    if text.trim().is_empty() {
        return Ok(Node {
            value: Value::Null,
            span: Span::default(),
        });
    }
    let options = serde_saphyr::options! {};
    match serde_saphyr::from_str_with_options::<SaphyrNode>(text, options) {
        Ok(raw) => {
            let mut node = raw.0;
            exact_numbers(&mut node, text);
            Ok(node)
        }
        Err(err) => {
            let span = err
                .location()
                .map(|loc| offset_of(text, loc.line() as usize, loc.column() as usize))
                .map_or_else(Span::default, |o| Span::new(o, o));
            Err(SyntaxError {
                message: first_line(&err.to_string()),
                span,
            })
        }
    }
}

/// Puts back the text of each plain decimal scalar, which serde handed
/// over as a float: `17.9999999999999999` must not become `18`.
fn exact_numbers(node: &mut Node, text: &str) {
    match &mut node.value {
        Value::Number(n) => {
            let written = text.get(node.span.range()).unwrap_or("").trim();
            if crate::units::parse_decimal(written).is_some() {
                *n = written.to_owned();
            }
        }
        Value::Seq(items) => items.iter_mut().for_each(|i| exact_numbers(i, text)),
        Value::Map(entries) => entries.iter_mut().for_each(|(_, v)| exact_numbers(v, text)),
        _ => {}
    }
}

/// The first line of a parser's message, cut short: parsers quote the
/// offending text, which can be megabytes long.
fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or(message).trim();
    if line.chars().count() <= 200 {
        return line.to_owned();
    }
    let head: String = line.chars().take(199).collect();
    format!("{head}…")
}

/// Byte offset of a 1-based line and column (in characters).
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let lines = LineIndex::new(text);
    let Some(start) = line.checked_sub(1).and_then(|i| lines.start(i)) else {
        return text.len();
    };
    let l = text
        .get(start..lines.start(line).unwrap_or(text.len()))
        .unwrap_or("");
    start
        + l.char_indices()
            .nth(column.saturating_sub(1))
            .map_or(l.trim_end_matches('\n').len(), |(b, _)| b)
}

/// A node as serde-saphyr hands it over, before spans are normalised.
struct SaphyrNode(Node);

fn span_of(loc: &serde_saphyr::Location) -> Span {
    let s = loc.span();
    match (s.byte_offset(), s.byte_len()) {
        (Some(o), Some(l)) => Span::new(o as usize, (o + l) as usize),
        _ => Span::default(),
    }
}

impl<'de> Deserialize<'de> for SaphyrNode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = serde_saphyr::Spanned::<SaphyrValue>::deserialize(d)?;
        let mut span = span_of(&spanned.referenced);
        let value = spanned.value.0;
        // Collections come with an empty span at their start; widen it to
        // cover their contents so that a label underlines the whole block.
        let last = match &value {
            Value::Seq(items) => items.last().map(|n| n.span),
            Value::Map(entries) => entries.last().map(|(_, v)| v.span),
            _ => None,
        };
        if let Some(last) = last {
            let first = match &value {
                Value::Seq(items) => items.first().map(|n| n.span),
                Value::Map(entries) => entries.first().map(|(k, _)| k.span),
                _ => None,
            };
            span = first.unwrap_or(span).to(last);
            if span.start() > span_of(&spanned.referenced).start() {
                span = Span::new(span_of(&spanned.referenced).start(), span.end());
            }
        }
        Ok(SaphyrNode(Node { value, span }))
    }
}

/// A value as serde-saphyr hands it over, without its span.
struct SaphyrValue(Value);

impl<'de> Deserialize<'de> for SaphyrValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor).map(SaphyrValue)
    }
}

/// A mapping key as serde-saphyr hands it over, with its span.
struct SaphyrKey(Spanned<String>);

impl<'de> Deserialize<'de> for SaphyrKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = serde_saphyr::Spanned::<SaphyrValue>::deserialize(d)?;
        let span = span_of(&spanned.referenced);
        let text = match spanned.value.0 {
            Value::Str(s) | Value::Number(s) | Value::NonFinite(s) => s,
            Value::Bool(b) => b.to_string(),
            Value::Null => String::new(),
            Value::Seq(_) | Value::Map(_) => {
                return Err(de::Error::custom("a mapping key must be a plain scalar"));
            }
        };
        Ok(SaphyrKey(Spanned::new(text, span)))
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML value")
    }
    crate::tree::scalar_visits!();
    fn visit_i128<E>(self, v: i128) -> Result<Value, E> {
        Ok(Value::Number(v.to_string()))
    }
    fn visit_u128<E>(self, v: u128) -> Result<Value, E> {
        Ok(Value::Number(v.to_string()))
    }
    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        Ok(Value::Str(String::from_utf8_lossy(v).into_owned()))
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(SaphyrNode(node)) = seq.next_element()? {
            items.push(node);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries: Vec<(Spanned<String>, Node)> = Vec::new();
        while let Some(SaphyrKey(key)) = map.next_key()? {
            let SaphyrNode(value) = map.next_value()?;
            entries.push((key, value));
        }
        Ok(Value::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of<'a>(src: &'a SourceFile, node: &Node) -> &'a str {
        src.slice(node.span)
    }

    #[test]
    fn keeps_spans_of_values() {
        let src = SourceFile::new("t.yaml", "drug: isotretinoin\npatient:\n  weight: 70 kg\n");
        let doc = parse(&src).unwrap_or_else(|e| panic!("{e:?}"));
        let weight = doc.get("patient").and_then(|p| p.get("weight"));
        assert_eq!(weight.map(|w| text_of(&src, w)), Some("70 kg"));
    }

    #[test]
    fn reports_syntax_errors_with_a_position() {
        let src = SourceFile::new("t.yaml", "a: [1, 2\nb: 3\n");
        assert!(parse(&src).is_err());
        let src = SourceFile::new("t.json", "{\"a\": 1,\n \"b\": }");
        let err = crate::tree::json::parse(src.text())
            .err()
            .map(|e| src.line_col(e.span.start()));
        assert_eq!(err, Some((2, 7)));
    }

    #[test]
    fn refuses_duplicate_keys_and_alias_bombs() {
        let src = SourceFile::new("t.yaml", "a: 1\na: 2\n");
        assert!(parse(&src).is_err());
        let mut bomb = String::from("a: &a [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 0..9 {
            let prev = if i == 0 {
                "a".to_owned()
            } else {
                format!("l{}", i - 1)
            };
            bomb.push_str(&format!("l{i}: &l{i} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"));
        }
        let src = SourceFile::new("bomb.yaml", bomb);
        assert!(parse(&src).is_err());
    }
}
