//! `rxlint rules ...`: lint, test, doc, diff, list and explain, each over
//! a rule directory or the shipped packs.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use clap::Subcommand;

use super::{
    Exit, fail, load_rules, print_rule_problems, report_trouble, rules_or_exit, stderr_style,
};
use crate::batch;
use crate::codes::RuleCode;
use crate::eval::{Engine, Outcome, Verdict};
use crate::input;
use crate::report::human;
use crate::rules::RuleSet;

#[derive(Subcommand, Debug)]
pub(super) enum RulesCommand {
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
    /// List the facts rules can name, with their types, units, CSV columns
    /// and FHIR codes, from the vocabulary in force.
    Facts {
        /// Rule directory (default: the shipped packs); its
        /// `vocabulary.yaml`, if it has one, is the vocabulary listed.
        #[arg(long, value_name = "DIR")]
        rules: Option<PathBuf>,
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

pub(super) fn lint(dir: Option<&Path>) -> Exit {
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
                .any(|p| matches!(p.code.parse(), Ok(RuleCode::Unreadable | RuleCode::Empty)));
            print_rule_problems(&problems);
            if unreadable {
                Exit::Trouble
            } else {
                Exit::Findings
            }
        }
    }
}

pub(super) fn test_rules(dir: Option<&Path>) -> Exit {
    let set = match rules_or_exit(dir) {
        Ok(set) => set,
        Err(exit) => return exit,
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

pub(super) fn doc(dir: Option<&Path>, out: &Path) -> Exit {
    let set = match rules_or_exit(dir) {
        Ok(set) => set,
        Err(exit) => return exit,
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
    let headers = input::prepare(inputs, &set.vocabulary, None).map_err(report_trouble)?;
    let progress = input::Progress::default();
    let render = |o: &Outcome<'_>, batch: &mut Vec<Verdicts>| {
        batch.push(Verdicts {
            input: o.regimen.input.clone(),
            id: o.regimen.id.clone(),
            verdict: o.verdict,
            findings: o
                .problems
                .iter()
                .map(|p| p.code.as_str().to_owned())
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

pub(super) fn diff(old: &Path, new: &Path, profile: &str, inputs: &[PathBuf]) -> Exit {
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

pub(super) fn list(dir: Option<&Path>, profile: &str) -> Exit {
    let set = match rules_or_exit(dir) {
        Ok(set) => set,
        Err(exit) => return exit,
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
            crate::docs::pack_products(pack, &set.vocabulary)
        );
    }
    out!();
    let rows: Vec<[String; 6]> = set
        .rules()
        .filter(|r| r.in_profile(profile))
        .map(|r| {
            let scope = if r.scope == crate::facts::Scope::Phase {
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

pub(super) fn facts(dir: Option<&Path>) -> Exit {
    let set = match rules_or_exit(dir) {
        Ok(set) => set,
        Err(exit) => return exit,
    };
    out!("{}", crate::docs::facts_table(&set.vocabulary).trim_end());
    Exit::Clean
}

pub(super) fn explain(dir: Option<&Path>, id: &str) -> Exit {
    let set = match rules_or_exit(dir) {
        Ok(set) => set,
        Err(exit) => return exit,
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
        let scope = if rule.scope == crate::facts::Scope::Phase {
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
        let facts: Vec<&str> = set
            .vocabulary
            .ordered(rule.facts)
            .map(|f| set.vocabulary.info(f).path.as_str())
            .collect();
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
