//! `gpu`: the kernels as compute shaders through wgpu (the `gpu` cargo feature).
//!
//! WGSL versions of `count`, `sum`, `primes`, `pi` and `collatz` (`kernels.wgsl`) give exactly
//! the CPU answers: 64-bit values travel as pairs of 32-bit words with explicit carries, and the
//! host adds the invocations' totals in `u64`/`u128`. `sleep` is refused: a GPU cannot block.
//!
//! A trap shapes the design: Mesa's lavapipe (the CPU Vulkan driver used where there is no GPU)
//! silently ends any shader invocation after 65,535 loop iterations in total, and the result is
//! then wrong with no error. So the host sizes the work of one invocation from the kernel's
//! worst case (one iteration per index for `count`, `sum` and `pi`; up to sqrt(end)/2 trial
//! divisions per number for `primes`) and asserts it stays under a cap of 60,000 iterations;
//! every shader also counts its iterations and, rather than go past the cap, stops and flags its
//! result. `collatz` has no bound known in advance: an invocation that hits the cap, or whose
//! trajectory would leave 64 bits, is flagged and its indices are computed again on the CPU, so
//! the answer stays exact. Ranges beyond what one dispatch holds run in several dispatches.
//!
//! `--workers W` means W workgroups of 64 invocations per dispatch: how much of the GPU one
//! dispatch occupies. Parts of the split run one after another, each in as many dispatches as
//! it needs.

#[cfg(feature = "gpu")]
mod enabled;
#[cfg(feature = "gpu")]
pub use enabled::{Gpu, adapter};

#[cfg(not(feature = "gpu"))]
mod disabled;
#[cfg(not(feature = "gpu"))]
pub use disabled::{Gpu, adapter};

/// Invocations per workgroup (`@workgroup_size` in the shaders).
pub const WORKGROUP: u32 = 64;
/// Most loop iterations one invocation may run (lavapipe stops at 65,535).
pub const ITERATION_CAP: u32 = 60_000;
