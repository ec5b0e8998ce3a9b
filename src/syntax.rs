//! Expression text to syntax tree.
//!
//! Takes the text of a rule field (`phase.daily_dose_per_kg > 2 mg/kg/day`)
//! and gives an [`Expr`] tree whose every node keeps its span, using the pest
//! grammar in `grammar/rxlint.pest` and one Pratt table for precedence.
//! Nothing here knows about facts or units: that is the checker's job.

use std::sync::LazyLock;

use pest::Parser as _;
use pest::iterators::{Pair, Pairs};
use pest::pratt_parser::{Assoc, Op, PrattParser};
use rust_decimal::Decimal;

use crate::source::{Span, Spanned};

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/rxlint.pest"]
struct Grammar;

/// An expression node and where it was written (relative to the expression text).
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What it is.
    pub kind: ExprKind,
    /// Where it is.
    pub span: Span,
}

/// The expression forms, one per grammar rule.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// `2 mg/kg/day`, `0.5`.
    Quantity {
        /// The number, exactly as written.
        value: Decimal,
        /// The unit text, if any, and its span.
        unit: Option<Spanned<String>>,
    },
    /// `2026-03-02` (validated by the checker).
    Date(String),
    /// `true`, `false`.
    Bool(bool),
    /// `patient.weight`.
    Path(String),
    /// `severe`: an enum value, resolved against the other operand.
    Name(String),
    /// `present(patient.weight)`.
    Call {
        /// The function name.
        name: Spanned<String>,
        /// The arguments.
        args: Vec<Expr>,
    },
    /// `not x`, `-x`.
    Unary(UnOp, Box<Expr>),
    /// `a and b`, `a or b`.
    Logic(Logic, Box<Expr>, Box<Expr>),
    /// `a ?? b`.
    Default(Box<Expr>, Box<Expr>),
    /// `a < b`, `a == b`.
    Cmp(Cmp, Box<Expr>, Box<Expr>),
    /// `a + b`, `a / b`.
    Arith(Arith, Box<Expr>, Box<Expr>),
    /// `x in lo ..= hi`.
    InRange(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `if c then a else b`.
    If(Box<Expr>, Box<Expr>, Box<Expr>),
}

/// Prefix operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// `not`.
    Not,
    /// `-`.
    Neg,
}

/// Kleene connectives, on true/false only. (`??` takes any type and is
/// its own node, [`ExprKind::Default`].)
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Logic {
    /// `and`.
    And,
    /// `or`.
    Or,
}

impl Logic {
    /// Every connective.
    pub const ALL: [Logic; 2] = [Logic::And, Logic::Or];

    /// The connective as written.
    pub fn symbol(self) -> &'static str {
        match self {
            Logic::And => "and",
            Logic::Or => "or",
        }
    }
}

/// Comparisons: two values of one type give true/false.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmp {
    /// `==`.
    Eq,
    /// `!=`.
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
}

impl Cmp {
    /// Every comparison.
    pub const ALL: [Cmp; 6] = [Cmp::Eq, Cmp::Ne, Cmp::Lt, Cmp::Le, Cmp::Gt, Cmp::Ge];

    /// The comparison as written.
    pub fn symbol(self) -> &'static str {
        match self {
            Cmp::Eq => "==",
            Cmp::Ne => "!=",
            Cmp::Lt => "<",
            Cmp::Le => "<=",
            Cmp::Gt => ">",
            Cmp::Ge => ">=",
        }
    }

    /// The comparison with its operands swapped: `c < x` is `x > c`.
    pub fn flipped(self) -> Cmp {
        match self {
            Cmp::Lt => Cmp::Gt,
            Cmp::Le => Cmp::Ge,
            Cmp::Gt => Cmp::Lt,
            Cmp::Ge => Cmp::Le,
            Cmp::Eq => Cmp::Eq,
            Cmp::Ne => Cmp::Ne,
        }
    }

    /// The comparison that holds exactly when this one does not, on two
    /// values of one type (which are totally ordered): `not (x < c)` is `x >= c`.
    pub fn negated(self) -> Cmp {
        match self {
            Cmp::Lt => Cmp::Ge,
            Cmp::Le => Cmp::Gt,
            Cmp::Gt => Cmp::Le,
            Cmp::Ge => Cmp::Lt,
            Cmp::Eq => Cmp::Ne,
            Cmp::Ne => Cmp::Eq,
        }
    }

    /// True for `<`, `<=`, `>`, `>=`, which order values (and bound them);
    /// false for `==`, `!=`.
    pub fn orders(self) -> bool {
        match self {
            Cmp::Lt | Cmp::Le | Cmp::Gt | Cmp::Ge => true,
            Cmp::Eq | Cmp::Ne => false,
        }
    }
}

/// Exact arithmetic on numbers (and, for `+ -`, dates).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arith {
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
}

impl Arith {
    /// Every arithmetic operator.
    pub const ALL: [Arith; 4] = [Arith::Add, Arith::Sub, Arith::Mul, Arith::Div];

    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            Arith::Add => "+",
            Arith::Sub => "-",
            Arith::Mul => "*",
            Arith::Div => "/",
        }
    }
}

/// A piece of a message template.
#[derive(Clone, Debug, PartialEq)]
pub enum Piece {
    /// Literal text.
    Text(String),
    /// An interpolated expression.
    Hole(Expr),
}

/// Why an expression did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    /// What was expected, in words.
    pub message: String,
    /// Where (relative to the expression text).
    pub span: Span,
}

/// The precedence table, lowest first. This is the only place precedence lives.
static PRATT: LazyLock<PrattParser<Rule>> = LazyLock::new(|| {
    PrattParser::new()
        .op(Op::infix(Rule::or, Assoc::Left))
        .op(Op::infix(Rule::and, Assoc::Left))
        .op(Op::prefix(Rule::not))
        .op(Op::infix(Rule::eq, Assoc::Left)
            | Op::infix(Rule::ne, Assoc::Left)
            | Op::infix(Rule::lt, Assoc::Left)
            | Op::infix(Rule::le, Assoc::Left)
            | Op::infix(Rule::gt, Assoc::Left)
            | Op::infix(Rule::ge, Assoc::Left)
            | Op::postfix(Rule::in_range))
        .op(Op::infix(Rule::default, Assoc::Left))
        .op(Op::infix(Rule::add, Assoc::Left) | Op::infix(Rule::sub, Assoc::Left))
        .op(Op::infix(Rule::mul, Assoc::Left) | Op::infix(Rule::div, Assoc::Left))
        .op(Op::prefix(Rule::neg))
});

/// Longest expression text accepted; longer fields are refused, not parsed.
pub const MAX_EXPRESSION_LEN: usize = 4096;
/// Deepest nesting of parentheses accepted.
const MAX_NESTING: usize = 64;

/// Parses one expression.
///
/// Errors: `5 mg/kg/` (expected a unit atom), `a >` (expected an operand),
/// `(a and b` (expected `)`).
pub fn parse_expression(text: &str) -> Result<Expr, SyntaxError> {
    guard(text)?;
    let mut pairs = Grammar::parse(Rule::expression, text).map_err(to_error)?;
    let expr = pairs
        .next()
        .and_then(|p| p.into_inner().next())
        .ok_or_else(|| SyntaxError {
            message: "expected an expression".into(),
            span: Span::default(),
        })?;
    build_expr(expr.into_inner())
}

/// Parses a message template: text with `{expression}` holes.
///
/// Errors: `dose {phase.dose` (unclosed hole), `dose {}` (empty hole).
pub fn parse_template(text: &str) -> Result<Vec<Piece>, SyntaxError> {
    guard(text)?;
    let mut pairs = Grammar::parse(Rule::template, text).map_err(to_error)?;
    let Some(template) = pairs.next() else {
        return Ok(Vec::new());
    };
    let mut pieces = Vec::new();
    for pair in template.into_inner() {
        match pair.as_rule() {
            Rule::template_text => {
                pieces.push(Piece::Text(
                    pair.as_str().replace("{{", "{").replace("}}", "}"),
                ));
            }
            Rule::hole => {
                if let Some(expr) = pair.into_inner().next() {
                    pieces.push(Piece::Hole(build_expr(expr.into_inner())?));
                }
            }
            _ => {}
        }
    }
    Ok(pieces)
}

/// Refuses text that is too long or too deeply nested before pest sees it,
/// so that hostile rule files cannot exhaust the stack. An `if` nests its
/// `else` branch without parentheses, so each `if` counts as one level for
/// the rest of the text (more than the nesting it makes, never less).
fn guard(text: &str) -> Result<(), SyntaxError> {
    if text.len() > MAX_EXPRESSION_LEN {
        return Err(SyntaxError {
            message: format!(
                "expression is {} bytes long; the limit is {MAX_EXPRESSION_LEN}",
                text.len()
            ),
            span: Span::new(0, text.len()),
        });
    }
    let mut depth = 0usize;
    let mut ifs = 0usize;
    let bytes = text.as_bytes();
    let word = |i: usize| {
        bytes
            .get(i)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
    };
    for (i, c) in text.char_indices() {
        match c {
            '(' | '{' => depth += 1,
            ')' | '}' => depth = depth.saturating_sub(1),
            'i' if text[i..].starts_with("if") && !word(i + 2) && (i == 0 || !word(i - 1)) => {
                ifs += 1;
            }
            _ => {}
        }
        if depth + ifs > MAX_NESTING {
            return Err(SyntaxError {
                message: format!(
                    "expression nested deeper than {MAX_NESTING} (parentheses and `if`s)"
                ),
                span: Span::new(i, i + 1),
            });
        }
    }
    Ok(())
}

fn span_of(pair: &Pair<'_, Rule>) -> Span {
    let s = pair.as_span();
    Span::new(s.start(), s.end())
}

/// An error for a grammar rule where the tree builder expects another.
/// The grammar admits only the rules the builders match, so this means the
/// grammar and the builders disagree: an error, never a guessed node.
fn unexpected(pair: &Pair<'_, Rule>) -> SyntaxError {
    SyntaxError {
        message: format!("unexpected `{}`", pair.as_str()),
        span: span_of(pair),
    }
}

fn build_expr(pairs: Pairs<'_, Rule>) -> Result<Expr, SyntaxError> {
    PRATT
        .map_primary(build_operand)
        .map_prefix(|op, rhs| {
            let rhs = rhs?;
            let span = span_of(&op).to(rhs.span);
            let op = match op.as_rule() {
                Rule::not => UnOp::Not,
                Rule::neg => UnOp::Neg,
                _ => return Err(unexpected(&op)),
            };
            Ok(Expr {
                kind: ExprKind::Unary(op, Box::new(rhs)),
                span,
            })
        })
        .map_postfix(|lhs, op| {
            let lhs = lhs?;
            let span = lhs.span.to(span_of(&op));
            let mut bounds = op
                .into_inner()
                .filter(|p| p.as_rule() == Rule::bound)
                .map(build_bound);
            let lo = bounds.next().transpose()?.unwrap_or_else(|| lhs.clone());
            let hi = bounds.next().transpose()?.unwrap_or_else(|| lo.clone());
            Ok(Expr {
                kind: ExprKind::InRange(Box::new(lhs), Box::new(lo), Box::new(hi)),
                span,
            })
        })
        .map_infix(|lhs, op, rhs| {
            let (lhs, rhs) = (lhs?, rhs?);
            let span = lhs.span.to(rhs.span);
            let (a, b) = (Box::new(lhs), Box::new(rhs));
            let kind = match op.as_rule() {
                Rule::and => ExprKind::Logic(Logic::And, a, b),
                Rule::or => ExprKind::Logic(Logic::Or, a, b),
                Rule::default => ExprKind::Default(a, b),
                Rule::eq => ExprKind::Cmp(Cmp::Eq, a, b),
                Rule::ne => ExprKind::Cmp(Cmp::Ne, a, b),
                Rule::lt => ExprKind::Cmp(Cmp::Lt, a, b),
                Rule::le => ExprKind::Cmp(Cmp::Le, a, b),
                Rule::gt => ExprKind::Cmp(Cmp::Gt, a, b),
                Rule::ge => ExprKind::Cmp(Cmp::Ge, a, b),
                Rule::add => ExprKind::Arith(Arith::Add, a, b),
                Rule::sub => ExprKind::Arith(Arith::Sub, a, b),
                Rule::mul => ExprKind::Arith(Arith::Mul, a, b),
                Rule::div => ExprKind::Arith(Arith::Div, a, b),
                _ => return Err(unexpected(&op)),
            };
            Ok(Expr { kind, span })
        })
        .parse(pairs)
}

fn build_bound(pair: Pair<'_, Rule>) -> Result<Expr, SyntaxError> {
    let span = span_of(&pair);
    let mut inner = pair.into_inner().peekable();
    let negated = inner.peek().is_some_and(|p| p.as_rule() == Rule::neg);
    if negated {
        inner.next();
    }
    let operand = match inner.next() {
        Some(pair) => build_operand(pair)?,
        None => Expr {
            kind: ExprKind::Bool(false),
            span,
        },
    };
    Ok(if negated {
        Expr {
            kind: ExprKind::Unary(UnOp::Neg, Box::new(operand)),
            span,
        }
    } else {
        operand
    })
}

fn build_operand(pair: Pair<'_, Rule>) -> Result<Expr, SyntaxError> {
    let span = span_of(&pair);
    let kind = match pair.as_rule() {
        Rule::expr => return build_expr(pair.into_inner()),
        Rule::quantity => {
            let mut inner = pair.into_inner();
            let value = inner
                .next()
                .and_then(|n| crate::units::parse_decimal(n.as_str()))
                .unwrap_or_default();
            let unit = inner
                .next()
                .map(|u| Spanned::new(u.as_str().to_owned(), span_of(&u)));
            ExprKind::Quantity { value, unit }
        }
        Rule::date => ExprKind::Date(pair.as_str().to_owned()),
        Rule::boolean => ExprKind::Bool(pair.as_str() == "true"),
        Rule::path => ExprKind::Path(pair.as_str().to_owned()),
        Rule::name => ExprKind::Name(pair.as_str().to_owned()),
        Rule::call => {
            let mut inner = pair.into_inner();
            let name = inner.next().map_or_else(
                || Spanned::new(String::new(), span),
                |n| Spanned::new(n.as_str().to_owned(), span_of(&n)),
            );
            let args = inner
                .map(|a| build_expr(a.into_inner()))
                .collect::<Result<_, _>>()?;
            ExprKind::Call { name, args }
        }
        Rule::conditional => {
            let mut parts = pair
                .into_inner()
                .filter(|p| p.as_rule() == Rule::expr)
                .map(|p| build_expr(p.into_inner()));
            let (Some(c), Some(a), Some(b)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(SyntaxError {
                    message: "expected `if CONDITION then A else B`".into(),
                    span,
                });
            };
            ExprKind::If(Box::new(c?), Box::new(a?), Box::new(b?))
        }
        _ => return Err(unexpected(&pair)),
    };
    Ok(Expr { kind, span })
}

/// Names grammar rules the way an author would, for "expected ..." messages.
fn describe(rule: &Rule) -> Option<&'static str> {
    Some(match rule {
        Rule::EOI => "end of expression",
        Rule::expr | Rule::bound => "an expression",
        Rule::quantity | Rule::number => "a number",
        Rule::unit | Rule::unit_atom => "a unit",
        Rule::path => "a fact such as `patient.weight`",
        Rule::name => "a name",
        Rule::call => "a function call",
        Rule::conditional | Rule::kw_if => "`if`",
        Rule::kw_then => "`then`",
        Rule::kw_else => "`else`",
        Rule::date => "a date",
        Rule::boolean => "`true` or `false`",
        Rule::or | Rule::and => "`and` or `or`",
        Rule::default => "`??`",
        Rule::eq | Rule::ne | Rule::lt | Rule::le | Rule::gt | Rule::ge => "a comparison",
        Rule::add | Rule::sub | Rule::mul | Rule::div => "an arithmetic operator",
        Rule::not => "`not`",
        Rule::neg => "`-`",
        Rule::in_range => "`in`",
        Rule::hole => "`{`",
        Rule::template_text => "text",
        _ => return None,
    })
}

fn to_error(err: pest::error::Error<Rule>) -> SyntaxError {
    use pest::error::{ErrorVariant, InputLocation};
    let span = match err.location {
        InputLocation::Pos(p) => Span::new(p, p),
        InputLocation::Span((a, b)) => Span::new(a, b),
    };
    let message = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => {
            let mut wanted: Vec<&str> = positives.iter().filter_map(describe).collect();
            wanted.dedup();
            let mut seen = Vec::new();
            wanted.retain(|w| {
                if seen.contains(w) {
                    false
                } else {
                    seen.push(*w);
                    true
                }
            });
            match wanted.as_slice() {
                [] => "unexpected input".to_owned(),
                [one] => format!("expected {one}"),
                [init @ .., last] => format!("expected {} or {last}", init.join(", ")),
            }
        }
        ErrorVariant::CustomError { message } => message.clone(),
    };
    SyntaxError { message, span }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn show(e: &Expr) -> String {
        match &e.kind {
            ExprKind::Quantity { value, unit } => match unit {
                Some(u) => format!("{value} {}", u.value),
                None => value.to_string(),
            },
            ExprKind::Date(d) => d.clone(),
            ExprKind::Bool(b) => b.to_string(),
            ExprKind::Path(p) | ExprKind::Name(p) => p.clone(),
            ExprKind::Call { name, args } => {
                format!(
                    "{}({})",
                    name.value,
                    args.iter().map(show).collect::<Vec<_>>().join(", ")
                )
            }
            ExprKind::Unary(UnOp::Not, x) => format!("(not {})", show(x)),
            ExprKind::Unary(UnOp::Neg, x) => format!("(-{})", show(x)),
            ExprKind::Logic(op, a, b) => format!("({} {} {})", show(a), op.symbol(), show(b)),
            ExprKind::Default(a, b) => format!("({} ?? {})", show(a), show(b)),
            ExprKind::Cmp(op, a, b) => format!("({} {} {})", show(a), op.symbol(), show(b)),
            ExprKind::Arith(op, a, b) => format!("({} {} {})", show(a), op.symbol(), show(b)),
            ExprKind::InRange(x, lo, hi) => {
                format!("({} in {} ..= {})", show(x), show(lo), show(hi))
            }
            ExprKind::If(c, a, b) => format!("(if {} then {} else {})", show(c), show(a), show(b)),
        }
    }

    #[test]
    fn precedence_table() {
        let cases = [
            ("a.b > 2 mg/kg/day", "(a.b > 2 mg/kg/day)"),
            ("not a.b and c.d or e.f", "(((not a.b) and c.d) or e.f)"),
            ("not a.b == severe", "(not (a.b == severe))"),
            ("a.b ?? none == severe", "((a.b ?? none) == severe)"),
            ("1 + 2 * 3 - 4", "((1 + (2 * 3)) - 4)"),
            ("-2 * 3", "((-2) * 3)"),
            (
                "a.b in 0.5 mg/kg/day ..= 1 mg/kg/day and c.d",
                "((a.b in 0.5 mg/kg/day ..= 1 mg/kg/day) and c.d)",
            ),
            (
                "phase.dose / patient.weight",
                "(phase.dose / patient.weight)",
            ),
            ("30 mL/min/1.73m2", "30 mL/min/1.73m2"),
            ("18 years", "18 years"),
            (
                "present(course.start) and 2026-03-02 - course.start < 8 weeks",
                "(present(course.start) and ((2026-03-02 - course.start) < 8 weeks))",
            ),
            ("2 and a.b", "(2 and a.b)"),
            ("a.b in 1 ..= 2", "(a.b in 1 ..= 2)"),
            // The `else` branch runs as far right as it can.
            (
                "if a.b then c.d else e.f + 1",
                "(if a.b then c.d else (e.f + 1))",
            ),
            (
                "x.y > if a.b then 1 mg else 2 mg",
                "(x.y > (if a.b then 1 mg else 2 mg))",
            ),
            (
                "(if a.b then 1 mg else 2 mg) < x.y and c.d",
                "(((if a.b then 1 mg else 2 mg) < x.y) and c.d)",
            ),
            (
                "if a.b > 1 and c.d then 1 else if e.f then 2 else 3",
                "(if ((a.b > 1) and c.d) then 1 else (if e.f then 2 else 3))",
            ),
            ("if(a.b) then 1 else 2", "(if a.b then 1 else 2)"),
            (
                "min(1000 mg, 15 mg/kg * p.w) < max(a.b, c.d)",
                "(min(1000 mg, (15 mg/kg * p.w)) < max(a.b, c.d))",
            ),
            (
                "p.d - previous(p.d) > 500 mg/day",
                "((p.d - previous(p.d)) > 500 mg/day)",
            ),
            (
                "1 + if a.b then 2 else 3 * 4",
                "(1 + (if a.b then 2 else (3 * 4)))",
            ),
            ("iffy.x > 1", "(iffy.x > 1)"),
        ];
        for (text, want) in cases {
            let got = parse_expression(text).map(|e| show(&e));
            assert_eq!(got.as_deref(), Ok(want), "{text}");
        }
    }

    /// Every operator's symbol parses back to that operator, so the
    /// grammar, the tree builder and `symbol()` agree.
    #[test]
    fn every_operator_parses_back_from_its_symbol() {
        let parse = |symbol: &str| {
            let text = format!("a.b {symbol} c.d");
            parse_expression(&text)
                .unwrap_or_else(|e| panic!("{text}: {e:?}"))
                .kind
        };
        for op in Logic::ALL {
            assert!(
                matches!(parse(op.symbol()), ExprKind::Logic(got, ..) if got == op),
                "{op:?}"
            );
        }
        for op in Cmp::ALL {
            assert!(
                matches!(parse(op.symbol()), ExprKind::Cmp(got, ..) if got == op),
                "{op:?}"
            );
        }
        for op in Arith::ALL {
            assert!(
                matches!(parse(op.symbol()), ExprKind::Arith(got, ..) if got == op),
                "{op:?}"
            );
        }
        assert!(matches!(parse("??"), ExprKind::Default(..)));
    }

    #[test]
    fn flipping_or_negating_a_comparison_twice_gives_it_back() {
        for op in Cmp::ALL {
            assert_eq!(op.flipped().flipped(), op, "{op:?}");
            assert_eq!(op.negated().negated(), op, "{op:?}");
            assert_ne!(op.negated(), op, "{op:?}");
            assert_eq!(op.flipped().orders(), op.orders(), "{op:?}");
        }
    }

    #[test]
    fn errors_say_what_was_expected() {
        let err = parse_expression("phase.dose >").err();
        assert_eq!(err.as_ref().map(|e| e.span.start()), Some(12));
        assert!(err.is_some_and(|e| e.message.contains("expected")));
        assert!(parse_expression("5 mg/kg/").is_err());
        assert!(parse_expression("(a.b and c.d").is_err());
        assert!(parse_expression(&"(".repeat(10_000)).is_err());
        assert!(parse_expression(&"if a.b then 1 else ".repeat(10_000)).is_err());
        // The keywords are not names, and `5 else` is no unit.
        assert!(parse_expression("if a.b then 1 mg").is_err());
        assert!(parse_expression("a.b == then").is_err());
        assert!(parse_expression("if a.b then 5 else 6").is_ok());
    }

    #[test]
    fn templates_split_text_and_holes() {
        let pieces = parse_template("daily dose {phase.daily_dose_per_kg} is above {{2}}")
            .unwrap_or_default();
        assert_eq!(pieces.len(), 3);
        assert_eq!(pieces.last(), Some(&Piece::Text(" is above {2}".into())));
        assert!(parse_template("dose {phase.dose").is_err());
    }
}
