//! Fuzz target `csv`: see `rxlint_fuzz::csv` (bytes: the CSV reader sees
//! invalid UTF-8 as the CLI does).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    rxlint_fuzz::csv(data);
});
