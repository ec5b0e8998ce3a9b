//! The numeric bounds of a rule, found in its conditions as written.
//!
//! Takes a checked [`Rule`] and gives a [`Formula`]: the rule's firing
//! condition (`when and violation and not unless`) as a boolean shape over
//! atoms (each comparison, range or boolean test), and the bounds among the
//! atoms: an ordering against a constant (`x > c`, each end of
//! `x in lo ..= hi`), where `x` may be arithmetic (`a * b > c`); an ordering
//! between two values (`a > b`) is the bound `a - b > 0`. Each bound keeps
//! its text and span in the rule file. `rules test` probes every bound; the
//! loader checks that an `unprobed:` declaration names one.
//!
//! A comparison with `min`, `max` or `if` on one side is split into the
//! comparisons it is made of, so that each arm is a bound of its own:
//! `x > min(a, b)` is `x > a or x > b`, `x > if c then a else b` is
//! `(c and x > a) or (not c and x > b)` (the test `c` one atom, read in
//! both places). A condition `if c then p else q` is split the same way.
//!
//! The conditions are parsed again from their text rather than read from
//! the compiled code, because compiled code keeps no spans; each piece is
//! compiled again with the checker, so its meaning is the rule's own.

use crate::check::{self, Code, Env};
use crate::facts::{Fact, FactSet, Scope, Val};
use crate::source::Span;
use crate::syntax::{self, Arith, Cmp, Expr, ExprKind, Logic, UnOp};
use crate::vocabulary::Vocabulary;

use crate::rules::{Origin, Rule, Written};

/// A rule's firing condition over its atoms, and its bounds.
#[derive(Clone, Debug)]
pub struct Formula {
    /// `when and violation and not unless`.
    pub shape: Shape,
    /// The atoms the shape refers to by index.
    pub atoms: Vec<Atom>,
    /// The numeric bounds, in reading order.
    pub bounds: Vec<Bound>,
}

/// A boolean combination of atoms.
#[derive(Clone, Debug)]
pub enum Shape {
    /// An atom, by index.
    Atom(usize),
    /// Negation.
    Not(Box<Shape>),
    /// Conjunction.
    And(Box<Shape>, Box<Shape>),
    /// Disjunction.
    Or(Box<Shape>, Box<Shape>),
}

impl Shape {
    /// The shape's truth when each atom has the truth `atoms` gives it.
    pub fn holds(&self, atoms: &dyn Fn(usize) -> bool) -> bool {
        match self {
            Shape::Atom(i) => atoms(*i),
            Shape::Not(a) => !a.holds(atoms),
            Shape::And(a, b) => a.holds(atoms) && b.holds(atoms),
            Shape::Or(a, b) => a.holds(atoms) || b.holds(atoms),
        }
    }
}

/// One test of a condition, compiled on its own.
#[derive(Clone, Debug)]
pub struct Atom {
    /// Its compiled code (a condition).
    pub code: Code,
    /// The facts it reads.
    pub facts: FactSet,
    /// The facts it reads from the previous phase.
    pub previous: FactSet,
    /// Its shape, for the probes that set it true or false.
    pub kind: AtomKind,
}

/// What an atom compares.
#[derive(Clone, Debug)]
pub enum AtomKind {
    /// `lhs <op> value` for an ordering or (in)equality.
    Compare {
        /// The value compared (a fact, or arithmetic over facts).
        lhs: Code,
        /// The operator, with the value on the right.
        op: Cmp,
        /// The constant.
        value: Val,
    },
    /// `lhs in lo ..= hi` with constant ends.
    Range {
        /// The value tested.
        lhs: Code,
        /// Lower end.
        lo: Val,
        /// Upper end.
        hi: Val,
    },
    /// Anything else (a boolean fact, `present(...)`).
    Other,
}

/// One numeric bound: `lhs <op> value` inside atom `atom`.
#[derive(Clone, Debug)]
pub struct Bound {
    /// The atom it belongs to.
    pub atom: usize,
    /// The value bounded (a fact, or arithmetic over facts).
    pub lhs: Code,
    /// `<`, `<=`, `>` or `>=`, with the constant on the right.
    pub op: Cmp,
    /// The constant, in canonical units (a number or a date).
    pub value: Val,
    /// The unit the constant is written in, when it has one: one of it in
    /// canonical units, and its text (`mg/wk`).
    pub unit: Option<(rust_decimal::Decimal, String)>,
    /// Whether the rule fires when the comparison holds (its polarity in
    /// the rule: `unless` and `not` reverse it).
    pub fires_when_true: bool,
    /// Whether the polarity depends on the rest of the rule: a bound in
    /// the condition of an `if` makes the rule fire on one side or the
    /// other as its branches say, so either direction of flip confirms it.
    pub either_way: bool,
    /// The comparison as written, spaces collapsed (`phase.dose > 5 mg`;
    /// for a range, the whole `x in lo ..= hi`).
    pub text: String,
    /// Which end of a range, for messages: `lower end` or `upper end`.
    pub end: Option<&'static str>,
    /// Where the comparison is in the rule file.
    pub span: Span,
    /// The facts `lhs` reads.
    pub facts: FactSet,
    /// The facts `lhs` reads from the previous phase.
    pub previous: FactSet,
}

impl Bound {
    /// The fact bounded, when `lhs` is a single fact.
    pub fn fact(&self) -> Option<Fact> {
        match self.lhs {
            Code::Fact(f) | Code::FactOr(f, _) | Code::Previous(f) => Some(f),
            _ => None,
        }
    }

    /// Whether `key` (a bound as written, or a fact path) names this bound.
    pub fn named_by(&self, key: &str, vocabulary: &Vocabulary) -> bool {
        let key = collapse(key);
        key == self.text
            || self
                .facts
                .union(self.previous)
                .iter()
                .any(|f| vocabulary.info(f).path == key)
    }

    /// A value of the bounded expression in the bound's own unit
    /// (`20.001 mg/wk`), rounded for display only.
    pub fn show(&self, v: Val) -> String {
        match (v, &self.unit) {
            (Val::Num(n), Some((one, unit))) if !one.is_zero() => match n.checked_div(*one) {
                Some(x) => format!("{} {unit}", crate::units::display_number(x)),
                None => crate::units::display_number(n),
            },
            (Val::Num(n), _) => crate::units::display_number(n),
            (Val::Date(d), _) => d.to_string(),
            (Val::Bool(b), _) => b.to_string(),
            (Val::Enum(i), _) => i.to_string(),
        }
    }

    /// How the bound is shown in messages: `phase.dose > 5 mg`, or
    /// `lower end of course.total_duration in 15 weeks ..= 20 weeks`.
    pub fn shown(&self) -> String {
        match self.end {
            Some(end) => format!("{end} of `{}`", self.text),
            None => format!("`{}`", self.text),
        }
    }
}

/// Whitespace collapsed to single spaces: how bounds are named.
pub fn collapse(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The formula of a rule; `None` only if a condition that loaded does not
/// parse or check again, which would be a bug.
pub fn formula(rule: &Rule, vocabulary: &Vocabulary) -> Option<Formula> {
    let mut b = Builder {
        env: Env {
            phase: rule.scope == Scope::Phase,
            vocabulary,
        },
        atoms: Vec::new(),
        bounds: Vec::new(),
        either_way: false,
    };
    let violation = b.condition(&rule.violation.written, true)?;
    let when = match &rule.when {
        Some(w) => Some(b.condition(&w.written, true)?),
        None => None,
    };
    let unless = match &rule.unless {
        Some(u) => Some(b.condition(&u.written, false)?),
        None => None,
    };
    let mut shape = violation;
    if let Some(w) = when {
        shape = Shape::And(Box::new(w), Box::new(shape));
    }
    if let Some(u) = unless {
        shape = Shape::And(Box::new(shape), Box::new(Shape::Not(Box::new(u))));
    }
    Some(Formula {
        shape,
        atoms: b.atoms,
        bounds: b.bounds,
    })
}

struct Builder<'v> {
    env: Env<'v>,
    atoms: Vec<Atom>,
    bounds: Vec<Bound>,
    /// Set while reading the condition of an `if`.
    either_way: bool,
}

/// The set of a list of facts.
fn set_of(facts: Vec<Fact>) -> FactSet {
    facts
        .into_iter()
        .fold(FactSet::EMPTY, |set, f| set.union(FactSet::one(f)))
}

/// The arms of `min(a, b)`, `max(a, b)`: `Some((a, b, is_min))`.
fn extreme(expr: &Expr) -> Option<(&Expr, &Expr, bool)> {
    match &expr.kind {
        ExprKind::Call { name, args } => match (name.value.as_str(), args.as_slice()) {
            ("min", [a, b]) => Some((a, b, true)),
            ("max", [a, b]) => Some((a, b, false)),
            _ => None,
        },
        _ => None,
    }
}

/// A piece's text and where it is in the file.
struct Piece<'a> {
    text: &'a str,
    origin: Origin,
}

impl Builder<'_> {
    /// The shape of a condition's pieces (joined by `or`, as an `unless`
    /// list is); `polarity` is whether the rule fires when it holds.
    fn condition(&mut self, written: &[Written], polarity: bool) -> Option<Shape> {
        let mut out: Option<Shape> = None;
        for w in written {
            let expr = syntax::parse_expression(&w.text).ok()?;
            let piece = Piece {
                text: &w.text,
                origin: w.origin,
            };
            let shape = self.shape(&expr, &piece, polarity)?;
            out = Some(match out {
                None => shape,
                Some(prev) => Shape::Or(Box::new(prev), Box::new(shape)),
            });
        }
        out
    }

    fn shape(&mut self, expr: &Expr, piece: &Piece<'_>, polarity: bool) -> Option<Shape> {
        match &expr.kind {
            ExprKind::Unary(UnOp::Not, a) => {
                Some(Shape::Not(Box::new(self.shape(a, piece, !polarity)?)))
            }
            ExprKind::Logic(op, a, b) => {
                let (a, b) = (
                    self.shape(a, piece, polarity)?,
                    self.shape(b, piece, polarity)?,
                );
                Some(match op {
                    Logic::And => Shape::And(Box::new(a), Box::new(b)),
                    Logic::Or => Shape::Or(Box::new(a), Box::new(b)),
                })
            }
            // `(test) ?? default`: the test decides whenever it can be
            // evaluated, which the probes ensure.
            ExprKind::Default(a, b)
                if !matches!(a.kind, ExprKind::Path(_)) && is_bool_literal(b) =>
            {
                self.shape(a, piece, polarity)
            }
            ExprKind::If(c, a, b) => {
                let (a, b) = (
                    self.shape(a, piece, polarity)?,
                    self.shape(b, piece, polarity)?,
                );
                self.branches(c, a, b, piece, polarity)
            }
            ExprKind::Cmp(op, l, r) if op.orders() => self.split(*op, l, r, piece, polarity),
            _ => self.atom(expr, piece, polarity, None),
        }
    }

    /// `(c and a) or (not c and b)`, with `c` one test read in both places.
    fn branches(
        &mut self,
        c: &Expr,
        a: Shape,
        b: Shape,
        piece: &Piece<'_>,
        polarity: bool,
    ) -> Option<Shape> {
        let outer = std::mem::replace(&mut self.either_way, true);
        let c = self.shape(c, piece, polarity);
        self.either_way = outer;
        let c = c?;
        Some(Shape::Or(
            Box::new(Shape::And(Box::new(c.clone()), Box::new(a))),
            Box::new(Shape::And(Box::new(Shape::Not(Box::new(c))), Box::new(b))),
        ))
    }

    /// `l <op> r` for an ordering, split where one side is a `min`, `max`
    /// or `if`: `x > min(a, b)` is `x > a or x > b`, `min(a, b) > x` is
    /// `a > x and b > x` (and the other way round for `max` or `<`).
    fn split(
        &mut self,
        op: Cmp,
        l: &Expr,
        r: &Expr,
        piece: &Piece<'_>,
        polarity: bool,
    ) -> Option<Shape> {
        let greater = matches!(op, Cmp::Gt | Cmp::Ge);
        let cmp = |l: &Expr, r: &Expr| Expr {
            kind: ExprKind::Cmp(op, Box::new(l.clone()), Box::new(r.clone())),
            span: l.span.to(r.span),
        };
        for (side, on_left) in [(r, false), (l, true)] {
            let with = |arm: &Expr| if on_left { cmp(arm, r) } else { cmp(l, arm) };
            if let Some((a, b, is_min)) = extreme(side) {
                let (a, b) = (
                    self.split_arm(&with(a), a, piece, polarity)?,
                    self.split_arm(&with(b), b, piece, polarity)?,
                );
                let (a, b) = (Box::new(a), Box::new(b));
                return Some(if (greater == is_min) != on_left {
                    Shape::Or(a, b)
                } else {
                    Shape::And(a, b)
                });
            }
            if let ExprKind::If(c, a, b) = &side.kind {
                let (a, b) = (
                    self.split_arm(&with(a), a, piece, polarity)?,
                    self.split_arm(&with(b), b, piece, polarity)?,
                );
                return self.branches(c, a, b, piece, polarity);
            }
        }
        let whole = Expr {
            kind: ExprKind::Cmp(op, Box::new(l.clone()), Box::new(r.clone())),
            span: l.span.to(r.span),
        };
        self.atom(&whole, piece, polarity, None)
    }

    /// One comparison of a split: split further, or an atom whose bound is
    /// the `arm` (its text is the comparison, its span the arm's).
    fn split_arm(
        &mut self,
        cmp: &Expr,
        arm: &Expr,
        piece: &Piece<'_>,
        polarity: bool,
    ) -> Option<Shape> {
        let ExprKind::Cmp(op, l, r) = &cmp.kind else {
            return None;
        };
        let nested = |e: &Expr| extreme(e).is_some() || matches!(e.kind, ExprKind::If(..));
        if nested(l) || nested(r) {
            return self.split(*op, l, r, piece, polarity);
        }
        self.atom(cmp, piece, polarity, Some(arm.span))
    }

    /// An atom. `arm` is set for a comparison made by a split: its text is
    /// then written from its two sides, and it is located at the arm.
    fn atom(
        &mut self,
        expr: &Expr,
        piece: &Piece<'_>,
        polarity: bool,
        arm: Option<crate::source::Span>,
    ) -> Option<Shape> {
        let mut problems = Vec::new();
        let typed = check::check_condition(expr, self.env, &mut problems)?;
        let index = self.atoms.len();
        let kind = atom_kind(&typed.code, expr, self.env);
        let written = |e: &Expr| collapse(piece.text.get(e.span.range()).unwrap_or(piece.text));
        let (text, span) = match (&expr.kind, arm) {
            (ExprKind::Cmp(op, l, r), Some(arm)) => (
                format!("{} {} {}", written(l), op.symbol(), written(r)),
                piece.origin.map(arm),
            ),
            _ => (written(expr), piece.origin.map(expr.span)),
        };
        match &kind {
            AtomKind::Compare { lhs, op, value } if op.orders() => {
                self.bounds.push(Bound {
                    atom: index,
                    lhs: lhs.clone(),
                    op: *op,
                    value: *value,
                    unit: written_unit(constant_sides(expr)[0], *value),
                    fires_when_true: polarity,
                    either_way: self.either_way,
                    text,
                    end: None,
                    span,
                    facts: lhs.reads(),
                    previous: set_of(lhs.previous_facts()),
                });
            }
            AtomKind::Range { lhs, lo, hi } => {
                let [lo_expr, hi_expr] = constant_sides(expr);
                for (op, value, end, written) in [
                    (Cmp::Ge, *lo, "lower end", lo_expr),
                    (Cmp::Le, *hi, "upper end", hi_expr),
                ] {
                    self.bounds.push(Bound {
                        atom: index,
                        lhs: lhs.clone(),
                        op,
                        value,
                        unit: written_unit(written, value),
                        fires_when_true: polarity,
                        either_way: self.either_way,
                        text: text.clone(),
                        end: Some(end),
                        span,
                        facts: lhs.reads(),
                        previous: set_of(lhs.previous_facts()),
                    });
                }
            }
            _ => {}
        }
        self.atoms.push(Atom {
            previous: set_of(typed.code.previous_facts()),
            code: typed.code,
            facts: typed.facts,
            kind,
        });
        Some(Shape::Atom(index))
    }
}

fn is_bool_literal(expr: &Expr) -> bool {
    matches!(expr.kind, ExprKind::Bool(_))
}

/// The unit a constant is written in: one of it in canonical units (the
/// constant's canonical value over its written number, so that `40 kg`
/// compared with a weight is a body mass, not a drug mass), and its text.
/// `None` for a bare number or a constant that is not a literal.
fn written_unit(constant: Option<&Expr>, value: Val) -> Option<(rust_decimal::Decimal, String)> {
    let ExprKind::Quantity {
        value: written,
        unit: Some(unit),
    } = &constant?.kind
    else {
        return None;
    };
    let Val::Num(canonical) = value else {
        return None;
    };
    if written.is_zero() {
        return None;
    }
    Some((canonical.checked_div(*written)?.abs(), unit.value.clone()))
}

/// The constant side of a comparison, or the ends of a range, as written.
fn constant_sides(expr: &Expr) -> [Option<&Expr>; 2] {
    let literal = |e: &Expr| matches!(e.kind, ExprKind::Quantity { .. });
    match &expr.kind {
        ExprKind::Cmp(_, a, b) if literal(b) => [Some(&**b), None],
        ExprKind::Cmp(_, a, _) if literal(a) => [Some(&**a), None],
        ExprKind::InRange(_, lo, hi) => [Some(&**lo), Some(&**hi)],
        _ => [None, None],
    }
}

/// The value of code that reads no fact.
fn constant(code: &Code) -> Option<Val> {
    if !code.reads().is_empty() {
        return None;
    }
    let row: [Option<Val>; 0] = [];
    crate::eval::eval(code, &row).ok()
}

fn atom_kind(code: &Code, expr: &Expr, env: Env<'_>) -> AtomKind {
    match code {
        Code::NumCmp {
            op, fact, value, ..
        } => AtomKind::Compare {
            lhs: Code::Fact(*fact),
            op: *op,
            value: Val::Num(value.exact),
        },
        Code::FactCmp {
            op, fact, value, ..
        } => AtomKind::Compare {
            lhs: Code::Fact(*fact),
            op: *op,
            value: *value,
        },
        Code::FactInRange(fact, lo, hi) => AtomKind::Range {
            lhs: Code::Fact(*fact),
            lo: *lo,
            hi: *hi,
        },
        Code::InRange(x, lo, hi) => match (constant(lo), constant(hi)) {
            (Some(lo), Some(hi)) => AtomKind::Range {
                lhs: (**x).clone(),
                lo,
                hi,
            },
            _ => AtomKind::Other,
        },
        Code::Cmp(op, a, b) => match (constant(a), constant(b)) {
            (None, Some(value)) => AtomKind::Compare {
                lhs: (**a).clone(),
                op: *op,
                value,
            },
            (Some(value), None) => AtomKind::Compare {
                lhs: (**b).clone(),
                op: op.flipped(),
                value,
            },
            // Two values compared: their difference against zero (days
            // between two dates).
            (None, None) => {
                let dates = match &expr.kind {
                    ExprKind::Cmp(_, left, _) => {
                        let mut problems = Vec::new();
                        check::check(left, env, &mut problems)
                            .is_some_and(|t| t.ty == crate::facts::Type::Date)
                    }
                    _ => false,
                };
                let lhs = if dates {
                    Code::DaysBetween(a.clone(), b.clone())
                } else {
                    Code::Arith(Arith::Sub, a.clone(), b.clone())
                };
                AtomKind::Compare {
                    lhs,
                    op: *op,
                    value: Val::Num(rust_decimal::Decimal::ZERO),
                }
            }
            (Some(_), Some(_)) => AtomKind::Other,
        },
        _ => AtomKind::Other,
    }
}
