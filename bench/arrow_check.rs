//! `Checker::check_batch` alone, on a Parquet file's batches already in
//! memory: what the Python package and the cluster wrappers pay per
//! record, apart from Python and the cluster. Then the same work in
//! stages, each run timed on its own (grouping the rows by id, building
//! the regimens, evaluating them, writing the results), to show where a
//! batch's time goes.
//!
//! `cargo run --release --example arrow_check -- FILE.parquet [BATCH_ROWS]`
//! (`STAGE=0..3` runs one stage alone, for `perf record`)

use std::sync::Arc;
use std::time::{Duration, Instant};

use rxlint::eval::Engine;
use rxlint::regimen::arrow::{Chunk, Columns, Grouper, RowRef, build};
use rxlint::report::arrow::Results;
use rxlint::rules::RuleSet;

// As the CLI and the Python extension do.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let mut args = std::env::args().skip(1);
    let path = args
        .next()
        .unwrap_or_else(|| panic!("give a .parquet file"));
    let rows: usize = args.next().and_then(|n| n.parse().ok()).unwrap_or(65_536);
    let file = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{e}"));
    let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
        .and_then(|b| b.with_batch_size(rows).build())
        .unwrap_or_else(|e| panic!("{e}"));
    let batches: Vec<arrow_array::RecordBatch> = reader
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| panic!("{e}"));
    let checker = rxlint::arrow::Checker::shipped("us", false).unwrap_or_else(|e| panic!("{e}"));
    let start = Instant::now();
    let mut regimens = 0;
    for batch in &batches {
        let out = checker.check_batch(batch).unwrap_or_else(|e| panic!("{e}"));
        regimens += out.num_rows();
    }
    let took = start.elapsed();
    println!(
        "check_batch: {regimens} regimens in {} batches of {rows} rows: {took:.2?}, {:.0} regimens/s",
        batches.len(),
        regimens as f64 / took.as_secs_f64()
    );
    stages(&batches);
}

/// The stages of `check_batch`, each timed through to its end: grouping;
/// grouping and building; those and evaluating; all and the results.
fn stages(batches: &[arrow_array::RecordBatch]) {
    let rules = RuleSet::builtin().unwrap_or_else(|_| panic!("the shipped packs load"));
    let engine = Engine::new(&rules, "us", false).unwrap_or_else(|e| panic!("{e}"));
    let run = |stage: u8| -> Duration {
        let start = Instant::now();
        for batch in batches {
            let columns = Arc::new(
                Columns::check("batch", batch.schema_ref(), engine.vocabulary(), None)
                    .unwrap_or_else(|_| panic!("the columns are read")),
            );
            let mut grouper = Grouper::new(columns.clone());
            let chunk = Arc::new(Chunk {
                batch: batch.clone(),
                first_row: 1,
            });
            let mut groups: Vec<Vec<RowRef>> =
                grouper.push(chunk).unwrap_or_else(|e| panic!("{e:?}"));
            groups.append(&mut grouper.finish());
            if stage == 0 {
                continue;
            }
            let mut results = Results::with_capacity(groups.len());
            for rows in &groups {
                let regimen = build(&columns, rows, false, engine.vocabulary());
                if stage == 1 {
                    std::hint::black_box(regimen);
                    continue;
                }
                let outcome = engine.evaluate(regimen);
                if stage == 2 {
                    std::hint::black_box(outcome);
                    continue;
                }
                results.append(&outcome, engine.profile());
            }
            std::hint::black_box(results.finish().unwrap_or_else(|e| panic!("{e}")));
        }
        start.elapsed()
    };
    // STAGE=N runs stage N alone, five times, for a profiler.
    if let Some(stage) = std::env::var("STAGE").ok().and_then(|s| s.parse().ok()) {
        for _ in 0..5 {
            run(stage);
        }
        return;
    }
    let mut before = Duration::ZERO;
    for (stage, name) in ["group", "build", "evaluate", "results"].iter().enumerate() {
        let took = (0..3).map(|_| run(stage as u8)).min().unwrap_or_default();
        println!(
            "  {name:<9} {:>8.3?} (cumulative {took:.3?})",
            took.saturating_sub(before)
        );
        before = took;
    }
}
