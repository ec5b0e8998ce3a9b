//! Fuzz target `rules`: see `rxlint_fuzz::rules`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        rxlint_fuzz::rules(text);
    }
});
