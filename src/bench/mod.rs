//! The benchmark engine: one job across backends, worker counts, kernels and range sizes.
//!
//! A benchmark is a matrix of cells (kernel x range x backend x workers). For every kernel and
//! range a baseline cell (the sequential backend, one worker) is measured too, and every cell's
//! speedup and efficiency are relative to it. Cells are run round-robin: warm-up rounds, then
//! measured rounds in which every cell runs once. Every run's answer is checked against the
//! sequential answer. After a round (the first, then at most once a second) the caller gets
//! the report so far, which it writes out, and it gets it once more at the end, after an
//! interruption too: an interrupted benchmark keeps everything it measured.
//!
//! Per run the engine also records CPU time and peak resident memory (`measure::rusage`).
//!
//! | file | holds |
//! |---|---|
//! | `spec` | [`BenchOptions`]: what to benchmark, and its defaults |
//! | `matrix` | the cells and the backend, job and answer of each |
//! | `engine` | [`run`]: the rounds, the checks, the figures |
//! | `schema` | [`BenchReport`] and its parts: the JSON schema of `docs/bench-json.md` |
//! | [`machine`] | the machine a benchmark ran on |
//! | [`baseline`] | the comparison with a saved report and the `--fail-if-slower` gate |
//! | [`karp_flatt`] | the serial fraction of every cell and its course over the workers |
//! | [`break_even`] | the job size that reaches 90% of the ceiling; the chunks that cost 10% |

pub mod baseline;
pub mod break_even;
mod engine;
pub mod karp_flatt;
pub mod machine;
mod matrix;
mod schema;
mod spec;
mod summary;

pub use crate::stats::{Estimate, SampleSummary};
pub use engine::{BenchProgress, run};
pub use machine::Machine;
pub use schema::{BenchCell, BenchReport, Run, SCHEMA_VERSION, Settings};
pub use spec::{BenchOptions, DEFAULT_MPIRUN, parse_precision};
