//! The `rxlint` command line: arguments in, exit code out.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use clap::{Args, Parser, Subcommand, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::batch;
use crate::diagnostic::Diagnostic;
use crate::eval::{Engine, Kind, Outcome, Verdict};
use crate::input;
use crate::report::human::{self, Style};
use crate::report::{self, Entry, Summary, github, json, junit, sarif};
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
    /// Exit 0 when the inputs hold no regimen (by default a run that
    /// checked nothing exits 2).
    #[arg(long)]
    allow_empty: bool,
    /// Base URL of the pages `rxlint rules doc` wrote, for SARIF rule links.
    #[arg(long, value_name = "URL")]
    docs_url: Option<String>,
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
    /// Run the examples embedded in rule files, and check every numeric bound.
    Test {
        /// Rule directory (default: the shipped packs).
        dir: Option<PathBuf>,
    },
    /// Write one Markdown page per rule, and an index.
    Doc {
        /// Where to write the pages.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Rule directory (default: the shipped packs).
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
    },
    /// Re-run regimens under two versions of the rules and report what changed.
    Diff {
        /// The rules before the change.
        #[arg(long, value_name = "DIR")]
        old: PathBuf,
        /// The rules after the change.
        #[arg(long, value_name = "DIR")]
        new: PathBuf,
        /// Profile.
        #[arg(long, default_value = "us")]
        profile: String,
        /// Regimen files or directories.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
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

/// `println!` that ignores a closed standard output: `rxlint rules list |
/// head` has given the reader what it wanted, which is no reason to panic.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
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
        Command::Rules(RulesCommand::Test { dir }) => test_rules(dir.as_deref()),
        Command::Rules(RulesCommand::Doc { out, rules }) => doc(rules.as_deref(), &out),
        Command::Rules(RulesCommand::Diff {
            old,
            new,
            profile,
            inputs,
        }) => diff(&old, &new, &profile, &inputs),
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

/// What a worker renders for one batch of regimens: their output text in
/// one buffer, and what the summary needs of each.
#[derive(Default)]
struct Rendered<'r> {
    verdicts: Vec<Verdict>,
    /// UTF-8 text.
    text: Vec<u8>,
    /// Per regimen, for SARIF and JUnit (written whole at the end).
    entries: Vec<Entry>,
    /// The rule of each finding, and whether it was unevaluated.
    rules: Vec<(&'r str, bool)>,
}

/// Renders one outcome in `format` into its batch, on a worker thread.
fn renderer<'r>(
    format: Format,
    profile: &str,
    style: Style,
) -> impl Fn(&Outcome<'r>, &mut Rendered<'r>) + Sync + '_ {
    move |outcome: &Outcome<'r>, batch: &mut Rendered<'r>| {
        batch.verdicts.push(outcome.verdict);
        batch.rules.extend(
            outcome
                .findings
                .iter()
                .map(|f| (f.rule.id.as_str(), f.kind == Kind::Unevaluated)),
        );
        match format {
            Format::Json => json::line(outcome, profile, &mut batch.text),
            Format::Human => batch
                .text
                .extend_from_slice(human::outcome(outcome, style).as_bytes()),
            Format::Github => batch
                .text
                .extend_from_slice(github::lines(&report::entry(outcome)).as_bytes()),
            Format::Sarif | Format::Junit => batch.entries.push(report::entry(outcome)),
        }
    }
}

fn check(args: &CheckArgs) -> Exit {
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
    let mut inputs = Vec::new();
    let mut empty_dirs = Vec::new();
    for input in &args.inputs {
        if let Err(why) = input::expand(
            input,
            args.input_format.map(to_format),
            &mut inputs,
            &mut empty_dirs,
        ) {
            return fail(why);
        }
    }
    if let Err(why) = crate::output::refuse_inputs(args.output.as_deref(), &inputs) {
        return fail(why);
    }
    let headers = match input::prepare(&inputs) {
        Ok(h) => h,
        Err(trouble) => return report_trouble(trouble),
    };
    let bar = progress_bar(&inputs, args.quiet);
    // Installed before the temporary report exists, so that an interrupt
    // always finds it to remove.
    let pending = crate::output::Pending::default();
    crate::output::on_interrupt(bar.clone(), pending.clone());
    let (report, out) = match crate::output::Report::open(args.output.as_deref(), &pending) {
        Ok(opened) => opened,
        Err(why) => return fail(why),
    };
    let mut out = std::io::BufWriter::with_capacity(1 << 16, out);
    let to_terminal = args.output.is_none() && std::io::stdout().is_terminal();
    let style = Style {
        color: to_terminal && std::env::var_os("NO_COLOR").is_none(),
        width: 100,
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let progress = input::Progress::default();
    let format = args.format;
    let profile = engine.profile().to_owned();
    let render = renderer(format, &profile, style);
    let mut summary = Summary::default();
    let mut per_rule: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut sarif_log = sarif::Log::default();
    let mut junit_report = junit::Junit::default();
    let mut write_error: Option<std::io::Error> = None;
    let mut sink = |r: Rendered| {
        for verdict in &r.verdicts {
            summary.add(*verdict);
        }
        for (rule, unevaluated) in r.rules {
            // The rule's name is copied once, when first counted.
            let counts = match per_rule.get_mut(rule) {
                Some(counts) => counts,
                None => per_rule.entry(rule.to_owned()).or_default(),
            };
            if unevaluated {
                counts.1 += 1
            } else {
                counts.0 += 1
            }
        }
        for entry in &r.entries {
            if format == Format::Sarif {
                sarif_log.add(entry)
            } else {
                junit_report.add(entry)
            }
        }
        if write_error.is_none()
            && !r.text.is_empty()
            && let Err(e) = out.write_all(&r.text)
        {
            write_error = Some(e);
        }
        if let Some(bar) = &bar {
            bar.set_position(progress.load(std::sync::atomic::Ordering::Relaxed));
        }
    };
    // JSON Lines output prints no column, so records need no byte spans.
    let spans = format != Format::Json;
    let result = batch::run(
        &inputs, spans, &headers, &engine, jobs, &progress, &render, &mut sink,
    );
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let tail = match format {
        Format::Sarif => sarif_log.finish(&set, &profile, args.docs_url.as_deref()) + "\n",
        Format::Junit => junit_report.finish() + "\n",
        Format::Human if summary.total() > 1 && !per_rule.is_empty() => rule_table(&per_rule),
        _ => String::new(),
    };
    if write_error.is_none()
        && let Err(e) = out.write_all(tail.as_bytes())
    {
        write_error = Some(e);
    }
    if !args.quiet {
        if format == Format::Human && args.output.is_none() {
            let _ = writeln!(out, "{}", summary.line());
        } else {
            eprintln!("{}", summary.line());
        }
    }
    if let Err(e) = out.flush() {
        write_error.get_or_insert(e);
    }
    drop(out);
    // Every return below but the last drops `report`, which leaves any
    // previous report file as it was.
    if let Err(trouble) = result {
        return report_trouble(trouble);
    }
    if let Some(e) = write_error {
        // A closed pipe (`| head`) is the reader's choice, not a failure.
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return if summary.fail + summary.invalid > 0 {
                Exit::Findings
            } else {
                Exit::Clean
            };
        }
        return fail(format!("cannot write the report: {e}"));
    }
    if summary.total() == 0 && !args.allow_empty {
        // A QA or CI run that checked nothing has not passed.
        let why = if empty_dirs.is_empty() {
            "the inputs hold no regimens".to_owned()
        } else {
            empty_dirs.join("; ")
        };
        return fail(format!(
            "nothing was checked: {why}; pass --allow-empty to accept a run with no records"
        ));
    }
    if let Err(why) = report.commit() {
        return fail(why);
    }
    if summary.fail + summary.invalid > 0 {
        Exit::Findings
    } else {
        Exit::Clean
    }
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
    }
}

/// The findings per rule, for the end of a human batch report.
fn rule_table(per_rule: &BTreeMap<String, (usize, usize)>) -> String {
    let width = per_rule
        .keys()
        .map(|k| k.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    let mut out = format!(
        "{:<width$}  {:>10}  {:>11}\n",
        "rule", "violations", "unevaluated"
    );
    for (rule, (violations, unevaluated)) in per_rule {
        out.push_str(&format!(
            "{rule:<width$}  {violations:>10}  {unevaluated:>11}\n"
        ));
    }
    out.push('\n');
    out
}

/// A progress bar on stderr for large inputs read from files, when stderr
/// is a terminal.
fn progress_bar(inputs: &[input::Input], quiet: bool) -> Option<ProgressBar> {
    if quiet || !std::io::stderr().is_terminal() {
        return None;
    }
    let total: u64 = inputs
        .iter()
        .filter_map(|i| match &i.origin {
            input::Origin::File(p) => std::fs::metadata(p).ok().map(|m| m.len()),
            input::Origin::Stdin => None,
        })
        .sum();
    if total < 4 << 20 {
        return None;
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("{bar:40} {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
    {
        bar.set_style(style);
    }
    Some(bar)
}

fn to_format(f: InputFormat) -> input::Format {
    match f {
        InputFormat::Yaml => input::Format::Yaml,
        InputFormat::Json => input::Format::Json,
        InputFormat::Jsonl => input::Format::JsonLines,
        InputFormat::Csv => input::Format::Csv,
        InputFormat::Fhir => input::Format::Fhir,
    }
}

fn lint(dir: Option<&Path>) -> Exit {
    match load_rules(dir) {
        Ok(set) => {
            let rules = set.rules().count();
            out!("{} rule files, {rules} rules: no problems", set.packs.len());
            for pack in &set.packs {
                out!(
                    "  {} ({}; profiles: {}): covers {}",
                    pack.name,
                    pack.file.name(),
                    crate::docs::pack_profiles(pack),
                    crate::docs::pack_covers(pack)
                );
            }
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

fn test_rules(dir: Option<&Path>) -> Exit {
    let set = match load_rules(dir) {
        Ok(set) => set,
        Err(problems) => {
            print_rule_problems(&problems);
            return Exit::Trouble;
        }
    };
    let report = crate::ruletest::run(&set);
    let style = stderr_style();
    for failure in &report.failures {
        eprintln!("{}", human::render(failure, style));
    }
    for line in &report.lines {
        out!("{line}");
    }
    out!("{}", report.bounds_summary());
    out!("{} passed, {} failed", report.passed, report.failures.len());
    if report.failures.is_empty() {
        Exit::Clean
    } else {
        Exit::Findings
    }
}

fn doc(dir: Option<&Path>, out: &Path) -> Exit {
    let set = match load_rules(dir) {
        Ok(set) => set,
        Err(problems) => {
            print_rule_problems(&problems);
            return Exit::Trouble;
        }
    };
    if let Err(e) = std::fs::create_dir_all(out) {
        return fail(format!("cannot create {}: {e}", out.display()));
    }
    let pages = crate::docs::rule_pages(&set);
    for (name, text) in &pages {
        if let Err(e) = std::fs::write(out.join(name), text) {
            return fail(format!("cannot write {}: {e}", out.join(name).display()));
        }
    }
    out!("wrote {} pages to {}", pages.len(), out.display());
    Exit::Clean
}

/// What a regimen got under one version of the rules.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Verdicts {
    input: String,
    id: String,
    verdict: Verdict,
    findings: Vec<String>,
}

fn run_quietly(
    set: &RuleSet,
    profile: &str,
    inputs: &[input::Input],
) -> Result<Vec<Verdicts>, Exit> {
    let engine = Engine::new(set, profile, false).map_err(fail)?;
    let headers = input::prepare(inputs).map_err(report_trouble)?;
    let progress = input::Progress::default();
    let render = |o: &Outcome<'_>, batch: &mut Vec<Verdicts>| {
        batch.push(Verdicts {
            input: o.regimen.input.clone(),
            id: o.regimen.id.clone(),
            verdict: o.verdict,
            findings: o
                .problems
                .iter()
                .map(|p| p.code.to_owned())
                .chain(o.findings.iter().map(|f| {
                    format!(
                        "{} ({}{})",
                        f.rule.id,
                        f.kind.as_str(),
                        f.phase.map_or_else(String::new, |p| format!(", phase {p}"))
                    )
                }))
                .collect(),
        })
    };
    let mut all = Vec::new();
    let jobs = std::thread::available_parallelism().map_or(1, usize::from);
    batch::run(
        inputs,
        false,
        &headers,
        &engine,
        jobs,
        &progress,
        &render,
        &mut |mut batch| all.append(&mut batch),
    )
    .map_err(report_trouble)?;
    Ok(all)
}

fn diff(old: &Path, new: &Path, profile: &str, inputs: &[PathBuf]) -> Exit {
    let (old_set, new_set) = match (RuleSet::from_dir(old), RuleSet::from_dir(new)) {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => {
            for problems in [a.err(), b.err()].into_iter().flatten() {
                print_rule_problems(&problems);
            }
            return Exit::Trouble;
        }
    };
    let mut files = Vec::new();
    let mut empty = Vec::new();
    for input in inputs {
        if let Err(why) = input::expand(input, None, &mut files, &mut empty) {
            return fail(why);
        }
    }
    if let Some(why) = empty.first() {
        return fail(why);
    }
    let before = match run_quietly(&old_set, profile, &files) {
        Ok(v) => v,
        Err(exit) => return exit,
    };
    let after = match run_quietly(&new_set, profile, &files) {
        Ok(v) => v,
        Err(exit) => return exit,
    };
    let mut per_rule: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let rule_of = |f: &String| f.split(' ').next().unwrap_or(f).to_owned();
    for v in &before {
        for f in &v.findings {
            per_rule.entry(rule_of(f)).or_default().0 += 1;
        }
    }
    for v in &after {
        for f in &v.findings {
            per_rule.entry(rule_of(f)).or_default().1 += 1;
        }
    }
    let mut changed = 0;
    for (a, b) in before.iter().zip(&after) {
        if a == b {
            continue;
        }
        changed += 1;
        let added: Vec<&String> = b
            .findings
            .iter()
            .filter(|f| !a.findings.contains(f))
            .collect();
        let removed: Vec<&String> = a
            .findings
            .iter()
            .filter(|f| !b.findings.contains(f))
            .collect();
        out!(
            "{} ({}): {} -> {}",
            b.id,
            b.input,
            a.verdict.as_str(),
            b.verdict.as_str()
        );
        for f in added {
            out!("  + {f}");
        }
        for f in removed {
            out!("  - {f}");
        }
    }
    out!();
    let width = per_rule.keys().map(String::len).max().unwrap_or(4).max(4);
    out!(
        "{:<width$}  {:>6}  {:>6}  {:>6}",
        "rule",
        "old",
        "new",
        "change"
    );
    for (rule, (a, b)) in &per_rule {
        if a != b {
            out!(
                "{rule:<width$}  {a:>6}  {b:>6}  {:>+6}",
                *b as i64 - *a as i64
            );
        }
    }
    out!("\n{changed} of {} regimens changed", after.len());
    Exit::Clean
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
    out!("packs in force under profile `{profile}`:");
    for pack in set
        .packs
        .iter()
        .filter(|p| p.profiles.is_empty() || p.profiles.iter().any(|x| x == profile))
    {
        out!(
            "  {} ({}): covers {}; products: {}",
            pack.name,
            pack.drug,
            crate::docs::pack_covers(pack),
            crate::docs::pack_products(pack)
        );
    }
    out!();
    let rows: Vec<[String; 6]> = set
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
                r.pack.clone(),
                r.citation_in(profile).short.clone(),
            ]
        })
        .collect();
    let header = ["id", "severity", "scope", "title", "pack", "source"].map(String::from);
    let mut widths = [0usize; 6];
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
        out!("{}", line.join("  ").trim_end());
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
        out!(
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
        out!("  checks {scope}");
        if let Some(w) = &rule.when {
            out!("  applies when: {}", crate::docs::in_words(&w.text));
        }
        out!(
            "  fires when:   {}",
            crate::docs::in_words(&rule.violation.text)
        );
        if let Some(u) = &rule.unless {
            out!("  unless:       {}", crate::docs::in_words(&u.text));
        }
        out!(
            "  as written:   {}",
            rule.violation
                .text
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        );
        let facts: Vec<&str> = rule.facts.iter().map(|f| f.info().path).collect();
        out!(
            "  reads:        {} (a missing one the answer depends on makes the finding unevaluated)",
            facts.join(", ")
        );
        let template: String = rule
            .message
            .iter()
            .map(|p| match p {
                crate::rules::Part::Text(t) => t.clone(),
                crate::rules::Part::Value(_) => "<value>".to_owned(),
            })
            .collect();
        out!("  message:      {template}");
        out!("  help:         {}", rule.help);
        out!("  source:       {}", rule.citation.short);
        out!("                \"{}\"", rule.citation.quote);
        for (profile, c) in &rule.citation_for {
            out!("  {:<14}{}", format!("source ({profile}):"), c.short);
            out!("                \"{}\"", c.quote);
        }
        out!("  defined in:   {}", rule.file.name());
        out!();
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
        assert_eq!(Exit::Interrupted as i32, 130);
    }
}
