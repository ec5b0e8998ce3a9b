//! `rxlint report`: the JSON Lines of an earlier `check --format json` run
//! in, the HTML report out (the page `check --format html` writes).
//!
//! Reads the records one line at a time into [`html::Aggregate`], so a
//! cluster's run of millions of regimens is reported in constant memory.

use std::io::{BufRead, Write};
use std::path::PathBuf;

use clap::Args;

use super::{Exit, fail, rules_or_exit};
use crate::report::html;

#[derive(Args, Debug)]
pub(super) struct ReportArgs {
    /// JSON Lines files written by `rxlint check --format json`, or `-`.
    #[arg(required = true)]
    inputs: Vec<PathBuf>,
    /// Write the page to FILE instead of standard output.
    #[arg(long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Rule directory the run used (default: the shipped packs): the page
    /// lists its rules, their conditions and citations.
    #[arg(long, value_name = "DIR")]
    rules: Option<PathBuf>,
    /// Profile whose rules the page lists (default: the first record's).
    #[arg(long)]
    profile: Option<String>,
    /// No summary line.
    #[arg(long)]
    quiet: bool,
}

pub(super) fn report(args: &ReportArgs) -> Exit {
    let set = match rules_or_exit(args.rules.as_deref()) {
        Ok(set) => set,
        Err(exit) => return exit,
    };
    if let Some(output) = &args.output
        && args.inputs.iter().any(|i| i == output)
    {
        return fail(format!(
            "--output {} is one of the inputs; refusing to overwrite it",
            output.display()
        ));
    }
    let mut page: Option<html::Aggregate> = None;
    let mut profile = String::new();
    let mut line = Vec::new();
    for input in &args.inputs {
        let reader: Box<dyn BufRead> = if input.as_os_str() == "-" {
            Box::new(std::io::stdin().lock())
        } else {
            match std::fs::File::open(input) {
                Ok(f) => Box::new(std::io::BufReader::with_capacity(1 << 16, f)),
                Err(e) => return fail(format!("cannot read {}: {e}", input.display())),
            }
        };
        let mut reader = reader;
        loop {
            line.clear();
            match reader.read_until(b'\n', &mut line) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => return fail(format!("cannot read {}: {e}", input.display())),
            }
            let page = match &mut page {
                Some(page) => page,
                None => {
                    // The rules the page describes are those of the
                    // records' profile, unless told otherwise.
                    let first = serde_json::from_slice::<html::Record>(&line).ok();
                    profile = match (&args.profile, first) {
                        (Some(p), _) => p.clone(),
                        (None, Some(record)) if !record.profile.is_empty() => record.profile,
                        (None, _) => "us".to_owned(),
                    };
                    page.insert(html::Aggregate::new(html::Catalog::new(&set, &profile)))
                }
            };
            page.add_line(&line);
        }
    }
    if profile.is_empty() {
        profile = args.profile.clone().unwrap_or_else(|| "us".to_owned());
    }
    let page = page.unwrap_or_else(|| html::Aggregate::new(html::Catalog::new(&set, &profile)));
    let provenance = html::Provenance {
        profile,
        sources: args
            .inputs
            .iter()
            .map(|p| p.display().to_string())
            .collect(),
        command: "rxlint report".to_owned(),
        time: html::now_utc(),
    };
    let text = match html::render(&page, &provenance) {
        Ok(text) => text,
        Err(why) => return fail(why),
    };
    let pending = crate::output::Pending::default();
    let (destination, mut out) = match crate::output::Report::open(args.output.as_deref(), &pending)
    {
        Ok(opened) => opened,
        Err(why) => return fail(why),
    };
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        return fail(format!("cannot write the report: {e}"));
    }
    drop(out);
    if let Err(why) = destination.commit() {
        return fail(why);
    }
    let summary = page.summary();
    if !args.quiet {
        eprintln!("{}", summary.line());
        if page.unreadable() > 0 {
            eprintln!(
                "warning: {} lines were not rxlint records and are not counted",
                page.unreadable()
            );
        }
    }
    if summary.total() == 0 {
        return fail("the inputs hold no records");
    }
    if summary.fail + summary.invalid > 0 {
        Exit::Findings
    } else {
        Exit::Clean
    }
}
