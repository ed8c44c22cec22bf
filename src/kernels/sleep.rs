//! `sleep`: an I/O-bound stand-in, one blocking sleep per index.
//!
//! The result is the number of items. Threads waiting in a blocking call need no CPU, so this
//! kernel is where the seed's claim "threads help for I/O" can be measured.

use std::time::Duration;

/// Sleeps `per_item` once per index and returns the number of items.
pub fn sleep(start: u64, end: u64, per_item: Duration) -> u64 {
    for _ in start..end {
        std::thread::sleep(per_item);
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
