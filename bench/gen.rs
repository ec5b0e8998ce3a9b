//! Synthetic prescriptions for the throughput benchmark.
//!
//! `cargo run --release --example gen -- --records N --format csv|jsonl|parquet [--seed S]`
//! writes N regimens to standard output, the same N for the same seed (see
//! `synth.rs` for the mix). Parquet has the CSV's columns and values, typed
//! (see `synth::write_parquet`), one row per phase, in row groups of
//! 65,536 rows.

use std::io::{BufWriter, Write};

#[path = "synth.rs"]
mod synth;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let records: u64 = arg("--records")
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let seed: u64 = arg("--seed")
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_261_121);
    let format = arg("--format").unwrap_or_else(|| "csv".into());
    let mut rng = synth::Rng(seed);
    if format == "parquet" {
        let records = (0..records).map(|i| synth::record(&mut rng, i));
        let out = BufWriter::with_capacity(1 << 20, std::io::stdout());
        return synth::write_parquet(out, records, 65_536).map_err(std::io::Error::other);
    }
    let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    if format == "csv" {
        writeln!(out, "{}", synth::CSV_HEADER)?;
    }
    for i in 0..records {
        let r = synth::record(&mut rng, i);
        if format == "csv" {
            synth::write_csv(&mut out, &r)?;
        } else {
            synth::write_jsonl(&mut out, &r)?;
        }
    }
    out.flush()
}
