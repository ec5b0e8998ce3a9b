//! Probing one bound of a rule: regimens that put the bounded value exactly
//! at the bound and one step either side, and the rule's verdict on each.
//!
//! Takes a [`Bound`] of a rule's [`Formula`], the regimens to start from
//! (the packs' `base` and examples) and an [`Engine`]; gives a [`Probe`]:
//! confirmed (the verdict flips exactly where the operator says), refuted
//! (it flips elsewhere), or not probed and why. A value is set by editing
//! the regimen's inputs (a derived fact through what it derives from:
//! `phase.daily_dose` through the dose and the schedule), solved exactly in
//! decimals, and every probe regimen is read back and its value checked, so
//! a probe never claims a value the reader did not compute. Where a value
//! cannot be written (no dose is taken 0 times a day) the nearest value that
//! can, on the same side, is used. When no starting regimen lets the bound
//! decide the rule, the other tests of the rule (its guards) are set true or
//! false as the rule's logic needs, and the probe is tried again.
//!
//! A rule that reads `previous(...)` is probed on the second phase of a
//! regimen of at least two (a one-phase start gets a copy of its phase): a
//! fact of the previous phase is written into the first, its own facts
//! into the second.

use rust_decimal::Decimal;

use super::bounds::{AtomKind, Bound, Formula};
use crate::check::Code;
use crate::eval::{At, Engine, Kind};
use crate::facts::{Fact, Scope, Type, Val};
use crate::regimen::Block;
use crate::regimen::{Regimen, document};
use crate::rules::{Pack, Rule};
use crate::source::{Span, Spanned};
use crate::syntax::{Arith, Cmp};
use crate::tree::{Node, Value};
use crate::vocabulary::Vocabulary;

/// What probing a bound found.
#[derive(Debug)]
pub enum Probe {
    /// The verdict flips exactly at the bound: the three probe values
    /// (below, at, above) and the verdict on each.
    Confirmed([(Val, bool); 3]),
    /// The verdict changes across the probes, but not where the operator
    /// says: the values, the verdicts expected and those found.
    Refuted([(Val, bool); 3], [bool; 3]),
    /// Not probed, and why.
    NotProbed(String),
}

/// A regimen to start probing from: its pack and its merged tree.
pub struct Start<'a> {
    /// The pack whose file it comes from.
    pub pack: &'a Pack,
    /// The regimen (base merged with an example).
    pub node: Node,
}

/// Most guard settings tried per bound, so that a rule with many tests
/// cannot make `rules test` slow.
const MAX_SETTINGS: usize = 64;

/// Probes one bound.
pub fn probe(
    rule: &Rule,
    formula: &Formula,
    bound: &Bound,
    engine: &Engine<'_>,
    starts: &[Start<'_>],
) -> Probe {
    let p = Prober {
        rule,
        engine,
        bound,
        phase: rule.first_row().max(1),
    };
    let extended: Vec<Start<'_>>;
    let starts = if p.phase > 1 {
        extended = starts
            .iter()
            .filter_map(|s| {
                Some(Start {
                    pack: s.pack,
                    node: with_phases(&s.node, p.phase)?,
                })
            })
            .collect();
        &extended[..]
    } else {
        starts
    };
    let mut why = String::from("no starting regimen is a valid regimen of this drug");
    let mut refuted = None;
    // First the regimens as written, then with the rule's other tests set
    // so that this bound decides the rule.
    for start in starts {
        match p.attempt(start.pack, &start.node) {
            Attempt::Confirmed(values) => return Probe::Confirmed(values),
            Attempt::Refuted(values, got) => {
                refuted.get_or_insert((values, got));
            }
            Attempt::Undecided(reason) | Attempt::Unset(reason) => why = reason,
        }
    }
    let settings = settings(formula, bound);
    let mut tried = 0;
    for start in starts {
        for setting in &settings {
            if tried >= MAX_SETTINGS {
                break;
            }
            let Some(node) = p.realise(start.pack, &start.node, formula, setting) else {
                continue;
            };
            tried += 1;
            match p.attempt(start.pack, &node) {
                Attempt::Confirmed(values) => return Probe::Confirmed(values),
                Attempt::Refuted(values, got) => {
                    refuted.get_or_insert((values, got));
                }
                Attempt::Undecided(reason) | Attempt::Unset(reason) => why = reason,
            }
        }
    }
    match refuted {
        Some((values, got)) => Probe::Refuted(values, got),
        None => Probe::NotProbed(why),
    }
}

enum Attempt {
    Confirmed([(Val, bool); 3]),
    Refuted([(Val, bool); 3], [bool; 3]),
    /// The probes were set but the rule did not depend on them.
    Undecided(String),
    /// A probe value could not be set, and why.
    Unset(String),
}

struct Prober<'a> {
    rule: &'a Rule,
    engine: &'a Engine<'a>,
    bound: &'a Bound,
    /// The phase probed: 1, or 2 for a rule that reads the previous phase.
    phase: usize,
}

/// `node` with at least `n` phases, the last copied as needed; `None` when
/// it has no phases to copy.
fn with_phases(node: &Node, n: usize) -> Option<Node> {
    let mut node = node.clone();
    let all = phases(&mut node)?;
    let last = all.last()?.clone();
    if all.len() < n {
        all.resize(n, last);
    }
    Some(node)
}

/// The side of the bound a probe sits on.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Below,
    At,
    Above,
}

impl Prober<'_> {
    /// The step between the bound and the values just inside and outside
    /// it: a whole count for counts, a day for day counts and dates, else
    /// a thousandth of the unit the bound is written in.
    fn step(&self) -> Decimal {
        match self.bound.fact() {
            Some(
                Fact::TIMES_PER_DAY
                | Fact::PHASE_COUNT
                | Fact::PHASE_INDEX
                | Fact::PERIOD
                | Fact::DURATION
                | Fact::TOTAL_DURATION
                | Fact::GAP_SINCE_PREVIOUS_COURSE,
            ) => Decimal::ONE,
            _ if matches!(self.bound.value, Val::Date(_))
                || matches!(self.bound.lhs, Code::DaysBetween(..)) =>
            {
                Decimal::ONE
            }
            _ => self
                .bound
                .unit
                .as_ref()
                .and_then(|(one, _)| one.checked_mul(Decimal::new(1, 3)))
                .unwrap_or(Decimal::new(1, 3)),
        }
    }

    fn holds(&self, v: Val) -> Option<bool> {
        crate::eval::compare_values(self.bound.op, v, self.bound.value)
    }

    fn attempt(&self, pack: &Pack, node: &Node) -> Attempt {
        let step = self.step();
        let mut values = [(self.bound.value, false); 3];
        let mut got = [false; 3];
        let mut want = [false; 3];
        for (i, side) in [Side::Below, Side::At, Side::Above].into_iter().enumerate() {
            let target = match side {
                Side::At => Some(self.bound.value),
                Side::Below => offset(self.bound.value, -step),
                Side::Above => offset(self.bound.value, step),
            };
            let Some(target) = target else {
                return Attempt::Unset(format!(
                    "{} is at the edge of what a value can be",
                    self.bound.shown()
                ));
            };
            let bound = self.bound.value;
            let accept = move |v: Val| match side {
                Side::At => crate::eval::compare_values(Cmp::Eq, v, bound) == Some(true),
                Side::Below => crate::eval::compare_values(Cmp::Lt, v, bound) == Some(true),
                Side::Above => crate::eval::compare_values(Cmp::Gt, v, bound) == Some(true),
            };
            let doc = Doc {
                pack,
                id: &self.rule.id,
                vocabulary: self.engine.vocabulary(),
            };
            let set = match set_lhs(
                &doc,
                node,
                &self.bound.lhs,
                (target, self.bound.value),
                self.phase,
                &accept,
            ) {
                Ok(set) => set,
                Err(why) => return Attempt::Unset(why),
            };
            let Some(holds) = self.holds(set.value) else {
                return Attempt::Unset(format!(
                    "{} compares values of different types",
                    self.bound.shown()
                ));
            };
            want[i] = holds == self.bound.fires_when_true;
            values[i] = (set.value, want[i]);
            let phase = (self.rule.scope == Scope::Phase).then_some(set.phase);
            match self.fires(set.regimen, phase) {
                Some(fires) => got[i] = fires,
                None => {
                    return Attempt::Undecided(format!(
                        "the rule is unevaluated on the probe regimens for {}",
                        self.bound.shown()
                    ));
                }
            }
        }
        if got == want {
            Attempt::Confirmed(values)
        } else if self.bound.either_way && got.iter().zip(want).all(|(g, w)| *g != w) {
            // In the test of an `if`: the branches decide which side fires.
            Attempt::Confirmed(values.map(|(v, w)| (v, !w)))
        } else if got.iter().all(|g| *g == got[0]) {
            Attempt::Undecided(format!(
                "no regimen was found where {} decides the rule (tried the base, the examples and settings of the rule's other tests); add an example where it does",
                self.bound.shown()
            ))
        } else {
            Attempt::Refuted(values, got)
        }
    }

    /// Whether the rule (this very rule, not another of the same id) fires
    /// on a regimen, in `phase` for a phase rule; `None` when the regimen
    /// is invalid or the rule unevaluated.
    fn fires(&self, regimen: Regimen, phase: Option<usize>) -> Option<bool> {
        let outcome = self.engine.evaluate(regimen);
        if !outcome.problems.is_empty() {
            return None;
        }
        let mut fires = false;
        for f in outcome
            .findings
            .iter()
            .filter(|f| std::ptr::eq(f.rule, self.rule) && (phase.is_none() || f.phase == phase))
        {
            match f.kind {
                Kind::Violation => fires = true,
                Kind::Unevaluated => return None,
            }
        }
        Some(fires)
    }

    /// `node` with the atoms of `setting` made true or false, or `None`
    /// when one cannot be.
    fn realise(
        &self,
        pack: &Pack,
        node: &Node,
        formula: &Formula,
        setting: &[(usize, bool)],
    ) -> Option<Node> {
        let mut node = node.clone();
        for &(index, want) in setting {
            let atom = formula.atoms.get(index)?;
            let doc = Doc {
                pack,
                id: &self.rule.id,
                vocabulary: self.engine.vocabulary(),
            };
            node = realise_atom(&doc, &node, atom, want, self.phase)?;
        }
        Some(node)
    }
}

/// The settings of the rule's other tests under which this bound alone
/// decides the rule: each maps an atom to the truth it must have. Atoms
/// that read the bound's own facts are left to the probe.
fn settings(formula: &Formula, bound: &Bound) -> Vec<Vec<(usize, bool)>> {
    let free: Vec<usize> = (0..formula.atoms.len())
        .filter(|i| *i != bound.atom)
        .filter(|i| {
            formula.atoms.get(*i).is_some_and(|a| {
                a.facts.0 & bound.facts.0 == 0
                    && a.previous.0 & bound.previous.0 == 0
                    && !a.facts.union(a.previous).is_empty()
            })
        })
        .collect();
    let tied: Vec<usize> = (0..formula.atoms.len())
        .filter(|i| *i != bound.atom && !free.contains(i))
        .collect();
    if free.len() > 10 || tied.len() > 6 {
        return Vec::new();
    }
    let mut out = Vec::new();
    for mask in 0u32..(1 << free.len()) {
        let (free, tied) = (&free, &tied);
        let truth = |tied_mask: u32, b: bool, i: usize| {
            if i == bound.atom {
                b
            } else if let Some(k) = free.iter().position(|f| *f == i) {
                mask & (1 << k) != 0
            } else if let Some(k) = tied.iter().position(|t| *t == i) {
                tied_mask & (1 << k) != 0
            } else {
                false
            }
        };
        let decides = (0u32..(1 << tied.len())).any(|t| {
            let on = formula.shape.holds(&|i| truth(t, true, i));
            let off = formula.shape.holds(&|i| truth(t, false, i));
            on != off && (bound.either_way || on == bound.fires_when_true)
        });
        if decides {
            out.push(
                free.iter()
                    .enumerate()
                    .map(|(k, i)| (*i, mask & (1 << k) != 0))
                    .collect(),
            );
        }
    }
    out
}

/// A probe regimen: its tree, the regimen read from it, the phase probed
/// and the value the bounded expression has there.
struct Set {
    regimen: Regimen,
    node: Node,
    phase: usize,
    value: Val,
}

/// A pack's example regimens as the probe reads them back: in the pack's
/// file, named by the rule's id, against the vocabulary.
struct Doc<'a> {
    pack: &'a Pack,
    id: &'a str,
    vocabulary: &'a Vocabulary,
}

impl Doc<'_> {
    /// Reads a regimen tree; `None` when it is not a valid regimen.
    fn read(&self, node: &Node) -> Option<Regimen> {
        let mut all = document::read_one(
            node.clone(),
            &self.pack.file,
            self.id.to_owned(),
            self.id.to_owned(),
            self.vocabulary,
        );
        let regimen = all.pop()?;
        regimen.problems.is_empty().then_some(regimen)
    }
}

/// The value of `code` in phase `phase` of a regimen (the course row for
/// phase 0 or a regimen without that phase).
fn value_in(regimen: &Regimen, code: &Code, phase: usize) -> Option<Val> {
    let at = At::of(regimen, phase).or_else(|| At::of(regimen, 0))?;
    crate::eval::eval_at(code, at).ok()
}

/// Sets `lhs` to `target` by editing one input it reads; where that value
/// cannot be written, the valid values nearest the bound `anchor` (then
/// nearest `target`) are tried, and the first `accept` takes is kept.
/// Returns the probe regimen or why it cannot be set.
fn set_lhs(
    doc: &Doc<'_>,
    node: &Node,
    lhs: &Code,
    (target, anchor): (Val, Val),
    phase: usize,
    accept: &dyn Fn(Val) -> bool,
) -> Result<Set, String> {
    let vocabulary = doc.vocabulary;
    // A derived fact with a declared formula is set through the formula.
    if let Code::Fact(f) | Code::FactOr(f, _) = lhs
        && let Some(formula) = &vocabulary.info(*f).formula
    {
        return set_lhs(doc, node, formula, (target, anchor), phase, accept);
    }
    let Some(ctx) = doc.read(node) else {
        return Err("the starting regimen is not valid".into());
    };
    let shown = |v: Val| show(v);
    let mut why = format!(
        "{} cannot be set to {}: it reads no fact rxlint can write",
        describe(lhs, vocabulary),
        shown(target)
    );
    for var in free_facts(lhs, vocabulary) {
        let Var(fact, before) = var;
        let phase_of = if vocabulary.info(fact).scope == Scope::Phase {
            phase
        } else {
            phase.min(ctx.phase_count())
        };
        let Some(row) = At::of(&ctx, phase_of) else {
            continue;
        };
        // A fact of the previous phase is written there.
        let write_phase = if before { phase - 1 } else { phase };
        let Some(v) = solve(lhs, var, target, row) else {
            why = format!(
                "{} = {} cannot be solved for `{}` exactly",
                describe(lhs, vocabulary),
                shown(target),
                vocabulary.info(fact).path
            );
            continue;
        };
        let mut candidates = vec![v];
        if let Some(a) = solve(lhs, var, anchor, row) {
            candidates.extend(nearest_valid(fact, a));
        }
        candidates.extend(nearest_valid(fact, v));
        for value in candidates {
            for snap in SNAPS {
                for (written, written_phase) in
                    write(node, fact, value, write_phase, &ctx, snap, vocabulary)
                {
                    let probe_phase = if before {
                        if written_phase != write_phase {
                            continue;
                        }
                        phase
                    } else {
                        written_phase
                    };
                    let Some(regimen) = doc.read(&written) else {
                        continue;
                    };
                    let Some(got) = value_in(&regimen, lhs, probe_phase) else {
                        continue;
                    };
                    if accept(got) {
                        return Ok(Set {
                            regimen,
                            node: written,
                            phase: probe_phase,
                            value: got,
                        });
                    }
                }
            }
        }
        why = format!(
            "`{}` cannot be written so that {} is {}: the reader refuses every such value",
            vocabulary.info(fact).path,
            describe(lhs, vocabulary),
            shown(target)
        );
    }
    Err(why)
}

/// Precision tried when writing a number: exact first, then rounded (a
/// canonical value such as 20 mg/wk in mg/day does not terminate; the
/// number written must be the one whose value the reader computes).
const SNAPS: [Option<u32>; 14] = [
    None,
    Some(12),
    Some(11),
    Some(10),
    Some(9),
    Some(8),
    Some(7),
    Some(6),
    Some(5),
    Some(4),
    Some(3),
    Some(2),
    Some(1),
    Some(0),
];

fn show(v: Val) -> String {
    match v {
        Val::Num(n) => crate::units::display_number(n),
        Val::Date(d) => d.to_string(),
        Val::Bool(b) => b.to_string(),
        Val::Enum(i) => i.to_string(),
    }
}

/// The bounded expression in words, for messages.
fn describe(lhs: &Code, vocabulary: &Vocabulary) -> String {
    match lhs {
        Code::Fact(f) | Code::FactOr(f, _) => format!("`{}`", vocabulary.info(*f).path),
        other => {
            let facts: Vec<&str> = vocabulary
                .ordered(other.reads())
                .map(|f| vocabulary.info(f).path.as_str())
                .collect();
            format!("the value computed from {}", facts.join(", "))
        }
    }
}

/// A fact to solve for: of the row probed, or (`true`) of the phase before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Var(Fact, bool);

impl Var {
    /// How many times `code` reads it.
    fn occurrences(self, code: &Code) -> usize {
        if self.1 {
            code.previous_occurrences(self.0)
        } else {
            code.occurrences(self.0)
        }
    }
}

/// The facts `lhs` reads exactly once, which it can be solved for; those
/// of the phase first (a dose before a weight), then those of the previous
/// phase.
fn free_facts(lhs: &Code, vocabulary: &Vocabulary) -> Vec<Var> {
    let here = lhs.reads().iter().map(|f| Var(f, false));
    let before = lhs.previous_facts().into_iter().map(|f| Var(f, true));
    let mut vars: Vec<Var> = here
        .chain(before)
        .filter(|v| v.occurrences(lhs) == 1)
        .collect();
    vars.dedup();
    vars.sort_by_key(|Var(f, before)| (*before, vocabulary.info(*f).scope != Scope::Phase, *f));
    vars
}

/// The value of `var` that makes `code` equal `target` on `row` (the other
/// facts as they are), by inverting the arithmetic on the path to it.
fn solve(code: &Code, var: Var, target: Val, row: At<'_>) -> Option<Val> {
    let fact = var;
    let other = |c: &Code| crate::eval::eval_at(c, row).ok();
    let num = |v: Val| match v {
        Val::Num(n) => Some(n),
        _ => None,
    };
    match code {
        Code::Fact(f) | Code::FactOr(f, _) if var == Var(*f, false) => Some(target),
        Code::Previous(f) if var == Var(*f, true) => Some(target),
        Code::Default(a, _) => solve(a, fact, target, row),
        Code::Neg(a) => solve(a, fact, Val::Num(-num(target)?), row),
        // The arm that holds `var` gives the value only where it is the
        // smaller (larger) one.
        Code::Min(a, b) | Code::Max(a, b) => {
            let (arm, rest) = if var.occurrences(a) == 1 {
                (a, b)
            } else {
                (b, a)
            };
            let o = other(rest)?;
            let ord = crate::eval::compare_values(Cmp::Le, target, o)?;
            let is_min = matches!(code, Code::Min(..));
            (ord == is_min || target == o).then_some(())?;
            solve(arm, fact, target, row)
        }
        // The branch the condition takes, when the condition does not read `var`.
        Code::If(c, a, b) if var.occurrences(c) == 0 => match other(c)? {
            Val::Bool(true) => solve(a, fact, target, row),
            Val::Bool(false) => solve(b, fact, target, row),
            _ => None,
        },
        Code::Arith(op, a, b) => {
            let in_a = fact.occurrences(a) == 1;
            let t = num(target)?;
            let o = num(other(if in_a { b } else { a })?)?;
            let inner = match (op, in_a) {
                (Arith::Add, _) => t.checked_sub(o)?,
                (Arith::Sub, true) => t.checked_add(o)?,
                (Arith::Sub, false) => o.checked_sub(t)?,
                (Arith::Mul, _) => t.checked_div(o)?,
                (Arith::Div, true) => t.checked_mul(o)?,
                (Arith::Div, false) => o.checked_div(t)?,
            };
            solve(if in_a { a } else { b }, fact, Val::Num(inner), row)
        }
        // `a - b` in days between two dates.
        Code::DaysBetween(a, b) => {
            let days = i64::try_from(num(target)?.trunc().mantissa())
                .ok()
                .filter(|_| num(target).is_some_and(|t| t.fract().is_zero()))?;
            if fact.occurrences(a) == 1 {
                let Val::Date(right) = other(b)? else {
                    return None;
                };
                solve(a, fact, Val::Date(right.add_days(days)?), row)
            } else {
                let Val::Date(left) = other(a)? else {
                    return None;
                };
                solve(b, fact, Val::Date(left.add_days(-days)?), row)
            }
        }
        _ => None,
    }
}

/// `v` moved by `by` (days, for a date).
fn offset(v: Val, by: Decimal) -> Option<Val> {
    match v {
        Val::Num(n) => n.checked_add(by).map(Val::Num),
        Val::Date(d) => {
            let days = i64::try_from(by.trunc().mantissa()).ok()?;
            d.add_days(days).map(Val::Date)
        }
        other => Some(other),
    }
}

/// The values nearest `v` on each side that a regimen can give `fact`,
/// when `v` itself is not one: whole administrations per day or week (no
/// dose is taken 0 or 0.5 times a day), a period of a day or a week, whole
/// counts and days.
fn nearest_valid(fact: Fact, v: Val) -> Vec<Val> {
    let Val::Num(n) = v else {
        return Vec::new();
    };
    let seven = Decimal::from(7);
    let whole = |lo: i64, hi: i64| -> Vec<Val> {
        let below = n.ceil() - Decimal::ONE;
        let above = n.floor() + Decimal::ONE;
        [below, above]
            .into_iter()
            .filter(|x| *x >= Decimal::from(lo) && *x <= Decimal::from(hi))
            .map(Val::Num)
            .collect()
    };
    match fact {
        Fact::TIMES_PER_DAY => {
            // Once to 168 times a week is every schedule the reader takes.
            let k = n.checked_mul(seven).unwrap_or(Decimal::MAX);
            let (below, above) = (k.ceil() - Decimal::ONE, k.floor() + Decimal::ONE);
            [below, above]
                .into_iter()
                .filter(|k| *k >= Decimal::ONE && *k <= Decimal::from(168))
                .filter_map(|k| k.checked_div(seven))
                .map(|x| Val::Num(x.normalize()))
                .collect()
        }
        Fact::INTERVAL => {
            // 7 days / k for k = 1 to 168 a week: the nearest on each side.
            let k = seven.checked_div(n).unwrap_or(Decimal::MAX);
            let (shorter, longer) = (k.floor() + Decimal::ONE, k.ceil() - Decimal::ONE);
            [shorter, longer]
                .into_iter()
                .filter(|k| *k >= Decimal::ONE && *k <= Decimal::from(168))
                .filter_map(|k| seven.checked_div(k))
                .map(|x| Val::Num(x.normalize()))
                .collect()
        }
        Fact::PERIOD => [Decimal::ONE, seven]
            .into_iter()
            .filter(|p| *p != n)
            .map(Val::Num)
            .collect(),
        Fact::PHASE_COUNT | Fact::PHASE_INDEX => whole(1, 1000),
        Fact::GAP_SINCE_PREVIOUS_COURSE => whole(-3_000_000, 3_000_000),
        _ => Vec::new(),
    }
}

fn number(x: Decimal, snap: Option<u32>) -> String {
    snap.map_or(x, |dp| x.round_dp(dp)).normalize().to_string()
}

fn text(s: String) -> Node {
    Node {
        value: Value::Str(s),
        span: Span::default(),
    }
}

fn empty() -> Node {
    Node {
        value: Value::Map(Vec::new()),
        span: Span::default(),
    }
}

fn set(node: &mut Node, key: &str, value: Node) {
    if !matches!(node.value, Value::Map(_)) {
        *node = empty();
    }
    if let Value::Map(entries) = &mut node.value {
        match entries.iter_mut().find(|(k, _)| k.value == key) {
            Some((_, v)) => *v = value,
            None => entries.push((Spanned::new(key.to_owned(), Span::default()), value)),
        }
    }
}

fn remove(node: &mut Node, key: &str) {
    if let Value::Map(entries) = &mut node.value {
        entries.retain(|(k, _)| k.value != key);
    }
}

/// The mapping under `key`, made if it is missing.
fn child<'a>(node: &'a mut Node, key: &str) -> Option<&'a mut Node> {
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

/// The phases of a regimen tree.
fn phases(node: &mut Node) -> Option<&mut Vec<Node>> {
    let course = child(node, "course")?;
    let Value::Map(entries) = &mut course.value else {
        return None;
    };
    match entries.iter_mut().find(|(k, _)| k.value == "phases") {
        Some((
            _,
            Node {
                value: Value::Seq(items),
                ..
            },
        )) => Some(items),
        _ => None,
    }
}

/// Phase `p` (1-based) of a regimen tree.
fn phase_mut(node: &mut Node, p: usize) -> Option<&mut Node> {
    phases(node)?.get_mut(p.checked_sub(1)?)
}

fn num_in(regimen: &Regimen, row: usize, fact: Fact) -> Option<Decimal> {
    match regimen.get(row, fact) {
        Some(Val::Num(n)) => Some(n),
        _ => None,
    }
}

/// Sets phase `p`'s dose so that its daily dose is `daily` (canonical
/// mg/day): through `dose` and the phase's own schedule, or as `daily_dose`.
/// Sets the patient's weight to `w` kg.
fn set_weight(n: &mut Node, w: Decimal, snap: Option<u32>) -> Option<()> {
    let weight = text(format!("{} kg", number(w, snap)));
    set(child(n, "patient")?, "weight", weight);
    Some(())
}

fn set_daily(
    node: &mut Node,
    p: usize,
    daily: Decimal,
    ctx: &Regimen,
    snap: Option<u32>,
    through_dose: bool,
) -> Option<()> {
    let per_day = num_in(ctx, p, Fact::TIMES_PER_DAY)?;
    let period = num_in(ctx, p, Fact::PERIOD)?;
    let phase = phase_mut(node, p)?;
    remove(phase, "dose");
    remove(phase, "daily_dose");
    if through_dose {
        // dose x count / period, with the count the schedule writes.
        let count = per_day.checked_mul(period)?.round_dp(20);
        let dose = daily.checked_mul(period)?.checked_div(count)?;
        set(phase, "dose", text(format!("{} mg", number(dose, snap))));
    } else {
        set(
            phase,
            "daily_dose",
            text(format!("{} mg", number(daily, snap))),
        );
    }
    Some(())
}

/// Candidate trees in which `fact` is `v`, each with the phase probed;
/// more than one when the fact can be reached through different inputs.
fn write(
    node: &Node,
    fact: Fact,
    v: Val,
    p: usize,
    ctx: &Regimen,
    snap: Option<u32>,
    vocabulary: &Vocabulary,
) -> Vec<(Node, usize)> {
    let mut out = Vec::new();
    let mut push = |f: &dyn Fn(&mut Node) -> Option<usize>| {
        let mut n = node.clone();
        if let Some(phase) = f(&mut n) {
            out.push((n, phase));
        }
    };
    let weight = num_in(ctx, 0, Fact::WEIGHT);
    let count = ctx.phase_count();
    match (fact, v) {
        (Fact::EGFR, Val::Num(d)) => push(&|n| {
            let patient = child(n, "patient")?;
            // The impairment is then derived from this eGFR.
            remove(patient, "renal_impairment");
            let per_min = d.checked_div(Decimal::from(1440))?;
            set(
                patient,
                "egfr",
                text(format!("{} mL/min/1.73m2", number(per_min, snap))),
            );
            Some(p)
        }),
        (Fact::DURATION, Val::Num(d)) => push(&|n| {
            set(
                phase_mut(n, p)?,
                "duration",
                text(format!("{} days", number(d, snap))),
            );
            Some(p)
        }),
        (Fact::DOSE, Val::Num(d)) => push(&|n| {
            let phase = phase_mut(n, p)?;
            remove(phase, "daily_dose");
            set(phase, "dose", text(format!("{} mg", number(d, snap))));
            Some(p)
        }),
        (Fact::DAILY_DOSE | Fact::WEEKLY_DOSE | Fact::START_DAILY_DOSE, Val::Num(d)) => {
            let q = if fact == Fact::START_DAILY_DOSE { 1 } else { p };
            for through_dose in [true, false] {
                push(&|n| {
                    set_daily(n, q, d, ctx, snap, through_dose)?;
                    Some(p)
                });
            }
        }
        (Fact::MAX_DAILY_DOSE, Val::Num(d)) => {
            for through_dose in [true, false] {
                push(&|n| {
                    for q in 1..=count {
                        set_daily(n, q, d, ctx, snap, through_dose)?;
                    }
                    Some(p)
                });
            }
        }
        (Fact::DAILY_DOSE_PER_KG | Fact::MAX_DAILY_DOSE_PER_KG, Val::Num(d)) => {
            let all = fact == Fact::MAX_DAILY_DOSE_PER_KG;
            let w = weight.unwrap_or(Decimal::from(70));
            if let Some(daily) = d.checked_mul(w) {
                for through_dose in [true, false] {
                    push(&|n| {
                        set(child(n, "patient")?, "weight", text(format!("{w} kg")));
                        let qs = if all { 1..=count } else { p..=p };
                        for q in qs {
                            set_daily(n, q, daily, ctx, snap, through_dose)?;
                        }
                        Some(p)
                    });
                }
            }
            // Or through the weight, the dose as it is.
            let daily = if all {
                num_in(ctx, 0, Fact::MAX_DAILY_DOSE)
            } else {
                num_in(ctx, p, Fact::DAILY_DOSE)
            };
            if let Some(w) = daily.and_then(|daily| daily.checked_div(d)) {
                push(&|n| set_weight(n, w, snap).map(|()| p));
            }
        }
        (Fact::TIMES_PER_DAY, Val::Num(d)) => {
            let written = if d.fract().is_zero() {
                Some(format!("{}/day", d.normalize()))
            } else {
                let k = d.checked_mul(Decimal::from(7)).map(|k| k.round_dp(20));
                k.filter(|k| k.fract().is_zero())
                    .map(|k| format!("{}/week", k.normalize()))
            };
            if let Some(freq) = written {
                push(&|n| {
                    set(phase_mut(n, p)?, "frequency", text(freq.clone()));
                    Some(p)
                });
            }
        }
        (Fact::INTERVAL, Val::Num(d)) => {
            // A dose every d days: N a day when 1/d is whole, else N a week.
            let whole = |x: Option<Decimal>, max: i64| {
                x.map(|x| x.round_dp(20).normalize()).filter(|x| {
                    x.fract().is_zero() && *x >= Decimal::ONE && *x <= Decimal::from(max)
                })
            };
            // Every 2 days is 3.5 a week: a count per week need not be
            // whole, only exact.
            let per_week = Decimal::from(7)
                .checked_div(d)
                .map(|k| k.normalize())
                .filter(|k| k.checked_mul(d) == Some(Decimal::from(7)) && *k <= Decimal::from(168));
            let written = whole(Decimal::ONE.checked_div(d), 24)
                .map(|n| format!("{n}/day"))
                .or_else(|| per_week.map(|n| format!("{n}/week")));
            // Or one dose every so many hours (4 hours is no decimal of a
            // day, but `every 4 hours` is exact).
            let hours = d
                .checked_mul(Decimal::from(24))
                .map(|h| h.round_dp(12).normalize())
                .filter(|h| *h >= Decimal::ONE);
            for freq in written
                .into_iter()
                .chain(hours.map(|h| format!("every {h} hours")))
            {
                push(&|n| {
                    set(phase_mut(n, p)?, "frequency", text(freq.clone()));
                    Some(p)
                });
            }
        }
        (Fact::CUMULATIVE_DOSE_PER_M2, Val::Num(d)) => {
            // The last phase's dose per m2 makes up what the others leave.
            let others: Option<Decimal> = (1..count)
                .map(|q| {
                    num_in(ctx, q, Fact::DOSE_PER_M2)?.checked_mul(num_in(
                        ctx,
                        q,
                        Fact::ADMINISTRATIONS,
                    )?)
                })
                .try_fold(Decimal::ZERO, |s, x| s.checked_add(x?));
            let dose = others
                .and_then(|o| d.checked_sub(o))
                .filter(|r| *r > Decimal::ZERO)
                .zip(num_in(ctx, count, Fact::ADMINISTRATIONS))
                .and_then(|(rest, n)| rest.checked_div(n));
            if let Some(dose) = dose {
                push(&|n| {
                    let phase = phase_mut(n, count)?;
                    remove(phase, "daily_dose");
                    set(phase, "dose", text(format!("{} mg/m2", number(dose, snap))));
                    Some(p)
                });
            }
            // Or through the BSA, the doses as they are.
            if let Some(bsa) = num_in(ctx, 0, Fact::CUMULATIVE_DOSE).and_then(|c| c.checked_div(d))
            {
                push(&|n| {
                    let patient = child(n, "patient")?;
                    set(patient, "bsa", text(format!("{} m2", number(bsa, snap))));
                    Some(p)
                });
            }
        }
        (
            Fact::LIFETIME_CUMULATIVE_DOSE
            | Fact::LIFETIME_CUMULATIVE_DOSE_PER_KG
            | Fact::LIFETIME_CUMULATIVE_DOSE_PER_M2,
            Val::Num(d),
        ) => {
            // The prior dose makes up what this course leaves, in the
            // lifetime total's own unit.
            let (this_course, unit) = match fact {
                Fact::LIFETIME_CUMULATIVE_DOSE => (Fact::CUMULATIVE_DOSE, "mg"),
                Fact::LIFETIME_CUMULATIVE_DOSE_PER_KG => (Fact::CUMULATIVE_DOSE_PER_KG, "mg/kg"),
                _ => (Fact::CUMULATIVE_DOSE_PER_M2, "mg/m2"),
            };
            let prior = num_in(ctx, 0, this_course)
                .and_then(|c| d.checked_sub(c))
                .filter(|r| *r >= Decimal::ZERO);
            if let Some(prior) = prior {
                push(&|n| {
                    let course = child(n, "course")?;
                    set(
                        course,
                        "prior_cumulative_dose",
                        text(format!("{} {unit}", number(prior, snap))),
                    );
                    Some(p)
                });
            }
        }
        (Fact::PERIOD, Val::Num(d)) => {
            let per_day = num_in(ctx, p, Fact::TIMES_PER_DAY);
            let period = num_in(ctx, p, Fact::PERIOD);
            if let (Some(per_day), Some(period)) = (per_day, period)
                && let Some(count) = per_day
                    .checked_mul(period)
                    .map(|c| c.round_dp(20).normalize())
            {
                let unit = if d == Decimal::ONE {
                    Some("day")
                } else if d == Decimal::from(7) {
                    Some("week")
                } else {
                    None
                };
                if let Some(unit) = unit {
                    push(&|n| {
                        set(
                            phase_mut(n, p)?,
                            "frequency",
                            text(format!("{count}/{unit}")),
                        );
                        Some(p)
                    });
                }
            }
        }
        (Fact::TOTAL_DURATION, Val::Num(d)) => {
            let others: Option<Decimal> = (1..count)
                .map(|q| num_in(ctx, q, Fact::DURATION))
                .try_fold(Decimal::ZERO, |s, x| s.checked_add(x?));
            if let Some(last) = others
                .and_then(|o| d.checked_sub(o))
                .filter(|l| *l > Decimal::ZERO)
            {
                push(&|n| {
                    set(
                        phase_mut(n, count)?,
                        "duration",
                        text(format!("{} days", number(last, snap))),
                    );
                    Some(p)
                });
            }
            push(&|n| {
                let all = phases(n)?;
                all.truncate(1);
                set(
                    all.first_mut()?,
                    "duration",
                    text(format!("{} days", number(d, snap))),
                );
                Some(1)
            });
        }
        (Fact::CUMULATIVE_DOSE | Fact::CUMULATIVE_DOSE_PER_KG, Val::Num(d)) => {
            let per_kg = fact == Fact::CUMULATIVE_DOSE_PER_KG;
            let total = if per_kg {
                weight.and_then(|w| d.checked_mul(w))
            } else {
                Some(d)
            };
            let others: Option<Decimal> = (1..count)
                .map(|q| {
                    num_in(ctx, q, Fact::DAILY_DOSE)?.checked_mul(num_in(ctx, q, Fact::DURATION)?)
                })
                .try_fold(Decimal::ZERO, |s, x| s.checked_add(x?));
            let rest = total
                .zip(others)
                .and_then(|(t, o)| t.checked_sub(o))
                .filter(|r| *r > Decimal::ZERO);
            if let Some(rest) = rest {
                if let Some(days) =
                    num_in(ctx, count, Fact::DAILY_DOSE).and_then(|daily| rest.checked_div(daily))
                {
                    push(&|n| {
                        set(
                            phase_mut(n, count)?,
                            "duration",
                            text(format!("{} days", number(days, snap))),
                        );
                        Some(p)
                    });
                }
                if let Some(daily) =
                    num_in(ctx, count, Fact::DURATION).and_then(|days| rest.checked_div(days))
                {
                    for through_dose in [true, false] {
                        push(&|n| {
                            set_daily(n, count, daily, ctx, snap, through_dose)?;
                            Some(p)
                        });
                    }
                }
            }
            if per_kg
                && let Some(w) =
                    num_in(ctx, 0, Fact::CUMULATIVE_DOSE).and_then(|c| c.checked_div(d))
            {
                push(&|n| set_weight(n, w, snap).map(|()| p));
            }
        }
        (Fact::GAP_SINCE_PREVIOUS_COURSE, Val::Num(d)) if d.fract().is_zero() => {
            let start = match ctx.get(0, Fact::START) {
                Some(Val::Date(s)) => Some(s),
                _ => crate::date::Date::parse("2026-03-02").ok(),
            };
            let days = i64::try_from(d.mantissa()).ok().filter(|_| d.scale() == 0);
            if let Some(previous) = start.zip(days).and_then(|(s, days)| s.add_days(-days))
                && let Some(start) = start
            {
                push(&|n| {
                    let course = child(n, "course")?;
                    set(course, "start", text(start.to_string()));
                    set(course, "previous_course_end", text(previous.to_string()));
                    Some(p)
                });
            }
        }
        (Fact::PHASE_COUNT | Fact::PHASE_INDEX, Val::Num(d)) => {
            let wanted = usize::try_from(d.mantissa())
                .ok()
                .filter(|w| d.scale() == 0 && (1..=crate::regimen::MAX_PHASES).contains(w));
            if let Some(wanted) = wanted {
                push(&|n| {
                    let all = phases(n)?;
                    let last = all.last()?.clone();
                    let size = if fact == Fact::PHASE_COUNT {
                        wanted
                    } else {
                        wanted.max(all.len())
                    };
                    all.resize(size, last);
                    Some(if fact == Fact::PHASE_INDEX {
                        wanted
                    } else {
                        p.min(size)
                    })
                });
            }
        }
        (_, value) => {
            // A recorded fact written under its key (the vocabulary's): a
            // quantity in its dimension's canonical unit, an enum by name,
            // a date, a boolean; `None`-like removal is done by the caller.
            if let Some(written) = scalar(fact, value, snap, vocabulary) {
                push(&|n| {
                    let place = place_of(n, fact, p, vocabulary)?;
                    set(place.0, &place.1, written.clone());
                    Some(p)
                });
            }
        }
    }
    out
}

/// A recorded fact's value as a tree node: a quantity in its dimension's
/// canonical unit (`70 kg`, `6574 d`), exact or rounded to `snap` places.
fn scalar(fact: Fact, value: Val, snap: Option<u32>, vocabulary: &Vocabulary) -> Option<Node> {
    let info = vocabulary.info(fact);
    Some(match (info.ty, value) {
        (Type::Quantity(dim), Val::Num(d)) => {
            text(format!("{} {}", number(d, snap), dim.canonical_unit()))
        }
        (Type::Enum(_), Val::Enum(i)) => text(info.value_name(i).to_owned()),
        (Type::Bool, Val::Bool(b)) => Node {
            value: Value::Bool(b),
            span: Span::default(),
        },
        (Type::Date, Val::Date(d)) => text(d.to_string()),
        _ => return None,
    })
}

/// The mapping that holds a recorded fact, and its key there, as the
/// vocabulary declares it: `patient.sex` is `sex` under `patient`,
/// `regimen.route` is `route` at the top, `phase.with_food` is `with_food`
/// in phase `p`.
fn place_of<'n>(
    node: &'n mut Node,
    fact: Fact,
    p: usize,
    vocabulary: &Vocabulary,
) -> Option<(&'n mut Node, String)> {
    let (block, key) = vocabulary.key_of(fact)?;
    let key = key.to_owned();
    match block {
        Block::Patient => Some((child(node, "patient")?, key)),
        Block::Course => Some((child(node, "course")?, key)),
        Block::Regimen => Some((node, key)),
        Block::Phase => Some((phase_mut(node, p)?, key)),
    }
}

/// `node` with `atom` made `want` (true or false) on phase 1, checked by
/// reading the result back; `None` when no value tried does it.
fn realise_atom(
    doc: &Doc<'_>,
    node: &Node,
    atom: &super::bounds::Atom,
    want: bool,
    phase: usize,
) -> Option<Node> {
    let vocabulary = doc.vocabulary;
    let truth = |regimen: &Regimen| {
        let at = At::of(regimen, phase).or_else(|| At::of(regimen, 0))?;
        crate::eval::truth_at(&atom.code, at)
    };
    let ctx = doc.read(node)?;
    if truth(&ctx) == Some(want) {
        return Some(node.clone());
    }
    let mut targets: Vec<(Code, Val)> = Vec::new();
    let near = |v: Val| -> Vec<Val> {
        let mut out = vec![v];
        for by in [Decimal::ONE, Decimal::new(1, 3)] {
            out.extend(offset(v, by));
            out.extend(offset(v, -by));
        }
        out
    };
    match &atom.kind {
        AtomKind::Compare { lhs, value, .. } => {
            let values = match (lhs, value) {
                (Code::Fact(f) | Code::FactOr(f, _), Val::Enum(_)) => {
                    match vocabulary.info(*f).ty {
                        Type::Enum(_) => (0..vocabulary.info(*f).values.len())
                            .filter_map(|i| u8::try_from(i).ok())
                            .map(Val::Enum)
                            .collect(),
                        _ => Vec::new(),
                    }
                }
                (_, Val::Bool(_)) => vec![Val::Bool(true), Val::Bool(false)],
                (_, v) => near(*v),
            };
            targets.extend(values.into_iter().map(|v| (lhs.clone(), v)));
        }
        AtomKind::Range { lhs, lo, hi } => {
            for v in near(*lo).into_iter().chain(near(*hi)) {
                targets.push((lhs.clone(), v));
            }
        }
        AtomKind::Other => {
            for fact in atom.facts.iter() {
                if vocabulary.info(fact).ty == Type::Bool {
                    for b in [true, false] {
                        targets.push((Code::Fact(fact), Val::Bool(b)));
                    }
                }
            }
        }
    }
    for (lhs, target) in targets {
        if let Ok(set) = set_lhs(doc, node, &lhs, (target, target), phase, &|_| true)
            && truth(&set.regimen) == Some(want)
        {
            return Some(set.node);
        }
    }
    // A test of a missing fact (`present(...)`, `?? false`) may need it gone.
    for fact in atom.facts.iter() {
        let mut n = node.clone();
        if let Some((place, key)) = place_of(&mut n, fact, phase, vocabulary) {
            remove(place, &key);
            if doc.read(&n).is_some_and(|r| truth(&r) == Some(want)) {
                return Some(n);
            }
        }
    }
    None
}
