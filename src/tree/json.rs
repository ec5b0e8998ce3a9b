//! JSON text to the same spanned [`Node`] tree as YAML, in one fast pass.
//!
//! serde_json hands out borrowed `RawValue`s that are slices of the input, so
//! a value's byte span is its slice's offset in the text: no second parser,
//! and numbers keep their exact decimal text (`0.035` is never a float).
//! Nesting is bounded by serde_json's recursion limit (128).

use std::fmt;

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;

use super::{Node, SyntaxError, Value};
use crate::source::{LineIndex, Span, Spanned};

/// Parses one JSON document.
///
/// Errors: `{"a": 1,}` (trailing comma), `{"a": }`, an unclosed string.
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let raw: &RawValue = serde_json::from_str(text).map_err(|e| error(text, &e))?;
    node(text, raw, 0)
}

/// Deepest nesting read, as serde_json's own limit (each nested parse below
/// starts its own count, so the depth is tracked here).
const MAX_DEPTH: usize = 128;

fn error(text: &str, err: &serde_json::Error) -> SyntaxError {
    let offset = offset_of(text, err.line(), err.column());
    let message = err.to_string();
    // serde_json appends " at line L column C"; the span says where.
    let message = message
        .split(" at line ")
        .next()
        .unwrap_or(&message)
        .to_owned();
    SyntaxError {
        message,
        span: Span::new(offset, offset),
    }
}

/// Byte offset of a 1-based line and column (in bytes).
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let lines = LineIndex::new(text);
    line.checked_sub(1)
        .and_then(|i| lines.start(i))
        .map_or(text.len(), |start| {
            (start + column.saturating_sub(1)).min(text.len())
        })
}

/// The span of `part`, a slice of `base`.
fn span_in(base: &str, part: &str) -> Span {
    let start = (part.as_ptr() as usize).saturating_sub(base.as_ptr() as usize);
    Span::new(start, start + part.len())
}

fn node(base: &str, raw: &RawValue, depth: usize) -> Result<Node, SyntaxError> {
    let text = raw.get();
    let span = span_in(base, text);
    // A nested parse reports positions within `text`; place them in `base`.
    let nested = |e: serde_json::Error| {
        let mut err = error(text, &e);
        err.span = err.span.offset(span.start());
        err
    };
    if depth > MAX_DEPTH && text.starts_with(['{', '[']) {
        return Err(SyntaxError {
            message: format!("nested deeper than {MAX_DEPTH} levels"),
            span: Span::new(span.start(), span.start()),
        });
    }
    let value = match text.as_bytes().first() {
        Some(b'{') => {
            let Entries(entries) = serde_json::from_str(text).map_err(nested)?;
            let mut out: Vec<(Spanned<String>, Node)> = Vec::with_capacity(entries.len());
            let mut keys = None;
            for (key, value) in entries {
                let key_span = key.1.map_or(span, |k| span_in(base, k));
                // Duplicate keys are refused, as in YAML: keeping either one
                // silently could pass a regimen on the other's value.
                if is_duplicate(&key.0, &out, &mut keys) {
                    return Err(SyntaxError {
                        message: format!("duplicate key `{}`", crate::diagnostic::excerpt(&key.0)),
                        span: key_span,
                    });
                }
                out.push((Spanned::new(key.0, key_span), node(base, value, depth + 1)?));
            }
            Value::Map(out)
        }
        Some(b'[') => {
            let items: Vec<&RawValue> = serde_json::from_str(text).map_err(nested)?;
            Value::Seq(
                items
                    .into_iter()
                    .map(|i| node(base, i, depth + 1))
                    .collect::<Result<_, _>>()?,
            )
        }
        // A string without escapes is its own slice, minus the quotes.
        Some(b'"') if !text.contains('\\') && text.len() >= 2 => {
            Value::Str(text[1..text.len() - 1].to_owned())
        }
        Some(b'"') => Value::Str(serde_json::from_str(text).map_err(nested)?),
        Some(b't') => Value::Bool(true),
        Some(b'f') => Value::Bool(false),
        Some(b'n') => Value::Null,
        _ => number(text),
    };
    Ok(Node { value, span })
}

/// A JSON number as every reader of rxlint sees it: integers exactly,
/// anything else through `f64` and back to its shortest decimal text (as
/// serde and the YAML reader give it), so that a value reads the same in
/// every input format and output mode.
fn number(text: &str) -> Value {
    // A plain decimal is kept as written; the 15-significant-digit limit
    // (units::MAX_SIGNIFICANT_DIGITS) then applies to it as to any text.
    if crate::units::parse_decimal(text).is_some() {
        return Value::Number(text.to_owned());
    }
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => Value::Number(format!("{v}")),
        _ => Value::NonFinite(text.to_owned()),
    }
}

/// A key: its text, and its slice of the input when it had no escapes.
type Key<'a> = (String, Option<&'a str>);

struct Entries<'a>(Vec<(Key<'a>, &'a RawValue)>);

impl<'de: 'a, 'a> de::Deserialize<'de> for Entries<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(EntriesVisitor(std::marker::PhantomData))
    }
}

struct EntriesVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for EntriesVisitor<'a> {
    type Value = Entries<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(KeyOf(key)) = map.next_key()? {
            let value: &'de RawValue = map.next_value()?;
            entries.push((key, value));
        }
        Ok(Entries(entries))
    }
}

struct KeyOf<'a>(Key<'a>);

impl<'de: 'a, 'a> de::Deserialize<'de> for KeyOf<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(KeyVisitor(std::marker::PhantomData))
    }
}

struct KeyVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for KeyVisitor<'a> {
    type Value = KeyOf<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(KeyOf((v.to_owned(), Some(v))))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(KeyOf((v.to_owned(), None)))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(KeyOf((v, None)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_and_exact_numbers() {
        let text = r#"{"drug": "isotretinoin", "patient": {"weight": {"value": 0.035, "unit": "g"}}, "n": [1, 2.50]}"#;
        let doc = parse(text).unwrap_or_else(|e| panic!("{e:?}"));
        let value = doc
            .get("patient")
            .and_then(|p| p.get("weight"))
            .and_then(|w| w.get("value"));
        assert_eq!(value.map(|v| &text[v.span.range()]), Some("0.035"));
        assert!(matches!(value.map(|v| &v.value), Some(Value::Number(n)) if n == "0.035"));
        let drug = doc.get("drug").map(|d| &text[d.span.range()]);
        assert_eq!(drug, Some("\"isotretinoin\""));
        let key = doc
            .as_map()
            .and_then(|m| m.first())
            .map(|(k, _)| &text[k.span.range()]);
        assert_eq!(key, Some("drug"));
    }

    #[test]
    fn errors_have_positions() {
        let text = "{\"a\": 1,\n \"b\": }";
        let err = parse(text).err().map(|e| e.span.start());
        assert_eq!(err, Some(15));
        assert!(parse(&"[".repeat(100_000)).is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn escaped_keys_still_parse() {
        let doc = parse(r#"{"dr\u0075g": "x"}"#).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(doc.as_map().map(|m| m[0].0.value.as_str()), Some("drug"));
    }
}

/// Parses one JSON document into the same tree without byte spans, in one
/// pass. For output that needs no column (JSON Lines, where a record is
/// one line): every node points at the start of the text.
///
/// Numbers that are not integers go through `f64` and back to their
/// shortest decimal text, which is the text written for any ordinary dose.
pub fn parse_lean(text: &str) -> Result<Node, SyntaxError> {
    // serde hands floats over as f64; a number with more digits than a
    // float holds must be read exactly, so such a line takes the spanned
    // parser, and both modes give the same verdict.
    if has_long_number(text) {
        return parse(text);
    }
    let mut de = serde_json::Deserializer::from_str(text);
    let Lean(node) = serde::Deserialize::deserialize(&mut de).map_err(|e| error(text, &e))?;
    de.end().map_err(|e| error(text, &e))?;
    Ok(node)
}

/// Whether JSON text has a number literal (outside strings) with more than
/// 15 significant digits.
fn has_long_number(text: &str) -> bool {
    // A number with more than 15 significant digits is written with more
    // than 15 digit or dot characters in a row; lines without such a run
    // (nearly all) skip the exact scan.
    if !has_run(text.as_bytes(), crate::units::MAX_SIGNIFICANT_DIGITS + 1) {
        return false;
    }
    let bytes = text.as_bytes();
    let (mut i, mut in_string) = (0, false);
    while i < bytes.len() {
        let b = bytes[i];
        if in_string {
            match b {
                b'\\' => i += 1,
                b'"' => in_string = false,
                _ => {}
            }
            i += 1;
            continue;
        }
        if b == b'"' {
            in_string = true;
            i += 1;
            continue;
        }
        if b.is_ascii_digit() {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            if crate::units::significant_digits(&text[start..i])
                > crate::units::MAX_SIGNIFICANT_DIGITS
            {
                return true;
            }
            continue;
        }
        i += 1;
    }
    false
}

/// Whether `bytes` has `min` or more digits and dots in a row.
///
/// Looks at every `min`-th byte only, which any such run must cover, and
/// measures the run around a probe that hits one: about one look per
/// `min` bytes of JSON instead of one per byte.
fn has_run(bytes: &[u8], min: usize) -> bool {
    let numeric = |b: &&u8| b.is_ascii_digit() || **b == b'.';
    let min = min.max(1);
    let mut probe = min - 1;
    while let Some(b) = bytes.get(probe) {
        if !numeric(&b) {
            probe += min;
            continue;
        }
        let before = bytes[..probe].iter().rev().take_while(numeric).count();
        let after = bytes[probe + 1..].iter().take_while(numeric).count();
        if before + 1 + after >= min {
            return true;
        }
        // The byte after this run is not numeric, so the next run starts
        // two past its end at the earliest; a probe `min` past that byte
        // still lands inside any run of `min` bytes.
        probe += after + 1 + min;
    }
    false
}

struct Lean(Node);

fn lean(value: Value) -> Node {
    Node {
        value,
        span: Span::default(),
    }
}

impl<'de> de::Deserialize<'de> for Lean {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LeanVisitor).map(|v| Lean(lean(v)))
    }
}

struct LeanVisitor;

impl<'de> Visitor<'de> for LeanVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    crate::tree::scalar_visits!();
    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(Lean(node)) = seq.next_element()? {
            items.push(node);
        }
        Ok(Value::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries: Vec<(Spanned<String>, Node)> = Vec::new();
        let mut keys = None;
        while let Some(key) = map.next_key::<String>()? {
            if is_duplicate(&key, &entries, &mut keys) {
                return Err(de::Error::custom(format!(
                    "duplicate key `{}`",
                    crate::diagnostic::excerpt(&key)
                )));
            }
            let Lean(value) = map.next_value()?;
            entries.push((Spanned::new(key, Span::default()), value));
        }
        Ok(Value::Map(entries))
    }
}

/// Whether `key` is among the keys of `earlier`, the entries of an object
/// read so far. Small objects (nearly all) are scanned; from
/// `SCAN_KEYS` entries on, a hash set of the keys keeps a huge object linear.
fn is_duplicate(
    key: &str,
    earlier: &[(Spanned<String>, Node)],
    set: &mut Option<std::collections::HashSet<String>>,
) -> bool {
    const SCAN_KEYS: usize = 16;
    if earlier.len() < SCAN_KEYS {
        return earlier.iter().any(|(k, _)| k.value == key);
    }
    let set = set.get_or_insert_with(|| earlier.iter().map(|(k, _)| k.value.clone()).collect());
    !set.insert(key.to_owned())
}

#[cfg(test)]
mod lean_tests {
    use super::*;

    /// The lean and the spanned parser agree on every value.
    fn strip(node: &Node) -> String {
        match &node.value {
            Value::Map(entries) => {
                let inner: Vec<String> = entries
                    .iter()
                    .map(|(k, v)| format!("{}={}", k.value, strip(v)))
                    .collect();
                format!("{{{}}}", inner.join(","))
            }
            Value::Seq(items) => format!(
                "[{}]",
                items.iter().map(strip).collect::<Vec<_>>().join(",")
            ),
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn agrees_with_the_spanned_parser() {
        let text = r#"{"id":"A","n":[1,2.5,-3,0.035,1e2],"s":"a\"b","t":true,"z":null,"o":{"k":{"v":"x"}}}"#;
        let full = parse(text).unwrap_or_else(|e| panic!("{e:?}"));
        let lean = parse_lean(text).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(strip(&full), strip(&lean));
        assert!(parse_lean("{\"a\": 1,}").is_err());
        assert!(parse_lean("{} {}").is_err());
        assert!(parse_lean(r#"{"a": 1, "a": 2}"#).is_err());
        let err = parse(r#"{"p": {"w": 1, "w": 2}}"#).err();
        assert_eq!(err.map(|e| e.span), Some(Span::new(16, 17)));
        assert!(parse_lean(&"[".repeat(1000)).is_err());
    }

    /// The probing scan finds exactly the runs a byte-by-byte scan finds.
    #[test]
    fn probing_finds_every_run() {
        let naive = |bytes: &[u8], min: usize| {
            let mut run = 0;
            bytes.iter().any(|b| {
                run = if b.is_ascii_digit() || *b == b'.' {
                    run + 1
                } else {
                    0
                };
                run >= min
            })
        };
        // Every string over {digit, dot, letter} up to length 9, runs of 1-5.
        let alphabet = [b'7', b'.', b'x'];
        let mut text = Vec::new();
        for len in 0..=9u32 {
            for code in 0..3usize.pow(len) {
                text.clear();
                let mut c = code;
                for _ in 0..len {
                    text.push(alphabet[c % 3]);
                    c /= 3;
                }
                for min in 1..=5 {
                    assert_eq!(has_run(&text, min), naive(&text, min), "{text:?} {min}");
                }
            }
        }
    }

    /// Numbers beyond 15 significant digits send a line to the exact
    /// parser; digits in strings and leading or trailing zeros do not.
    #[test]
    fn long_numbers_are_found() {
        let cases = [
            (r#"{"w": 123456789012345}"#, false),
            (r#"{"w": 1234567890123456}"#, true),
            (r#"{"w": 1.000000000000001}"#, true),
            (r#"{"w": 0.0000000000000001}"#, false),
            // Trailing zeros of an integer count: the exact parser reads it.
            (r#"{"w": 1000000000000000000}"#, true),
            (r#"{"id": "12345678901234567890", "w": 70}"#, false),
            (r#"{"id": "a\"12345678901234567890", "w": 70}"#, false),
            (r#"{"w": [1, 70.00000000000000001]}"#, true),
        ];
        for (text, long) in cases {
            assert_eq!(has_long_number(text), long, "{text}");
        }
        let text = r#"{"w": 70.00000000000000001}"#;
        let lean = parse_lean(text).unwrap_or_else(|e| panic!("{e:?}"));
        let full = parse(text).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(strip(&lean), strip(&full));
        assert!(
            strip(&lean).contains("70.00000000000000001"),
            "{}",
            strip(&lean)
        );
    }

    /// Duplicates are found whether the object is scanned (few keys) or
    /// hashed (many), at the first key, the last, and across the switch.
    #[test]
    fn duplicate_keys_in_small_and_large_objects() {
        for n in [1usize, 2, 15, 16, 17, 40] {
            let keys: Vec<String> = (0..n).map(|i| format!("\"k{i}\": {i}")).collect();
            let unique = format!("{{{}}}", keys.join(","));
            assert!(parse(&unique).is_ok(), "{n} keys");
            assert!(parse_lean(&unique).is_ok(), "{n} keys");
            for dup in [0, n / 2, n - 1] {
                let text = format!("{{{}, \"k{dup}\": 0}}", keys.join(","));
                assert!(parse(&text).is_err(), "{n} keys, k{dup} twice");
                assert!(parse_lean(&text).is_err(), "{n} keys, k{dup} twice");
            }
        }
    }
}
