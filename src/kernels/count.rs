//! `count`: the seed's loop, `total += 1` once per index.
//!
//! The loop must really run (about one increment per cycle) rather than be folded by the
//! optimiser into `end - start`, or it would measure nothing. An empty inline-assembly statement
//! that claims to read and write the counter in a register hides its value from the optimiser
//! without forcing it through memory, which is what `std::hint::black_box` would do. The C
//! reference in `scripts/c/count.c` uses the same trick (`asm volatile("" : "+r"(total))`).
//!
//! The index goes through the same barrier so the loop keeps the seed's shape, counting the
//! index up to `end` as the C loop does. Left alone, the compiler turns it into a count-down
//! loop (`inc; dec; jne`) that runs at half the speed on some x86 cores (measured on this
//! project's Xeon machine: 0.25 s against 0.13 s for 10^9 increments).

use super::{NoTicks, Ticker, in_blocks};

/// Indices per check point at `Ticker::SCALE` 1: about 30 ns of work, as long as one bytecode
/// of the same loop in Python 2 (some 20 ns). Every exit from the inner loop is a mispredicted
/// branch, so blocks this short run the loop about 40% slower; the `gil` model asks for 16 times
/// longer blocks (0.5 µs, still four orders of magnitude below its 5 ms switch interval) and
/// runs within a few percent of the plain loop.
const TICK_EVERY: u64 = 256;

/// Counts the indices in `start..end` one increment at a time.
pub fn count(start: u64, end: u64) -> u64 {
    count_with(start, end, &mut NoTicks)
}

/// [`count`] with a check point every `TICK_EVERY` x `T::SCALE` indices; without checks, the
/// plain loop: exactly the C reference's shape.
pub fn count_with<T: Ticker>(start: u64, end: u64, ticker: &mut T) -> u64 {
    let mut total: u64 = 0;
    in_blocks(start, end, TICK_EVERY, ticker, |from, to| {
        let mut i = from;
        while i < to {
            total += 1;
            opaque(&mut total, &mut i);
            i += 1;
        }
    });
    total
}

#[cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
))]
#[inline(always)]
fn opaque(total: &mut u64, index: &mut u64) {
    // SAFETY: the template is a comment: it executes no instruction, touches no memory, stack
    // or flags, and only tells the compiler that both values may have changed in registers.
    unsafe {
        std::arch::asm!(
            "/* {0} {1} */",
            inout(reg) * total,
            inout(reg) * index,
            options(nomem, nostack, preserves_flags)
        );
    }
}

#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
)))]
#[inline(always)]
fn opaque(total: &mut u64, index: &mut u64) {
    *total = std::hint::black_box(*total);
    *index = std::hint::black_box(*index);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_every_index() {
        assert_eq!(count(0, 0), 0);
        assert_eq!(count(5, 6), 1);
        assert_eq!(count(0, 1_000_000), 1_000_000);
        assert_eq!(count(u64::MAX - 3, u64::MAX), 3);
    }
}
