//! Evaluation only: regimens already parsed, the shipped isotretinoin packs,
//! one thread and then all cores. `cargo bench --bench eval`.
//!
//! Settings, from the environment: `EVAL_BENCH_ROUNDS` (default 8000)
//! rounds over the batch, `EVAL_BENCH_BATCH` (default 256) regimens per
//! batch and per thread, `EVAL_BENCH_REPEATS` (default 7) timed runs of
//! which the best and the median are reported, and `EVAL_BENCH_REGIMENS`
//! (default 100000) regimens built. Small values make the bench quick
//! enough for `valgrind --tool=callgrind --toggle-collect='*Engine::assess*'`,
//! whose instruction counts per evaluation are repeatable on a shared
//! machine where timings are not.

use std::time::Instant;

use rxlint::eval::{Engine, Selection};
use rxlint::regimen::Regimen;
use rxlint::regimen::csv::{Header, Record};
use rxlint::rules::RuleSet;

#[path = "synth.rs"]
mod synth;

/// Parses `n` synthetic regimens (valid ones only: evaluation is what is timed).
fn regimens(n: u64, vocabulary: &rxlint::vocabulary::Vocabulary) -> Vec<Regimen> {
    let cells = |line: &str| line.split(',').map(str::to_owned).collect::<Vec<_>>();
    let header = Header::check("bench.csv", &cells(synth::CSV_HEADER), vocabulary, None)
        .unwrap_or_else(|e| panic!("{e:?}"));
    let mut rng = synth::Rng(20_261_121);
    let mut out = Vec::new();
    for i in 0..n {
        let record = synth::record(&mut rng, i);
        let mut text = Vec::new();
        synth::write_csv(&mut text, &record).unwrap_or_else(|e| panic!("{e}"));
        let rows: Vec<Record> = String::from_utf8_lossy(&text)
            .lines()
            .enumerate()
            .map(|(k, l)| {
                Record::new(
                    k + 2,
                    csv::StringRecord::from(l.split(',').collect::<Vec<_>>()),
                )
            })
            .collect();
        let regimen = rxlint::regimen::csv::build(&header, &rows, vocabulary);
        if regimen.problems.is_empty() {
            out.push(regimen);
        }
    }
    out
}

#[inline(never)]
fn run(engine: &Engine<'_>, regimens: &[(Selection, Regimen)], rounds: usize) -> (usize, usize) {
    let mut findings = Vec::with_capacity(64);
    let mut evaluated = 0;
    let mut failing = 0;
    for _ in 0..rounds {
        for (selection, regimen) in regimens {
            findings.clear();
            let verdict = engine.assess(*selection, regimen, &mut findings);
            failing += usize::from(verdict == rxlint::eval::Verdict::Fail);
            evaluated += 1;
        }
    }
    (evaluated, failing)
}

fn report(label: &str, n: usize, secs: f64) {
    println!(
        "{label}: {n} evaluations in {secs:.3} s = {:.2} M regimens/s ({:.0} ns each)",
        n as f64 / secs / 1e6,
        secs * 1e9 / n as f64
    );
}

/// Times `work` `repeats` times; reports the best run (the cost without
/// the neighbours' load on a shared machine) and the median.
fn timed(label: &str, repeats: usize, mut work: impl FnMut() -> usize) {
    let mut runs: Vec<(f64, usize)> = (0..repeats.max(1))
        .map(|_| {
            let start = Instant::now();
            let n = work();
            (start.elapsed().as_secs_f64(), n)
        })
        .collect();
    runs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let (best, n) = runs[0];
    let (median, _) = runs[runs.len() / 2];
    report(&format!("{label}, best of {}", runs.len()), n, best);
    report(&format!("{label}, median"), n, median);
}

fn knob(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let rounds = knob("EVAL_BENCH_ROUNDS", 8000);
    let repeats = knob("EVAL_BENCH_REPEATS", 7);
    let set = RuleSet::builtin().unwrap_or_else(|e| panic!("{e:?}"));
    let engine = Engine::new(&set, "us", false).unwrap_or_else(|e| panic!("{e}"));
    let parsed = regimens(knob("EVAL_BENCH_REGIMENS", 100_000) as u64, &set.vocabulary);
    // Choosing the rule list reads the drug name, as reading a record does;
    // what is timed is the rules.
    let all: Vec<(Selection, Regimen)> = parsed
        .into_iter()
        .filter_map(|r| engine.select(&r).map(|s| (s, r)))
        .collect();
    // The pipeline evaluates each regimen of a 256-record batch right after
    // building it, so its facts are in cache: that is the per-thread figure.
    let batch = &all[..knob("EVAL_BENCH_BATCH", 256).min(all.len())];
    run(&engine, batch, 10);
    timed(
        &format!(
            "evaluation, 1 thread, a pipeline batch of {} regimens",
            batch.len()
        ),
        repeats,
        || run(&engine, batch, rounds).0,
    );
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let engine_ref = &engine;
    timed(
        &format!("evaluation, {threads} threads, a batch each"),
        repeats,
        || {
            std::thread::scope(|s| {
                let handles: Vec<_> = (0..threads)
                    .map(|t| {
                        let slice = all.chunks(batch.len().max(1)).nth(t).unwrap_or_default();
                        s.spawn(move || run(engine_ref, slice, rounds).0)
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap_or(0)).sum()
            })
        },
    );
    // A sweep over 100k regimens (about 60 MB of facts) measures memory, not rules.
    let start = Instant::now();
    let (n, failing) = run(&engine, &all, 5);
    report(
        "evaluation, 1 thread, cold sweep over 100k regimens",
        n,
        start.elapsed().as_secs_f64(),
    );
    println!("({failing} of the sweep's evaluations fail, as the generator intends)");
}
