//! The measuring layer that `bench`, `reproduce` and `python` share: one engine of rounds,
//! one per-run sample, one way from samples to intervals, one judge of what an interval says,
//! one way to write an interval ([`Estimate::ratio`](crate::stats::Estimate::ratio)), one rule
//! for a busy machine. The commands only describe their rows (what runs, what its
//! answer must be, which row it is compared with) and pass a stopping rule in.
//!
//! | file | holds |
//! |---|---|
//! | [`rounds`] | [`Measurement`](rounds::Measurement): the order of a round, the pairing, the samples kept |
//! | [`sample`] | [`Sample`] (one run) and [`Figures`] (a row's intervals from its samples) |
//! | [`stop`] | the stopping rules: [`Fixed`](stop::Fixed), [`Precision`](stop::Precision), [`Decided`](stop::Decided) |
//! | [`ceiling`] | the machine's ceiling, sampled before each round, and CPU pinning |
//! | `rusage` | a run's CPU time and peak memory |
//! | [`judge`](mod@judge) | the words for an interval: faster, no faster, slower, noise hides it, an artefact |
//! | [`busy`] | when the machine was busy, and what that does to the verdicts |
//! | [`stall`] | why threads that did not scale did not, from the CPUs they kept busy |
//!
//! # The design
//!
//! On a shared VM the same run takes twice as long in some seconds as in others, and two
//! vCPUs can run at different speeds at the same moment. So nothing is timed in a block of its
//! own, and no speedup is a ratio of two medians taken seconds apart.
//!
//! **Rows and baselines.** A measurement is a list of rows, each naming its baseline (a row
//! that is its own baseline is one), its worker count, and whether it is *pinned* (below). A
//! row's speedup is only ever against its baseline.
//!
//! **Rounds.** Every round runs every open row once ([`rounds::order`]), after one sample of
//! the machine's ceiling at every worker count (CPU-bound rows only; the probe is sized to
//! about 6% of a round, so short rounds reuse the last sample). The first `warmup` rounds are
//! run and checked but keep nothing.
//!
//! **Order.** For each baseline in row order: a baseline run, then its free rows. Runs of
//! milliseconds (`bench`) get a baseline run after every two rows (B c1 c2 B c3 c4 B), so that
//! every row runs right beside a baseline run; runs of seconds (`reproduce`, `python`) get one
//! baseline run a round (B c1 c2 c3), as a second one would cost as much as a row. The whole
//! free part runs backwards in odd rounds, so that no run is always first or last (the first
//! run after the probe is the slowed one), the baseline included.
//!
//! **Pinned pairs.** A one-worker row compared with a one-worker baseline can measure the CPUs
//! rather than the backends: the baseline on the fast vCPU, the row's thread on the slow one.
//! So each pinned row runs after a baseline run of its own, both held to one CPU, a different
//! CPU each round, each on a new thread (the caller does the holding, told by
//! [`Slot::pinned`](rounds::Slot)). On a loaded machine the first run held to a CPU after the
//! free runs is the slower one whichever backend it is (measured: 1.35x with the baseline
//! first, 0.75x with the row first), so a settling baseline run, held to the same CPU and not
//! kept, comes first: B' B' a1. The pinned baseline runs are partners only, not the
//! baseline's own samples.
//!
//! **Pairing.** Each run is paired with a baseline run of the same round ([`rounds::partner`]):
//! the one just before it, else just after it, else the nearest; a pinned row's with the
//! pinned run just before it; a baseline run's with the baseline run before it, an A/A pair
//! that measures the noise every speedup carries (a baseline's speedup is 1 by definition). A
//! run that failed gives no sample, and leaves its partners unpaired.
//!
//! **One sample per run.** A [`Sample`] holds the run's wall time, its CPU time where that says
//! how fast the CPUs ran (CPU-bound work whose CPU time is counted in full), its baseline
//! partner's wall and CPU time, and the ceiling of its round at its worker count. No parallel
//! vectors: a row is the list of its samples.
//!
//! **Figures, computed once.** [`Figures::of`] turns a row's samples into every interval the
//! commands print: the median paired ratio, at equal CPU speed where every paired run counted
//! both CPU times (a run that did its baseline's work in less CPU time ran on faster CPUs, and
//! that much of its ratio is the machine's), the CPUs kept busy, the ceiling and the share of
//! it reached. Every interval is a percentile bootstrap of [`BOOTSTRAP_ROUNDS`] resamples of
//! the rounds. A figure stands on every run or on none.
//!
//! **Bounds and words.** A CPU-bound row is bounded by the CPU count, the ceiling of its
//! rounds, and the CPUs it kept busy ([`Figures::bounds`]): a busy machine's probe may leave a
//! row without any ceiling sample, and a row still cannot run faster than one thread by more
//! than the CPUs it kept busy. The judge ([`judge()`]) gives the words, with one margin
//! ([`judge::MARGIN`]) in every command.
//!
//! **Stopping, passed in.** A [`rounds::Stopping`] rule names the rows of the next round, or ends
//! the measurement: `python` runs a fixed number of rounds ([`stop::Fixed`]); `bench` runs the
//! rounds asked for, then more until every speedup is as precise as asked or its time is up
//! ([`stop::Precision`]); `reproduce` runs its planned rounds, then rounds of only the rows
//! whose words are not settled and their baselines ([`stop::Decided`]).

pub mod busy;
pub mod ceiling;
pub mod judge;
pub mod rounds;
pub(crate) mod rusage;
pub mod sample;
pub mod stall;
pub mod stop;

pub use judge::{Bounds, Verdict, judge};
pub use sample::{BOOTSTRAP_ROUNDS, Figures, Sample, interval};
