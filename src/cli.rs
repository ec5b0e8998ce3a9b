//! The `rxlint` command line: arguments in, exit code out.
//!
//! Parses the arguments and hands them to `check` (regimens against the
//! rules), to `report` (the HTML report of an earlier JSON Lines run), to
//! `rules` (the `rules` subcommands) or to `explain` (a diagnostic code), which return an [`Exit`].

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Parser, Subcommand};

use crate::diagnostic::Diagnostic;
use crate::input;
use crate::report::human::{self, Style};
use crate::rules::RuleSet;

/// Exit codes of the contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Every regimen is `pass` or `warn`.
    Clean = 0,
    /// At least one regimen is `fail` or `invalid`.
    Findings = 1,
    /// The tool could not do its job (or checked nothing).
    Trouble = 2,
    /// Interrupted by Ctrl-C (set by the signal handler, which exits
    /// directly; listed here for the contract).
    Interrupted = 130,
}

#[derive(Parser, Debug)]
#[command(
    name = "rxlint",
    version,
    about = "Check medication regimens against drug-label and guideline limits"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Evaluate regimens (files, directories, `-` for stdin) against rule packs.
    Check(CheckArgs),
    /// Work with rule files.
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Build the HTML report from the JSON Lines of a `check --format json`
    /// run (`rxlint report results.jsonl --output report.html`).
    Report(ReportArgs),
    /// Work with column maps (a CSV export's headers onto rxlint's fields).
    #[command(subcommand)]
    Columns(ColumnsCommand),
    /// Explain a diagnostic code (`input.missing-unit`, `rules.unit-mismatch`)
    /// or a rule id.
    Explain {
        /// The code or rule id.
        #[arg(required_unless_present = "list")]
        code: Option<String>,
        /// List every diagnostic code with one line on what it means.
        #[arg(long, conflicts_with = "code")]
        list: bool,
        /// Rule directory for rule ids (default: the shipped packs).
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
    },
}

/// `println!` that ignores a closed standard output: `rxlint rules list |
/// head` has given the reader what it wanted, which is no reason to panic.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

// After `out!`, which they use.
mod check;
mod columns;
mod explain;
mod report;
mod rules;

use check::{CheckArgs, check};
use columns::ColumnsCommand;
use report::{ReportArgs, report};
use rules::{RulesCommand, diff, doc, explain, facts, lint, list, test_rules};

/// Runs the command line and returns the exit code.
pub fn run() -> Exit {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Trouble
            } else {
                Exit::Clean
            };
        }
    };
    match cli.command {
        Command::Check(args) => check(&args),
        Command::Report(args) => report(&args),
        Command::Rules(RulesCommand::Lint { dir }) => lint(dir.as_deref()),
        Command::Rules(RulesCommand::Test { dir }) => test_rules(dir.as_deref()),
        Command::Rules(RulesCommand::Doc { out, rules }) => doc(rules.as_deref(), &out),
        Command::Rules(RulesCommand::Diff {
            old,
            new,
            profile,
            inputs,
        }) => diff(&old, &new, &profile, &inputs),
        Command::Rules(RulesCommand::List { rules, profile }) => list(rules.as_deref(), &profile),
        Command::Rules(RulesCommand::Facts { rules }) => facts(rules.as_deref()),
        Command::Rules(RulesCommand::Explain { id, rules }) => explain(rules.as_deref(), &id),
        Command::Columns(ColumnsCommand::Init { export, rules }) => {
            columns::init(&export, rules.as_deref())
        }
        Command::Explain { code, list, rules } => {
            explain::explain(code.as_deref(), list, rules.as_deref())
        }
    }
}

fn stderr_style() -> Style {
    Style {
        color: std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        width: 100,
    }
}

fn load_rules(dir: Option<&Path>) -> Result<RuleSet, Vec<Diagnostic>> {
    match dir {
        Some(dir) => RuleSet::from_dir(dir),
        None => RuleSet::builtin(),
    }
}

/// The rules of `dir` (the shipped packs without one), or the exit of a
/// command that cannot run without them, their problems printed.
fn rules_or_exit(dir: Option<&Path>) -> Result<RuleSet, Exit> {
    load_rules(dir).map_err(|problems| {
        print_rule_problems(&problems);
        Exit::Trouble
    })
}

fn print_rule_problems(problems: &[Diagnostic]) {
    let style = stderr_style();
    let mut err = std::io::stderr().lock();
    for p in problems {
        let _ = writeln!(err, "{}", human::render(p, style));
    }
    let noun = if problems.len() == 1 {
        "problem"
    } else {
        "problems"
    };
    let _ = writeln!(
        err,
        "error: the rule files have {} {noun}; nothing was checked",
        problems.len()
    );
}

fn fail(message: impl std::fmt::Display) -> Exit {
    eprintln!("error: {message}");
    Exit::Trouble
}

fn report_trouble(trouble: input::Trouble) -> Exit {
    match trouble {
        input::Trouble::Io(why) => fail(why),
        input::Trouble::Header(problems) => {
            let style = stderr_style();
            for p in &problems {
                eprintln!("{}", human::render(p, style));
            }
            fail("a CSV header is not valid; nothing was checked")
        }
        input::Trouble::Schema(problems) => {
            let style = stderr_style();
            for p in &problems {
                eprintln!("{}", human::render(p, style));
            }
            fail("the columns of a Parquet file are not valid; nothing was checked")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_map_to_exit_codes() {
        assert_eq!(Exit::Clean as i32, 0);
        assert_eq!(Exit::Findings as i32, 1);
        assert_eq!(Exit::Trouble as i32, 2);
        assert_eq!(Exit::Interrupted as i32, 130);
    }
}
