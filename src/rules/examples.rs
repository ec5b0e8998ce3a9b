//! `rxlint rules test`: the examples in rule files, and automatic checks
//! that every numeric bound decides its rule exactly where it says.

use std::collections::BTreeMap;

use rust_decimal::Decimal;

use super::{Example, Pack, Rule, RuleSet};
use crate::check::Code;
use crate::diagnostic::{Diagnostic, Level as DiagLevel};
use crate::eval::{Engine, Kind};
use crate::facts::{Fact, Val};
use crate::regimen::Regimen;
use crate::regimen::document;
use crate::source::{Span, Spanned};
use crate::syntax::BinOp;
use crate::units::display_number;
use crate::yaml::{Node, Value};

/// What `rules test` found.
#[derive(Debug, Default)]
pub struct Report {
    /// Checks that passed.
    pub passed: usize,
    /// One diagnostic per failed check.
    pub failures: Vec<Diagnostic>,
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

fn regimen(pack: &Pack, node: &Node, name: &str) -> Regimen {
    let merged = match &pack.base {
        Some(base) => merge(base, node),
        None => node.clone(),
    };
    let input = format!(
        "{}:{}",
        pack.file.name(),
        pack.file.line_col(node.span.start()).0
    );
    let mut all = document::read_one(merged, &pack.file, name.to_owned(), input);
    all.pop().unwrap_or_else(|| {
        crate::batch::unreadable(
            &pack.file,
            name.to_owned(),
            "input.not-a-regimen",
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
                            "rules.test-profile",
                            DiagLevel::Error,
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
    let outcome = engine.evaluate(regimen(pack, &example.regimen, &example.name.value));
    let mut seen: Vec<Seen> = outcome
        .problems
        .iter()
        .map(|p| {
            (
                p.code.to_owned(),
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
        "rules.test-failed",
        DiagLevel::Error,
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

/// One numeric bound of a rule: `fact <op> value`, and whether the rule
/// fires when the comparison holds.
struct Bound {
    fact: Fact,
    op: BinOp,
    value: Decimal,
    fires_when_true: bool,
}

/// Collects the bounds of a condition; `polarity` is whether the rule
/// fires when the condition holds.
fn bounds(code: &Code, polarity: bool, out: &mut Vec<Bound>) {
    match code {
        Code::NumCmp {
            op, fact, value, ..
        } if matches!(op, BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge) => {
            out.push(Bound {
                fact: *fact,
                op: *op,
                value: value.exact,
                fires_when_true: polarity,
            });
        }
        Code::FactInRange(fact, Val::Num(lo), Val::Num(hi)) => {
            out.push(Bound {
                fact: *fact,
                op: BinOp::Ge,
                value: *lo,
                fires_when_true: polarity,
            });
            out.push(Bound {
                fact: *fact,
                op: BinOp::Le,
                value: *hi,
                fires_when_true: polarity,
            });
        }
        Code::Not(a) => bounds(a, !polarity, out),
        Code::And(a, b) | Code::Or(a, b) | Code::Default(a, b) => {
            bounds(a, polarity, out);
            bounds(b, polarity, out);
        }
        _ => {}
    }
}

/// The smallest step that is "just inside" or "just outside" a bound on
/// `fact`, in canonical units: a day for day counts, a thousandth of the
/// display unit otherwise.
fn step(fact: Fact) -> Decimal {
    match fact {
        Fact::GapSincePreviousCourse | Fact::TotalDuration => Decimal::ONE,
        Fact::TimesPerDay => Decimal::ONE,
        Fact::Egfr => Decimal::new(1440, 3),
        Fact::Age => Decimal::new(36525, 5),
        _ => Decimal::new(1, 3),
    }
}

fn text(s: String, span: Span) -> Node {
    Node {
        value: Value::Str(s),
        span,
    }
}

fn set(node: &mut Node, key: &str, value: Node) {
    if let Value::Map(entries) = &mut node.value {
        match entries.iter_mut().find(|(k, _)| k.value == key) {
            Some((_, v)) => *v = value,
            None => entries.push((Spanned::new(key.to_owned(), value.span), value)),
        }
    }
}

/// The mapping under `key`, made (or made a mapping) if it is not one.
fn child<'a>(node: &'a mut Node, key: &str) -> Option<&'a mut Node> {
    if !matches!(node.value, Value::Map(_)) {
        *node = empty();
    }
    if !matches!(node.get(key).map(|c| &c.value), Some(Value::Map(_))) {
        set(node, key, empty());
    }
    let Value::Map(entries) = &mut node.value else {
        return None;
    };
    entries
        .iter_mut()
        .find(|(k, _)| k.value == key)
        .map(|(_, v)| v)
}

/// Rewrites each phase of a regimen node in place with `edit(index, phase)`.
fn each_phase(n: &mut Node, edit: impl Fn(usize, &mut Node)) -> Option<()> {
    let course = child(n, "course")?;
    let Some(Node {
        value: Value::Seq(items),
        span,
    }) = course.get("phases").cloned()
    else {
        return Some(());
    };
    let mut phases = items;
    for (i, phase) in phases.iter_mut().enumerate() {
        edit(i, phase);
    }
    set(
        course,
        "phases",
        Node {
            value: Value::Seq(phases),
            span,
        },
    );
    Some(())
}

/// Drops a phase's dose fields, before another is set.
fn without_dose(phase: &mut Node) {
    if let Value::Map(entries) = &mut phase.value {
        entries.retain(|(k, _)| k.value != "dose" && k.value != "daily_dose");
    }
}

/// Sets the regimen `node` so that `fact` is exactly `value` (canonical
/// units); `None` for facts this check cannot set.
fn with_fact(node: &Node, fact: Fact, value: Decimal) -> Option<Node> {
    let mut n = node.clone();
    let at = node.span;
    let number = |d: Decimal| display_exact(d);
    let one_phase = |n: &mut Node, fields: Vec<(&str, String)>| {
        let Some(course) = child(n, "course") else {
            return;
        };
        let mut phase = course
            .get("phases")
            .and_then(|p| match &p.value {
                Value::Seq(items) => items.first().cloned(),
                _ => None,
            })
            .unwrap_or_else(empty);
        if let Value::Map(entries) = &mut phase.value {
            entries.retain(|(k, _)| {
                k.value != "dose"
                    && k.value != "daily_dose"
                    && !fields.iter().any(|(f, _)| *f == k.value)
            });
        }
        for (k, v) in fields {
            set(&mut phase, k, text(v, at));
        }
        set(
            course,
            "phases",
            Node {
                value: Value::Seq(vec![phase]),
                span: at,
            },
        );
    };
    match fact {
        Fact::DailyDosePerKg | Fact::MaxDailyDosePerKg => {
            if let Some(patient) = child(&mut n, "patient") {
                set(patient, "weight", text("100 kg".into(), at));
            }
            let daily = format!("{} mg", number(value * Decimal::from(100)));
            each_phase(&mut n, |_, p| {
                without_dose(p);
                set(p, "daily_dose", text(daily.clone(), at));
            })?;
        }
        Fact::CumulativeDosePerKg => {
            if let Some(patient) = child(&mut n, "patient") {
                set(patient, "weight", text("100 kg".into(), at));
            }
            one_phase(
                &mut n,
                vec![
                    ("daily_dose", "100 mg".into()),
                    ("duration", format!("{} days", number(value))),
                ],
            );
        }
        Fact::TotalDuration => {
            one_phase(
                &mut n,
                vec![
                    ("daily_dose", "70 mg".into()),
                    ("duration", format!("{} days", number(value))),
                ],
            );
        }
        Fact::StartDailyDose => {
            // Written per week, which states daily and weekly bounds alike
            // exactly (7.5 mg/wk is 1.0714... mg/day).
            let weekly = format!("{} mg/wk", number((value * Decimal::from(7)).round_dp(12)));
            each_phase(&mut n, |i, p| {
                if i == 0 {
                    without_dose(p);
                    set(p, "daily_dose", text(weekly.clone(), at));
                }
            })?;
        }
        Fact::GapSincePreviousCourse => {
            let days = i64::try_from(value.trunc().mantissa())
                .ok()
                .filter(|_| value.fract().is_zero())?;
            let start = crate::date::Date::parse("2026-03-02").ok()?;
            let previous = start.add_days(-days)?;
            let course = child(&mut n, "course")?;
            set(course, "start", text(start.to_string(), at));
            set(
                course,
                "previous_course_end",
                text(previous.to_string(), at),
            );
        }
        Fact::Egfr => {
            let patient = child(&mut n, "patient")?;
            if let Value::Map(entries) = &mut patient.value {
                entries.retain(|(k, _)| k.value != "renal_impairment");
            }
            set(
                patient,
                "egfr",
                text(
                    format!("{} mL/min/1.73m2", number(value / Decimal::from(1440))),
                    at,
                ),
            );
        }
        Fact::Age => set(
            child(&mut n, "patient")?,
            "age",
            text(format!("{} days", number(value)), at),
        ),
        Fact::Weight => set(
            child(&mut n, "patient")?,
            "weight",
            text(format!("{} kg", number(value)), at),
        ),
        Fact::TimesPerDay => {
            let frequency = format!("{}/day", number(value));
            each_phase(&mut n, |_, p| {
                set(p, "frequency", text(frequency.clone(), at))
            })?;
        }
        _ => return None,
    }
    Some(n)
}

/// A decimal as exact text (no rounding, unlike display).
fn display_exact(d: Decimal) -> String {
    d.normalize().to_string()
}

fn check_bounds(
    set: &RuleSet,
    rule: &Rule,
    engines: &BTreeMap<String, Engine<'_>>,
    report: &mut Report,
) {
    let mut found = Vec::new();
    if let Some(w) = &rule.when {
        bounds(&w.code, true, &mut found);
    }
    bounds(&rule.violation.code, true, &mut found);
    if let Some(u) = &rule.unless {
        bounds(&u.code, false, &mut found);
    }
    let profile = rule
        .profiles
        .first()
        .cloned()
        .unwrap_or_else(|| "default".into());
    let Some(engine) = engines.get(&profile).or_else(|| engines.values().next()) else {
        return;
    };
    let contexts: Vec<(&Pack, Node)> = set
        .packs
        .iter()
        .filter(|p| p.drug == rule.drug)
        .flat_map(|p| {
            std::iter::once((p, empty()))
                .chain(p.examples.iter().map(move |e| (p, e.regimen.clone())))
        })
        .collect();
    for bound in found {
        let step = step(bound.fact);
        let probes = [bound.value - step, bound.value, bound.value + step];
        let holds = |v: Decimal| match bound.op {
            BinOp::Lt => v < bound.value,
            BinOp::Le => v <= bound.value,
            BinOp::Gt => v > bound.value,
            _ => v >= bound.value,
        };
        let want: Vec<bool> = probes
            .iter()
            .map(|v| holds(*v) == bound.fires_when_true)
            .collect();
        let mut confirmed = false;
        let mut contradicted: Option<Vec<bool>> = None;
        for (pack, context) in &contexts {
            let merged = match &pack.base {
                Some(base) => merge(base, context),
                None => context.clone(),
            };
            let mut got = Vec::with_capacity(3);
            for v in probes {
                let Some(node) = with_fact(&merged, bound.fact, v) else {
                    break;
                };
                let mut regimens =
                    document::read_one(node, &pack.file, rule.id.clone(), rule.id.clone());
                let Some(r) = regimens.pop() else { break };
                let outcome = engine.evaluate(r);
                got.push(outcome.findings.iter().any(|f| {
                    f.rule.id == rule.id && f.kind == Kind::Violation && outcome.problems.is_empty()
                }));
            }
            if got.len() < 3 {
                break;
            }
            if got == want {
                confirmed = true;
                break;
            }
            if got.iter().any(|g| *g != got[0]) && contradicted.is_none() {
                contradicted = Some(got);
            }
        }
        let fact = bound.fact.info().path;
        let shown = |v: Decimal| display_number(v);
        let pattern = |p: &[bool]| {
            p.iter()
                .map(|b| if *b { "fires" } else { "quiet" })
                .collect::<Vec<_>>()
                .join(", ")
        };
        if confirmed {
            report.passed += 1;
        } else if with_fact(&empty(), bound.fact, bound.value).is_none() {
            // A fact this check cannot set is left to the examples.
        } else {
            let detail = match &contradicted {
                Some(got) => format!(
                    "at {} / {} / {} (canonical units) it should be {} but is {}",
                    shown(probes[0]),
                    shown(probes[1]),
                    shown(probes[2]),
                    pattern(&want),
                    pattern(got)
                ),
                None => "no example makes this bound decide the rule; add one that sits near it"
                    .to_owned(),
            };
            report.failures.push(
                Diagnostic::new("rules.test-bound", DiagLevel::Error, format!("rule `{}`: the bound `{fact}` {} {} does not decide the rule where it says: {detail}", rule.id, bound.op.symbol(), shown(bound.value)))
                    .at(&rule.file, rule.span, "this rule"),
            );
        }
    }
}
