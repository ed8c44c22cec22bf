//! Deep fuzzing of the worker protocol decoder (`cargo +nightly fuzz run protocol`).
//!
//! Any byte stream must decode into frames or a clear error: no panic, no allocation driven by
//! a length prefix. CI runs the same property through proptest on random and mutated frames.

#![no_main]

use libfuzzer_sys::fuzz_target;
use parlab::backend::processes::protocol::{Frame, check_end};

fuzz_target!(|data: &[u8]| {
    let mut at = 0;
    while let Ok(Some((frame, used))) = Frame::decode(&data[at..]) {
        assert!(used > 0 && at + used <= data.len());
        // What decodes must encode back to the same bytes.
        let mut again = Vec::new();
        frame.encode(&mut again);
        let (back, _) = Frame::decode(&again).unwrap().unwrap();
        assert_eq!(back, frame);
        at += used;
    }
    let _ = check_end(&data[at..]);
});
