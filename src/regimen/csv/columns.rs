//! Column maps: a site's CSV export onto rxlint's fields.
//!
//! Takes a map file (`--columns map.yaml`) and gives a checked
//! [`ColumnMap`]: for each header it names, the field its cells fill, the
//! unit of their plain numbers and the words that stand for values. Every
//! problem of the file is reported, located, with a did-you-mean. Also
//! writes a starter map from a header ([`starter`], `rxlint columns init`).
//!
//! ```yaml
//! columns:
//!   Rx Number: id
//!   Patient Weight (lb): {field: patient.weight, unit: "[lb_av]"}
//!   Sig: {field: frequency, values: {BID: 2/day, QW: 1/week}}
//!   Prescriber: ignore
//! ```

use std::sync::Arc;

use super::Column;
use crate::codes::InputCode;
use crate::diagnostic::{Diagnostic, Level};
use crate::facts::{Fact, Type};
use crate::regimen::field::unit_fits;
use crate::source::{SourceFile, Span};
use crate::suggest;
use crate::tree::{Node, Value, yaml};
use crate::units::Unit;
use crate::vocabulary::Vocabulary;

/// A header as rxlint compares it: lower case, spaces and underscores
/// alike and collapsed, so that `Weight_KG`, ` weight kg ` and `weight_kg`
/// are one name.
pub fn key(header: &str) -> String {
    header
        .trim_start_matches('\u{feff}')
        .split(|c: char| c.is_whitespace() || c == '_')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join("_")
}

/// One header of a map: what its cells are.
#[derive(Clone, Debug)]
pub struct Mapping {
    /// The header as the map writes it.
    pub header: String,
    /// The column it reads as (`Column::Ignore` for `ignore`).
    pub(super) column: Column,
    /// Words to values (`M` -> `male`), compared without regard to case.
    pub values: Vec<(String, String)>,
}

/// A checked column map.
#[derive(Clone, Debug)]
pub struct ColumnMap {
    /// The map file, for messages.
    pub file: Arc<SourceFile>,
    /// By [`key`] of the header.
    entries: Vec<(String, Mapping)>,
}

impl ColumnMap {
    /// The mapping of `header`, compared by [`key`].
    pub fn get(&self, header_key: &str) -> Option<&Mapping> {
        self.entries
            .iter()
            .find(|(k, _)| k == header_key)
            .map(|(_, m)| m)
    }

    /// Reads and checks a map file; every problem is reported.
    ///
    /// Errors: a field that is neither a fact nor a column (`patient.wieght`,
    /// did you mean `patient.weight`?), a unit of another kind than the
    /// field's (`{field: weight_kg, unit: mg/day}`), a derived fact, a key
    /// other than `field`, `unit` and `values`, a header given twice.
    pub fn load(
        file: Arc<SourceFile>,
        vocabulary: &Vocabulary,
    ) -> Result<ColumnMap, Vec<Diagnostic>> {
        let mut loader = Loader {
            file: file.clone(),
            vocabulary,
            problems: Vec::new(),
        };
        let entries = loader.map();
        if loader.problems.is_empty() {
            Ok(ColumnMap { file, entries })
        } else {
            Err(loader.problems)
        }
    }
}

/// What a map's `field:` may name besides facts and rxlint's columns.
const SPECIAL: [&str; 5] = ["id", "phase", "drug", "product", "ignore"];

/// The keys of a mapping written long-hand.
const ENTRY_KEYS: [&str; 3] = ["field", "unit", "values"];

struct Loader<'v> {
    file: Arc<SourceFile>,
    vocabulary: &'v Vocabulary,
    problems: Vec<Diagnostic>,
}

impl Loader<'_> {
    fn error(&mut self, span: Span, message: String, label: &str, help: Option<String>) {
        let mut d = Diagnostic::new(InputCode::ColumnMap.as_str(), Level::Error, message)
            .at(&self.file, span, label);
        d.help = help;
        self.problems.push(d);
    }

    /// A key as written: YAML reads `Y`, `N`, `yes` or `off` as booleans,
    /// but in an export they are words (`{Y: true}`).
    fn written(&self, key: &crate::source::Spanned<String>) -> String {
        let raw = self.file.slice(key.span).trim();
        if raw.starts_with(['"', '\'']) || raw.is_empty() {
            key.value.clone()
        } else {
            raw.to_owned()
        }
    }

    fn map(&mut self) -> Vec<(String, Mapping)> {
        let doc = match yaml::parse(&self.file) {
            Ok(doc) => doc,
            Err(err) => {
                let message = format!("this column map is not valid YAML: {}", err.message);
                self.error(err.span, message, "here", None);
                return Vec::new();
            }
        };
        let Some(top) = doc.as_map() else {
            let message = format!(
                "a column map is a mapping with `columns:`, not {}",
                doc.value.kind()
            );
            self.error(doc.span, message, "expected `columns:`", None);
            return Vec::new();
        };
        let mut columns = None;
        for (k, node) in top {
            if k.value == "columns" {
                columns = Some(node);
            } else {
                let message = format!(
                    "unknown key `{}`{}",
                    k.value,
                    suggest::did_you_mean(&k.value, ["columns"])
                );
                self.error(
                    k.span,
                    message,
                    "unknown key",
                    Some("a column map has one key, `columns:`".into()),
                );
            }
        }
        let Some(columns) = columns else {
            let span = Span::new(doc.span.start(), doc.span.start());
            self.error(span, "the map has no `columns:`".into(), "here", None);
            return Vec::new();
        };
        let Some(entries) = columns.as_map() else {
            let message = format!(
                "`columns` maps headers to fields, not {}",
                columns.value.kind()
            );
            self.error(columns.span, message, "expected a mapping", None);
            return Vec::new();
        };
        let mut out: Vec<(String, Mapping)> = Vec::new();
        for (header, node) in entries {
            let written = self.written(header);
            let k = key(&written);
            if out.iter().any(|(seen, _)| *seen == k) {
                let message = format!(
                    "header `{written}` is mapped twice (headers are compared without case or spaces)"
                );
                self.error(header.span, message, "second time", None);
                continue;
            }
            if let Some(column) = self.entry(node) {
                out.push((
                    k,
                    Mapping {
                        header: written,
                        column: column.0,
                        values: column.1,
                    },
                ));
            }
        }
        out
    }

    /// One header's entry: `field` or `{field, unit, values}`.
    fn entry(&mut self, node: &Node) -> Option<(Column, Vec<(String, String)>)> {
        let (field, unit, values) = match &node.value {
            Value::Str(_) => (node, None, None),
            Value::Map(entries) => {
                let (mut field, mut unit, mut values) = (None, None, None);
                for (k, v) in entries {
                    match k.value.as_str() {
                        "field" => field = Some(v),
                        "unit" => unit = Some(v),
                        "values" => values = Some(v),
                        other => {
                            let message = format!(
                                "unknown key `{other}`{}",
                                suggest::did_you_mean(other, ENTRY_KEYS)
                            );
                            self.error(
                                k.span,
                                message,
                                "unknown key",
                                Some(
                                    "an entry has `field`, and may have `unit` and `values`".into(),
                                ),
                            );
                        }
                    }
                }
                let Some(field) = field else {
                    self.error(
                        node.span,
                        "the entry has no `field`".into(),
                        "no `field`",
                        Some("e.g. `{field: patient.weight, unit: \"[lb_av]\"}`".into()),
                    );
                    return None;
                };
                (field, unit, values)
            }
            other => {
                let message = format!(
                    "a header maps to a field or to `{{field, unit, values}}`, not {}",
                    other.kind()
                );
                self.error(node.span, message, "expected a field", None);
                return None;
            }
        };
        let column = self.field(field)?;
        let column = match (column, unit) {
            (column, None) => column,
            (Column::Fact(fact, _), Some(unit)) => {
                let text = self.unit(fact, unit)?;
                Column::Fact(fact, Some(text))
            }
            (_, Some(unit)) => {
                self.error(
                    unit.span,
                    "only a fact's column has a unit".into(),
                    "no unit here",
                    None,
                );
                return None;
            }
        };
        let values = match values {
            Some(v) => self.values(v)?,
            None => Vec::new(),
        };
        Some((column, values))
    }

    /// The column `field` names: a fact path, one of rxlint's columns, or
    /// `id`, `drug`, `product`, `ignore`.
    fn field(&mut self, node: &Node) -> Option<Column> {
        let Some(text) = node.as_str() else {
            let message = format!("`field` must be text, not {}", node.value.kind());
            self.error(node.span, message, "expected a field", None);
            return None;
        };
        let vocabulary = self.vocabulary;
        if text.trim() == "TODO" {
            self.error(
                node.span,
                "this column is still `TODO`".into(),
                "to do",
                Some("give it a field (`rxlint rules facts` lists them), or `ignore`".into()),
            );
            return None;
        }
        match text.trim() {
            "id" => return Some(Column::Id),
            "phase" => return Some(Column::Phase),
            "drug" => return Some(Column::Drug),
            "product" => return Some(Column::Product),
            "ignore" => return Some(Column::Ignore),
            _ => {}
        }
        if let Some(column) = super::column(&key(text), vocabulary) {
            return Some(column);
        }
        if let Some(fact) = vocabulary.fact(text.trim()) {
            let info = vocabulary.info(fact);
            if info.is_derived() {
                let message = format!(
                    "`{text}` is worked out by rxlint from other facts; a column cannot give it"
                );
                let help = info.inputs.first().map(|f| {
                    format!(
                        "map the facts it is worked out from, such as `{}`",
                        vocabulary.info(*f).path
                    )
                });
                self.error(node.span, message, "derived fact", help);
                return None;
            }
            // A fact's cells carry their unit unless the map gives one.
            return Some(Column::Fact(fact, None));
        }
        let recorded = vocabulary
            .facts()
            .filter(|f| !f.is_derived())
            .map(|f| f.path.as_str());
        let columns = super::columns(vocabulary);
        let candidates: Vec<&str> = SPECIAL
            .into_iter()
            .chain(recorded)
            .chain(columns.iter().copied())
            .collect();
        let message = format!(
            "unknown field `{text}`{}",
            suggest::did_you_mean(text, candidates.iter().copied())
        );
        self.error(
            node.span,
            message,
            "not a field",
            Some(
                "a field is a fact (`rxlint rules facts`), one of rxlint's CSV columns, or `id`, `drug`, `product`, `ignore`"
                    .into(),
            ),
        );
        None
    }

    /// The unit of a fact's plain-number cells, checked against the fact.
    fn unit(&mut self, fact: Fact, node: &Node) -> Option<String> {
        let Some(text) = node.as_str().map(str::trim) else {
            let message = format!("`unit` must be text, not {}", node.value.kind());
            self.error(node.span, message, "expected a unit", None);
            return None;
        };
        let info = self.vocabulary.info(fact);
        if fact == Fact::TIMES_PER_DAY {
            // The frequency columns' own conventions: a count a day, or
            // the hours between doses.
            if text == "/day" || text == "h" {
                return Some(text.to_owned());
            }
            self.error(
                node.span,
                format!("a frequency column's unit is `/day` or `h`, not `{text}`"),
                "not a frequency unit",
                Some(
                    "leave `unit` out when the cells are words such as `2/day` or `once weekly`"
                        .into(),
                ),
            );
            return None;
        }
        if !matches!(info.ty, Type::Quantity(_)) {
            self.error(
                node.span,
                format!("`{}` is not a quantity; it has no unit", info.path),
                "no unit here",
                None,
            );
            return None;
        }
        match Unit::parse(text) {
            Ok(unit) if unit_fits(self.vocabulary, fact, &unit) => Some(text.to_owned()),
            Ok(_) => {
                let message = format!(
                    "`{}` is {}, but `{text}` is not a unit of it",
                    info.path,
                    describe(info)
                );
                let help = info.example.as_deref().map(|e| format!("e.g. `{e}`"));
                self.error(node.span, message, "wrong unit", help);
                None
            }
            Err(err) => {
                self.error(node.span, err.to_string(), "unknown unit", None);
                None
            }
        }
    }

    /// `values: {word: value}`.
    fn values(&mut self, node: &Node) -> Option<Vec<(String, String)>> {
        let Some(entries) = node.as_map() else {
            let message = format!(
                "`values` maps words to values (`{{M: male}}`), not {}",
                node.value.kind()
            );
            self.error(node.span, message, "expected a mapping", None);
            return None;
        };
        let mut out = Vec::with_capacity(entries.len());
        for (word, value) in entries {
            let text = match &value.value {
                Value::Str(s) | Value::Number(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                other => {
                    let message = format!(
                        "`{}` must stand for a value, not {}",
                        word.value,
                        other.kind()
                    );
                    self.error(value.span, message, "expected a value", None);
                    continue;
                }
            };
            out.push((self.written(word), text));
        }
        Some(out)
    }
}

fn describe(info: &crate::vocabulary::FactInfo) -> String {
    match info.ty {
        Type::Quantity(dim) => dim.describe(),
        _ => "not a quantity".into(),
    }
}

/// A guess at a header's field: the field, the unit of its plain numbers,
/// and words to values, from the words of the header.
struct Guess {
    field: &'static str,
    unit: Option<&'static str>,
    values: &'static str,
}

/// The field a site's header most likely is, by its words: `Patient
/// Weight (lb)` is `patient.weight` in `[lb_av]`, `Days Supply` a duration
/// in days, `Sig` a frequency.
fn guess(header: &str) -> Option<Guess> {
    let lower = header.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| !c.is_ascii_alphanumeric() && c != '#')
        .filter(|w| !w.is_empty())
        .collect();
    let has = |w: &str| words.contains(&w);
    let unit = |pairs: &[(&str, &'static str)]| pairs.iter().find(|(w, _)| has(w)).map(|(_, u)| *u);
    let g = |field, unit, values| {
        Some(Guess {
            field,
            unit,
            values,
        })
    };
    if has("weight") || has("wt") {
        return g(
            "patient.weight",
            unit(&[("lb", "[lb_av]"), ("lbs", "[lb_av]"), ("kg", "kg")]),
            "",
        );
    }
    if has("sex") || has("gender") {
        return g("patient.sex", None, "{M: male, F: female, U: unknown}");
    }
    if has("age") {
        return g(
            "patient.age",
            unit(&[("years", "years"), ("yrs", "years"), ("days", "days")]).or(Some("years")),
            "",
        );
    }
    if has("egfr") {
        return g("patient.egfr", Some("mL/min/1.73m2"), "");
    }
    if has("height") || has("ht") {
        return g(
            "patient.height",
            unit(&[("cm", "cm"), ("in", "[in_i]")]),
            "",
        );
    }
    if has("pregnant") || has("pregnancy") && !has("test") {
        return g("patient.pregnant", None, "{Y: true, N: false}");
    }
    if has("sig") || has("frequency") || has("freq") || has("directions") {
        return g(
            "phase.times_per_day",
            None,
            "{QD: 1/day, DAILY: 1/day, BID: 2/day, TID: 3/day, QID: 4/day, QW: 1/week}",
        );
    }
    if has("supply") || has("duration") {
        return g(
            "phase.duration",
            unit(&[("weeks", "weeks"), ("wk", "weeks")]).or(Some("days")),
            "",
        );
    }
    if has("dose") {
        let per_day = has("daily") || has("day");
        let field = if per_day {
            "phase.daily_dose"
        } else {
            "phase.dose"
        };
        return g(field, unit(&[("mg", "mg"), ("g", "g"), ("mcg", "ug")]), "");
    }
    if has("drug") || has("medication") || has("medicine") || has("product") && has("name") {
        return g("drug", None, "");
    }
    if has("route") {
        return g(
            "regimen.route",
            None,
            "{PO: oral, SC: subcutaneous, IV: intravenous, IM: intramuscular}",
        );
    }
    if has("indication") || has("diagnosis") {
        return g("regimen.indication", None, "");
    }
    if (has("rx") || has("prescription") || has("order"))
        && (has("number") || has("no") || has("id") || has("#"))
        || lower.trim() == "rx"
    {
        return g("id", None, "");
    }
    None
}

/// A header written as a YAML key: plain when it reads back as itself.
fn yaml_key(header: &str) -> String {
    let plain = header
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic())
        && header.trim() == header
        && header
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || " _()./-".contains(c))
        && !["true", "false", "yes", "no", "null", "on", "off", "y", "n"]
            .contains(&header.to_lowercase().as_str());
    if plain {
        header.to_owned()
    } else {
        format!("\"{}\"", header.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// A starter map for an export whose header is `cells`: rxlint's own
/// columns as they are, a guess for each header whose words say what it
/// is, and `TODO` for the rest, which loading the map refuses until each
/// is given a field or `ignore`.
pub fn starter(name: &str, cells: &[String], vocabulary: &Vocabulary) -> String {
    let mut out = format!(
        "# Column map for {name}, written by `rxlint columns init`.\n\
         # Check every guess against the export; give each TODO a field\n\
         # (`rxlint rules facts` lists them) or `ignore`. Then:\n\
         #   rxlint check --columns THIS_FILE {name}\n\
         columns:\n"
    );
    let mut empty = 0;
    let mut seen: Vec<String> = Vec::new();
    for cell in cells {
        let header = cell.trim().trim_start_matches('\u{feff}').trim();
        let k = key(header);
        if k.is_empty() {
            empty += 1;
            continue;
        }
        if seen.contains(&k) {
            continue;
        }
        seen.push(k.clone());
        let key_text = yaml_key(header);
        if super::column(&k, vocabulary).is_some() {
            out.push_str(&format!("  {key_text}: {k}  # rxlint's own column\n"));
            continue;
        }
        match guess(header)
            .filter(|g| SPECIAL.contains(&g.field) || vocabulary.fact(g.field).is_some())
        {
            Some(g) => {
                let mut parts = vec![format!("field: {}", g.field)];
                if let Some(unit) = g.unit {
                    parts.push(format!("unit: \"{unit}\""));
                }
                if !g.values.is_empty() {
                    parts.push(format!("values: {}", g.values));
                }
                let entry = if parts.len() == 1 {
                    g.field.to_owned()
                } else {
                    format!("{{{}}}", parts.join(", "))
                };
                let fact = vocabulary
                    .fact(g.field)
                    .filter(|f| *f != Fact::TIMES_PER_DAY);
                let note = match (g.unit, fact.map(|f| &vocabulary.info(f).ty)) {
                    (None, Some(Type::Quantity(_))) => {
                        "  # guessed; cells must carry their unit (`70 kg`), or give `unit`"
                    }
                    _ => "  # guessed",
                };
                out.push_str(&format!("  {key_text}: {entry}{note}\n"));
            }
            None => {
                let hint = suggest::closest(&k, super::columns(vocabulary))
                    .map_or_else(String::new, |c| format!(" (`{c}`?)"));
                out.push_str(&format!("  {key_text}: TODO  # a field{hint}, or ignore\n"));
            }
        }
    }
    if empty > 0 {
        out.push_str(&format!(
            "# {empty} column(s) with an empty header are ignored.\n"
        ));
    }
    out
}
