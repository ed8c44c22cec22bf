//! The hooks a kernel calls while it runs, so that a GIL model can hand its lock over.
//!
//! Kernels call [`Ticker::tick`] at their loop back-edges and run their blocking calls through
//! [`Ticker::blocking`], their sleeps through [`Ticker::sleep`]. The GIL models use these hooks
//! to hand the lock over, and every in-process backend to stop a part it was asked to stop (a
//! timeout, Ctrl-C); worker processes use [`NoTicks`], which compiles to nothing (a process
//! can be killed).

use std::time::{Duration, Instant};

/// The longest a sleep run through [`Ticker::sleep`] goes without looking at its stop request
/// (see `nap`): an hour's sleep ends within this of a timeout or Ctrl-C, and a thread that
/// sleeps long wakes at most 200 times a second to look.
pub const SLEEP_CHECK: Duration = Duration::from_millis(5);

/// Hooks a kernel calls while it runs.
///
/// Kernels call [`Ticker::tick`] at their loop back-edges, every 30 ns to 0.5 µs of work
/// ([`Ticker::SCALE`]), and run their blocking calls through [`Ticker::blocking`].
pub trait Ticker {
    /// False for a ticker whose hooks do nothing, so kernels can run their plain loops.
    const ACTIVE: bool = true;

    /// How coarse the check points of tight loops (`count`, `sum`, `pi`) are: 1 puts one about
    /// every 30 ns of work, as often as an interpreter checks between bytecodes; larger values
    /// space them out by that factor.
    const SCALE: u64 = 1;

    /// A check point at a loop back-edge.
    fn tick(&mut self) {}

    /// Runs a blocking call.
    fn blocking(&mut self, call: &mut dyn FnMut()) {
        call()
    }

    /// Sleeps for `time` as a blocking call (the `sleep` kernel's sleep). A ticker that can
    /// stop its kernel wakes for a stop request within [`SLEEP_CHECK`] and stops there, as at a
    /// check point.
    fn sleep(&mut self, time: Duration) {
        self.blocking(&mut || std::thread::sleep(time))
    }
}

/// Sleeps until `time` has passed or `stop()` is true, looking at it every [`SLEEP_CHECK`] at
/// most; true when it stopped early. The slices end at one deadline, so a sleep of any length
/// overruns by one wake-up's lateness, as one call of `std::thread::sleep` does.
pub(crate) fn nap(time: Duration, stop: impl Fn() -> bool) -> bool {
    let until = Instant::now() + time;
    loop {
        if stop() {
            return true;
        }
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        std::thread::sleep(left.min(SLEEP_CHECK));
    }
}

/// A [`Ticker`] that does nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoTicks;

impl Ticker for NoTicks {
    const ACTIVE: bool = false;
}

/// Runs the tight loop `block(from, to)` over `start..end`: in one piece for a ticker that does
/// nothing, so the loop keeps its plain shape, else in blocks of `every` x `T::SCALE` indices
/// with a check point after each.
#[inline(always)]
pub(crate) fn in_blocks<T: Ticker>(
    start: u64,
    end: u64,
    every: u64,
    ticker: &mut T,
    mut block: impl FnMut(u64, u64),
) {
    if !T::ACTIVE {
        block(start, end);
        return;
    }
    let mut i = start;
    while i < end {
        let stop = i.saturating_add(every * T::SCALE).min(end);
        block(i, stop);
        i = stop;
        ticker.tick();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts its check points, at `SCALE` 2.
    #[derive(Default)]
    struct Counting(usize);

    impl Ticker for Counting {
        const SCALE: u64 = 2;
        fn tick(&mut self) {
            self.0 += 1;
        }
    }

    fn blocks<T: Ticker>(start: u64, end: u64, ticker: &mut T) -> Vec<(u64, u64)> {
        let mut seen = Vec::new();
        in_blocks(start, end, 5, ticker, |a, b| seen.push((a, b)));
        seen
    }

    #[test]
    fn an_active_ticker_cuts_the_range_into_blocks_and_ticks_after_each() {
        let mut t = Counting::default();
        assert_eq!(blocks(3, 28, &mut t), [(3, 13), (13, 23), (23, 28)]);
        assert_eq!(t.0, 3);
        // No overflow at the top of the index space.
        let top = blocks(u64::MAX - 4, u64::MAX, &mut t);
        assert_eq!(top, [(u64::MAX - 4, u64::MAX)]);
        assert!(blocks(7, 7, &mut t).is_empty());
    }

    #[test]
    fn a_nap_sleeps_its_time_unless_asked_to_stop() {
        let t0 = Instant::now();
        assert!(!nap(Duration::from_millis(30), || false));
        assert!(t0.elapsed() >= Duration::from_millis(30));
        // Asked to stop 20 ms into an hour: it ends within a few slices, however busy the
        // machine (the bound is generous; the point is minutes against an hour).
        let t0 = Instant::now();
        let stop_at = t0 + Duration::from_millis(20);
        assert!(nap(Duration::from_secs(3600), || Instant::now() >= stop_at));
        assert!(t0.elapsed() < Duration::from_secs(30), "{:?}", t0.elapsed());
        assert!(t0.elapsed() >= Duration::from_millis(20));
    }

    #[test]
    fn no_ticks_runs_one_block() {
        assert_eq!(blocks(3, 28, &mut NoTicks), [(3, 28)]);
    }
}
