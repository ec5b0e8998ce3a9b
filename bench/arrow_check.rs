//! `Checker::check_batch` alone, on a Parquet file's batches already in
//! memory: what the Python package and the cluster wrappers pay per
//! record, apart from Python and the cluster.
//!
//! `cargo run --release --example arrow_check -- FILE.parquet [BATCH_ROWS]`

use std::time::Instant;

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
        "{regimens} regimens in {} batches of {rows} rows: {took:.2?}, {:.0} regimens/s",
        batches.len(),
        regimens as f64 / took.as_secs_f64()
    );
}
