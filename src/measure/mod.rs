//! The measuring layer that `bench`, `reproduce` and `python` share: one judge of what a
//! speedup's interval says ([`judge()`]), one way to write an interval
//! ([`Estimate::ratio`](crate::stats::Estimate::ratio)), and one rule for a busy machine
//! ([`busy`]).
//!
//! Every sentence, note, gate and recommendation that says "faster", "no faster", "slower",
//! "noise hides it" or "an artefact" asks [`judge::judge`] for the word, with the same margin
//! ([`judge::MARGIN`]) everywhere, so one interval reads the same in every command.

pub mod busy;
pub mod ceiling;
pub mod judge;
pub mod rounds;
pub mod sample;
pub mod stall;
pub mod stop;

pub use judge::{Bounds, Verdict, judge};
pub use sample::{BOOTSTRAP_ROUNDS, Figures, Sample, interval};
