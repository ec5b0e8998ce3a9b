//! `rxlint check`: regimens in, one report and an exit code out.
//!
//! Takes the inputs and options, loads the rules, expands the inputs
//! ([`input`]), runs the worker pool ([`batch`]) with the chosen renderer,
//! writes the report safely ([`output`](crate::output)) and gives the exit
//! code; the summary goes to standard error.

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{Exit, fail, load_rules, print_rule_problems, report_trouble};
use crate::batch;
use crate::eval::{Engine, Kind, Outcome, Verdict};
use crate::input;
use crate::report::human::{self, Style};
use crate::report::{self, Entry, Summary, github, html, json, junit, sarif};

#[derive(Args, Debug)]
pub(super) struct CheckArgs {
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
    /// Column map: a CSV export's headers onto rxlint's fields, with the
    /// units and words of their cells (see README, "Column maps").
    #[arg(long, value_name = "MAP.yaml")]
    columns: Option<PathBuf>,
    /// Base URL of the pages `rxlint rules doc` wrote, for SARIF rule links.
    #[arg(long, value_name = "URL")]
    docs_url: Option<String>,
    /// Write only regimens with these verdicts (`fail,invalid`); the
    /// summary still counts every one.
    #[arg(long, value_enum, value_delimiter = ',', value_name = "VERDICTS")]
    only: Vec<OnlyVerdict>,
    /// Write only regimens with a finding of this rule (repeatable); the
    /// summary still counts every one.
    #[arg(long = "rule", value_name = "ID")]
    rules_only: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum OnlyVerdict {
    Pass,
    Warn,
    Fail,
    Invalid,
}

impl OnlyVerdict {
    fn of(v: Verdict) -> OnlyVerdict {
        match v {
            Verdict::Pass => OnlyVerdict::Pass,
            Verdict::Warn => OnlyVerdict::Warn,
            Verdict::Fail => OnlyVerdict::Fail,
            Verdict::Invalid => OnlyVerdict::Invalid,
        }
    }
}

/// Which regimens are written: all, or those `--only` and `--rule` name.
struct Filter<'a> {
    verdicts: &'a [OnlyVerdict],
    rules: &'a [String],
}

impl Filter<'_> {
    fn keeps(&self, outcome: &Outcome<'_>) -> bool {
        (self.verdicts.is_empty() || self.verdicts.contains(&OnlyVerdict::of(outcome.verdict)))
            && (self.rules.is_empty()
                || outcome
                    .findings
                    .iter()
                    .any(|f| self.rules.contains(&f.rule.id))
                || outcome
                    .problems
                    .iter()
                    .any(|p| self.rules.iter().any(|r| r == p.code.as_str())))
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    Human,
    Json,
    /// One row per finding, for a spreadsheet.
    Csv,
    Sarif,
    Junit,
    Github,
    /// One self-contained HTML page (see "The HTML report" in the README).
    Html,
    /// A Parquet file of one row per regimen (needs --output).
    Parquet,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum InputFormat {
    Yaml,
    Json,
    Jsonl,
    Csv,
    Fhir,
    Parquet,
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
    /// The rows of `--format parquet`.
    table: Option<report::arrow::Results>,
}

/// Renders one outcome in `format` into its batch, on a worker thread.
fn renderer<'r, 'a>(
    format: Format,
    profile: &'a str,
    style: Style,
    filter: &'a Filter<'a>,
) -> impl Fn(&Outcome<'r>, &mut Rendered<'r>) + Sync + 'a {
    move |outcome: &Outcome<'r>, batch: &mut Rendered<'r>| {
        batch.verdicts.push(outcome.verdict);
        // Input problems are counted beside the rules, as the HTML
        // report's tables count them: how many rows were repeated, how
        // many records were unreadable and why.
        batch.rules.extend(
            outcome
                .problems
                .iter()
                .map(|p| (p.code.as_str(), false))
                .chain(
                    outcome
                        .findings
                        .iter()
                        .map(|f| (f.rule.id.as_str(), f.kind == Kind::Unevaluated)),
                ),
        );
        // The HTML page counts every regimen, as its tiles must.
        if format != Format::Html && !filter.keeps(outcome) {
            return;
        }
        match format {
            // The page is built from the JSON Lines records, read back in
            // the sink, so that `rxlint report` on a `--format json` run
            // writes the same page.
            Format::Json | Format::Html => json::line(outcome, profile, &mut batch.text),
            Format::Csv => report::csv::rows(outcome, &mut batch.text),
            Format::Human => batch
                .text
                .extend_from_slice(human::outcome(outcome, style).as_bytes()),
            Format::Github => batch
                .text
                .extend_from_slice(github::lines(&report::entry(outcome)).as_bytes()),
            Format::Sarif | Format::Junit => batch.entries.push(report::entry(outcome)),
            Format::Parquet => batch
                .table
                .get_or_insert_with(report::arrow::Results::new)
                .append(outcome, profile),
        }
    }
}

pub(super) fn check(args: &CheckArgs) -> Exit {
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
    if args.format == Format::Parquet && args.output.is_none() {
        return fail(
            "--format parquet writes a binary file, not text for standard output: give --output FILE.parquet",
        );
    }
    let map = match &args.columns {
        Some(path) => match super::columns::load(path, &set.vocabulary) {
            Ok(map) => Some(std::sync::Arc::new(map)),
            Err(exit) => return exit,
        },
        None => None,
    };
    let headers = match input::prepare(&inputs, &set.vocabulary, map.as_ref()) {
        Ok(h) => h,
        Err(trouble) => return report_trouble(trouble),
    };
    let warn_style = super::stderr_style();
    for prepared in &headers {
        let header = match prepared {
            input::Prepared::Read(Some(header)) => header.as_ref(),
            input::Prepared::Parquet(columns) => columns.header(),
            _ => continue,
        };
        for w in &header.warnings {
            eprintln!("{}", human::render(w, warn_style));
        }
    }
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
    // `--format parquet` writes through a Parquet writer; the text output
    // is then left empty.
    let mut table = match format_writer(args.format, &mut out) {
        Ok(table) => table,
        Err(why) => return fail(why),
    };
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
    let filter = Filter {
        verdicts: &args.only,
        rules: &args.rules_only,
    };
    if let Some(unknown) = filter.rules.iter().find(|id| {
        !id.starts_with("input.")
            && !id.starts_with("coverage.")
            && !set
                .packs
                .iter()
                .any(|p| p.rules.iter().any(|r| r.id == **id))
    }) {
        let ids = set
            .packs
            .iter()
            .flat_map(|p| p.rules.iter().map(|r| r.id.as_str()));
        let help = crate::suggest::did_you_mean(unknown, ids);
        return fail(format!("--rule {unknown}: no rule has this id{help}"));
    }
    let render = renderer(format, &profile, style, &filter);
    let mut summary = Summary::default();
    let mut per_rule: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut sarif_log = sarif::Log::default();
    let mut junit_report = junit::Junit::default();
    let mut page =
        (format == Format::Html).then(|| html::Aggregate::new(html::Catalog::new(&set, &profile)));
    let mut write_error: Option<std::io::Error> = None;
    if format == Format::Csv
        && let Err(e) = out.write_all(&report::csv::header())
    {
        write_error = Some(e);
    }
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
        if let (Some(writer), Some(mut rows)) = (&mut table, r.table)
            && write_error.is_none()
        {
            let written = rows
                .finish()
                .map_err(std::io::Error::other)
                .and_then(|rows| writer.write(&rows).map_err(std::io::Error::other));
            if let Err(e) = written {
                write_error = Some(e);
            }
        }
        if let Some(page) = &mut page {
            for line in r.text.split(|&b| b == b'\n') {
                page.add_line(line);
            }
        } else if write_error.is_none()
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
    let spans = !matches!(format, Format::Json | Format::Html);
    let result = batch::run(
        &inputs, spans, &headers, &engine, jobs, &progress, &render, &mut sink,
    );
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let tail = match format {
        Format::Sarif => sarif_log.finish(&set, &profile, args.docs_url.as_deref()) + "\n",
        Format::Junit => junit_report.finish() + "\n",
        Format::Html => {
            let provenance = html::Provenance {
                profile: profile.clone(),
                sources: args
                    .inputs
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect(),
                command: "rxlint check --format html".to_owned(),
                time: html::now_utc(),
            };
            match page.as_ref().map(|page| html::render(page, &provenance)) {
                Some(Ok(text)) => text,
                Some(Err(why)) => return fail(why),
                None => String::new(),
            }
        }
        _ => String::new(),
    };
    if write_error.is_none()
        && let Err(e) = out.write_all(tail.as_bytes())
    {
        write_error = Some(e);
    }
    if let Some(writer) = table.take() {
        // The footer, then the file's own buffer.
        match writer.into_inner() {
            Ok(mut inner) => {
                if let Err(e) = inner.flush() {
                    write_error.get_or_insert(e);
                }
            }
            Err(e) => {
                write_error.get_or_insert(std::io::Error::other(e));
            }
        }
    }
    // The counts per rule and the summary go to standard error, whatever
    // the format: standard output is the report alone.
    if let Err(e) = out.flush() {
        write_error.get_or_insert(e);
    }
    if !args.quiet {
        if summary.total() > 1 && !per_rule.is_empty() {
            eprint!("{}", rule_table(&per_rule));
        }
        eprintln!("{}", summary.line());
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

/// The report's destination writer.
type Out = std::io::BufWriter<Box<dyn Write + Send>>;

/// For `--format parquet`, a Parquet writer of the results schema over
/// the report's destination (which `out` then no longer is).
fn format_writer(
    format: Format,
    out: &mut Out,
) -> Result<Option<parquet::arrow::ArrowWriter<Out>>, String> {
    if format != Format::Parquet {
        return Ok(None);
    }
    let inner = std::mem::replace(
        out,
        std::io::BufWriter::new(Box::new(std::io::sink()) as Box<dyn Write + Send>),
    );
    report::arrow::parquet_writer(inner)
        .map(Some)
        .map_err(|e| format!("cannot write the report: {e}"))
}

fn to_format(f: InputFormat) -> input::Format {
    match f {
        InputFormat::Yaml => input::Format::Yaml,
        InputFormat::Json => input::Format::Json,
        InputFormat::Jsonl => input::Format::JsonLines,
        InputFormat::Csv => input::Format::Csv,
        InputFormat::Fhir => input::Format::Fhir,
        InputFormat::Parquet => input::Format::Parquet,
    }
}
