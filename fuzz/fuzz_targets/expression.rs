//! Fuzz target `expression`: see `rxlint_fuzz::expression`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        rxlint_fuzz::expression(text);
    }
});
