//! Python records to the JSON text of one regimen document.
//!
//! Takes a `dict` (as `json.loads` gives it, or `pyarrow`'s `to_pylist`)
//! and gives it as one JSON value, which the core then reads as a line of
//! a `.jsonl` file. An `int` or a `Decimal` goes through its exact text, a
//! `float` as itself, which the core reads through its shortest decimal
//! text; a date as its ISO text.
//!
//! Nothing here raises on a record's content: what cannot be read stands
//! as the name of its type, never its value, because whatever is written
//! ends up in an `invalid` result, and a value here is patient data.

use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde_json::Value;

/// Deepest nesting accepted (a regimen document is three levels deep).
const MAX_DEPTH: usize = 32;

/// Types the writer recognises by class rather than by Python's own types.
pub struct Classes<'py> {
    decimal: Bound<'py, PyAny>,
    date: Bound<'py, PyAny>,
    time: Bound<'py, PyAny>,
}

impl<'py> Classes<'py> {
    pub fn import(py: Python<'py>) -> PyResult<Classes<'py>> {
        let datetime = py.import("datetime")?;
        Ok(Classes {
            decimal: py.import("decimal")?.getattr("Decimal")?,
            // `datetime.datetime` is a subclass of `date`.
            date: datetime.getattr("date")?,
            time: datetime.getattr("time")?,
        })
    }
}

/// `value` as a JSON value. A value of a type JSON has no place for (a
/// `set`, a `bytes`) becomes the text `<set>`, which the core then refuses
/// in whichever field it stands, so that the record is `invalid` for a
/// reason it names; so does a key that is not text.
pub fn to_json(value: &Bound<'_, PyAny>, classes: &Classes<'_>, depth: usize) -> Value {
    if depth > MAX_DEPTH {
        return unreadable(value);
    }
    if value.is_none() {
        Value::Null
    } else if let Ok(b) = value.cast::<PyBool>() {
        Value::Bool(b.is_true())
    } else if let Ok(s) = value.cast::<PyString>() {
        match s.to_cow() {
            Ok(text) => Value::String(text.into_owned()),
            Err(_) => unreadable(value),
        }
    } else if value.is_instance_of::<PyInt>() {
        number(value).unwrap_or_else(|| unreadable(value))
    } else if let Ok(f) = value.cast::<PyFloat>() {
        // Not finite: the core refuses the text as it does `NaN` in a CSV.
        serde_json::Number::from_f64(f.value())
            .map(Value::Number)
            .unwrap_or_else(|| Value::String(f.value().to_string()))
    } else if let Ok(map) = value.cast::<PyDict>() {
        let mut out = serde_json::Map::with_capacity(map.len());
        for (k, v) in map.iter() {
            let key = match k.cast::<PyString>().map(|k| k.to_cow()) {
                Ok(Ok(key)) => key.into_owned(),
                _ => format!("<{} key>", type_name(&k)),
            };
            out.insert(key, to_json(&v, classes, depth + 1));
        }
        Value::Object(out)
    } else if value.is_instance_of::<PyList>() || value.is_instance_of::<PyTuple>() {
        match value.try_iter() {
            Ok(items) => Value::Array(
                items
                    .map(|item| match item {
                        Ok(item) => to_json(&item, classes, depth + 1),
                        Err(_) => unreadable(value),
                    })
                    .collect(),
            ),
            Err(_) => unreadable(value),
        }
    } else if value.is_instance(&classes.decimal).unwrap_or(false) {
        // `Decimal('NaN')` is no JSON number: its text, which the core refuses.
        number(value).unwrap_or_else(|| match text_of(value) {
            Some(text) => Value::String(text),
            None => unreadable(value),
        })
    } else if value.is_instance(&classes.date).unwrap_or(false)
        || value.is_instance(&classes.time).unwrap_or(false)
    {
        match value
            .call_method0("isoformat")
            .and_then(|t| t.extract::<String>())
        {
            Ok(text) => Value::String(text),
            Err(_) => unreadable(value),
        }
    } else if value.hasattr("__index__").unwrap_or(false) {
        // An integer of another library (numpy's int64).
        value
            .call_method0("__index__")
            .ok()
            .and_then(|i| number(&i))
            .unwrap_or_else(|| unreadable(value))
    } else {
        unreadable(value)
    }
}

/// An integer or decimal as a JSON number, through its exact text; one
/// that a JSON number here cannot hold exactly (a `Decimal` of 17 digits,
/// an integer past 64 bits) as that text in a string, which the core reads
/// as it reads the number in a `.jsonl` line, refusing more than 15
/// significant digits rather than rounding them away.
fn number(value: &Bound<'_, PyAny>) -> Option<Value> {
    let text = text_of(value)?;
    let n = serde_json::from_str::<serde_json::Number>(&text).ok()?;
    let exact = n.is_i64()
        || n.is_u64()
        || n.as_f64()
            .is_some_and(|f| !text.contains(['e', 'E']) && f.to_string() == plain(&text));
    Some(if exact {
        Value::Number(n)
    } else {
        Value::String(text)
    })
}

/// Decimal text without the zeros that do not change its value (`1.50`
/// is `1.5`, `2.0` is `2`), as Rust writes a float.
fn plain(text: &str) -> &str {
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        text
    }
}

fn text_of(value: &Bound<'_, PyAny>) -> Option<String> {
    value.str().and_then(|s| s.extract::<String>()).ok()
}

/// What stands for a value that cannot be read: its type, never its content.
fn unreadable(value: &Bound<'_, PyAny>) -> Value {
    Value::String(format!("<{}>", type_name(value)))
}

/// The name of a value's type, which says nothing about the value.
pub fn type_name(value: &Bound<'_, PyAny>) -> String {
    value
        .get_type()
        .name()
        .and_then(|n| n.extract::<String>())
        .unwrap_or_else(|_| "unknown type".to_owned())
}
