//! Deep fuzzing of the baseline reader (`cargo +nightly fuzz run baseline`).
//!
//! Any bytes must read as a report or as one bad-input error: no panic, no figure that no
//! benchmark measures. CI runs the same property through proptest on random bytes and on
//! damaged real reports (tests/it/random_input.rs).

#![no_main]

use libfuzzer_sys::fuzz_target;
use parlab::bench::baseline;

fuzz_target!(|data: &[u8]| {
    match baseline::parse("fuzz.json", data) {
        Ok(report) => {
            for cell in &report.cells {
                for run in &cell.runs {
                    assert!(run.wall_s >= 1e-9 && run.wall_s <= 1e9);
                }
            }
        }
        Err(e) => assert!(e.is_usage(), "{e}"),
    }
});
