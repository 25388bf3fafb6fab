//! `cargo +nightly fuzz run parse` (from policy/): arbitrary bytes through the parser and, for
//! whatever parses, through evaluation. Any panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    wana_policy::fuzz_parse(data);
});
