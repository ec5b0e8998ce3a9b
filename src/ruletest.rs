//! `rxlint rules test`: the examples in rule files, and automatic checks
//! that every numeric bound decides its rule exactly where it says.
//!
//! Takes a loaded [`RuleSet`] and gives a [`Report`]. This stage sits above
//! the evaluator: it runs each example regimen through an [`Engine`], and
//! [`bounds`] finds a rule's bounds, which `probe` then moves across.

pub mod bounds;
mod probe;

use std::collections::BTreeMap;

use crate::codes::InputCode;
use crate::codes::RuleCode;
use crate::diagnostic::{Diagnostic, Level};
use crate::eval::Engine;
use crate::regimen::Regimen;
use crate::regimen::document;
use crate::rules::{Example, Pack, Rule, RuleSet};
use crate::source::Span;
use crate::tree::{Node, Value};
use crate::vocabulary::Vocabulary;
use probe::{Probe, Start, probe};

/// What `rules test` found.
#[derive(Debug, Default)]
pub struct Report {
    /// Checks that passed: examples (once per profile) and bound probes.
    pub passed: usize,
    /// One diagnostic per failure.
    pub failures: Vec<Diagnostic>,
    /// What became of the rules' bounds.
    pub bounds: BoundCounts,
    /// One line per bound: its probes and the verdicts, or why it was not
    /// probed.
    pub lines: Vec<String>,
}

/// The bounds of every rule, counted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct BoundCounts {
    /// Bounds probed (at, just below and just above).
    pub probed: usize,
    /// Probe checks run on them (three each).
    pub checks: usize,
    /// Bounds that could not be probed.
    pub not_probed: usize,
    /// Of those, the ones the rule declares (`unprobed:`).
    pub declared: usize,
}

impl Report {
    /// The summary line of the bounds.
    pub fn bounds_summary(&self) -> String {
        let b = self.bounds;
        format!(
            "bounds: {} probed ({} checks), {} not probed ({} declared)",
            b.probed, b.checks, b.not_probed, b.declared
        )
    }
}

/// `overlay` over `base`: mappings merge by key, lists element by element
/// (an overlay element beyond the base's merges over the base's first),
/// anything else is replaced.
pub fn merge(base: &Node, overlay: &Node) -> Node {
    match (&base.value, &overlay.value) {
        (Value::Map(b), Value::Map(o)) => {
            let mut entries = b.clone();
            for (key, value) in o {
                match entries.iter_mut().find(|(k, _)| k.value == key.value) {
                    Some((k, v)) => {
                        *v = merge(v, value);
                        k.span = key.span;
                    }
                    None => entries.push((key.clone(), value.clone())),
                }
            }
            Node {
                value: Value::Map(entries),
                span: overlay.span,
            }
        }
        (Value::Seq(b), Value::Seq(o)) => {
            let items = o
                .iter()
                .enumerate()
                .map(|(i, item)| match b.get(i).or(b.first()) {
                    Some(base_item) => merge(base_item, item),
                    None => item.clone(),
                })
                .collect();
            Node {
                value: Value::Seq(items),
                span: overlay.span,
            }
        }
        _ => overlay.clone(),
    }
}

fn empty() -> Node {
    Node {
        value: Value::Map(Vec::new()),
        span: Span::default(),
    }
}

fn regimen(pack: &Pack, node: &Node, name: &str, vocabulary: &Vocabulary) -> Regimen {
    let merged = match &pack.base {
        Some(base) => merge(base, node),
        None => node.clone(),
    };
    let input = format!(
        "{}:{}",
        pack.file.name(),
        pack.file.line_col(node.span.start()).0
    );
    let mut all = document::read_one(merged, &pack.file, name.to_owned(), input, vocabulary);
    all.pop().unwrap_or_else(|| {
        crate::input::unreadable(
            vocabulary,
            &pack.file,
            name.to_owned(),
            InputCode::NotARegimen,
            "no regimen".into(),
            None,
        )
    })
}

/// The profiles an example runs under.
fn profiles_of(example: &Example, pack: &Pack, set: &RuleSet) -> Vec<String> {
    match &example.profile {
        Some(p) => vec![p.clone()],
        None if !pack.profiles.is_empty() => pack.profiles.clone(),
        None => {
            let all = set.profiles();
            if all.is_empty() {
                vec!["default".into()]
            } else {
                all
            }
        }
    }
}

/// Runs every example and every bound check.
pub fn run(set: &RuleSet) -> Report {
    let mut report = Report::default();
    let mut engines: BTreeMap<String, Engine<'_>> = BTreeMap::new();
    for profile in set
        .profiles()
        .into_iter()
        .chain(std::iter::once("default".to_owned()))
    {
        if let Ok(engine) = Engine::new(set, &profile, false) {
            engines.insert(profile, engine);
        }
    }
    for pack in &set.packs {
        for example in &pack.examples {
            for profile in profiles_of(example, pack, set) {
                let Some(engine) = engines.get(&profile) else {
                    report.failures.push(
                        Diagnostic::new(
                            RuleCode::TestProfile.as_str(),
                            Level::Error,
                            format!(
                                "example \"{}\" names unknown profile `{profile}`",
                                example.name.value
                            ),
                        )
                        .at(&pack.file, example.name.span, "here"),
                    );
                    continue;
                };
                check_example(pack, example, engine, &profile, &mut report);
            }
        }
    }
    for pack in &set.packs {
        for rule in &pack.rules {
            check_bounds(set, rule, &engines, &mut report);
        }
    }
    report
}

/// (rule, severity, kind, phase) of a finding, for comparison and messages.
type Seen = (String, String, String, Option<usize>);

fn check_example(
    pack: &Pack,
    example: &Example,
    engine: &Engine<'_>,
    profile: &str,
    report: &mut Report,
) {
    let outcome = engine.evaluate(regimen(
        pack,
        &example.regimen,
        &example.name.value,
        engine.vocabulary(),
    ));
    let mut seen: Vec<Seen> = outcome
        .problems
        .iter()
        .map(|p| {
            (
                p.code.as_str().to_owned(),
                "error".to_owned(),
                "violation".to_owned(),
                None,
            )
        })
        .chain(outcome.findings.iter().map(|f| {
            (
                f.rule.id.clone(),
                f.severity.as_str().to_owned(),
                f.kind.as_str().to_owned(),
                f.phase,
            )
        }))
        .collect();
    let mut missing = Vec::new();
    for want in &example.expect {
        let found = seen.iter().position(|(rule, severity, kind, phase)| {
            *rule == want.rule
                && want.severity.as_ref().is_none_or(|s| s == severity)
                && want.kind.as_ref().is_none_or(|k| k == kind)
                && (want.phase.is_none() || want.phase == *phase)
        });
        match found {
            Some(i) => {
                seen.remove(i);
            }
            None => missing.push(want.rule.clone()),
        }
    }
    if missing.is_empty() && seen.is_empty() {
        report.passed += 1;
        return;
    }
    let show = |s: &Seen| match s.3 {
        Some(p) => format!("{} ({} {}, phase {p})", s.0, s.1, s.2),
        None => format!("{} ({} {})", s.0, s.1, s.2),
    };
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("expected but not found: {}", missing.join(", ")));
    }
    if !seen.is_empty() {
        parts.push(format!(
            "found but not expected: {}",
            seen.iter().map(show).collect::<Vec<_>>().join(", ")
        ));
    }
    let messages: Vec<String> = outcome
        .problems
        .iter()
        .map(|p| p.message.clone())
        .chain(outcome.findings.iter().map(|f| f.message(&outcome.regimen)))
        .collect();
    let mut d = Diagnostic::new(
        RuleCode::TestFailed.as_str(),
        Level::Error,
        format!(
            "example \"{}\" ({profile}): {}",
            example.name.value,
            parts.join("; ")
        ),
    )
    .at(&pack.file, example.expect_span, "expected findings");
    if !messages.is_empty() {
        d.help = Some(format!("rxlint said: {}", messages.join(" | ")));
    }
    report.failures.push(d);
}

/// Probes every bound of a rule from every regimen of its drug's packs (the
/// rule's own pack first): each is confirmed (3 checks), refuted (a
/// failure at the bound), or not probed, which fails unless the rule
/// declares why (`unprobed:`). A declaration that excuses no unprobed bound
/// is reported too, so that declarations do not outlive their reason.
fn check_bounds(
    set: &RuleSet,
    rule: &Rule,
    engines: &BTreeMap<String, Engine<'_>>,
    report: &mut Report,
) {
    let Some(formula) = bounds::formula(rule, &set.vocabulary) else {
        report.failures.push(
            Diagnostic::new(
                RuleCode::TestBound.as_str(),
                Level::Error,
                format!(
                    "rule `{}`: its conditions could not be read for bounds",
                    rule.id
                ),
            )
            .at(&rule.file, rule.span, "this rule"),
        );
        return;
    };
    let profile = rule
        .profiles
        .first()
        .cloned()
        .unwrap_or_else(|| "default".into());
    let Some(engine) = engines.get(&profile).or_else(|| engines.values().next()) else {
        return;
    };
    let own = set
        .packs
        .iter()
        .filter(|p| p.rules.iter().any(|r| std::ptr::eq(r, rule)));
    let others = set
        .packs
        .iter()
        .filter(|p| p.drug == rule.drug && !p.rules.iter().any(|r| std::ptr::eq(r, rule)));
    let starts: Vec<Start<'_>> = own
        .chain(others)
        .flat_map(|p| {
            std::iter::once(empty())
                .chain(p.examples.iter().map(|e| e.regimen.clone()))
                .map(move |node| Start {
                    pack: p,
                    node: match &p.base {
                        Some(base) => merge(base, &node),
                        None => node,
                    },
                })
        })
        .collect();
    let mut excused = vec![false; rule.unprobed.len()];
    for bound in &formula.bounds {
        let declared = rule
            .unprobed
            .iter()
            .position(|u| bound.named_by(&u.bound.value, &set.vocabulary));
        match probe(rule, &formula, bound, engine, &starts) {
            Probe::Confirmed(values) => {
                report.bounds.probed += 1;
                report.bounds.checks += 3;
                report.passed += 3;
                let shown: Vec<String> = values
                    .iter()
                    .map(|(v, fires)| {
                        format!(
                            "{} {}",
                            bound.show(*v),
                            if *fires { "fires" } else { "quiet" }
                        )
                    })
                    .collect();
                report.lines.push(format!(
                    "probed {} {}: {}",
                    rule.id,
                    bound.shown(),
                    shown.join(", ")
                ));
            }
            Probe::Refuted(values, got) => {
                report.bounds.probed += 1;
                report.bounds.checks += 3;
                let pattern = |p: &mut dyn Iterator<Item = bool>| {
                    p.map(|b| if b { "fires" } else { "quiet" })
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let detail = format!(
                    "at {} it should be {} but is {}",
                    values
                        .iter()
                        .map(|(v, _)| bound.show(*v))
                        .collect::<Vec<_>>()
                        .join(" / "),
                    pattern(&mut values.iter().map(|(_, w)| *w)),
                    pattern(&mut got.iter().copied())
                );
                let passed = values
                    .iter()
                    .zip(got)
                    .filter(|((_, w), g)| *w == *g)
                    .count();
                report.passed += passed;
                report.failures.push(
                    Diagnostic::new(
                        RuleCode::TestBound.as_str(),
                        Level::Error,
                        format!(
                            "rule `{}`: the bound {} does not decide the rule where it says: {detail}",
                            rule.id,
                            bound.shown()
                        ),
                    )
                    .at(&rule.file, bound.span, "this bound"),
                );
            }
            Probe::NotProbed(why) => {
                report.bounds.not_probed += 1;
                match declared {
                    Some(i) => {
                        report.bounds.declared += 1;
                        excused[i] = true;
                        report.lines.push(format!(
                            "not probed {} {}: {} (declared: {})",
                            rule.id,
                            bound.shown(),
                            why,
                            rule.unprobed[i].reason
                        ));
                    }
                    None => report.failures.push(
                        Diagnostic::new(
                            RuleCode::TestUnprobed.as_str(),
                            Level::Error,
                            format!("rule `{}`: the bound {} was not probed: {why}", rule.id, bound.shown()),
                        )
                        .at(&rule.file, bound.span, "not probed")
                        .help(format!(
                            "add an example that lets it decide the rule, or declare why it cannot be probed: `unprobed: {{\"{}\": <reason>}}`",
                            bound.text
                        )),
                    ),
                }
            }
        }
    }
    for (declared, excused) in rule.unprobed.iter().zip(excused) {
        if !excused {
            report.failures.push(
                Diagnostic::new(
                    RuleCode::TestStaleUnprobed.as_str(),
                    Level::Error,
                    format!(
                        "rule `{}` declares `{}` cannot be probed, but every bound it names was probed",
                        rule.id, declared.bound.value
                    ),
                )
                .at(&rule.file, declared.bound.span, "probed after all")
                .help("remove the declaration"),
            );
        }
    }
}
