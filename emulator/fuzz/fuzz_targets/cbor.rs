//! `cargo xtask fuzz --target cbor`: see `wana_emulator::fuzzing::cbor` for the input's layout and
//! what is asserted. Any panic is a bug.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    wana_emulator::fuzzing::cbor(data);
});
