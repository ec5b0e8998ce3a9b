//! The `rxlint` command line: arguments in, exit code out.

use std::io::{IsTerminal, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::diagnostic::Diagnostic;
use crate::eval::Engine;
use crate::regimen::Regimen;
use crate::regimen::document::{self, Syntax};
use crate::report::human::{self, Style};
use crate::report::{Summary, json};
use crate::rules::RuleSet;
use crate::source::{SourceFile, Span};

/// Largest regimen document read whole (batch formats stream instead).
pub const MAX_DOCUMENT_BYTES: u64 = 64 * 1024 * 1024;

/// Exit codes of the contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// Every regimen is `pass` or `warn`.
    Clean = 0,
    /// At least one regimen is `fail` or `invalid`.
    Findings = 1,
    /// The tool could not do its job.
    Trouble = 2,
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
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// Regimen files, directories (searched for *.yaml, *.yml, *.json) or `-`.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Rule directory to use instead of the shipped packs.
    #[arg(long, value_name = "DIR")]
    rules: Option<PathBuf>,
    /// Rule profile.
    #[arg(long, default_value = "us")]
    profile: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Count unevaluated rules as errors.
    #[arg(long)]
    strict: bool,
    /// Input format (default: by extension; needed for `-`).
    #[arg(long, value_enum)]
    input_format: Option<InputFormat>,
    /// Worker threads (default: all cores).
    #[arg(long)]
    jobs: Option<usize>,
    /// Write the report to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// No progress bar and no summary.
    #[arg(long)]
    quiet: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
    Sarif,
    Junit,
    Github,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum InputFormat {
    Yaml,
    Json,
    Jsonl,
    Csv,
    Fhir,
}

#[derive(Subcommand, Debug)]
enum RulesCommand {
    /// Load and type-check rule files; report every problem with its location.
    Lint {
        /// Rule directory (default: the shipped packs).
        dir: Option<PathBuf>,
    },
    /// List the rules in force for a profile.
    List {
        /// Rule directory (default: the shipped packs).
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
        /// Profile.
        #[arg(long, default_value = "us")]
        profile: String,
    },
    /// Show one rule: its logic, message and citation.
    Explain {
        /// The rule id, e.g. isotretinoin.max-daily-dose.
        id: String,
        /// Rule directory (default: the shipped packs).
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
    },
}

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
        Command::Rules(RulesCommand::Lint { dir }) => lint(dir.as_deref()),
        Command::Rules(RulesCommand::List { rules, profile }) => list(rules.as_deref(), &profile),
        Command::Rules(RulesCommand::Explain { id, rules }) => explain(rules.as_deref(), &id),
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

fn check(args: &CheckArgs) -> Exit {
    if matches!(args.format, Format::Sarif | Format::Junit | Format::Github) {
        return fail(
            format!(
                "--format {:?} is not available yet; use human or json",
                args.format
            )
            .to_lowercase(),
        );
    }
    if matches!(
        args.input_format,
        Some(InputFormat::Jsonl | InputFormat::Csv | InputFormat::Fhir)
    ) {
        return fail(
            "batch input formats (jsonl, csv, fhir) are not available yet; use yaml or json",
        );
    }
    let set = match load_rules(args.rules.as_deref()) {
        Ok(set) => set,
        Err(problems) => {
            print_rule_problems(&problems);
            return Exit::Trouble;
        }
    };
    let engine = match Engine::new(&set, &args.profile, args.strict) {
        Ok(engine) => engine,
        Err(why) => return fail(why),
    };
    let mut files = Vec::new();
    for input in &args.inputs {
        if let Err(why) = expand(input, &mut files) {
            return fail(why);
        }
    }
    let mut out: Box<dyn Write> = match &args.output {
        Some(path) => match std::fs::File::create(path) {
            Ok(f) => Box::new(std::io::BufWriter::new(f)),
            Err(e) => return fail(format!("cannot write {}: {e}", path.display())),
        },
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let style = Style {
        color: to_terminal && std::env::var_os("NO_COLOR").is_none(),
        width: 100,
    };
    let mut summary = Summary::default();
    for file in files {
        let regimens = match read_input(&file, args.input_format) {
            Ok(r) => r,
            Err(why) => return fail(why),
        };
        for regimen in regimens {
            let outcome = engine.evaluate(regimen);
            summary.add(outcome.verdict);
            let text = match args.format {
                Format::Json => json::line(&outcome, engine.profile()) + "\n",
                _ => human::outcome(&outcome, style),
            };
            if let Err(e) = out.write_all(text.as_bytes()) {
                return fail(format!("cannot write the report: {e}"));
            }
        }
    }
    if !args.quiet {
        if args.format == Format::Human && args.output.is_none() {
            let _ = writeln!(out, "{}", summary.line());
        } else {
            eprintln!("{}", summary.line());
        }
    }
    if let Err(e) = out.flush() {
        return fail(format!("cannot write the report: {e}"));
    }
    if summary.fail + summary.invalid > 0 {
        Exit::Findings
    } else {
        Exit::Clean
    }
}

/// An input to read: a file path, or standard input.
enum InputFile {
    Path(PathBuf),
    Stdin,
}

fn expand(input: &Path, out: &mut Vec<InputFile>) -> Result<(), String> {
    if input.as_os_str() == "-" {
        out.push(InputFile::Stdin);
        return Ok(());
    }
    let meta =
        std::fs::metadata(input).map_err(|e| format!("cannot read {}: {e}", input.display()))?;
    if !meta.is_dir() {
        out.push(InputFile::Path(input.to_path_buf()));
        return Ok(());
    }
    let mut found = Vec::new();
    walk(input, &mut found)
        .map_err(|e| format!("cannot read directory {}: {e}", input.display()))?;
    if found.is_empty() {
        return Err(format!(
            "no regimen files (*.yaml, *.yml, *.json) under {}",
            input.display()
        ));
    }
    found.sort();
    out.extend(found.into_iter().map(InputFile::Path));
    Ok(())
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, out)?;
        } else if path
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            out.push(path);
        }
    }
    Ok(())
}

fn syntax_for(name: &str, text: &str, forced: Option<InputFormat>) -> Syntax {
    match forced {
        Some(InputFormat::Json) => Syntax::Json,
        Some(_) => Syntax::Yaml,
        None if name.ends_with(".json") => Syntax::Json,
        None if name == "-" && text.trim_start().starts_with(['{', '[']) => Syntax::Json,
        None => Syntax::Yaml,
    }
}

fn read_input(file: &InputFile, forced: Option<InputFormat>) -> Result<Vec<Regimen>, String> {
    let (name, bytes) = match file {
        InputFile::Stdin => {
            let mut bytes = Vec::new();
            std::io::stdin()
                .take(MAX_DOCUMENT_BYTES + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| format!("cannot read standard input: {e}"))?;
            ("-".to_owned(), bytes)
        }
        InputFile::Path(path) => {
            let name = path.display().to_string();
            let mut bytes = Vec::new();
            std::fs::File::open(path)
                .and_then(|f| f.take(MAX_DOCUMENT_BYTES + 1).read_to_end(&mut bytes))
                .map_err(|e| format!("cannot read {name}: {e}"))?;
            (name, bytes)
        }
    };
    let stem = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(&name)
        .split('.')
        .next()
        .unwrap_or("")
        .to_owned();
    let whole = |code: &'static str, message: String| {
        let source = SourceFile::new(name.clone(), String::new());
        let mut b = crate::regimen::Builder::new(Span::default());
        b.problem(crate::regimen::InputProblem {
            code,
            field: String::new(),
            message,
            span: None,
            label: String::new(),
            help: None,
        });
        vec![b.finish(stem.clone(), format!("{name}:1"), Some(source))]
    };
    if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
        return Ok(whole(
            "input.too-large",
            format!(
                "{name} is larger than {} MiB",
                MAX_DOCUMENT_BYTES / (1024 * 1024)
            ),
        ));
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            return Ok(whole(
                "input.not-utf8",
                format!(
                    "{name} is not UTF-8 text (invalid byte at offset {})",
                    e.utf8_error().valid_up_to()
                ),
            ));
        }
    };
    let text = text
        .strip_prefix('\u{feff}')
        .map(str::to_owned)
        .unwrap_or(text);
    let syntax = syntax_for(&name, &text, forced);
    let source: Arc<SourceFile> = SourceFile::new(name, text);
    Ok(document::read(&source, syntax))
}

fn lint(dir: Option<&Path>) -> Exit {
    match load_rules(dir) {
        Ok(set) => {
            let rules = set.rules().count();
            println!("{} rule files, {rules} rules: no problems", set.packs.len());
            Exit::Clean
        }
        Err(problems) => {
            let unreadable = problems
                .iter()
                .any(|p| p.code == "rules.unreadable" || p.code == "rules.empty");
            print_rule_problems(&problems);
            if unreadable {
                Exit::Trouble
            } else {
                Exit::Findings
            }
        }
    }
}

fn list(dir: Option<&Path>, profile: &str) -> Exit {
    let set = match load_rules(dir) {
        Ok(set) => set,
        Err(problems) => {
            print_rule_problems(&problems);
            return Exit::Trouble;
        }
    };
    if let Err(why) = Engine::new(&set, profile, false) {
        return fail(why);
    }
    let rows: Vec<[String; 5]> = set
        .rules()
        .filter(|r| r.in_profile(profile))
        .map(|r| {
            let scope = if r.scope == crate::facts::Level::Phase {
                "phase"
            } else {
                "course"
            };
            [
                r.id.clone(),
                r.severity.as_str().into(),
                scope.into(),
                r.title.clone(),
                r.citation.short(),
            ]
        })
        .collect();
    let header = ["id", "severity", "scope", "title", "source"].map(String::from);
    let mut widths = [0usize; 5];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        println!("{}", line.join("  ").trim_end());
    }
    Exit::Clean
}

fn explain(dir: Option<&Path>, id: &str) -> Exit {
    let set = match load_rules(dir) {
        Ok(set) => set,
        Err(problems) => {
            print_rule_problems(&problems);
            return Exit::Trouble;
        }
    };
    let matching: Vec<_> = set.rules().filter(|r| r.id == id).collect();
    if matching.is_empty() {
        let ids: Vec<&str> = set.rules().map(|r| r.id.as_str()).collect();
        return fail(format!(
            "no rule `{id}`{}",
            crate::suggest::did_you_mean(id, ids)
        ));
    }
    for rule in matching {
        let profiles = if rule.profiles.is_empty() {
            "all".to_owned()
        } else {
            rule.profiles.join(", ")
        };
        println!(
            "{}: {} ({}, profiles: {profiles})",
            rule.id,
            rule.title,
            rule.severity.as_str()
        );
        let scope = if rule.scope == crate::facts::Level::Phase {
            "each phase"
        } else {
            "the whole course"
        };
        println!("  checks {scope}");
        if let Some(w) = &rule.when {
            println!(
                "  applies when: {}",
                w.text.split_whitespace().collect::<Vec<_>>().join(" ")
            );
        }
        println!(
            "  fires when:   {}",
            rule.violation
                .text
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        );
        if let Some(u) = &rule.unless {
            println!(
                "  unless:       {}",
                u.text.split_whitespace().collect::<Vec<_>>().join(" ")
            );
        }
        println!("  help:         {}", rule.help);
        println!("  source:       {}", rule.citation.short());
        println!("                \"{}\"", rule.citation.quote);
        println!("  defined in:   {}", rule.file.name());
        println!();
    }
    Exit::Clean
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_map_to_exit_codes() {
        assert_eq!(Exit::Clean as i32, 0);
        assert_eq!(Exit::Findings as i32, 1);
        assert_eq!(Exit::Trouble as i32, 2);
    }
}
