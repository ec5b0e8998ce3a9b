//! Markdown generated from the code itself, so that the README's tables and
//! `rxlint rules explain` can never disagree with what the engine does.

use std::fmt::Write as _;

use crate::facts::{Scope, Type};
use crate::rules::{Pack, RuleSet};
use crate::vocabulary::{Coding, FactInfo, Vocabulary};

/// The facts rules can name, as a Markdown table, from the vocabulary.
pub fn facts_table(vocabulary: &Vocabulary) -> String {
    let mut out = String::from(
        "| fact | type | unit shown | CSV column | FHIR R4 | meaning |\n|---|---|---|---|---|---|\n",
    );
    for f in vocabulary.facts() {
        let ty = match f.ty {
            Type::Quantity(dim) if dim.is_none() => "number".to_owned(),
            Type::Quantity(dim) => format!("quantity ({})", dim.unit_name()),
            Type::Bool => "true/false".to_owned(),
            Type::Enum(_) => format!("enum: {}", f.values.join(", ")),
            Type::Date => "date".to_owned(),
        };
        let level = if f.scope == Scope::Phase {
            " (per phase)"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "| `{}` | {ty}{level} | {} | {} | {} | {} |",
            f.path,
            f.unit.as_deref().unwrap_or(""),
            f.csv
                .iter()
                .map(|c| format!("`{}`", c.name))
                .collect::<Vec<_>>()
                .join(", "),
            fhir_cell(f, vocabulary),
            // A `|` in a cell would end it.
            f.doc.replace('|', "\\|")
        );
    }
    out
}

/// The FHIR R4 codes a fact is read from: its Observations' LOINC codes,
/// the codes of their coded values, and a dosage's instruction codes.
fn fhir_cell(f: &FactInfo, vocabulary: &Vocabulary) -> String {
    let mut parts = Vec::new();
    if !f.fhir.loinc.is_empty() {
        parts.push(format!("Observation LOINC {}", f.fhir.loinc.join(", ")));
    }
    for (what, coded) in [
        ("value", &f.fhir.values),
        ("`additionalInstruction`", &f.fhir.instruction),
    ] {
        for (value, codes) in coded {
            let codes: Vec<String> = codes.iter().map(coding).collect();
            parts.push(format!(
                "{what} {} -> {}",
                codes.join(", "),
                vocabulary.show(f.fact, *value)
            ));
        }
    }
    parts.join("; ")
}

/// `SNOMED CT 77386006`, or the system's URI when it is not a known one.
fn coding(c: &Coding) -> String {
    let system = match c.system.as_str() {
        "http://snomed.info/sct" => "SNOMED CT",
        "http://loinc.org" => "LOINC",
        "http://www.nlm.nih.gov/research/umls/rxnorm" => "RxNorm",
        other => other,
    };
    format!("{system} {}", c.code)
}

/// Every pack, with its drug, profiles, products and what it covers, as a
/// Markdown table.
pub fn packs_table(set: &RuleSet) -> String {
    let mut out =
        String::from("| pack | drug | profiles | products | covers |\n|---|---|---|---|---|\n");
    for pack in &set.packs {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} | {} |",
            pack.name,
            pack.drug,
            pack_profiles(pack),
            pack_products(pack, &set.vocabulary),
            pack_covers(pack),
        );
    }
    out
}

/// A pack's profiles in words: `us, eu`, or `all`.
pub fn pack_profiles(pack: &Pack) -> String {
    if pack.profiles.is_empty() {
        "all".to_owned()
    } else {
        pack.profiles.join(", ")
    }
}

/// A pack's products and what each fixes: `glucophage xr
/// (regimen.formulation = extended_release)`; for a product pack, what it
/// extends.
pub fn pack_products(pack: &Pack, vocabulary: &Vocabulary) -> String {
    let mut names: Vec<String> = pack
        .products
        .iter()
        .map(|p| {
            let fixes: Vec<String> = p
                .fixes
                .iter()
                .map(|(f, v)| format!("{} = {}", vocabulary.info(*f).path, vocabulary.show(*f, *v)))
                .collect();
            if fixes.is_empty() {
                p.written.clone()
            } else {
                format!("{} ({})", p.written, fixes.join(", "))
            }
        })
        .collect();
    if let Some(base) = &pack.extends {
        names.push(format!("extends {base}"));
    }
    if names.is_empty() {
        "-".to_owned()
    } else {
        names.join("; ")
    }
}

/// What a pack covers, in words.
pub fn pack_covers(pack: &Pack) -> String {
    pack.coverage
        .declared
        .clone()
        .unwrap_or_else(|| format!("every {} regimen", pack.drug))
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
        let scope = if rule.scope == Scope::Phase {
            "phase"
        } else {
            "course"
        };
        // A citation for one profile follows the rule's own: "...; eu: ...".
        let mut source = rule.citation.short.clone();
        for (profile, c) in &rule.citation_for {
            let _ = write!(source, "; {profile}: {}", c.short);
        }
        let _ = writeln!(
            out,
            "| `{}` | {} | {profiles} | {scope} | {} | {source} |",
            rule.id,
            rule.severity.as_str(),
            rule.title,
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

/// One Markdown page per rule, and an index, written from the rule files
/// themselves (`rxlint rules doc --out DIR`). Returns (file name, text).
pub fn rule_pages(set: &RuleSet) -> Vec<(String, String)> {
    let mut pages = Vec::new();
    let mut index = String::from(
        "# rxlint rules\n\n| rule | severity | profiles | checks |\n|---|---|---|---|\n",
    );
    for pack in &set.packs {
        for rule in &pack.rules {
            let profiles = if rule.profiles.is_empty() {
                "all".to_owned()
            } else {
                rule.profiles.join(", ")
            };
            let file = page_name(rule);
            let _ = writeln!(
                index,
                "| [`{}`]({file}) | {} | {profiles} | {} |",
                rule.id,
                rule.severity.as_str(),
                rule.title
            );
            pages.push((file, rule_page(pack, rule, &profiles, &set.vocabulary)));
        }
    }
    pages.push(("index.md".to_owned(), index));
    pages
}

/// The file name of a rule's page: its id and profiles (one id may have a
/// rule per profile).
pub fn page_name(rule: &crate::rules::Rule) -> String {
    let profiles = if rule.profiles.is_empty() {
        "all".to_owned()
    } else {
        rule.profiles.join("-")
    };
    format!("{}.{profiles}.md", rule.id)
}

/// A node as one line of YAML flow style.
fn flow(node: &crate::tree::Node) -> String {
    use crate::tree::Value;
    match &node.value {
        Value::Null => "~".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) | Value::NonFinite(n) => n.clone(),
        Value::Str(s) => s.clone(),
        Value::Seq(items) => format!(
            "[{}]",
            items.iter().map(flow).collect::<Vec<_>>().join(", ")
        ),
        Value::Map(entries) => {
            format!(
                "{{{}}}",
                entries
                    .iter()
                    .map(|(k, v)| format!("{}: {}", k.value, flow(v)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn rule_page(
    pack: &crate::rules::Pack,
    rule: &crate::rules::Rule,
    profiles: &str,
    vocabulary: &Vocabulary,
) -> String {
    let scope = if rule.scope == Scope::Phase {
        "each phase"
    } else {
        "the whole course"
    };
    let mut page = format!("# `{}`\n\n{}\n\n", rule.id, rule.title);
    let _ = writeln!(
        page,
        "Severity **{}**, profiles {profiles}, checked on {scope}; from `{}`.\n",
        rule.severity.as_str(),
        rule.file.name()
    );
    page.push_str("## What it checks\n\n");
    if let Some(w) = &rule.when {
        let _ = writeln!(page, "- Applies when: `{}`", one_line(&w.text));
    }
    let _ = writeln!(page, "- Fires when: `{}`", one_line(&rule.violation.text));
    if let Some(u) = &rule.unless {
        let _ = writeln!(page, "- Unless: `{}`", one_line(&u.text));
    }
    let facts: Vec<&str> = vocabulary
        .ordered(rule.facts)
        .map(|f| vocabulary.info(f).path.as_str())
        .collect();
    let _ = writeln!(
        page,
        "- Reads: {}; when one of these is missing and the answer depends on it, the finding is `unevaluated`, never a pass.\n",
        facts
            .iter()
            .map(|f| format!("`{f}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    page.push_str("## Why it matters\n\n");
    let _ = writeln!(page, "{}\n", rule.help);
    let fails = pack
        .examples
        .iter()
        .find(|e| e.expect.iter().any(|x| x.rule == rule.id));
    let passes = pack.examples.iter().find(|e| e.expect.is_empty());
    if fails.is_some() || passes.is_some() {
        page.push_str("## Examples\n\nEach is written over the pack's `base` regimen.\n\n");
    }
    for (label, example) in [("Fails", fails), ("Passes", passes)] {
        if let Some(e) = example {
            let _ = writeln!(
                page,
                "{label}: {}\n\n```yaml\n{}\n```\n",
                e.name.value,
                flow(&e.regimen)
            );
        }
    }
    page.push_str("## Source\n\n");
    let sources = std::iter::once((None, &rule.citation))
        .chain(rule.citation_for.iter().map(|(p, c)| (Some(p), c)));
    for (profile, c) in sources {
        if let Some(profile) = profile {
            let _ = write!(page, "Under the `{profile}` profile, ");
        }
        let _ = writeln!(page, "{}:\n\n> {}\n", c.short, c.quote);
        if let Some(location) = &c.location {
            let _ = writeln!(page, "Document: `{location}`\n");
        }
    }
    page
}

/// A condition in plain words, for `rules explain`: comparisons read as
/// "is above", ranges as "is between ... and ... (inclusive)", defaults as
/// "when not recorded, ...". Falls back to the expression text.
pub fn in_words(text: &str) -> String {
    match crate::syntax::parse_expression(text) {
        Ok(expr) => words(&expr),
        Err(_) => one_line(text),
    }
}

fn words(expr: &crate::syntax::Expr) -> String {
    use crate::syntax::{Cmp, ExprKind, UnOp};
    match &expr.kind {
        ExprKind::Quantity { value, unit } => match unit {
            Some(u) => format!("{value} {}", u.value),
            None => value.to_string(),
        },
        ExprKind::Date(d) => d.clone(),
        ExprKind::Bool(b) => {
            if *b {
                "yes".into()
            } else {
                "no".into()
            }
        }
        ExprKind::Name(n) => n.replace('_', " "),
        ExprKind::Path(p) => fact_words(p),
        ExprKind::Call { name, args } if name.value == "present" => {
            format!(
                "{} is recorded",
                args.first().map(words).unwrap_or_default()
            )
        }
        ExprKind::Call { name, args } if name.value == "previous" => {
            format!(
                "{} in the previous phase",
                args.first().map(words).unwrap_or_default()
            )
        }
        ExprKind::Call { name, args } if matches!(name.value.as_str(), "min" | "max") => {
            let which = if name.value == "min" {
                "smaller"
            } else {
                "larger"
            };
            format!(
                "the {which} of {}",
                args.iter().map(words).collect::<Vec<_>>().join(" and ")
            )
        }
        ExprKind::Call { name, args } => format!(
            "{}({})",
            name.value,
            args.iter().map(words).collect::<Vec<_>>().join(", ")
        ),
        ExprKind::Unary(UnOp::Not, inner) => format!("not ({})", words(inner)),
        ExprKind::Unary(UnOp::Neg, inner) => format!("-{}", words(inner)),
        ExprKind::InRange(x, lo, hi) => format!(
            "{} is between {} and {} (inclusive)",
            words(x),
            words(lo),
            words(hi)
        ),
        ExprKind::Default(a, b) => {
            format!("{} (taken as {} when not recorded)", words(a), words(b))
        }
        ExprKind::Logic(op, a, b) => {
            let wrap = |e: &crate::syntax::Expr| match &e.kind {
                ExprKind::Logic(..) => format!("({})", words(e)),
                _ => words(e),
            };
            format!("{} {} {}", wrap(a), op.symbol(), wrap(b))
        }
        ExprKind::Cmp(op, a, b) => {
            let verb = match op {
                Cmp::Gt => "is above",
                Cmp::Ge => "is at least",
                Cmp::Lt => "is below",
                Cmp::Le => "is at most",
                Cmp::Eq => "is",
                Cmp::Ne => "is not",
            };
            format!("{} {verb} {}", words(a), words(b))
        }
        ExprKind::Arith(op, a, b) => format!("{} {} {}", words(a), op.symbol(), words(b)),
        ExprKind::If(c, a, b) => format!("({} if {}, else {})", words(a), words(c), words(b)),
    }
}

/// `phase.daily_dose_per_kg` as "the phase's daily dose per kg".
fn fact_words(path: &str) -> String {
    let (head, rest) = path.split_once('.').unwrap_or(("", path));
    let owner = match head {
        "phase" => "the phase's",
        "course" => "the course's",
        "regimen" => "the regimen's",
        "patient" => "the patient's",
        _ => return path.to_owned(),
    };
    let name = rest.rsplit('.').next().unwrap_or(rest).replace('_', " ");
    format!("{owner} {name}")
}
