//! Regimens and rules to findings and a verdict.
//!
//! Takes a compiled [`RuleSet`] selected for one profile (an [`Engine`]) and a
//! [`Regimen`], and gives an [`Outcome`]. Logic is three-valued (Kleene): a
//! value that depends on a missing fact is unknown, carrying the set of
//! facts it lacks; a rule whose verdict is unknown yields an `unevaluated`
//! finding naming them, never a silent pass. Evaluation reads facts by index
//! and does exact decimal arithmetic; it allocates only for findings.

use crate::codes::InputCode;
use crate::text::Trim;
use std::cmp::Ordering;

use rust_decimal::Decimal;

use crate::check::Code;
use crate::facts::{Fact, FactSet, Scope, Type, Val};
use crate::regimen::{InputProblem, Regimen, Row};
use crate::rules::{Citation, Pack, Part, Rule, RuleSet, Severity};
use crate::suggest;
use crate::syntax::{Arith, Cmp};
use crate::units;
use crate::vocabulary::Vocabulary;

mod program;

pub use program::{Program, Tri};

/// Why a value is unknown: the facts it lacks; the bit above the last fact
/// a vocabulary may declare marks an arithmetic failure (overflow, division
/// by zero).
pub type Unknown = FactSet;

const ARITH: FactSet = FactSet(1 << Fact::MAX);

/// A value, or why it is unknown.
pub type Outcome3 = Result<Val, Unknown>;

/// What an expression is evaluated on: a row of facts (the course, or one
/// phase) and, for a phase after the first, the row of the phase before,
/// which `previous(...)` reads.
#[derive(Clone, Copy, Debug)]
pub struct At<'a> {
    /// The row evaluated.
    pub row: &'a Row,
    /// The previous phase's row; `None` for the course and the first phase.
    pub previous: Option<&'a Row>,
}

impl<'a> At<'a> {
    /// A row with no phase before it.
    pub fn row(row: &'a Row) -> At<'a> {
        At {
            row,
            previous: None,
        }
    }

    /// Row `i` of a regimen (0 the course, 1.. the phases), with the phase
    /// before it for a phase after the first.
    pub fn of(regimen: &'a Regimen, i: usize) -> Option<At<'a>> {
        Some(At {
            row: regimen.rows.get(i)?,
            previous: (i >= 2).then(|| regimen.rows.get(i - 1)).flatten(),
        })
    }
}

impl std::ops::Index<usize> for At<'_> {
    type Output = Option<Val>;

    fn index(&self, i: usize) -> &Option<Val> {
        &self.row[i]
    }
}

/// Evaluates compiled code against one row of facts, with no phase before it.
pub fn eval(code: &Code, row: &Row) -> Outcome3 {
    eval_at(code, At::row(row))
}

/// Evaluates compiled code against one row of facts and the phase before it.
pub fn eval_at(code: &Code, row: At<'_>) -> Outcome3 {
    let eval = eval_at;
    match code {
        Code::Const(v) => Ok(*v),
        Code::Fact(f) => row[f.index()].ok_or_else(|| missing(*f, row.row)),
        Code::Present(f) => Ok(Val::Bool(row[f.index()].is_some())),
        Code::Not(a) => match eval(a, row)? {
            Val::Bool(b) => Ok(Val::Bool(!b)),
            _ => Err(ARITH),
        },
        Code::And(a, b) => junction(a, b, row, false),
        Code::Or(a, b) => junction(a, b, row, true),
        Code::Default(a, b) => eval(a, row).or_else(|_| eval(b, row)),
        Code::FactCmp {
            op,
            fact,
            value,
            if_missing,
        } => match row[fact.index()] {
            Some(v) => compare_values(*op, v, *value).map(Val::Bool).ok_or(ARITH),
            None => match if_missing {
                Some(b) => Ok(Val::Bool(*b)),
                None => Err(missing(*fact, row.row)),
            },
        },
        Code::NumCmp {
            op,
            fact,
            value,
            if_missing,
        } => match row[fact.index()] {
            Some(Val::Num(v)) => Ok(Val::Bool(test(*op, cmp_const(v, value)))),
            Some(_) => Err(ARITH),
            None => match if_missing {
                Some(b) => Ok(Val::Bool(*b)),
                None => Err(missing(*fact, row.row)),
            },
        },
        Code::FactOr(fact, value) => Ok(row[fact.index()].unwrap_or(*value)),
        Code::FactInRange(fact, lo, hi) => {
            let v = row[fact.index()].ok_or_else(|| missing(*fact, row.row))?;
            let above = compare(v, *lo).ok_or(ARITH)? != Ordering::Less;
            let below = compare(v, *hi).ok_or(ARITH)? != Ordering::Greater;
            Ok(Val::Bool(above && below))
        }
        Code::Cmp(op, a, b) => {
            let (va, vb) = both(eval(a, row), eval(b, row))?;
            compare_values(*op, va, vb).map(Val::Bool).ok_or(ARITH)
        }
        Code::InRange(x, lo, hi) => {
            let (vx, vlo) = both(eval(x, row), eval(lo, row))?;
            let vhi = eval(hi, row)?;
            let above_lo = compare(vx, vlo).ok_or(ARITH)? != Ordering::Less;
            let below_hi = compare(vx, vhi).ok_or(ARITH)? != Ordering::Greater;
            Ok(Val::Bool(above_lo && below_hi))
        }
        Code::Arith(op, a, b) => {
            let (Val::Num(x), Val::Num(y)) = both(eval(a, row), eval(b, row))? else {
                return Err(ARITH);
            };
            let r = match op {
                Arith::Add => x.checked_add(y),
                Arith::Sub => x.checked_sub(y),
                Arith::Mul => x.checked_mul(y),
                Arith::Div => x.checked_div(y),
            };
            r.map(Val::Num).ok_or(ARITH)
        }
        Code::Neg(a) => match eval(a, row)? {
            Val::Num(x) => Ok(Val::Num(-x)),
            _ => Err(ARITH),
        },
        Code::DaysBetween(a, b) => match both(eval(a, row), eval(b, row))? {
            (Val::Date(x), Val::Date(y)) => Ok(Val::Num(Decimal::from(
                i64::from(x.days()) - i64::from(y.days()),
            ))),
            _ => Err(ARITH),
        },
        Code::ShiftDate(d, n, negate) => match both(eval(d, row), eval(n, row))? {
            (Val::Date(date), Val::Num(days)) => {
                // Whole days only; a fractional day shift rounds towards the past.
                let days = i64::try_from(days.floor().mantissa())
                    .ok()
                    .filter(|_| days.floor().scale() == 0)
                    .ok_or(ARITH)?;
                let days = if *negate {
                    days.checked_neg().ok_or(ARITH)?
                } else {
                    days
                };
                date.add_days(days).map(Val::Date).ok_or(ARITH)
            }
            _ => Err(ARITH),
        },
        // Min and max of an unknown are unknown, whatever the other side:
        // no bound is guessed from one side.
        Code::Min(a, b) | Code::Max(a, b) => match both(eval(a, row), eval(b, row))? {
            (Val::Num(x), Val::Num(y)) => Ok(Val::Num(if matches!(code, Code::Min(..)) {
                x.min(y)
            } else {
                x.max(y)
            })),
            _ => Err(ARITH),
        },
        Code::If(c, a, b) => match eval(c, row) {
            Ok(Val::Bool(true)) => eval(a, row),
            Ok(Val::Bool(false)) => eval(b, row),
            Ok(_) => Err(ARITH),
            // An unknown condition decides nothing, unless both branches
            // are the same known value.
            Err(mc) => match both(eval(a, row), eval(b, row)) {
                Ok((x, y)) if compare(x, y) == Some(Ordering::Equal) => Ok(x),
                Ok(_) => Err(mc),
                Err(m) => Err(mc.union(m)),
            },
        },
        // The engine runs a rule that reads the previous phase from the
        // second phase on; elsewhere the value is missing.
        Code::Previous(f) => row
            .previous
            .and_then(|p| p.get(f.index()).copied().flatten())
            .ok_or(FactSet::one(*f)),
    }
}

/// Exact decimal comparison, fast for the common shapes: equal scales
/// compare mantissas; otherwise the lower-scale side is scaled up in
/// `i128`, which is exact; only an overflow falls back to rust_decimal.
fn cmp_decimal(a: Decimal, b: Decimal) -> Ordering {
    let (sa, sb) = (a.scale(), b.scale());
    let (ma, mb) = (a.mantissa(), b.mantissa());
    if sa == sb {
        return ma.cmp(&mb);
    }
    let scaled = if sa < sb {
        pow10(sb - sa)
            .and_then(|f| ma.checked_mul(f))
            .map(|ma| ma.cmp(&mb))
    } else {
        pow10(sa - sb)
            .and_then(|f| mb.checked_mul(f))
            .map(|mb| ma.cmp(&mb))
    };
    scaled.unwrap_or_else(|| a.cmp(&b))
}

/// 10^n for the scales a Decimal can have (0..=28).
fn pow10(n: u32) -> Option<i128> {
    const TABLE: [i128; 29] = {
        let mut t = [1i128; 29];
        let mut i = 1;
        while i < 29 {
            t[i] = t[i - 1] * 10;
            i += 1;
        }
        t
    };
    TABLE.get(n as usize).copied()
}

/// `a and b` (`decisive` false) or `a or b` (`decisive` true) in Kleene
/// logic: the decisive value on either side decides, whatever the other
/// side is; otherwise the result is unknown if either side is.
fn junction(a: &Code, b: &Code, row: At<'_>, decisive: bool) -> Outcome3 {
    let eval = eval_at;
    match eval(a, row) {
        Ok(Val::Bool(x)) if x == decisive => Ok(Val::Bool(decisive)),
        Ok(_) => eval(b, row),
        Err(ma) => match eval(b, row) {
            Ok(Val::Bool(x)) if x == decisive => Ok(Val::Bool(decisive)),
            Ok(_) => Err(ma),
            Err(mb) => Err(ma.union(mb)),
        },
    }
}

/// The truth of a condition in Kleene logic: `Some(bool)`, or `None` when
/// it depends on missing data. Same answers as [`eval`], without building
/// the set of missing facts, which only an unknown result needs.
pub fn truth(code: &Code, row: &Row) -> Option<bool> {
    truth_at(code, At::row(row))
}

/// [`truth`] on a row and the phase before it.
pub fn truth_at(code: &Code, row: At<'_>) -> Option<bool> {
    let (truth, eval) = (truth_at, eval_at);
    match code {
        Code::NumCmp {
            op,
            fact,
            value,
            if_missing,
        } => match row[fact.index()] {
            Some(Val::Num(v)) => Some(test(*op, cmp_const(v, value))),
            Some(_) => None,
            None => *if_missing,
        },
        Code::FactCmp {
            op,
            fact,
            value,
            if_missing,
        } => match row[fact.index()] {
            Some(v) => compare_values(*op, v, *value),
            None => *if_missing,
        },
        // As in `junction`: the decisive value on either side decides.
        Code::And(a, b) => match truth(a, row) {
            Some(false) => Some(false),
            Some(true) => truth(b, row),
            None => truth(b, row).filter(|b| !b),
        },
        Code::Or(a, b) => match truth(a, row) {
            Some(true) => Some(true),
            Some(false) => truth(b, row),
            None => truth(b, row).filter(|b| *b),
        },
        Code::Not(a) => truth(a, row).map(|b| !b),
        Code::Present(f) => Some(row[f.index()].is_some()),
        Code::FactOr(f, Val::Bool(d)) => match row[f.index()] {
            Some(Val::Bool(b)) => Some(b),
            Some(_) => None,
            None => Some(*d),
        },
        Code::Const(Val::Bool(b)) => Some(*b),
        other => match eval(other, row) {
            Ok(Val::Bool(b)) => Some(b),
            _ => None,
        },
    }
}

/// Why a fact is absent: the fact itself ([`Engine`] names the recorded
/// inputs of a derived one, which the vocabulary knows).
fn missing(fact: Fact, _row: &Row) -> Unknown {
    FactSet::one(fact)
}

/// The facts a person must give for `missing` to be known: for a derived
/// fact, its missing inputs (`patient.weight`, not the derived
/// `phase.daily_dose_per_kg`); the arithmetic flag is kept.
fn roots(missing: Unknown, row: &Row, vocabulary: &Vocabulary) -> Unknown {
    let mut out = FactSet(missing.0 & ARITH.0);
    for fact in missing.iter().filter(|f| f.index() < vocabulary.len()) {
        let inputs = vocabulary
            .info(fact)
            .inputs
            .iter()
            .filter(|f| row.get(f.index()).is_some_and(Option::is_none))
            .fold(FactSet::EMPTY, |set, f| set.union(FactSet::one(*f)));
        out = out.union(if inputs.is_empty() {
            FactSet::one(fact)
        } else {
            inputs
        });
    }
    out
}

fn both(a: Outcome3, b: Outcome3) -> Result<(Val, Val), Unknown> {
    match (a, b) {
        (Ok(x), Ok(y)) => Ok((x, y)),
        (Err(x), Err(y)) => Err(x.union(y)),
        (Err(x), _) | (_, Err(x)) => Err(x),
    }
}

/// `a <op> b` for two values of one type; `None` for values of different types.
pub fn compare_values(op: Cmp, a: Val, b: Val) -> Option<bool> {
    Some(test(op, compare(a, b)?))
}

/// Whether an ordering satisfies a comparison operator.
fn test(op: Cmp, ord: Ordering) -> bool {
    match op {
        Cmp::Eq => ord == Ordering::Equal,
        Cmp::Ne => ord != Ordering::Equal,
        Cmp::Lt => ord == Ordering::Less,
        Cmp::Le => ord != Ordering::Greater,
        Cmp::Gt => ord == Ordering::Greater,
        Cmp::Ge => ord != Ordering::Less,
    }
}

/// A value against a precomputed constant: one `i128` compare when the
/// constant is exact at the value's scale.
#[inline]
fn cmp_const(v: Decimal, c: &crate::check::NumConst) -> Ordering {
    let scale = v.scale();
    match c.by_scale.get(scale as usize) {
        Some(m) if c.exact_at & (1 << scale) != 0 => v.mantissa().cmp(m),
        _ => cmp_decimal(v, c.exact),
    }
}

fn compare(a: Val, b: Val) -> Option<Ordering> {
    match (a, b) {
        (Val::Num(x), Val::Num(y)) => Some(cmp_decimal(x, y)),
        (Val::Date(x), Val::Date(y)) => Some(x.cmp(&y)),
        (Val::Enum(x), Val::Enum(y)) => Some(x.cmp(&y)),
        (Val::Bool(x), Val::Bool(y)) => Some(x.cmp(&y)),
        _ => None,
    }
}

/// Whether a finding is a violation or could not be evaluated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// The rule's condition holds.
    Violation,
    /// The rule needs facts the regimen does not give.
    Unevaluated,
}

impl Kind {
    /// The name used in JSON output.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Violation => "violation",
            Kind::Unevaluated => "unevaluated",
        }
    }
}

/// One rule's finding on one regimen (and phase).
#[derive(Clone, Debug)]
pub struct Finding<'r> {
    /// The rule.
    pub rule: &'r Rule,
    /// The rule's citation under the profile checked.
    pub citation: &'r Citation,
    /// Violation or unevaluated.
    pub kind: Kind,
    /// Effective severity (an unevaluated finding is a warning, an error under `--strict`).
    pub severity: Severity,
    /// 1-based phase for per-phase rules.
    pub phase: Option<usize>,
    /// For unevaluated findings: the facts that were missing.
    pub missing: FactSet,
    /// The facts there are, to show values and name what is missing.
    pub vocabulary: &'r Vocabulary,
}

impl Finding<'_> {
    /// The row the finding was evaluated on.
    pub fn row(&self) -> usize {
        self.phase.unwrap_or(0)
    }

    /// The finding's message, with computed values.
    pub fn message(&self, regimen: &Regimen) -> String {
        if self.kind == Kind::Unevaluated {
            return unevaluated_message(self.rule, self.missing, self.vocabulary);
        }
        let row = At::of(regimen, self.row()).or_else(|| At::of(regimen, 0));
        let mut out = String::with_capacity(128);
        for part in &self.rule.message {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Value(typed) => match row.map(|r| eval_at(&typed.code, r)) {
                    Some(Ok(v)) => {
                        show_into(v, typed.ty, typed.unit.as_ref(), self.vocabulary, &mut out);
                        if let (Val::Enum(_), Type::Enum(fact)) = (v, typed.ty) {
                            self.add_written(regimen, fact, v, &mut out);
                        }
                    }
                    _ => out.push_str("unknown"),
                },
            }
        }
        out
    }

    /// The present facts the rule read, shown with their units, by fact name.
    pub fn values(&self, regimen: &Regimen) -> Vec<(&str, String)> {
        let Some(row) = regimen.rows.get(self.row()) else {
            return Vec::new();
        };
        let vocabulary = self.vocabulary;
        self.rule
            .reads
            .iter()
            .filter_map(|&f| {
                let v = row.get(f.index()).copied().flatten()?;
                let path = vocabulary.info(f).path.as_str();
                let name = path.rsplit('.').next().unwrap_or(path);
                let mut shown = vocabulary.show(f, v);
                self.add_written(regimen, f, v, &mut shown);
                Some((name, shown))
            })
            .collect()
    }

    /// After an open enum's `other` (an indication no pack names), the
    /// word as the regimen wrote it: `other (hip_replacement)`, not a bare
    /// `other` the prescriber never wrote.
    fn add_written(&self, regimen: &Regimen, fact: Fact, v: Val, out: &mut String) {
        let info = self.vocabulary.info(fact);
        if !info.open || v != Val::Enum(info.value_index("other").unwrap_or(u8::MAX)) {
            return;
        }
        let written = regimen
            .spans
            .get(0)
            .and_then(|r| r.get(fact.index()).copied().flatten())
            .zip(regimen.source.as_ref())
            .map(|(span, source)| source.slice(span).trim().trim_matches(['"', '\'']));
        if let Some(text) = written.filter(|t| !t.is_empty() && *t != "other") {
            out.push_str(" (");
            out.push_str(&crate::diagnostic::excerpt(text));
            out.push(')');
        }
    }
}

fn unevaluated_message(rule: &Rule, missing: FactSet, vocabulary: &Vocabulary) -> String {
    if missing.0 & ARITH.0 != 0 {
        return format!(
            "cannot check {}: a value is out of range",
            rule.title.to_lowercase()
        );
    }
    let names: Vec<&str> = vocabulary
        .ordered(missing)
        .map(|f| vocabulary.info(f).path.as_str())
        .collect();
    let verb = if names.len() == 1 { "is" } else { "are" };
    format!(
        "not evaluated: {} {verb} missing, so \"{}\" cannot be checked",
        names.join(", "),
        rule.title
    )
}

/// Appends a value, in `unit` when it has one, to `out`.
fn show_into(
    v: Val,
    ty: Type,
    unit: Option<&units::Unit>,
    vocabulary: &Vocabulary,
    out: &mut String,
) {
    match (v, ty) {
        (Val::Num(n), _) => match unit {
            Some(u) => units::write_in(n, u, out),
            None => units::write_number(n, out),
        },
        (Val::Bool(b), _) => out.push_str(if b { "true" } else { "false" }),
        (Val::Enum(i), Type::Enum(fact)) => out.push_str(vocabulary.info(fact).value_name(i)),
        (Val::Enum(i), _) => out.push_str(&i.to_string()),
        (Val::Date(d), _) => out.push_str(&d.to_string()),
    }
}

/// The verdict on one regimen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verdict {
    /// No findings above info.
    Pass,
    /// Warnings only.
    Warn,
    /// At least one error.
    Fail,
    /// The regimen could not be read.
    Invalid,
}

impl Verdict {
    /// The name used in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Warn => "warn",
            Verdict::Fail => "fail",
            Verdict::Invalid => "invalid",
        }
    }
}

/// Everything rxlint concluded about one regimen.
#[derive(Clone, Debug)]
pub struct Outcome<'r> {
    /// The regimen.
    pub regimen: Regimen,
    /// The canonical drug its name matched, if any.
    pub drug: Option<&'r str>,
    /// Problems with the input, including an unknown drug.
    pub problems: Vec<InputProblem>,
    /// Rule findings (empty for an invalid regimen).
    pub findings: Vec<Finding<'r>>,
    /// The verdict.
    pub verdict: Verdict,
}

/// The rules of one profile, ready to evaluate any number of regimens.
#[derive(Debug)]
pub struct Engine<'r> {
    profile: String,
    strict: bool,
    drugs: Vec<DrugRules<'r>>,
    vocabulary: &'r Vocabulary,
}

#[derive(Debug)]
struct DrugRules<'r> {
    drug: &'r str,
    /// The generic and brand names (lowercase) that select the generic rules.
    names: Vec<&'r str>,
    /// The rule lists: 0 is the generic rules, then one per product.
    variants: Vec<Variant<'r>>,
}

/// One rule list of a drug, with what the engine adds to it: the coverage
/// checks of its packs and the products' fixed facts.
#[derive(Debug)]
struct Variant<'r> {
    /// The product names (lowercase) that select it; empty for the generic rules.
    names: Vec<&'r str>,
    /// The facts the product fixes.
    fixes: &'r [(Fact, Val)],
    /// The rules.
    rules: Vec<Compiled<'r>>,
    /// One `coverage.not-covered` rule per pack in force, when every pack
    /// in force declares what it covers; a regimen is covered when any
    /// one of them does not fire. Empty: every regimen is covered.
    coverage: Vec<Compiled<'r>>,
    /// Reported when no rule applied; `None` when a rule without a `when`
    /// always applies.
    nothing_applied: Option<Compiled<'r>>,
    /// Reported on every regimen: a product named under a profile its pack
    /// is not in.
    notice: Option<Compiled<'r>>,
}

/// Which rules apply to a regimen (from [`Engine::select`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Selection {
    drug: usize,
    variant: usize,
}

/// A rule with its compiled program.
#[derive(Debug)]
struct Compiled<'r> {
    rule: &'r Rule,
    fires: Program,
    /// Its `when`, on its own: whether the rule applied at all.
    applies: Option<Program>,
    /// Its citation under the engine's profile.
    citation: &'r Citation,
    /// The first row it is evaluated on (see [`Rule::first_row`]), worked
    /// out once: it walks the rule's expressions.
    first_row: usize,
}

impl<'r> Compiled<'r> {
    fn new(rule: &'r Rule, profile: &str) -> Compiled<'r> {
        Compiled {
            first_row: rule.first_row(),
            rule,
            fires: Program::fires(rule),
            applies: rule.when.as_ref().map(|w| Program::condition(&w.code)),
            citation: rule.citation_in(profile),
        }
    }

    /// Whether the rule applied to the regimen: its `when` was not false
    /// on the course (or on some phase, for a phase rule).
    fn applied(&self, regimen: &Regimen) -> bool {
        let Some(applies) = &self.applies else {
            return true;
        };
        match self.rule.scope {
            Scope::Course => applies.run(regimen.course()) != Tri::F,
            Scope::Phase => (self.first_row..regimen.rows.len())
                .filter_map(|i| At::of(regimen, i))
                .any(|at| applies.run_at(at) != Tri::F),
        }
    }
}

impl<'r> Variant<'r> {
    /// The rule list `rules`, drawn from `packs` (the packs in force for
    /// it, base packs first), for `names`.
    fn new(
        names: Vec<&'r str>,
        fixes: &'r [(Fact, Val)],
        rules: Vec<Compiled<'r>>,
        packs: &[&'r Pack],
        profile: &str,
    ) -> Variant<'r> {
        let coverage = if packs.iter().all(|p| p.coverage.outside.is_some()) {
            packs
                .iter()
                .filter_map(|p| p.coverage.outside.as_ref())
                .map(|r| Compiled::new(r, profile))
                .collect()
        } else {
            Vec::new()
        };
        let nothing_applied = rules
            .iter()
            .all(|c| c.applies.is_some())
            .then(|| {
                packs
                    .first()
                    .map(|p| Compiled::new(&p.coverage.nothing_applied, profile))
            })
            .flatten();
        Variant {
            names,
            fixes,
            rules,
            coverage,
            nothing_applied,
            notice: None,
        }
    }
}

fn in_profile(pack: &Pack, profile: &str) -> bool {
    pack.profiles.is_empty() || pack.profiles.iter().any(|p| p == profile)
}

impl<'r> Engine<'r> {
    /// Selects the rules of `profile`. Fails when no pack names the profile.
    pub fn new(set: &'r RuleSet, profile: &str, strict: bool) -> Result<Engine<'r>, String> {
        let profiles = set.profiles();
        if !profiles.is_empty() && !profiles.iter().any(|p| p == profile) {
            return Err(format!(
                "unknown profile `{profile}`{}; the rules define: {}",
                suggest::did_you_mean(profile, profiles.iter().map(String::as_str)),
                profiles.join(", ")
            ));
        }
        // The base packs of each drug: names, generic rules, packs in force.
        let mut drugs: Vec<(DrugRules<'r>, Vec<&'r Rule>, Vec<&'r Pack>)> = Vec::new();
        for pack in set.packs.iter().filter(|p| !p.is_product_pack()) {
            let i = match drugs.iter().position(|(d, _, _)| d.drug == pack.drug) {
                Some(i) => i,
                None => {
                    drugs.push((
                        DrugRules {
                            drug: &pack.drug,
                            names: vec![&pack.drug],
                            variants: Vec::new(),
                        },
                        Vec::new(),
                        Vec::new(),
                    ));
                    drugs.len() - 1
                }
            };
            let (entry, rules, packs) = &mut drugs[i];
            entry.names.extend(pack.aliases.iter().map(String::as_str));
            rules.extend(pack.rules.iter().filter(|r| r.in_profile(profile)));
            if in_profile(pack, profile) {
                packs.push(pack);
            }
        }
        let compile = |rules: &[&'r Rule]| -> Vec<Compiled<'r>> {
            rules.iter().map(|r| Compiled::new(r, profile)).collect()
        };
        for (entry, rules, packs) in &mut drugs {
            entry.variants.push(Variant::new(
                Vec::new(),
                &[],
                compile(rules),
                packs,
                profile,
            ));
            // Products a base pack names: its rules, with the facts they fix.
            for pack in packs.iter() {
                for product in &pack.products {
                    entry.variants.push(Variant::new(
                        vec![&product.name],
                        &product.fixes,
                        compile(rules),
                        packs,
                        profile,
                    ));
                }
            }
        }
        for pack in set.packs.iter().filter(|p| p.is_product_pack()) {
            let Some((entry, rules, packs)) =
                drugs.iter_mut().find(|(d, _, _)| d.drug == pack.drug)
            else {
                continue;
            };
            for product in &pack.products {
                let names = vec![product.name.as_str()];
                let variant = if in_profile(pack, profile) {
                    let own: Vec<&Rule> = pack
                        .rules
                        .iter()
                        .filter(|r| r.in_profile(profile))
                        .collect();
                    let mut list: Vec<&'r Rule> = rules
                        .iter()
                        .copied()
                        .filter(|r| {
                            !pack.remove.contains(&r.id) && !own.iter().any(|o| o.id == r.id)
                        })
                        .collect();
                    list.extend(own);
                    let mut in_force = packs.clone();
                    in_force.push(pack);
                    Variant::new(names, &product.fixes, compile(&list), &in_force, profile)
                } else {
                    // Named under a profile its label is not in: the generic
                    // rules, and a warning that they are not its own.
                    let mut v = Variant::new(names, &product.fixes, compile(rules), packs, profile);
                    v.notice = pack
                        .coverage
                        .elsewhere
                        .as_ref()
                        .map(|r| Compiled::new(r, profile));
                    v
                };
                entry.variants.push(variant);
            }
        }
        Ok(Engine {
            profile: profile.to_owned(),
            strict,
            drugs: drugs.into_iter().map(|(d, _, _)| d).collect(),
            vocabulary: &set.vocabulary,
        })
    }

    /// The vocabulary the rules and the readers share.
    pub fn vocabulary(&self) -> &'r Vocabulary {
        self.vocabulary
    }

    /// The profile.
    pub fn profile(&self) -> &str {
        &self.profile
    }

    /// Evaluates one regimen.
    pub fn evaluate(&self, mut regimen: Regimen) -> Outcome<'r> {
        let mut problems = std::mem::take(&mut regimen.problems);
        let selection = self.select(&regimen);
        let matched = selection.map(|s| s.drug);
        if let (Some(name), None) = (&regimen.drug, matched) {
            problems.push(self.unknown_drug(&regimen, &name.value.to_lowercase()));
        }
        if let Some(selection) = selection {
            self.fix(selection, &mut regimen, &mut problems);
        }
        let drug = matched.map(|i| &self.drugs[i]);
        if let Some(d) = drug
            && d.variants.first().is_none_or(|v| v.rules.is_empty())
        {
            problems.push(InputProblem {
                code: InputCode::UnknownDrug,
                field: "drug".into(),
                message: format!("no rules for {} in profile `{}`", d.drug, self.profile),
                span: regimen.drug.as_ref().map(|d| d.span),
                label: "no rules in this profile".into(),
                help: None,
            });
        }
        let drug_name = drug.map(|d| d.drug);
        // A warning about the input (a repeated row) leaves the regimen
        // checked, and at least `warn`; any error makes it `invalid`.
        let readable = problems
            .iter()
            .all(|p| p.code.level() < crate::diagnostic::Level::Error);
        if !readable {
            regimen.problems.clone_from(&problems);
            return Outcome {
                regimen,
                drug: drug_name,
                problems,
                findings: Vec::new(),
                verdict: Verdict::Invalid,
            };
        }
        let mut findings = Vec::new();
        let mut verdict = match selection {
            Some(selection) => self.assess(selection, &regimen, &mut findings),
            None => Verdict::Pass,
        };
        if !problems.is_empty() {
            verdict = verdict.max(Verdict::Warn);
        }
        Outcome {
            regimen,
            drug: drug_name,
            problems,
            findings,
            verdict,
        }
    }

    /// The index of the drug a name (generic, brand or product, any case)
    /// stands for.
    pub fn drug_index(&self, name: &str) -> Option<usize> {
        let name = Name::new(name);
        self.drugs
            .iter()
            .position(|d| name.is_in(&d.names) || d.variants.iter().any(|v| name.is_in(&v.names)))
    }

    /// Which rule list applies to a regimen of drug `drug`: 0 for the
    /// generic rules, or the product its `product` (or its drug name)
    /// selects.
    fn variant(&self, drug: usize, regimen: &Regimen) -> usize {
        let Some(d) = self.drugs.get(drug) else {
            return 0;
        };
        for name in [regimen.product.as_ref(), regimen.drug.as_ref()]
            .into_iter()
            .flatten()
        {
            let name = Name::new(&name.value);
            if let Some(i) = d.variants.iter().position(|v| name.is_in(&v.names)) {
                return i;
            }
        }
        0
    }

    /// Sets the facts the selected product fixes on every row; a regimen
    /// that states another value is contradicting its product.
    fn fix(&self, selection: Selection, regimen: &mut Regimen, problems: &mut Vec<InputProblem>) {
        let Some(v) = self
            .drugs
            .get(selection.drug)
            .and_then(|d| d.variants.get(selection.variant))
        else {
            return;
        };
        for &(fact, value) in v.fixes {
            match regimen.get(0, fact) {
                Some(given) if given != value => {
                    let vocabulary = self.vocabulary;
                    let path = vocabulary.info(fact).path.as_str();
                    let product = [regimen.product.as_ref(), regimen.drug.as_ref()]
                        .into_iter()
                        .flatten()
                        .find(|n| Name::new(&n.value).is_in(&v.names))
                        .map_or_else(String::new, |n| n.value.clone());
                    problems.push(InputProblem {
                        code: InputCode::ConflictingFields,
                        field: path.trim_start_matches("regimen.").into(),
                        message: format!(
                            "{product} is {} {}, but the regimen says {}",
                            path.rsplit('.').next().unwrap_or(path).replace('_', " "),
                            vocabulary.show(fact, value),
                            vocabulary.show(fact, given)
                        ),
                        span: regimen
                            .spans
                            .first()
                            .and_then(|s| s.get(fact.index()).copied().flatten()),
                        label: "contradicts the product".into(),
                        help: Some(format!(
                            "remove `{}` or name the product the regimen is for",
                            path.trim_start_matches("regimen.")
                        )),
                    });
                }
                _ => {
                    for row in regimen.rows.iter_mut() {
                        if let Some(cell) = row.get_mut(fact.index()) {
                            *cell = Some(value);
                        }
                    }
                }
            }
        }
    }

    /// The rule list a regimen selects: its drug (generic, brand or product
    /// name, any case) and, within it, the product pack if one applies.
    /// `None` for a drug without rules. This is the only step that reads a
    /// name; [`Engine::assess`] then reads facts by index alone.
    pub fn select(&self, regimen: &Regimen) -> Option<Selection> {
        let drug = self.drug_index(&regimen.drug.as_ref()?.value)?;
        Some(Selection {
            drug,
            variant: self.variant(drug, regimen),
        })
    }

    /// Evaluates the selected rules on a valid regimen, appending the
    /// findings to `findings`; returns the verdict. Reads facts by index and
    /// allocates nothing once `findings` has room, which is what lets one
    /// thread check millions of regimens.
    pub fn assess(
        &self,
        selection: Selection,
        regimen: &Regimen,
        findings: &mut Vec<Finding<'r>>,
    ) -> Verdict {
        let mut verdict = Verdict::Pass;
        let Some(v) = self
            .drugs
            .get(selection.drug)
            .and_then(|d| d.variants.get(selection.variant))
        else {
            return verdict;
        };
        let start = findings.len();
        for rule in &v.rules {
            self.apply(rule, regimen, findings);
        }
        self.cover(v, regimen, findings);
        for f in findings.get(start..).unwrap_or_default() {
            verdict = verdict.max(match f.severity {
                Severity::Error => Verdict::Fail,
                Severity::Warning => Verdict::Warn,
                Severity::Info => Verdict::Pass,
            });
        }
        verdict
    }

    /// Every name a regimen's drug may be written as: generic, brand, product.
    fn names(&self) -> impl Iterator<Item = &'r str> + '_ {
        self.drugs.iter().flat_map(|d| {
            d.names
                .iter()
                .chain(d.variants.iter().flat_map(|v| v.names.iter()))
                .copied()
        })
    }

    fn unknown_drug(&self, regimen: &Regimen, name: &str) -> InputProblem {
        let help = match suggest::closest(name, self.names()) {
            Some(s) => format!("did you mean `{s}`?"),
            None => format!(
                "rxlint has rules for: {}",
                self.drugs
                    .iter()
                    .map(|d| d.drug)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        InputProblem {
            code: InputCode::UnknownDrug,
            field: "drug".into(),
            message: format!(
                "no rule pack covers the drug `{}`{}",
                crate::diagnostic::excerpt(
                    regimen.drug.as_ref().map_or(name, |d| d.value.as_str())
                ),
                suggest::did_you_mean(name, self.names())
            ),
            span: regimen.drug.as_ref().map(|d| d.span),
            label: "unknown drug".into(),
            help: Some(help),
        }
    }

    /// The coverage findings: a product without its own rules here, a
    /// regimen outside what the packs in force cover (or one whose coverage
    /// turns on a missing fact), a regimen no rule applied to. Never a
    /// bare pass for what the rules did not speak to.
    fn cover(&self, v: &Variant<'r>, regimen: &Regimen, out: &mut Vec<Finding<'r>>) {
        let course = At::row(regimen.course());
        if let Some(notice) = &v.notice {
            out.extend(self.judge(notice, course, None));
        }
        // Covered when any pack in force covers it (Kleene "or" of the
        // packs' coverage, so "and" of their `not-covered` rules).
        let mut unknown: Option<&Compiled<'r>> = None;
        let mut outside = !v.coverage.is_empty();
        for c in &v.coverage {
            match c.fires.run_at(course) {
                Tri::F => {
                    outside = false;
                    unknown = None;
                    break;
                }
                Tri::T => {}
                _ => unknown = unknown.or(Some(c)),
            }
        }
        match (unknown, v.coverage.first()) {
            (Some(c), _) => out.push(self.unevaluated(c, course, None)),
            (None, Some(first)) if outside => out.extend(self.judge(first, course, None)),
            _ => {}
        }
        if let Some(nothing) = &v.nothing_applied
            && !v.rules.iter().any(|c| c.applied(regimen))
        {
            out.extend(self.judge(nothing, course, None));
        }
    }

    fn apply(&self, compiled: &Compiled<'r>, regimen: &Regimen, out: &mut Vec<Finding<'r>>) {
        match compiled.rule.scope {
            Scope::Course => {
                if let Some(f) = self.judge(compiled, At::row(regimen.course()), None) {
                    out.push(f);
                }
            }
            Scope::Phase => {
                for i in compiled.first_row..regimen.rows.len() {
                    if let Some(at) = At::of(regimen, i)
                        && let Some(f) = self.judge(compiled, at, Some(i))
                    {
                        // A rule that turns only on facts that do not apply
                        // to this phase (the interval of a single
                        // administration) does not apply to it.
                        if f.kind == Kind::Unevaluated
                            && !regimen.not_applicable.is_empty()
                            && self.unknown_only_through(compiled, at, regimen.not_applicable(i))
                        {
                            continue;
                        }
                        out.push(f);
                    }
                }
            }
        }
    }

    /// fires = when and violation and not unless, in Kleene logic.
    #[inline]
    fn judge(
        &self,
        compiled: &Compiled<'r>,
        row: At<'_>,
        phase: Option<usize>,
    ) -> Option<Finding<'r>> {
        let rule = compiled.rule;
        match compiled.fires.run_at(row) {
            Tri::F => None,
            Tri::T => Some(Finding {
                rule,
                citation: compiled.citation,
                kind: Kind::Violation,
                severity: rule.severity,
                phase,
                missing: FactSet::EMPTY,
                vocabulary: self.vocabulary,
            }),
            _ => Some(self.unevaluated(compiled, row, phase)),
        }
    }

    /// Whether every fact the rule's unknown verdict turns on is in `na`.
    fn unknown_only_through(&self, compiled: &Compiled<'r>, row: At<'_>, na: FactSet) -> bool {
        let rule = compiled.rule;
        [
            rule.when.as_ref(),
            Some(&rule.violation),
            rule.unless.as_ref(),
        ]
        .into_iter()
        .flatten()
        .filter_map(|c| eval_at(&c.code, row).err())
        .all(|m| m.0 & !na.0 == 0)
    }

    /// The finding for a rule whose verdict depends on missing facts: the
    /// tree evaluator says which.
    #[cold]
    fn unevaluated(
        &self,
        compiled: &Compiled<'r>,
        row: At<'_>,
        phase: Option<usize>,
    ) -> Finding<'r> {
        let rule = compiled.rule;
        // The facts missing from each condition whose truth is unknown (the
        // tree evaluator fails exactly where `truth` is unknown).
        let mut missing = FactSet::EMPTY;
        let conditions = [
            rule.when.as_ref(),
            Some(&rule.violation),
            rule.unless.as_ref(),
        ];
        for c in conditions.into_iter().flatten() {
            if let Err(m) = eval_at(&c.code, row) {
                missing = missing.union(m);
            }
        }
        let severity = if self.strict {
            Severity::Error
        } else {
            Severity::Warning
        };
        Finding {
            rule,
            citation: compiled.citation,
            kind: Kind::Unevaluated,
            severity,
            phase,
            missing: roots(missing, row.row, self.vocabulary),
            vocabulary: self.vocabulary,
        }
    }
}

/// A drug or product name as written, matched against the lowercase names
/// of the rule packs in any case. An ASCII name (nearly all) is compared in
/// place; only a non-ASCII one is lowercased, into a new string.
enum Name<'a> {
    Ascii(&'a str),
    Lowered(String),
}

impl<'a> Name<'a> {
    fn new(written: &'a str) -> Name<'a> {
        let trimmed = written.trimmed();
        if trimmed.is_ascii() {
            Name::Ascii(trimmed)
        } else {
            Name::Lowered(trimmed.to_lowercase())
        }
    }

    /// Whether the name is one of `names` (all lowercase).
    fn is_in(&self, names: &[&str]) -> bool {
        match self {
            // The lowercase of an ASCII name is ASCII, so it can only equal
            // an ASCII name, which `eq_ignore_ascii_case` compares exactly.
            Name::Ascii(n) => names.iter().any(|m| m.eq_ignore_ascii_case(n)),
            Name::Lowered(n) => names.contains(&n.as_str()),
        }
    }
}

#[cfg(test)]
mod cmp_tests {
    use super::cmp_decimal;
    use rust_decimal::Decimal;
    use std::cmp::Ordering;
    use std::str::FromStr;

    #[test]
    fn agrees_with_rust_decimal() {
        let values = [
            "0",
            "-0",
            "2",
            "2.0",
            "1.9999999999999999999999999999",
            "2.0000000000000000000000000001",
            "2.2857142857142857142857142857",
            "-3.5",
            "79228162514264337593543950335",
            "-79228162514264337593543950335",
            "0.0000000000000000000000000001",
            "1e-28",
            "120",
            "119.99",
            "0.5",
            "0.50",
        ];
        let parsed: Vec<Decimal> = values
            .iter()
            .filter_map(|v| {
                Decimal::from_str(v)
                    .or_else(|_| Decimal::from_scientific(v))
                    .ok()
            })
            .collect();
        for a in &parsed {
            for b in &parsed {
                assert_eq!(cmp_decimal(*a, *b), a.cmp(b), "{a} vs {b}");
            }
        }
        assert_eq!(
            cmp_decimal(
                Decimal::from(2),
                Decimal::from_str("2.00").unwrap_or_default()
            ),
            Ordering::Equal
        );
    }
}

#[cfg(test)]
mod name_tests {
    use super::Engine;
    use crate::rules::RuleSet;

    #[test]
    fn drug_names_match_in_any_case_and_script() {
        let set = RuleSet::builtin().unwrap_or_else(|e| panic!("{e:?}"));
        let engine = Engine::new(&set, "us", false).unwrap_or_else(|e| panic!("{e}"));
        let iso = engine.drug_index("isotretinoin");
        assert!(iso.is_some());
        for name in [
            "ISOTRETINOIN",
            "  Isotretinoin ",
            "accutane",
            "ACCUTANE",
            "Absorica LD",
        ] {
            assert_eq!(engine.drug_index(name), iso, "{name}");
        }
        // Non-ASCII input takes the lowercasing path, and matches nothing
        // that only looks alike.
        assert_eq!(engine.drug_index("ISOTRETİNOIN"), None);
        assert_eq!(engine.drug_index("isotretinoin\u{301}"), None);
        assert_eq!(engine.drug_index("isotretinoi"), None);
        assert_eq!(engine.drug_index(""), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::{Env, check};
    use crate::syntax::parse_expression;

    /// Facts of a row, by fact.
    type Facts = Vec<(Fact, Option<Val>)>;

    fn mg(n: i64) -> Option<Val> {
        Some(Val::Num(Decimal::from(n)))
    }

    /// `text` evaluated on a phase with the given facts and a previous phase
    /// with `before` (none when `None`); the value shown in its unit, or
    /// the missing facts' paths.
    fn value(
        text: &str,
        now: &[(Fact, Option<Val>)],
        before: Option<&[(Fact, Option<Val>)]>,
    ) -> String {
        let vocabulary = Vocabulary::shipped();
        let expr = parse_expression(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
        let env = Env {
            phase: true,
            vocabulary: &vocabulary,
        };
        let mut problems = Vec::new();
        let typed = check(&expr, env, &mut problems).unwrap_or_else(|| panic!("{problems:?}"));
        let fill = |facts: &[(Fact, Option<Val>)]| {
            let mut row = vec![None; vocabulary.len()];
            for (f, v) in facts {
                row[f.index()] = *v;
            }
            row
        };
        let row = fill(now);
        let previous = before.map(fill);
        let at = At {
            row: &row,
            previous: previous.as_deref(),
        };
        let tree = eval_at(&typed.code, at);
        if typed.ty == Type::Bool {
            // The compiled program and `truth` agree with the tree.
            let program = Program::condition(&typed.code).run_at(at).known();
            assert_eq!(program, truth_at(&typed.code, at), "{text}");
            assert_eq!(program, tree.ok().map(|v| v == Val::Bool(true)), "{text}");
        }
        match tree {
            Ok(v) => {
                let mut out = String::new();
                show_into(v, typed.ty, typed.unit.as_ref(), &vocabulary, &mut out);
                out
            }
            Err(m) => format!(
                "unknown: {}",
                vocabulary
                    .ordered(m)
                    .map(|f| vocabulary.info(f).path.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }

    #[test]
    fn min_max_and_if_are_exact_and_honest_about_unknowns() {
        let w = |n: i64| (Fact::WEIGHT, Some(Val::Num(Decimal::from(n))));
        let dose = |n: i64| (Fact::DOSE, mg(n));
        let cases: &[(&str, Facts, &str)] = &[
            (
                "min(1000 mg, 15 mg/kg * patient.weight)",
                vec![w(80)],
                "1000 mg",
            ),
            (
                "min(1000 mg, 15 mg/kg * patient.weight)",
                vec![w(60)],
                "900 mg",
            ),
            (
                "max(1000 mg, 15 mg/kg * patient.weight)",
                vec![w(60)],
                "1000 mg",
            ),
            ("min(1 g, 999.9999 mg) < 1000 mg", vec![], "true"),
            // An unknown side leaves min and max unknown, even where one
            // side alone would settle a comparison.
            (
                "min(1000 mg, 15 mg/kg * patient.weight)",
                vec![],
                "unknown: patient.weight",
            ),
            (
                "phase.dose > min(0 mg, 15 mg/kg * patient.weight)",
                vec![dose(5)],
                "unknown: patient.weight",
            ),
            (
                "max(phase.dose, 15 mg/kg * patient.weight)",
                vec![],
                "unknown: patient.weight, phase.dose",
            ),
            (
                "phase.dose > min(1000 mg, 15 mg/kg * patient.weight)",
                vec![dose(901), w(60)],
                "true",
            ),
            (
                "phase.dose > min(1000 mg, 15 mg/kg * patient.weight)",
                vec![dose(900), w(60)],
                "false",
            ),
            // `if`: the branch the condition picks; an unknown condition
            // is unknown unless both branches are the same known value.
            ("if phase.dose > 500 mg then 1 else 2", vec![dose(501)], "1"),
            ("if phase.dose > 500 mg then 1 else 2", vec![dose(500)], "2"),
            (
                "if phase.dose > 500 mg then 1 else phase.times_per_day",
                vec![dose(501)],
                "1",
            ),
            (
                "if phase.dose > 500 mg then 1 else 2",
                vec![],
                "unknown: phase.dose",
            ),
            ("if phase.dose > 500 mg then 2 else 2.0", vec![], "2"),
            (
                "if phase.dose > 500 mg then 1 else phase.times_per_day",
                vec![],
                "unknown: phase.dose, phase.times_per_day",
            ),
            (
                "if phase.dose > 500 mg then 1 kg else patient.weight",
                vec![w(1)],
                "1 kg",
            ),
            (
                "if phase.dose > 500 mg then 1 kg else patient.weight",
                vec![w(2)],
                "unknown: phase.dose",
            ),
            (
                "if phase.dose > 500 mg then true else phase.times_per_day > 1",
                vec![dose(600)],
                "true",
            ),
            (
                "if phase.dose > 500 mg then true else phase.times_per_day > 1",
                vec![dose(400)],
                "unknown: phase.times_per_day",
            ),
        ];
        for (text, now, want) in cases {
            assert_eq!(value(text, now, None), *want, "{text}");
        }
    }

    #[test]
    fn previous_reads_the_phase_before() {
        let daily = |n: i64| (Fact::DAILY_DOSE, mg(n));
        let step = "phase.daily_dose - previous(phase.daily_dose)";
        assert_eq!(
            value(step, &[daily(1500)], Some(&[daily(1000)])),
            "500 mg/day"
        );
        assert_eq!(
            value(
                &format!("{step} > 500 mg/day"),
                &[daily(1500)],
                Some(&[daily(1000)])
            ),
            "false"
        );
        assert_eq!(
            value(
                &format!("{step} > 500 mg/day"),
                &[daily(1501)],
                Some(&[daily(1000)])
            ),
            "true"
        );
        // Missing in the phase before: unknown, naming the fact.
        assert_eq!(
            value(step, &[daily(1500)], Some(&[])),
            "unknown: phase.daily_dose"
        );
        // No phase before (the engine never evaluates such a rule there).
        assert_eq!(
            value(step, &[daily(1500)], None),
            "unknown: phase.daily_dose"
        );
    }

    /// An arithmetic failure is never read as a missing fact, nor a
    /// missing fact as an arithmetic failure, however many facts a
    /// vocabulary declares.
    #[test]
    fn arithmetic_failure_is_no_fact() {
        for index in 0..Fact::MAX {
            let fact = Fact::from_index(index);
            assert!(
                !ARITH.contains(fact),
                "fact {index} shares the bit of ARITH"
            );
        }
    }
}
