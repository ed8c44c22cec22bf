//! Why threads that do not scale do not: read from the CPUs they kept busy.
//!
//! A row of threads whose CPU time is counted in full (the threads of one process) says how
//! many CPUs it kept busy: its CPU time over its wall time. Beside its speedup that separates
//! two causes, as free-threaded CPython's users meet them (cpython#134761, #123619, #128691):
//!
//! - threads that kept about **one** CPU busy were waiting: on a lock that lets one of them run
//!   at a time (the GIL, or a lock of their own), unless the machine itself lent them no more
//!   (its ceiling, measured beside the row, reached no higher);
//! - threads that kept **all** the CPUs they could have busy and still ran little faster were
//!   working against each other: contending on shared state (reference counts of shared
//!   objects, one shared dict or list, a `threading.local`), each index costing more CPU time
//!   than it did on one thread.
//!
//! Between the two (say 1.5 CPUs busy on 2), or where the row scaled, nothing is claimed.

use crate::stats::Estimate;

/// At most this many CPUs busy is "about one".
pub const ABOUT_ONE: f64 = 1.3;
/// At least this many CPUs busy is "about one"; fewer, and the threads waited for something
/// other than a lock held by a running thread (the machine, a sleep, I/O).
pub const AT_LEAST_ONE: f64 = 0.7;
/// At least this share of the CPUs a row could use, busy, is "all of them".
pub const ALL_OF_THEM: f64 = 0.8;
/// A speedup whose interval reaches this share of the CPUs the row could use scaled: nothing
/// held it back.
pub const SCALED: f64 = 0.8;

/// What held a row of threads back.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stall {
    /// About one CPU busy: the threads waited on a lock.
    Lock {
        /// CPUs they kept busy.
        busy: Estimate,
    },
    /// About one CPU busy or fewer, and so was all the machine lent: its ceiling reached no
    /// higher.
    Machine {
        /// CPUs they kept busy.
        busy: Estimate,
        /// The machine's ceiling at the row's workers.
        ceiling: Estimate,
    },
    /// All the CPUs they could use busy, little faster: contention on shared state.
    Contention {
        /// CPUs they kept busy.
        busy: Estimate,
        /// Their speedup.
        speedup: Estimate,
    },
}

impl Stall {
    /// The cause in words, with its figures; `lock` names the lock the threads wait on where
    /// it is known ("the GIL"), else "a lock".
    pub fn words(&self, lock: &str) -> String {
        match self {
            Stall::Lock { busy } => format!(
                "they kept {} CPUs busy, about one: they waited on {lock}, one thread running at \
                 a time",
                busy.figure(2, "")
            ),
            Stall::Machine { busy, ceiling } => format!(
                "they kept {} CPUs busy, and the machine allowed no more (its ceiling: {}): \
                 other work had the other CPUs",
                busy.figure(2, ""),
                ceiling.ratio()
            ),
            Stall::Contention { busy, speedup } => format!(
                "they kept {} CPUs busy yet ran only {}: they contended on shared state \
                 (reference counts of shared objects, one shared dict or list, a \
                 threading.local), each step costing more CPU time than on one thread",
                busy.figure(2, ""),
                speedup.ratio()
            ),
        }
    }
}

/// What held back a row of `workers` threads on a machine of `cpus` CPUs, from its `speedup`,
/// the CPUs it kept `busy` and the machine's `ceiling` at its workers (if measured); `None`
/// where it scaled (its interval reaches [`SCALED`] of the CPUs it could use), or kept some but
/// not all of them busy. On a machine `loaded` with other work ([`crate::measure::busy`]) few
/// CPUs busy may be the machine's doing however high the ceiling read in its short probes, so
/// no lock is claimed then; contention still is (other work cannot make threads keep more CPUs
/// busy).
pub fn stall(
    speedup: Estimate,
    busy: Estimate,
    workers: usize,
    cpus: usize,
    ceiling: Option<Estimate>,
    loaded: bool,
) -> Option<Stall> {
    let reach = workers.min(cpus).max(1) as f64;
    if reach < 2.0 || speedup.high >= SCALED * reach {
        return None;
    }
    if busy.value <= ABOUT_ONE {
        return match ceiling {
            Some(c) if c.high <= ABOUT_ONE => Some(Stall::Machine { busy, ceiling: c }),
            _ => (busy.value >= AT_LEAST_ONE && !loaded).then_some(Stall::Lock { busy }),
        };
    }
    (busy.value >= ALL_OF_THEM * reach).then_some(Stall::Contention { busy, speedup })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(value: f64, low: f64, high: f64) -> Estimate {
        Estimate { value, low, high }
    }

    #[test]
    fn one_cpu_busy_and_no_faster_is_a_lock_unless_the_machine_gave_no_more() {
        let flat = e(0.98, 0.95, 1.01);
        let one = e(1.02, 1.0, 1.05);
        assert_eq!(
            stall(flat, one, 2, 2, None, false),
            Some(Stall::Lock { busy: one })
        );
        assert_eq!(
            stall(flat, one, 2, 2, Some(e(1.9, 1.8, 1.97)), false),
            Some(Stall::Lock { busy: one })
        );
        let squeezed = e(1.05, 0.98, 1.1);
        assert_eq!(
            stall(flat, one, 2, 2, Some(squeezed), false),
            Some(Stall::Machine {
                busy: one,
                ceiling: squeezed
            })
        );
    }

    #[test]
    fn a_loaded_machine_claims_no_lock_but_still_contention() {
        let flat = e(0.98, 0.95, 1.01);
        let one = e(1.02, 1.0, 1.05);
        assert_eq!(stall(flat, one, 2, 2, Some(e(1.9, 1.8, 1.97)), true), None);
        let busy = e(1.95, 1.9, 1.99);
        let speedup = e(1.25, 1.2, 1.3);
        assert_eq!(
            stall(speedup, busy, 2, 2, None, true),
            Some(Stall::Contention { busy, speedup })
        );
    }

    #[test]
    fn every_cpu_busy_and_little_faster_is_contention() {
        let busy = e(1.95, 1.9, 1.99);
        for speedup in [e(1.25, 1.2, 1.3), e(0.6, 0.5, 0.7)] {
            assert_eq!(
                stall(speedup, busy, 2, 2, None, false),
                Some(Stall::Contention { busy, speedup })
            );
        }
        // Four threads on two CPUs can keep two busy: that is all of them.
        let speedup = e(1.1, 1.0, 1.2);
        assert_eq!(
            stall(speedup, busy, 4, 2, None, false),
            Some(Stall::Contention { busy, speedup })
        );
    }

    #[test]
    fn threads_that_scaled_or_kept_some_cpus_busy_are_not_explained() {
        // Scaled: 1.9x on 1.95 CPUs.
        assert_eq!(
            stall(e(1.9, 1.85, 1.95), e(1.95, 1.9, 2.0), 2, 2, None, false),
            None
        );
        // 1.5 CPUs busy on 2: partly waiting, partly working; no claim either way.
        assert_eq!(
            stall(e(1.1, 1.0, 1.2), e(1.5, 1.4, 1.6), 2, 2, None, false),
            None
        );
        // Well under one CPU busy on a machine that had more: waiting on something else.
        assert_eq!(
            stall(
                e(0.5, 0.4, 0.6),
                e(0.3, 0.2, 0.4),
                2,
                2,
                Some(e(1.9, 1.8, 2.0)),
                false
            ),
            None
        );
        // One worker, or one CPU: nothing to scale onto.
        assert_eq!(
            stall(e(1.0, 0.9, 1.1), e(1.0, 1.0, 1.0), 1, 2, None, false),
            None
        );
        assert_eq!(
            stall(e(1.0, 0.9, 1.1), e(1.0, 1.0, 1.0), 4, 1, None, false),
            None
        );
    }

    #[test]
    fn the_words_carry_the_figures_they_stand_on() {
        let busy = e(1.96, 1.9, 1.99);
        let speedup = e(1.25, 1.2, 1.3);
        let s = Stall::Contention { busy, speedup }.words("a lock");
        assert!(
            s.contains("1.96 (1.90-1.99) CPUs busy") && s.contains("1.25x (1.20-1.30)"),
            "{s}"
        );
        let s = Stall::Lock {
            busy: e(1.01, 1.0, 1.02),
        }
        .words("the GIL");
        assert!(
            s.contains("1.01 (1.00-1.02) CPUs busy") && s.contains("the GIL"),
            "{s}"
        );
    }
}
