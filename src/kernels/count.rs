//! `count`: the seed's loop, `total += 1` once per index.
//!
//! The loop must really run (about one increment per cycle) rather than be folded by the
//! optimiser into `end - start`, or it would measure nothing. An empty inline-assembly statement
//! that claims to read and write the counter in a register hides its value from the optimiser
//! without forcing it through memory, which is what `std::hint::black_box` would do. The C
//! reference in `scripts/` uses the same trick (`asm volatile("" : "+r"(total))`).

/// Counts the indices in `start..end` one increment at a time.
pub fn count(start: u64, end: u64) -> u64 {
    let mut total: u64 = 0;
    let mut i = start;
    while i < end {
        total += 1;
        opaque(&mut total);
        i += 1;
    }
    total
}

#[cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "riscv64"
))]
#[inline(always)]
fn opaque(value: &mut u64) {
    // SAFETY: the template is empty: it executes no instruction, touches no memory, stack or
    // flags, and only tells the compiler that `value` may have changed in its register.
    unsafe {
        std::arch::asm!(
            "/* {0} */",
            inout(reg) * value,
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
fn opaque(value: &mut u64) {
    *value = std::hint::black_box(*value);
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
