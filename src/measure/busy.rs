//! The one rule for a busy machine, for every command that measures: by the load before it
//! started ([`by_load`]), and by the ceiling it measured ([`by_ceiling`]).
//!
//! A busy machine does not make paired verdicts wrong (each round's ratio is against the
//! baseline of the same round), but it lowers what parallel work can reach, so speedups and the
//! ceiling come out lower than on a quiet machine, and rows measured at other times cannot be
//! compared with these.

/// A one-minute load above this share of the CPUs, before the measurement started, is busy.
pub const LOAD_SHARE: f64 = 0.25;

/// A ceiling below this share of what the CPUs allow (its worker count, at most the CPU count)
/// is a busy machine's: two free cores give a perfectly parallel loop about 2x.
pub const CEILING_SHARE: f64 = 0.75;

/// What a busy machine does to the verdicts, said after either warning.
const CONSEQUENCE: &str = "the verdicts hold for this run (each round is paired), but speedups \
                           read lower than on a quiet machine: compare rows of this run only";

/// The warning when the one-minute `load` before `what` (e.g. "the benchmark") started was
/// above [`LOAD_SHARE`] of the `cpus` CPUs; `None` on a quiet machine. Only the start is judged:
/// the measurement's own load shows afterwards.
pub fn by_load(load: f64, cpus: usize, what: &str) -> Option<String> {
    (load > LOAD_SHARE * cpus as f64).then(|| {
        format!("the machine was busy when {what} started (load {load:.2} on {cpus} CPUs): {CONSEQUENCE}")
    })
}

/// The warning when the highest ceiling measured, `most` at `workers` workers, stayed below
/// [`CEILING_SHARE`] of what `cpus` CPUs allow there; `None` otherwise.
pub fn by_ceiling(most: f64, workers: usize, cpus: usize) -> Option<String> {
    let allowed = workers.min(cpus).max(1) as f64;
    (allowed > 1.0 && most < CEILING_SHARE * allowed).then(|| {
        format!(
            "the machine was busy (a perfectly parallel loop of {workers} threads reached at \
             most {most:.2}x of one): {CONSEQUENCE}"
        )
    })
}

/// `/proc/loadavg`'s one-minute average (0 where it cannot be read).
pub fn load_now() -> f64 {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse().ok())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_load_above_a_quarter_of_the_cpus_is_busy() {
        assert!(by_load(0.4, 2, "the benchmark").is_none());
        let w = by_load(0.6, 2, "the benchmark").unwrap();
        assert!(w.contains("load 0.60 on 2 CPUs"), "{w}");
        assert!(w.contains("compare rows of this run only"), "{w}");
    }

    #[test]
    fn a_low_ceiling_is_busy_against_what_the_cpus_allow() {
        assert!(by_ceiling(1.6, 2, 2).is_none());
        assert!(by_ceiling(1.4, 2, 2).is_some());
        // 4 workers on 2 CPUs are allowed 2x, not 4x.
        assert!(by_ceiling(1.6, 4, 2).is_none());
        // One worker has no ceiling to miss.
        assert!(by_ceiling(0.9, 1, 2).is_none());
    }
}
