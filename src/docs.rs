//! Markdown generated from the code itself, so that the README's tables and
//! `rxlint rules explain` can never disagree with what the engine does.

use std::fmt::Write as _;

use crate::facts::{FACTS, Level, Type};
use crate::rules::RuleSet;

/// The facts rules can name, as a Markdown table.
pub fn facts_table() -> String {
    let mut out = String::from("| fact | type | unit shown | meaning |\n|---|---|---|---|\n");
    for f in FACTS {
        let ty = match f.ty {
            Type::Quantity(dim) if dim.is_none() => "number".to_owned(),
            Type::Quantity(dim) => format!("quantity ({})", dim.canonical_unit()),
            Type::Bool => "true/false".to_owned(),
            Type::Enum(domain) => format!("enum: {}", domain.values.join(", ")),
            Type::Date => "date".to_owned(),
        };
        let level = if f.level == Level::Phase {
            " (per phase)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "| `{}` | {ty}{level} | {} | {} |",
            f.path,
            f.unit.unwrap_or(""),
            f.doc
        );
    }
    out
}

/// The rules of every profile, as a Markdown table.
pub fn rules_table(set: &RuleSet) -> String {
    let mut out = String::from(
        "| rule | severity | profiles | scope | checks | source |\n|---|---|---|---|---|---|\n",
    );
    for rule in set.rules() {
        let profiles = if rule.profiles.is_empty() {
            "all".to_owned()
        } else {
            rule.profiles.join(", ")
        };
        let scope = if rule.scope == Level::Phase {
            "phase"
        } else {
            "course"
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {profiles} | {scope} | {} | {} |",
            rule.id,
            rule.severity.as_str(),
            rule.title,
            rule.citation.short()
        );
    }
    out
}

/// The unit spellings rxlint knows without the UCUM registry.
pub fn units_list() -> String {
    crate::units::known_spellings()
        .map(|u| format!("`{u}`"))
        .collect::<Vec<_>>()
        .join(", ")
}
