//! `sleep`: an I/O-bound stand-in, one blocking sleep per index.
//!
//! The result is the number of items. Threads waiting in a blocking call need no CPU, so this
//! kernel is where the seed's claim "threads help for I/O" can be measured.

use std::time::Duration;

use super::{NoTicks, Ticker};

/// Sleeps `per_item` once per index and returns the number of items.
pub fn sleep(start: u64, end: u64, per_item: Duration) -> u64 {
    sleep_with(start, end, per_item, &mut NoTicks)
}

/// [`sleep`] with every sleep run by the ticker ([`Ticker::sleep`]: a GIL model releases the
/// lock around it, as CPython does around `time.sleep`, and an in-process backend wakes for a
/// timeout or Ctrl-C within [`super::ticker::SLEEP_CHECK`]) and a check point per item.
pub fn sleep_with(start: u64, end: u64, per_item: Duration, ticker: &mut impl Ticker) -> u64 {
    for _ in start..end {
        ticker.sleep(per_item);
        ticker.tick();
    }
    end - start
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn sleeps_once_per_item() {
        let t = Instant::now();
        assert_eq!(sleep(10, 15, Duration::from_millis(2)), 5);
        assert!(t.elapsed() >= Duration::from_millis(10));
    }
}
