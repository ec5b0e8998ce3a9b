//! A rule compiled to a flat program: the form the engine runs per regimen.
//!
//! [`Code`] is a tree, good for type checking, messages and saying which
//! facts are missing. Walking it costs a call and a dispatch per node, and a
//! rule walks three trees (`when`, `violation`, `unless`) per row. Here a
//! rule is one postfix program over three-valued truth, `when violation
//! unless not and and`, whose leaves are the fused fact tests that nearly
//! every rule is made of. Kleene logic on the encoding false < unknown <
//! true is `min` for `and`, `max` for `or` and `2 - x` for `not`, so
//! combining results takes no branch; a jump skips the right side of an
//! `and` once the left is false (of an `or` once it is true), and the rest
//! of the rule once its guard or violation is false, since what is skipped
//! is often a whole `unless` clause. A subtree of another shape runs
//! through the tree evaluator. [`truth`] stays the reference: tests check
//! that both agree on every shipped rule and on random conditions.

use crate::check::{Code, NumConst};
use crate::facts::{Fact, Val};
use crate::regimen::Row;
use crate::rules::Rule;
use crate::syntax::Cmp;
use rust_decimal::Decimal;

use super::{At, cmp_const, compare, truth_at};

/// Three-valued truth: `F < U < T`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Tri(u8);

impl Tri {
    /// False.
    pub const F: Tri = Tri(0);
    /// Unknown: depends on a missing fact.
    pub const U: Tri = Tri(1);
    /// True.
    pub const T: Tri = Tri(2);

    fn of(b: Option<bool>) -> Tri {
        match b {
            Some(true) => Tri::T,
            Some(false) => Tri::F,
            None => Tri::U,
        }
    }

    fn bool(b: bool) -> Tri {
        Tri(u8::from(b) * 2)
    }

    /// As `Some(bool)`, or `None` when unknown.
    pub fn known(self) -> Option<bool> {
        match self {
            Tri::T => Some(true),
            Tri::F => Some(false),
            _ => None,
        }
    }
}

/// Deepest stack a program may need; deeper conditions (nested more than
/// this many `and`/`or` operands deep on the right) run as one tree.
const STACK: usize = 16;

#[derive(Clone, Debug)]
enum Op {
    /// Numeric `fact <op> constant`.
    Num {
        fact: Fact,
        accept: Accept,
        konst: Box<NumConst>,
        if_missing: Tri,
    },
    /// `fact <op> value` for an enum, date or boolean value.
    Cmp {
        fact: Fact,
        accept: Accept,
        value: Val,
        if_missing: Tri,
    },
    /// A boolean fact, with the result for a missing fact.
    Bool {
        fact: Fact,
        if_missing: Tri,
    },
    /// `present(fact)`.
    Present(Fact),
    /// `fact in lo ..= hi` with constant bounds.
    Range {
        fact: Fact,
        lo: Val,
        hi: Val,
    },
    /// `fact in lo ..= hi` with numeric bounds, or `not (...)` of it when
    /// `outside` is set.
    NumRange {
        fact: Fact,
        lo: Box<NumConst>,
        hi: Box<NumConst>,
        outside: bool,
    },
    /// A known result.
    Const(Tri),
    /// Any other condition, by index into `Program::trees`.
    Tree(usize),
    /// `?? value`: an unknown top of stack becomes `value`.
    Else(Tri),
    /// Short-circuit: when the top of stack is this value, go to the op
    /// at the index, leaving the value as the result of what is skipped.
    JumpIf(Tri, usize),
    Not,
    And,
    Or,
}

/// A comparison operator as the set of orderings it accepts (bit 0: less,
/// 1: equal, 2: greater), tested with a shift instead of a branch.
#[derive(Clone, Copy, Debug)]
struct Accept(u8);

impl Accept {
    fn of(op: Cmp) -> Accept {
        Accept(match op {
            Cmp::Eq => 0b010,
            Cmp::Ne => 0b101,
            Cmp::Lt => 0b001,
            Cmp::Le => 0b011,
            Cmp::Gt => 0b100,
            Cmp::Ge => 0b110,
        })
    }

    #[inline(always)]
    fn holds(self, ord: std::cmp::Ordering) -> Tri {
        let bit = (ord as i8 + 1) as u8;
        Tri(((self.0 >> bit) & 1) * 2)
    }
}

/// One rule's "fires" condition, compiled.
#[derive(Clone, Debug, Default)]
pub struct Program {
    ops: Vec<Op>,
    trees: Vec<Code>,
}

impl Program {
    /// Compiles `when and violation and not unless` for `rule`.
    pub fn fires(rule: &Rule) -> Program {
        let mut p = Program::default();
        // Each jump skips to the end: a false guard or violation is the answer.
        let mut jumps = Vec::new();
        if let Some(when) = &rule.when {
            p.compile(&when.code, 0);
            jumps.push(p.ops.len());
            p.ops.push(Op::JumpIf(Tri::F, 0));
            p.compile(&rule.violation.code, 1);
            p.ops.push(Op::And);
        } else {
            p.compile(&rule.violation.code, 0);
        }
        if let Some(unless) = &rule.unless {
            jumps.push(p.ops.len());
            p.ops.push(Op::JumpIf(Tri::F, 0));
            p.compile(&unless.code, 1);
            p.ops.push(Op::Not);
            p.ops.push(Op::And);
        }
        let end = p.ops.len();
        for at in jumps {
            if let Some(Op::JumpIf(_, target)) = p.ops.get_mut(at) {
                *target = end;
            }
        }
        p
    }

    /// Compiles one condition on its own (the evaluator's `truth` of it).
    pub fn condition(code: &Code) -> Program {
        let mut p = Program::default();
        p.compile(code, 0);
        p
    }

    /// Appends the ops of `code`, which runs with `below` values already on
    /// the stack (`below < STACK`). A leaf takes one slot; an `and`/`or`
    /// that would need more than `STACK` runs as one tree, so the stack
    /// never overflows.
    fn compile(&mut self, code: &Code, below: usize) {
        let leaf = |p: &mut Program, op: Op| p.ops.push(op);
        match code {
            Code::NumCmp {
                op,
                fact,
                value,
                if_missing,
            } => {
                let op = Op::Num {
                    fact: *fact,
                    accept: Accept::of(*op),
                    konst: value.clone(),
                    if_missing: Tri::of(*if_missing),
                };
                leaf(self, op);
            }
            Code::FactCmp {
                op,
                fact,
                value,
                if_missing,
            } => {
                let op = Op::Cmp {
                    fact: *fact,
                    accept: Accept::of(*op),
                    value: *value,
                    if_missing: Tri::of(*if_missing),
                };
                leaf(self, op);
            }
            // In a condition a bare fact is a true/false one (the checker
            // sees to that).
            Code::Fact(fact) => {
                let op = Op::Bool {
                    fact: *fact,
                    if_missing: Tri::U,
                };
                leaf(self, op);
            }
            Code::FactOr(fact, Val::Bool(d)) => {
                let op = Op::Bool {
                    fact: *fact,
                    if_missing: Tri::bool(*d),
                };
                leaf(self, op);
            }
            Code::Present(fact) => leaf(self, Op::Present(*fact)),
            Code::FactInRange(fact, Val::Num(lo), Val::Num(hi)) => {
                self.num_range(*fact, *lo, *hi, false);
            }
            Code::FactInRange(fact, lo, hi) => {
                let op = Op::Range {
                    fact: *fact,
                    lo: *lo,
                    hi: *hi,
                };
                leaf(self, op);
            }
            Code::Const(Val::Bool(b)) => leaf(self, Op::Const(Tri::bool(*b))),
            // The checker folds `not` into comparisons; a range it cannot
            // express negated, so that is done here.
            Code::Not(a) => match &**a {
                Code::FactInRange(fact, Val::Num(lo), Val::Num(hi)) => {
                    self.num_range(*fact, *lo, *hi, true);
                }
                _ => {
                    self.compile(a, below);
                    self.ops.push(Op::Not);
                }
            },
            Code::And(a, b) | Code::Or(a, b) if below + 2 <= STACK => {
                let and = matches!(code, Code::And(..));
                self.compile(a, below);
                // `false and _` is false, `true or _` is true: skip the right side.
                let jump = self.ops.len();
                self.ops
                    .push(Op::JumpIf(if and { Tri::F } else { Tri::T }, 0));
                self.compile(b, below + 1);
                self.ops.push(if and { Op::And } else { Op::Or });
                let end = self.ops.len();
                if let Some(Op::JumpIf(_, target)) = self.ops.get_mut(jump) {
                    *target = end;
                }
            }
            Code::Default(a, b) if matches!(**b, Code::Const(Val::Bool(_))) => {
                self.compile(a, below);
                if let Code::Const(Val::Bool(d)) = **b {
                    self.ops.push(Op::Else(Tri::bool(d)));
                }
            }
            other => {
                self.trees.push(other.clone());
                let op = Op::Tree(self.trees.len() - 1);
                leaf(self, op);
            }
        }
    }

    /// `fact in lo ..= hi`, or its negation when `outside`.
    fn num_range(&mut self, fact: Fact, lo: Decimal, hi: Decimal, outside: bool) {
        self.ops.push(Op::NumRange {
            fact,
            lo: Box::new(NumConst::new(lo)),
            hi: Box::new(NumConst::new(hi)),
            outside,
        });
    }

    /// Runs the program on one row of facts, with no phase before it.
    #[inline]
    pub fn run(&self, row: &Row) -> Tri {
        self.run_at(At::row(row))
    }

    /// Runs the program on one row of facts and the phase before it.
    #[inline]
    pub fn run_at(&self, row: At<'_>) -> Tri {
        // Most rules are one test: no stack needed.
        if let [op] = self.ops.as_slice()
            && let Some(value) = self.leaf(op, row)
        {
            return value;
        }
        self.run_stack(row)
    }

    /// Runs a program of several ops, on a stack.
    #[inline(never)]
    fn run_stack(&self, row: At<'_>) -> Tri {
        let mut stack = [Tri::U; STACK];
        let mut sp: usize = 0;
        let mut pc = 0;
        while let Some(op) = self.ops.get(pc) {
            pc += 1;
            if let Some(value) = self.leaf(op, row) {
                if let Some(slot) = stack.get_mut(sp) {
                    *slot = value;
                }
                sp += 1;
                continue;
            }
            let top = sp.checked_sub(1).and_then(|i| stack.get(i)).copied();
            match op {
                Op::Else(value) => {
                    if top == Some(Tri::U)
                        && let Some(slot) = stack.get_mut(sp - 1)
                    {
                        *slot = *value;
                    }
                }
                Op::JumpIf(value, target) if top == Some(*value) => pc = *target,
                Op::Not => {
                    if let (Some(t), Some(slot)) = (top, stack.get_mut(sp.wrapping_sub(1))) {
                        *slot = Tri(2 - t.0);
                    }
                }
                Op::And | Op::Or => {
                    sp = sp.saturating_sub(1);
                    let right = top.unwrap_or(Tri::U);
                    if let Some(left) = sp.checked_sub(1).and_then(|i| stack.get_mut(i)) {
                        *left = if matches!(op, Op::And) {
                            (*left).min(right)
                        } else {
                            (*left).max(right)
                        };
                    }
                }
                // A jump whose condition does not hold falls through; the
                // tests were pushed above.
                Op::JumpIf(..)
                | Op::Num { .. }
                | Op::Cmp { .. }
                | Op::Bool { .. }
                | Op::Present(_)
                | Op::Range { .. }
                | Op::NumRange { .. }
                | Op::Const(_)
                | Op::Tree(_) => {}
            }
        }
        stack[0]
    }

    /// The value of a test op; `None` for the control ops.
    #[inline(always)]
    fn leaf(&self, op: &Op, row: At<'_>) -> Option<Tri> {
        Some(match op {
            Op::Num {
                fact,
                accept,
                konst,
                if_missing,
            } => match row[fact.index()] {
                Some(Val::Num(v)) => accept.holds(cmp_const(v, konst)),
                None => *if_missing,
                _ => Tri::U,
            },
            Op::Cmp {
                fact,
                accept,
                value,
                if_missing,
            } => match (row[fact.index()], value) {
                (Some(Val::Enum(a)), Val::Enum(b)) => accept.holds(a.cmp(b)),
                (Some(v), _) => compare(v, *value).map_or(Tri::U, |o| accept.holds(o)),
                (None, _) => *if_missing,
            },
            Op::Bool { fact, if_missing } => match row[fact.index()] {
                Some(Val::Bool(b)) => Tri::bool(b),
                Some(_) => Tri::U,
                None => *if_missing,
            },
            Op::Present(fact) => Tri::bool(row[fact.index()].is_some()),
            Op::NumRange {
                fact,
                lo,
                hi,
                outside,
            } => match row[fact.index()] {
                Some(Val::Num(v)) => {
                    let inside = cmp_const(v, lo).is_ge() && cmp_const(v, hi).is_le();
                    Tri::bool(inside != *outside)
                }
                _ => Tri::U,
            },
            Op::Range { fact, lo, hi } => match row[fact.index()] {
                Some(v) => match (compare(v, *lo), compare(v, *hi)) {
                    (Some(a), Some(b)) => Tri::bool(a.is_ge() && b.is_le()),
                    _ => Tri::U,
                },
                None => Tri::U,
            },
            Op::Const(t) => *t,
            Op::Tree(i) => Tri::of(self.trees.get(*i).and_then(|c| truth_at(c, row))),
            Op::Else(_) | Op::JumpIf(..) | Op::Not | Op::And | Op::Or => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::NumConst;
    use crate::eval::truth;
    use crate::vocabulary::Vocabulary;
    use rust_decimal::Decimal;

    fn num(fact: Fact, op: Cmp, value: i64, if_missing: Option<bool>) -> Code {
        Code::NumCmp {
            op,
            fact,
            value: Box::new(NumConst::new(Decimal::from(value))),
            if_missing,
        }
    }

    /// The masks the programs test with accept the orderings the tree
    /// evaluator's `test` does, and swapping operands (`flipped`) or
    /// negating (`negated`) a comparison means what the checker takes it to.
    #[test]
    fn every_comparison_means_one_thing_everywhere() {
        use std::cmp::Ordering;
        for op in Cmp::ALL {
            for ord in [Ordering::Less, Ordering::Equal, Ordering::Greater] {
                let holds = crate::eval::test(op, ord);
                assert_eq!(
                    Accept::of(op).holds(ord),
                    Tri::bool(holds),
                    "{op:?} {ord:?}"
                );
                assert_eq!(crate::eval::test(op.flipped(), ord.reverse()), holds);
                assert_eq!(crate::eval::test(op.negated(), ord), !holds);
            }
        }
    }

    fn not(code: Code) -> Code {
        Code::Not(Box::new(code))
    }

    /// Shapes the checker never hands over (it folds `not` into
    /// comparisons itself) still compile to the tree's answers: negated
    /// leaves, a `not` over a range, a constant, deep nesting past the
    /// stack, and a subtree the program leaves to the tree evaluator.
    #[test]
    fn every_op_agrees_with_the_tree() {
        let weight = || num(Fact::WEIGHT, Cmp::Gt, 70, None);
        let sex = Code::FactCmp {
            op: Cmp::Eq,
            fact: Fact::SEX,
            value: Val::Enum(1),
            if_missing: Some(false),
        };
        let range = Code::FactInRange(
            Fact::TOTAL_DURATION,
            Val::Num(Decimal::from(105)),
            Val::Num(Decimal::from(140)),
        );
        let arith = Code::Cmp(
            Cmp::Lt,
            Box::new(Code::Arith(
                crate::syntax::Arith::Mul,
                Box::new(Code::Fact(Fact::AGE)),
                Box::new(Code::Const(Val::Num(Decimal::from(2)))),
            )),
            Box::new(Code::Const(Val::Num(Decimal::from(40)))),
        );
        let mut deep = weight();
        for i in 0..40 {
            deep = if i % 2 == 0 {
                Code::And(Box::new(sex.clone()), Box::new(deep))
            } else {
                Code::Or(Box::new(not(weight())), Box::new(deep))
            };
        }
        let codes = [
            not(weight()),
            not(num(Fact::WEIGHT, Cmp::Le, 70, Some(true))),
            not(sex.clone()),
            not(range.clone()),
            not(not(range.clone())),
            not(Code::Const(Val::Bool(true))),
            Code::Default(
                Box::new(Code::And(Box::new(weight()), Box::new(range.clone()))),
                Box::new(Code::Const(Val::Bool(true))),
            ),
            not(Code::Or(Box::new(sex.clone()), Box::new(arith.clone()))),
            Code::And(Box::new(Code::Present(Fact::START)), Box::new(arith)),
            deep,
        ];
        let weights = [
            None,
            Some(Val::Num(Decimal::new(6999, 2))),
            Some(Val::Num(Decimal::from(70))),
            Some(Val::Num(Decimal::new(7001, 2))),
        ];
        let sexes = [
            None,
            Some(Val::Enum(0)),
            Some(Val::Enum(1)),
            Some(Val::Enum(2)),
        ];
        let durations = [
            None,
            Some(Val::Num(Decimal::from(105))),
            Some(Val::Num(Decimal::from(141))),
        ];
        let ages = [
            None,
            Some(Val::Num(Decimal::from(19))),
            Some(Val::Num(Decimal::from(20))),
        ];
        for code in &codes {
            let program = Program::condition(code);
            for w in weights {
                for s in sexes {
                    for d in durations {
                        for a in ages {
                            let mut row = vec![None; Vocabulary::shipped().len()];
                            row[Fact::WEIGHT.index()] = w;
                            row[Fact::SEX.index()] = s;
                            row[Fact::TOTAL_DURATION.index()] = d;
                            row[Fact::AGE.index()] = a;
                            assert_eq!(
                                program.run(&row).known(),
                                truth(code, &row),
                                "{code:?} on {w:?} {s:?} {d:?} {a:?}"
                            );
                        }
                    }
                }
            }
        }
    }
}
