//! Syntax tree to typed, compiled expression.
//!
//! Takes an [`Expr`] and gives a [`Code`] tree in which fact paths are
//! resolved to [`Fact`] indices, enum names to their index, and every
//! quantity literal converted to canonical units, so that evaluating a rule
//! never looks up a string or converts a unit. Every type and unit error is
//! collected (the checker keeps going after the first) with its span.

use rust_decimal::Decimal;

use crate::codes::RuleCode;
use crate::date::Date;
use crate::facts::{Fact, FactSet, Scope, Type, Val};
use crate::source::Span;
use crate::suggest;
use crate::syntax::{Arith, Cmp, Expr, ExprKind, Logic, UnOp};
use crate::units::{Dim, Unit};
use crate::vocabulary::Vocabulary;

/// A compiled expression, ready to evaluate.
#[derive(Clone, Debug, PartialEq)]
pub enum Code {
    /// A constant.
    Const(Val),
    /// The value of a fact (unknown when missing).
    Fact(Fact),
    /// Whether a fact is present.
    Present(Fact),
    /// Kleene negation.
    Not(Box<Code>),
    /// Kleene conjunction.
    And(Box<Code>, Box<Code>),
    /// Kleene disjunction.
    Or(Box<Code>, Box<Code>),
    /// The left value, or the right when the left is unknown.
    Default(Box<Code>, Box<Code>),
    /// A comparison of two numbers, dates, enum values or booleans.
    Cmp(Cmp, Box<Code>, Box<Code>),
    /// `x in lo ..= hi`.
    InRange(Box<Code>, Box<Code>, Box<Code>),
    /// Exact decimal `+ - * /`.
    Arith(Arith, Box<Code>, Box<Code>),
    /// Negation of a number.
    Neg(Box<Code>),
    /// Days from the right date to the left date.
    DaysBetween(Box<Code>, Box<Code>),
    /// A date moved by a number of days (negated when the flag is set).
    ShiftDate(Box<Code>, Box<Code>, bool),
    /// Fused `fact <op> const`; when the fact is missing, `if_missing`
    /// (folded from a surrounding `?? bool`), or unknown when `None`.
    FactCmp {
        /// The comparison.
        op: Cmp,
        /// The fact.
        fact: Fact,
        /// The constant.
        value: Val,
        /// The result for a missing fact.
        if_missing: Option<bool>,
    },
    /// Fused numeric `fact <op> const`, the commonest test of all: the
    /// constant is kept at every scale so that the comparison is one integer
    /// compare (see [`NumConst`]).
    NumCmp {
        /// The comparison.
        op: Cmp,
        /// The fact.
        fact: Fact,
        /// The constant.
        value: Box<NumConst>,
        /// The result for a missing fact.
        if_missing: Option<bool>,
    },
    /// Fused `fact ?? const`.
    FactOr(Fact, Val),
    /// Fused `fact in lo ..= hi` with constant bounds.
    FactInRange(Fact, Val, Val),
    /// The smaller of two numbers of one dimension.
    Min(Box<Code>, Box<Code>),
    /// The larger of two numbers of one dimension.
    Max(Box<Code>, Box<Code>),
    /// `if c then a else b`.
    If(Box<Code>, Box<Code>, Box<Code>),
    /// The value of a phase fact in the phase before the one evaluated.
    Previous(Fact),
}

impl Code {
    /// Every fact the code reads from the row it is evaluated on, left to
    /// right, once per occurrence: the one walk of the tree that the loader
    /// (the fact to underline) and the bound prober (what a bound reads,
    /// what can be solved for) share. A fact read from the previous phase
    /// is not among them (see [`Code::previous_facts`]): setting it is
    /// setting another row.
    pub fn facts(&self) -> Vec<Fact> {
        let mut out = Vec::new();
        self.push_facts(&mut out, false);
        out
    }

    /// Every fact the code reads from the previous phase, as
    /// [`Code::facts`] does for its own row.
    pub fn previous_facts(&self) -> Vec<Fact> {
        let mut out = Vec::new();
        self.push_facts(&mut out, true);
        out
    }

    fn push_facts(&self, out: &mut Vec<Fact>, previous: bool) {
        let mut here = |f: &Fact| {
            if !previous {
                out.push(*f);
            }
        };
        match self {
            Code::Fact(f)
            | Code::Present(f)
            | Code::FactOr(f, _)
            | Code::FactInRange(f, _, _)
            | Code::FactCmp { fact: f, .. }
            | Code::NumCmp { fact: f, .. } => here(f),
            Code::Previous(f) => {
                if previous {
                    out.push(*f);
                }
            }
            Code::Const(_) => {}
            Code::Not(a) | Code::Neg(a) => a.push_facts(out, previous),
            Code::And(a, b)
            | Code::Or(a, b)
            | Code::Default(a, b)
            | Code::Cmp(_, a, b)
            | Code::Arith(_, a, b)
            | Code::DaysBetween(a, b)
            | Code::ShiftDate(a, b, _)
            | Code::Min(a, b)
            | Code::Max(a, b) => {
                a.push_facts(out, previous);
                b.push_facts(out, previous);
            }
            Code::InRange(x, lo, hi) | Code::If(x, lo, hi) => {
                x.push_facts(out, previous);
                lo.push_facts(out, previous);
                hi.push_facts(out, previous);
            }
        }
    }

    /// Whether the code reads a fact of the previous phase.
    pub fn reads_previous(&self) -> bool {
        !self.previous_facts().is_empty()
    }

    /// How many times the code reads `fact` from the previous phase.
    pub fn previous_occurrences(&self, fact: Fact) -> usize {
        self.previous_facts()
            .into_iter()
            .filter(|f| *f == fact)
            .count()
    }

    /// How many times the code reads `fact`.
    pub fn occurrences(&self, fact: Fact) -> usize {
        self.facts().into_iter().filter(|f| *f == fact).count()
    }

    /// The set of facts the code reads.
    pub fn reads(&self) -> FactSet {
        self.facts()
            .into_iter()
            .fold(FactSet::EMPTY, |set, f| set.union(FactSet::one(f)))
    }
}

/// A checked expression: its code, its type and how to show its value.
#[derive(Clone, Debug)]
pub struct Typed {
    /// The compiled code.
    pub code: Code,
    /// The type.
    pub ty: Type,
    /// The unit to show a quantity in (the literal's own, or the fact's).
    pub unit: Option<Unit>,
    /// The facts the expression reads.
    pub facts: FactSet,
    /// A bare mass literal such as `40 kg`, which can stand for a body mass.
    mass_literal: bool,
}

/// A type or name error, relative to the expression text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// Stable code (`rules.unknown-fact`, `rules.unit-mismatch`, ...).
    pub code: RuleCode,
    /// One line saying what is wrong.
    pub message: String,
    /// Where.
    pub span: Span,
    /// The label under the span.
    pub label: String,
    /// How to fix it, when that is clear.
    pub help: Option<String>,
}

/// What an expression may refer to: its environment, set by the
/// [`Scope`] of the rule it belongs to.
#[derive(Clone, Copy, Debug)]
pub struct Env<'v> {
    /// Whether `phase.*` facts are available (rules with `scope: phase`).
    pub phase: bool,
    /// The facts there are.
    pub vocabulary: &'v Vocabulary,
}

/// Names of the functions the language has.
const FUNCTIONS: &[&str] = &["present", "min", "max", "previous"];

/// Checks and compiles an expression; `None` when it has errors, all of
/// which are pushed to `problems`.
pub fn check(expr: &Expr, env: Env<'_>, problems: &mut Vec<Problem>) -> Option<Typed> {
    let typed = Checker { env, problems }.expr(expr)?;
    Some(Typed {
        code: fuse(typed.code, env.vocabulary),
        ..typed
    })
}

/// Fuses the shapes rule files use most into single nodes, so that the
/// evaluator does one step where the tree had three. Semantics are
/// unchanged: `(a <op> c) ?? b` is `a <op> c` with `b` for a missing `a`.
pub fn fuse(code: Code, vocabulary: &Vocabulary) -> Code {
    specialise(fuse_shapes(code), vocabulary)
}

fn specialise(code: Code, vocabulary: &Vocabulary) -> Code {
    let b = |c: Box<Code>| Box::new(specialise(*c, vocabulary));
    match code {
        Code::FactCmp {
            op,
            fact,
            value,
            if_missing,
        } => typed_cmp(op, fact, value, if_missing),
        Code::Not(a) => negate(specialise(*a, vocabulary), vocabulary),
        Code::And(l, r) => Code::And(b(l), b(r)),
        Code::Or(l, r) => Code::Or(b(l), b(r)),
        Code::Default(l, r) => Code::Default(b(l), b(r)),
        // Only the `not`/`and`/`or`/`??` spine is walked; the rest stays as fused.
        other @ (Code::Const(_)
        | Code::Fact(_)
        | Code::Present(_)
        | Code::Cmp(..)
        | Code::InRange(..)
        | Code::Arith(..)
        | Code::Neg(_)
        | Code::DaysBetween(..)
        | Code::ShiftDate(..)
        | Code::NumCmp { .. }
        | Code::FactOr(..)
        | Code::FactInRange(..)
        | Code::Min(..)
        | Code::Max(..)
        | Code::If(..)
        | Code::Previous(_)) => other,
    }
}

/// `not code`, folded into a comparison where one can say it: `not (x < c)`
/// is `x >= c` (values of one type are totally ordered, and an unknown
/// stays unknown), `not b` for a boolean fact is `b == false`, and a known
/// result for a missing fact is negated with it.
fn negate(code: Code, vocabulary: &Vocabulary) -> Code {
    match code {
        Code::NumCmp {
            op,
            fact,
            value,
            if_missing,
        } => Code::NumCmp {
            op: op.negated(),
            fact,
            value,
            if_missing: if_missing.map(|b| !b),
        },
        Code::FactCmp {
            op,
            fact,
            value,
            if_missing,
        } => Code::FactCmp {
            op: op.negated(),
            fact,
            value,
            if_missing: if_missing.map(|b| !b),
        },
        Code::Fact(fact) if vocabulary.info(fact).ty == Type::Bool => Code::FactCmp {
            op: Cmp::Eq,
            fact,
            value: Val::Bool(false),
            if_missing: None,
        },
        Code::Const(Val::Bool(b)) => Code::Const(Val::Bool(!b)),
        Code::Not(a) => *a,
        other => Code::Not(Box::new(other)),
    }
}

fn fuse_shapes(code: Code) -> Code {
    let fuse = fuse_shapes;
    let b = |c: Box<Code>| Box::new(fuse_shapes(*c));
    match code {
        Code::Cmp(op, lhs, rhs) => match (fuse(*lhs), fuse(*rhs)) {
            (Code::Fact(fact), Code::Const(value)) => Code::FactCmp {
                op,
                fact,
                value,
                if_missing: None,
            },
            (Code::Const(value), Code::Fact(fact)) => Code::FactCmp {
                op: op.flipped(),
                fact,
                value,
                if_missing: None,
            },
            // `(fact ?? d) <op> c`: for a missing fact the answer is `d <op> c`, known now.
            (Code::FactOr(fact, d), Code::Const(value)) => {
                match crate::eval::compare_values(op, d, value) {
                    Some(known) => Code::FactCmp {
                        op,
                        fact,
                        value,
                        if_missing: Some(known),
                    },
                    None => Code::Cmp(
                        op,
                        Box::new(Code::FactOr(fact, d)),
                        Box::new(Code::Const(value)),
                    ),
                }
            }
            (l, r) => Code::Cmp(op, Box::new(l), Box::new(r)),
        },
        Code::Default(lhs, rhs) => match (fuse(*lhs), fuse(*rhs)) {
            (Code::Fact(fact), Code::Const(value)) => Code::FactOr(fact, value),
            (
                Code::FactCmp {
                    op,
                    fact,
                    value,
                    if_missing: None,
                },
                Code::Const(Val::Bool(d)),
            ) => Code::FactCmp {
                op,
                fact,
                value,
                if_missing: Some(d),
            },
            (l, r) => Code::Default(Box::new(l), Box::new(r)),
        },
        Code::InRange(x, lo, hi) => match (fuse(*x), fuse(*lo), fuse(*hi)) {
            (Code::Fact(fact), Code::Const(lo), Code::Const(hi)) => Code::FactInRange(fact, lo, hi),
            (x, lo, hi) => Code::InRange(Box::new(x), Box::new(lo), Box::new(hi)),
        },
        Code::Not(a) => Code::Not(b(a)),
        Code::Neg(a) => Code::Neg(b(a)),
        Code::And(l, r) => Code::And(b(l), b(r)),
        Code::Or(l, r) => Code::Or(b(l), b(r)),
        Code::Arith(op, l, r) => Code::Arith(op, b(l), b(r)),
        Code::DaysBetween(l, r) => Code::DaysBetween(b(l), b(r)),
        Code::ShiftDate(l, r, neg) => Code::ShiftDate(b(l), b(r), neg),
        Code::Min(l, r) => Code::Min(b(l), b(r)),
        Code::Max(l, r) => Code::Max(b(l), b(r)),
        Code::If(c, l, r) => Code::If(b(c), b(l), b(r)),
        leaf @ (Code::Const(_)
        | Code::Previous(_)
        | Code::Fact(_)
        | Code::Present(_)
        | Code::FactCmp { .. }
        | Code::NumCmp { .. }
        | Code::FactOr(..)
        | Code::FactInRange(..)) => leaf,
    }
}

/// A decimal constant with its mantissa precomputed at each scale a fact's
/// value can have, so that comparing it with a value of scale `s` is one
/// `i128` comparison; at a scale where that mantissa would not be exact or
/// would overflow (bit `s` of `exact_at` unset), the evaluator compares the
/// decimals themselves.
#[derive(Clone, Debug, PartialEq)]
pub struct NumConst {
    /// The exact value.
    pub exact: rust_decimal::Decimal,
    /// Its mantissa at scale `s`, for `s` in `0..=28`, where bit `s` of
    /// `exact_at` is set.
    pub by_scale: [i128; 29],
    /// The scales at which `by_scale` holds the exact mantissa.
    pub exact_at: u32,
}

impl NumConst {
    /// The constant `exact`, with its mantissa at every scale.
    pub fn new(exact: rust_decimal::Decimal) -> NumConst {
        let mut by_scale = [0; 29];
        let mut exact_at = 0;
        let (m, s) = (exact.mantissa(), exact.scale() as usize);
        let mut scaled = Some(m);
        for (i, slot) in by_scale.iter_mut().enumerate().skip(s) {
            if let Some(x) = scaled {
                *slot = x;
                exact_at |= 1 << i;
            }
            scaled = scaled.and_then(|x| x.checked_mul(10));
        }
        NumConst {
            exact,
            by_scale,
            exact_at,
        }
    }
}

/// Specialises a fused comparison by the type of its constant.
fn typed_cmp(op: Cmp, fact: Fact, value: Val, if_missing: Option<bool>) -> Code {
    match value {
        Val::Num(n) => Code::NumCmp {
            op,
            fact,
            value: Box::new(NumConst::new(n)),
            if_missing,
        },
        _ => Code::FactCmp {
            op,
            fact,
            value,
            if_missing,
        },
    }
}

/// Checks an expression that must be true/false (a condition).
pub fn check_condition(expr: &Expr, env: Env<'_>, problems: &mut Vec<Problem>) -> Option<Typed> {
    let typed = check(expr, env, problems)?;
    if typed.ty != Type::Bool {
        problems.push(Problem {
            code: RuleCode::NotACondition,
            message: format!(
                "a condition must be true or false, but this is {}",
                typed.ty.describe(env.vocabulary)
            ),
            span: expr.span,
            label: typed.ty.describe(env.vocabulary),
            help: Some(
                "compare it with something, e.g. `phase.daily_dose_per_kg > 2 mg/kg/day`".into(),
            ),
        });
        return None;
    }
    Some(typed)
}

struct Checker<'a, 'v> {
    env: Env<'v>,
    problems: &'a mut Vec<Problem>,
}

fn typed(code: Code, ty: Type, facts: FactSet) -> Typed {
    Typed {
        code,
        ty,
        unit: None,
        facts,
        mass_literal: false,
    }
}

impl Checker<'_, '_> {
    fn error(
        &mut self,
        code: RuleCode,
        span: Span,
        message: String,
        label: String,
        help: Option<String>,
    ) {
        self.problems.push(Problem {
            code,
            message,
            span,
            label,
            help,
        });
    }

    fn expr(&mut self, expr: &Expr) -> Option<Typed> {
        match &expr.kind {
            ExprKind::Quantity { value, unit } => self.quantity(*value, unit.as_ref()),
            ExprKind::Date(text) => match Date::parse(text) {
                Ok(date) => Some(typed(
                    Code::Const(Val::Date(date)),
                    Type::Date,
                    FactSet::EMPTY,
                )),
                Err(why) => {
                    self.error(
                        RuleCode::InvalidDate,
                        expr.span,
                        why,
                        "not a calendar date".into(),
                        None,
                    );
                    None
                }
            },
            ExprKind::Bool(b) => Some(typed(
                Code::Const(Val::Bool(*b)),
                Type::Bool,
                FactSet::EMPTY,
            )),
            ExprKind::Path(path) => self.path(path, expr.span),
            ExprKind::Name(name) => {
                self.error(
                    RuleCode::UnknownName,
                    expr.span,
                    format!("`{name}` is not a fact or a value here"),
                    "unknown name".into(),
                    Some("a bare name is an enum value and must be compared with a fact of that enum, as in `patient.sex == female`; facts are written with their group, as in `patient.weight`".into()),
                );
                None
            }
            ExprKind::Call { name, args } => self.call(&name.value, name.span, args, expr.span),
            ExprKind::Unary(UnOp::Not, inner) => {
                let inner = self
                    .expr(inner)
                    .and_then(|t| self.want_bool(t, inner.span, "not"))?;
                Some(Typed {
                    code: Code::Not(Box::new(inner.code)),
                    ..inner
                })
            }
            ExprKind::Unary(UnOp::Neg, inner) => {
                let t = self.expr(inner)?;
                if !matches!(t.ty, Type::Quantity(_)) {
                    self.error(
                        RuleCode::TypeMismatch,
                        inner.span,
                        format!(
                            "`-` needs a number, but this is {}",
                            t.ty.describe(self.env.vocabulary)
                        ),
                        t.ty.describe(self.env.vocabulary),
                        None,
                    );
                    return None;
                }
                Some(Typed {
                    code: Code::Neg(Box::new(t.code)),
                    ..t
                })
            }
            ExprKind::Logic(op, a, b) => self.logic(*op, a, b),
            ExprKind::Default(a, b) => self.default(a, b),
            ExprKind::Cmp(op, a, b) => self.compare(*op, a, b),
            ExprKind::Arith(op, a, b) => self.arithmetic(*op, a, b),
            ExprKind::InRange(x, lo, hi) => self.in_range(x, lo, hi),
            ExprKind::If(c, a, b) => self.conditional(c, a, b),
        }
    }

    fn quantity(
        &mut self,
        value: Decimal,
        unit: Option<&crate::source::Spanned<String>>,
    ) -> Option<Typed> {
        let Some(unit_text) = unit else {
            return Some(typed(
                Code::Const(Val::Num(value)),
                Type::Quantity(Dim::NONE),
                FactSet::EMPTY,
            ));
        };
        match Unit::parse(&unit_text.value) {
            Ok(unit) => {
                let Some(canonical) = unit.factor.to_canonical(value) else {
                    self.error(
                        RuleCode::OutOfRange,
                        unit_text.span,
                        "this quantity is too large to hold exactly".into(),
                        "too large".into(),
                        None,
                    );
                    return None;
                };
                let mass_literal = unit.dim == Dim::MASS;
                Some(Typed {
                    code: Code::Const(Val::Num(canonical)),
                    ty: Type::Quantity(unit.dim),
                    unit: Some(unit),
                    facts: FactSet::EMPTY,
                    mass_literal,
                })
            }
            Err(err) => {
                let help = match &err {
                    crate::units::UnitError::Unknown { suggestion: Some(s), .. } => Some(format!("write `{s}`")),
                    _ => Some("units are written straight after the number without spaces, e.g. `2 mg/kg/day`, `8 weeks`, `30 mL/min/1.73m2`".into()),
                };
                self.error(
                    RuleCode::UnknownUnit,
                    unit_text.span,
                    err.to_string(),
                    "unknown unit".into(),
                    help,
                );
                None
            }
        }
    }

    fn path(&mut self, path: &str, span: Span) -> Option<Typed> {
        let vocabulary = self.env.vocabulary;
        let Some(fact) = vocabulary.fact(path) else {
            let help = suggest::closest(path, vocabulary.paths())
                .map(|s| format!("did you mean `{s}`?"))
                .or_else(|| Some("`rxlint rules facts` lists every fact".into()));
            self.error(
                RuleCode::UnknownFact,
                span,
                format!("unknown fact `{path}`"),
                "not a fact of the regimen model".into(),
                help,
            );
            return None;
        };
        let info = vocabulary.info(fact);
        if info.scope == Scope::Phase && !self.env.phase {
            self.error(
                RuleCode::PhaseFactInCourseRule,
                span,
                format!("`{path}` is a per-phase fact, but this rule has `scope: course`"),
                "needs a phase".into(),
                Some("set `scope: phase`, or use a course fact such as `course.max_daily_dose_per_kg`".into()),
            );
            return None;
        }
        let unit = info.display.clone();
        Some(Typed {
            code: Code::Fact(fact),
            ty: info.ty,
            unit,
            facts: FactSet::one(fact),
            mass_literal: false,
        })
    }

    fn call(&mut self, name: &str, name_span: Span, args: &[Expr], span: Span) -> Option<Typed> {
        match name {
            "present" => {
                let [arg] = args else {
                    self.error(
                        RuleCode::WrongArguments,
                        span,
                        format!("`present` takes one fact, not {}", args.len()),
                        "one fact expected".into(),
                        None,
                    );
                    return None;
                };
                let ExprKind::Path(path) = &arg.kind else {
                    self.error(
                        RuleCode::WrongArguments,
                        arg.span,
                        "`present` takes a fact such as `patient.weight`".into(),
                        "not a fact".into(),
                        None,
                    );
                    return None;
                };
                let t = self.path(path, arg.span)?;
                let Code::Fact(fact) = t.code else {
                    return None;
                };
                Some(typed(Code::Present(fact), Type::Bool, FactSet::EMPTY))
            }
            "min" | "max" => self.extreme(name, args, span),
            "previous" => self.previous(args, span),
            _ => {
                let help = suggest::closest(name, FUNCTIONS.iter().copied())
                    .map(|s| format!("did you mean `{s}`?"));
                self.error(
                    RuleCode::UnknownFunction,
                    name_span,
                    format!("unknown function `{name}`"),
                    format!("functions: {}", FUNCTIONS.join(", ")),
                    help,
                );
                None
            }
        }
    }

    /// `min(a, b)`, `max(a, b)`: two quantities of one dimension.
    fn extreme(&mut self, name: &str, args: &[Expr], span: Span) -> Option<Typed> {
        let [a, b] = args else {
            self.error(
                RuleCode::WrongArguments,
                span,
                format!("`{name}` takes two values, not {}", args.len()),
                "two values expected".into(),
                Some(format!("e.g. `{name}(1000 mg, 15 mg/kg * patient.weight)`")),
            );
            return None;
        };
        let ta = self
            .expr(a)
            .and_then(|t| self.want_quantity(t, a.span, name));
        let tb = self
            .expr(b)
            .and_then(|t| self.want_quantity(t, b.span, name));
        let (ta, tb) = self.unify(ta?, tb?, a.span, b.span, &format!("take the {name} of"))?;
        let facts = ta.facts.union(tb.facts);
        let (ca, cb) = (Box::new(ta.code), Box::new(tb.code));
        Some(Typed {
            code: if name == "min" {
                Code::Min(ca, cb)
            } else {
                Code::Max(ca, cb)
            },
            ty: ta.ty,
            unit: ta.unit.or(tb.unit),
            facts,
            mass_literal: false,
        })
    }

    fn want_quantity(&mut self, t: Typed, span: Span, op: &str) -> Option<Typed> {
        if matches!(t.ty, Type::Quantity(_)) {
            return Some(t);
        }
        self.error(
            RuleCode::TypeMismatch,
            span,
            format!(
                "`{op}` needs a number, but this is {}",
                t.ty.describe(self.env.vocabulary)
            ),
            t.ty.describe(self.env.vocabulary),
            None,
        );
        None
    }

    /// `previous(phase.X)`: a per-phase fact, in a per-phase rule.
    fn previous(&mut self, args: &[Expr], span: Span) -> Option<Typed> {
        let [arg] = args else {
            self.error(
                RuleCode::WrongArguments,
                span,
                format!("`previous` takes one per-phase fact, not {}", args.len()),
                "one fact expected".into(),
                Some("e.g. `previous(phase.daily_dose)`".into()),
            );
            return None;
        };
        let ExprKind::Path(path) = &arg.kind else {
            self.error(
                RuleCode::WrongArguments,
                arg.span,
                "`previous` takes a per-phase fact such as `phase.daily_dose`".into(),
                "not a fact".into(),
                None,
            );
            return None;
        };
        if !self.env.phase {
            self.error(
                RuleCode::PhaseFactInCourseRule,
                span,
                "`previous(...)` reads the phase before, but this rule has `scope: course`".into(),
                "needs a phase".into(),
                Some("set `scope: phase`: the rule then runs once per phase".into()),
            );
            return None;
        }
        let t = self.path(path, arg.span)?;
        let Code::Fact(fact) = t.code else {
            return None;
        };
        if self.env.vocabulary.info(fact).scope != Scope::Phase {
            self.error(
                RuleCode::WrongArguments,
                arg.span,
                format!("`{path}` is not a per-phase fact, so it has no previous phase"),
                "same in every phase".into(),
                Some(format!(
                    "write `{path}` itself; `previous` takes a fact such as `phase.daily_dose`"
                )),
            );
            return None;
        }
        Some(Typed {
            code: Code::Previous(fact),
            facts: FactSet::EMPTY,
            ..t
        })
    }

    /// `if c then a else b`: a true/false condition and two branches of
    /// one type (and dimension).
    fn conditional(&mut self, c: &Expr, a: &Expr, b: &Expr) -> Option<Typed> {
        let tc = self.expr(c).and_then(|t| self.want_bool(t, c.span, "if"));
        let (ta, tb) = self.pair(a, b);
        let (ta, tb) = self.unify(ta?, tb?, a.span, b.span, "choose between")?;
        let tc = tc?;
        let facts = tc.facts.union(ta.facts).union(tb.facts);
        Some(Typed {
            code: Code::If(Box::new(tc.code), Box::new(ta.code), Box::new(tb.code)),
            ty: ta.ty,
            unit: ta.unit.or(tb.unit),
            facts,
            mass_literal: false,
        })
    }

    fn want_bool(&mut self, t: Typed, span: Span, op: &str) -> Option<Typed> {
        if t.ty == Type::Bool {
            return Some(t);
        }
        self.error(
            RuleCode::TypeMismatch,
            span,
            format!(
                "`{op}` needs true/false, but this is {}",
                t.ty.describe(self.env.vocabulary)
            ),
            t.ty.describe(self.env.vocabulary),
            Some("compare the value first, e.g. `phase.daily_dose_per_kg > 1 mg/kg/day`".into()),
        );
        None
    }

    /// Checks an operand that may be a bare enum name, given the type of the
    /// other side.
    fn operand(&mut self, expr: &Expr, other: Option<Type>) -> Option<Typed> {
        if let ExprKind::Name(name) = &expr.kind
            && let Some(Type::Enum(domain)) = other
        {
            return self.enum_value(domain, name, expr.span);
        }
        self.expr(expr)
    }

    fn enum_value(&mut self, domain: Fact, name: &str, span: Span) -> Option<Typed> {
        let info = self.env.vocabulary.info(domain);
        match info
            .values
            .iter()
            .position(|v| v == name)
            .and_then(|i| u8::try_from(i).ok())
        {
            Some(i) => Some(typed(
                Code::Const(Val::Enum(i)),
                Type::Enum(domain),
                FactSet::EMPTY,
            )),
            None => {
                let help = suggest::closest(name, info.values.iter().map(String::as_str))
                    .map_or_else(
                        || format!("the values are {}", info.values.join(", ")),
                        |s| format!("did you mean `{s}`?"),
                    );
                self.error(
                    RuleCode::UnknownValue,
                    span,
                    format!("`{name}` is not a {} value", info.domain),
                    format!("expected one of {}", info.values.join(", ")),
                    Some(help),
                );
                None
            }
        }
    }

    /// Checks both sides of a binary operator, resolving a bare enum name on
    /// either side against the other.
    fn pair(&mut self, a: &Expr, b: &Expr) -> (Option<Typed>, Option<Typed>) {
        let a_is_name = matches!(a.kind, ExprKind::Name(_));
        if a_is_name {
            let tb = self.expr(b);
            let ta = self.operand(a, tb.as_ref().map(|t| t.ty));
            (ta, tb)
        } else {
            let ta = self.expr(a);
            let tb = self.operand(b, ta.as_ref().map(|t| t.ty));
            (ta, tb)
        }
    }

    /// Makes two quantities comparable: equal dimensions, or a bare mass
    /// literal standing for a body mass.
    fn unify(
        &mut self,
        a: Typed,
        b: Typed,
        a_span: Span,
        b_span: Span,
        what: &str,
    ) -> Option<(Typed, Typed)> {
        match (a.ty, b.ty) {
            (Type::Quantity(x), Type::Quantity(y)) if x == y => Some((a, b)),
            (Type::Quantity(Dim::MASS), Type::Quantity(Dim::BODY_MASS)) if a.mass_literal => {
                Some((as_body_mass(a), b))
            }
            (Type::Quantity(Dim::BODY_MASS), Type::Quantity(Dim::MASS)) if b.mass_literal => {
                Some((a, as_body_mass(b)))
            }
            (x, y) if x == y => Some((a, b)),
            (x, y) => {
                let code = if matches!((x, y), (Type::Quantity(_), Type::Quantity(_))) {
                    RuleCode::UnitMismatch
                } else {
                    RuleCode::TypeMismatch
                };
                self.error(
                    code,
                    a_span.to(b_span),
                    format!("cannot {what} {} and {}", x.describe(self.env.vocabulary), y.describe(self.env.vocabulary)),
                    format!("{} vs {}", short(x, self.env.vocabulary), short(y, self.env.vocabulary)),
                    (code == RuleCode::UnitMismatch).then(|| "both sides must measure the same thing; convert one side, e.g. divide a dose by `patient.weight` to get mg/kg".into()),
                );
                None
            }
        }
    }

    fn logic(&mut self, op: Logic, a: &Expr, b: &Expr) -> Option<Typed> {
        let ta = self
            .expr(a)
            .and_then(|t| self.want_bool(t, a.span, op.symbol()));
        let tb = self
            .expr(b)
            .and_then(|t| self.want_bool(t, b.span, op.symbol()));
        let (ta, tb) = (ta?, tb?);
        let facts = ta.facts.union(tb.facts);
        let (ta, tb) = (Box::new(ta.code), Box::new(tb.code));
        let code = match op {
            Logic::And => Code::And(ta, tb),
            Logic::Or => Code::Or(ta, tb),
        };
        Some(typed(code, Type::Bool, facts))
    }

    fn default(&mut self, a: &Expr, b: &Expr) -> Option<Typed> {
        let (ta, tb) = self.pair(a, b);
        let (ta, tb) = self.unify(ta?, tb?, a.span, b.span, "default between")?;
        let facts = ta.facts.union(tb.facts);
        Some(Typed {
            code: Code::Default(Box::new(ta.code), Box::new(tb.code)),
            ty: ta.ty,
            unit: ta.unit.or(tb.unit),
            facts,
            mass_literal: false,
        })
    }

    fn compare(&mut self, op: Cmp, a: &Expr, b: &Expr) -> Option<Typed> {
        let (ta, tb) = self.pair(a, b);
        let (ta, tb) = self.unify(ta?, tb?, a.span, b.span, "compare")?;
        if matches!(ta.ty, Type::Bool) && op.orders() {
            self.error(
                RuleCode::TypeMismatch,
                a.span.to(b.span),
                format!("`{}` cannot order true/false values", op.symbol()),
                "use == or !=".into(),
                None,
            );
            return None;
        }
        let facts = ta.facts.union(tb.facts);
        Some(typed(
            Code::Cmp(op, Box::new(ta.code), Box::new(tb.code)),
            Type::Bool,
            facts,
        ))
    }

    fn arithmetic(&mut self, op: Arith, a: &Expr, b: &Expr) -> Option<Typed> {
        let ta = self.expr(a);
        let tb = self.expr(b);
        let (ta, tb) = (ta?, tb?);
        let facts = ta.facts.union(tb.facts);
        match (op, ta.ty, tb.ty) {
            (Arith::Sub, Type::Date, Type::Date) => Some(Typed {
                code: Code::DaysBetween(Box::new(ta.code), Box::new(tb.code)),
                ty: Type::Quantity(Dim::TIME),
                unit: Unit::parse("days").ok(),
                facts,
                mass_literal: false,
            }),
            (Arith::Add | Arith::Sub, Type::Date, Type::Quantity(Dim::TIME)) => Some(typed(
                Code::ShiftDate(Box::new(ta.code), Box::new(tb.code), op == Arith::Sub),
                Type::Date,
                facts,
            )),
            (Arith::Add | Arith::Sub, Type::Quantity(_), Type::Quantity(_)) => {
                let what = if op == Arith::Add { "add" } else { "subtract" };
                let (ta, tb) = self.unify(ta, tb, a.span, b.span, what)?;
                Some(Typed {
                    code: Code::Arith(op, Box::new(ta.code), Box::new(tb.code)),
                    ty: ta.ty,
                    unit: ta.unit.or(tb.unit),
                    facts,
                    mass_literal: false,
                })
            }
            (Arith::Mul | Arith::Div, Type::Quantity(x), Type::Quantity(y)) => {
                let dim = if op == Arith::Mul {
                    x.times(y)
                } else {
                    x.per(y)
                };
                let unit = Unit::parse(&dim.canonical_unit())
                    .ok()
                    .filter(|_| !dim.is_none());
                Some(Typed {
                    code: Code::Arith(op, Box::new(ta.code), Box::new(tb.code)),
                    ty: Type::Quantity(dim),
                    unit,
                    facts,
                    mass_literal: false,
                })
            }
            // Every operator listed, so that a new one must say what it combines.
            (Arith::Add | Arith::Sub | Arith::Mul | Arith::Div, x, y) => {
                self.error(
                    RuleCode::TypeMismatch,
                    a.span.to(b.span),
                    format!(
                        "`{}` cannot combine {} and {}",
                        op.symbol(),
                        x.describe(self.env.vocabulary),
                        y.describe(self.env.vocabulary)
                    ),
                    format!(
                        "{} {} {}",
                        short(x, self.env.vocabulary),
                        op.symbol(),
                        short(y, self.env.vocabulary)
                    ),
                    None,
                );
                None
            }
        }
    }

    fn in_range(&mut self, x: &Expr, lo: &Expr, hi: &Expr) -> Option<Typed> {
        let tx = self.expr(x);
        let tlo = self.operand(lo, tx.as_ref().map(|t| t.ty));
        let thi = self.operand(hi, tx.as_ref().map(|t| t.ty));
        let (tx, tlo, thi) = (tx?, tlo?, thi?);
        let (tx, tlo) = self.unify(tx, tlo, x.span, lo.span, "compare")?;
        let (tx, thi) = self.unify(tx, thi, x.span, hi.span, "compare")?;
        if let (Code::Const(Val::Num(l)), Code::Const(Val::Num(h))) = (&tlo.code, &thi.code)
            && l > h
        {
            self.error(
                RuleCode::EmptyRange,
                lo.span.to(hi.span),
                "this range is empty: its lower bound is above its upper bound".into(),
                "inverted range".into(),
                Some("write the smaller bound first".into()),
            );
            return None;
        }
        let facts = tx.facts.union(tlo.facts).union(thi.facts);
        Some(typed(
            Code::InRange(Box::new(tx.code), Box::new(tlo.code), Box::new(thi.code)),
            Type::Bool,
            facts,
        ))
    }
}

fn as_body_mass(t: Typed) -> Typed {
    let code = match t.code {
        // mg to kg: exact, a power of ten.
        Code::Const(Val::Num(v)) => Code::Const(Val::Num(v / Decimal::from(1_000_000))),
        other => other,
    };
    Typed {
        code,
        ty: Type::Quantity(Dim::BODY_MASS),
        unit: t.unit.and_then(|u| u.as_body_mass()),
        facts: t.facts,
        mass_literal: false,
    }
}

fn short(ty: Type, vocabulary: &Vocabulary) -> String {
    match ty {
        Type::Quantity(dim) if dim.is_none() => "number".into(),
        Type::Quantity(dim) => dim.unit_name(),
        Type::Bool => "true/false".into(),
        Type::Enum(d) => vocabulary.info(d).domain.clone(),
        Type::Date => "date".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::parse_expression;

    fn problems(text: &str) -> Vec<(RuleCode, String)> {
        let expr = parse_expression(text).unwrap_or_else(|e| panic!("{text}: {e:?}"));
        let mut problems = Vec::new();
        let vocabulary = crate::vocabulary::Vocabulary::shipped();
        let env = Env {
            phase: true,
            vocabulary: &vocabulary,
        };
        check_condition(&expr, env, &mut problems);
        problems
            .into_iter()
            .map(|p| (p.code, text[p.span.range()].to_owned()))
            .collect()
    }

    #[test]
    fn accepts_well_typed_conditions() {
        for text in [
            "phase.daily_dose_per_kg > 2 mg/kg/day",
            "phase.daily_dose / patient.weight > 2 mg/kg/day",
            "patient.weight < 40 kg",
            "patient.sex == female and (patient.childbearing_potential ?? true)",
            "(patient.renal_impairment ?? none) == severe",
            "course.total_duration in 15 weeks ..= 20 weeks",
            "course.start - course.previous_course_end < 8 weeks",
            "present(course.previous_course_end)",
            "patient.egfr < 30 mL/min/1.73m2",
            "patient.age >= 18 years",
            "phase.times_per_day != 2",
            "patient.renal_impairment >= moderate",
            "phase.dose > min(1000 mg, 15 mg/kg * patient.weight)",
            "max(phase.daily_dose, 1 g/day) <= 2550 mg/day",
            "min(patient.weight, 40 kg) < 40 kg",
            "phase.daily_dose > if phase.times_per_day == 1 then 850 mg/day else 1000 mg/day",
            "if course.initiation then phase.dose > 500 mg else phase.dose > 1000 mg",
            "phase.daily_dose - previous(phase.daily_dose) > 500 mg/day",
            "previous(phase.duration) < 2 weeks",
            "(if course.initiation then patient.renal_impairment else none) == severe",
        ] {
            assert_eq!(problems(text), vec![], "{text}");
        }
    }

    #[test]
    fn reports_each_error_with_its_span() {
        let cases: &[(&str, &[(RuleCode, &str)])] = &[
            (
                "phase.daily_dose_per_kg > 8 weeks",
                &[(RuleCode::UnitMismatch, "phase.daily_dose_per_kg > 8 weeks")],
            ),
            (
                "phase.dose + patient.weight > 1 mg",
                &[(RuleCode::UnitMismatch, "phase.dose + patient.weight")],
            ),
            ("phase.dose > 5 Mg", &[(RuleCode::UnknownUnit, "Mg")]),
            (
                "patient.wieght > 40 kg",
                &[(RuleCode::UnknownFact, "patient.wieght")],
            ),
            ("patient.sex == femal", &[(RuleCode::UnknownValue, "femal")]),
            (
                "phase.dose and true",
                &[(RuleCode::TypeMismatch, "phase.dose")],
            ),
            (
                "phase.dose in 2 mg ..= 1 mg",
                &[(RuleCode::EmptyRange, "2 mg ..= 1 mg")],
            ),
            (
                "patient.wieght > 1 kg or phase.dose > 3 Mg",
                &[
                    (RuleCode::UnknownFact, "patient.wieght"),
                    (RuleCode::UnknownUnit, "Mg"),
                ],
            ),
            ("phase.dose", &[(RuleCode::NotACondition, "phase.dose")]),
            (
                "phase.dose > min(1000 mg, 15 mg/kg)",
                &[(RuleCode::UnitMismatch, "1000 mg, 15 mg/kg")],
            ),
            (
                "max(phase.dose, true) > 1 mg",
                &[(RuleCode::TypeMismatch, "true")],
            ),
            (
                "min(phase.dose) > 1 mg",
                &[(RuleCode::WrongArguments, "min(phase.dose)")],
            ),
            (
                "mni(phase.dose, 1 mg) > 1 mg",
                &[(RuleCode::UnknownFunction, "mni")],
            ),
            (
                "phase.dose > if phase.dose then 1 mg else 2 mg",
                &[(RuleCode::TypeMismatch, "phase.dose")],
            ),
            (
                "phase.dose > if course.initiation then 1 mg else 2 mg/kg",
                &[(RuleCode::UnitMismatch, "1 mg else 2 mg/kg")],
            ),
            (
                "if course.initiation then phase.dose else 2 mg",
                &[(
                    RuleCode::NotACondition,
                    "if course.initiation then phase.dose else 2 mg",
                )],
            ),
            (
                "previous(patient.weight) > 1 kg",
                &[(RuleCode::WrongArguments, "patient.weight")],
            ),
            (
                "previous(phase.dose + 1 mg) > 1 mg",
                &[(RuleCode::WrongArguments, "phase.dose + 1 mg")],
            ),
            (
                "previous(previous(phase.dose)) > 1 mg",
                &[(RuleCode::WrongArguments, "previous(phase.dose)")],
            ),
            (
                "previous(phase.dose, phase.dose) > 1 mg",
                &[(RuleCode::WrongArguments, "previous(phase.dose, phase.dose)")],
            ),
            (
                "phase.daily_dose - previous(phase.dose) > 1 mg/day",
                &[(
                    RuleCode::UnitMismatch,
                    "phase.daily_dose - previous(phase.dose)",
                )],
            ),
        ];
        for (text, want) in cases {
            let want: Vec<(RuleCode, String)> =
                want.iter().map(|(c, s)| (*c, (*s).to_owned())).collect();
            assert_eq!(problems(text), want, "{text}");
        }
    }

    #[test]
    fn course_rules_cannot_read_the_previous_phase() {
        let text = "course.start_daily_dose < previous(phase.daily_dose)";
        let expr = parse_expression(text).unwrap_or_else(|e| panic!("{e:?}"));
        let mut problems = Vec::new();
        let vocabulary = crate::vocabulary::Vocabulary::shipped();
        let env = Env {
            phase: false,
            vocabulary: &vocabulary,
        };
        check_condition(&expr, env, &mut problems);
        let got: Vec<(RuleCode, &str)> = problems
            .iter()
            .map(|p| (p.code, &text[p.span.range()]))
            .collect();
        assert_eq!(
            got,
            vec![(
                RuleCode::PhaseFactInCourseRule,
                "previous(phase.daily_dose)"
            )]
        );
    }

    #[test]
    fn course_rules_cannot_read_phase_facts() {
        let expr = parse_expression("phase.dose > 1 mg").unwrap_or_else(|e| panic!("{e:?}"));
        let mut problems = Vec::new();
        let vocabulary = crate::vocabulary::Vocabulary::shipped();
        let env = Env {
            phase: false,
            vocabulary: &vocabulary,
        };
        check_condition(&expr, env, &mut problems);
        assert_eq!(
            problems.first().map(|p| p.code),
            Some(RuleCode::PhaseFactInCourseRule)
        );
    }
}
