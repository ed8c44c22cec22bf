//! `gpu`: the kernels as compute shaders through wgpu (the `gpu` cargo feature).
//!
//! WGSL versions of `count`, `sum`, `primes`, `pi` and `collatz` (`kernels.wgsl`) give exactly
//! the CPU answers: 64-bit values travel as pairs of 32-bit words with explicit carries, and
//! every total is combined exactly. `sleep` is refused: a GPU cannot block.
//!
//! # What is set up once
//!
//! The device, its queue, the pipelines and every buffer are created once per process, on the
//! first use of the backend ([`info`] forces it), and shared by every `Gpu` value: a `bench` of
//! many rounds, or a `verify` of many cases, pays the set-up once. [`GpuInfo::setup_s`] is what
//! it took; `run`, `verify` and `bench` report it apart from the runs' times.
//!
//! # How a run is cut
//!
//! `--workers W` sets the number of parts of a static split, as for every backend, and nothing
//! else: the GPU runs a plan the same whatever its parts. Consecutive parts go to the device in
//! as few submissions as it holds (up to 64 dispatches each), each read back with one map, and
//! the next submission is already on the device while one is read. Each dispatch takes up to
//! 2^31 indices, as many invocations as it needs (about a million once the range is large
//! enough), in workgroups of the adapter's size (up to [`MAX_WORKGROUP`]) laid out in up to
//! three dimensions within the adapter's most workgroups per dimension. A part larger than a
//! submission is cut; a part ends with the submission that holds its end, and is reported
//! done once that is read back. The invocations' totals are combined on the device, first in
//! workgroup memory and then in one record per dispatch, with atomic adds that carry from each
//! 32-bit word into the next (exact to 128 bits); `collatz`'s longest run and its first index
//! are combined by a second pass over the workgroups' bests. The host adds the dispatches'
//! records in part order.
//!
//! # The loop cap
//!
//! A trap shapes the design: Mesa's lavapipe (the CPU Vulkan driver used where there is no GPU)
//! silently ends any shader invocation after 65,535 loop iterations in total, and the result is
//! then wrong with no error. So the host sizes the work of one invocation from the kernel's
//! worst case (one iteration per index for `count`, `sum` and `pi`; up to sqrt(end)/2 trial
//! divisions per number for `primes`) and asserts it stays under [`ITERATION_CAP`]; every
//! shader also counts its iterations and, rather than go past the cap, stops and lists itself
//! in its dispatch's record instead of adding a result. `collatz` has no bound known in advance:
//! an invocation that hits the cap, or whose trajectory would leave 64 bits, is listed the same
//! way. The host computes the listed invocations' indices again on the CPU, so the answer stays
//! exact; a dispatch that lists more invocations than its record holds runs again in pieces
//! small enough that every listed one fits.

#[cfg(feature = "gpu")]
mod enabled;
#[cfg(feature = "gpu")]
pub use enabled::{Gpu, info};

#[cfg(not(feature = "gpu"))]
mod disabled;
#[cfg(not(feature = "gpu"))]
pub use disabled::{Gpu, info};

// The dispatch arithmetic is plain host code: it is compiled and tested in every build.
#[cfg_attr(not(feature = "gpu"), allow(dead_code))]
mod shape;

use serde::{Deserialize, Serialize};

/// The most invocations per workgroup parlab asks for; an adapter that allows fewer gets the
/// largest power of two it allows.
pub const MAX_WORKGROUP: u32 = 256;
/// Most loop iterations one invocation may run (lavapipe stops at 65,535).
pub const ITERATION_CAP: u32 = 60_000;

/// The adapter the `gpu` backend runs on, the shape of its dispatches, and what setting it up
/// cost: what `run`, `verify` and `bench` report wherever the backend ran.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuInfo {
    /// The adapter's name (`NVIDIA H100 80GB HBM3`, `llvmpipe (LLVM 15.0.6, 256 bits)`).
    pub adapter: String,
    /// Its kind as wgpu names it: `DiscreteGpu`, `IntegratedGpu`, `VirtualGpu`, `Cpu`, `Other`.
    pub device_type: String,
    /// The graphics API: `Vulkan`, `Metal`, `Dx12`.
    pub backend: String,
    /// The driver's name, as the driver gives it (may be empty).
    pub driver: String,
    /// The driver's version and details, as the driver gives them (may be empty).
    pub driver_info: String,
    /// Invocations per workgroup.
    pub workgroup_size: u32,
    /// The adapter's most workgroups per dispatch dimension.
    pub max_workgroups_per_dimension: u32,
    /// Seconds the set-up took: adapter, device, shader, pipelines and buffers, once per
    /// process and never inside a run's time.
    pub setup_s: f64,
}

impl GpuInfo {
    /// One line: adapter, kind, API and driver
    /// (`llvmpipe (LLVM 15.0.6, 256 bits) (Cpu, Vulkan; driver llvmpipe, Mesa 22.3.6)`).
    pub fn description(&self) -> String {
        let driver = [self.driver.trim(), self.driver_info.trim()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(", ");
        let driver = if driver.is_empty() {
            "driver not named".to_string()
        } else {
            format!("driver {driver}")
        };
        format!(
            "{} ({}, {}; {driver})",
            self.adapter, self.device_type, self.backend
        )
    }

    /// The set-up's time and what it made (`85.00 ms: device, pipelines and buffers, once per
    /// process`).
    pub fn setup(&self) -> String {
        format!(
            "{}: device, pipelines and buffers, once per process",
            crate::units::seconds(self.setup_s)
        )
    }

    /// The shape of the dispatches (`workgroups of 256, up to 65535 per dimension`).
    pub fn grid(&self) -> String {
        format!(
            "workgroups of {}, up to {} per dimension",
            self.workgroup_size, self.max_workgroups_per_dimension
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> GpuInfo {
        GpuInfo {
            adapter: "llvmpipe (LLVM 15.0.6, 256 bits)".into(),
            device_type: "Cpu".into(),
            backend: "Vulkan".into(),
            driver: "llvmpipe".into(),
            driver_info: "Mesa 22.3.6 (LLVM 15.0.6)".into(),
            workgroup_size: 256,
            max_workgroups_per_dimension: 65535,
            setup_s: 0.0123,
        }
    }

    #[test]
    fn the_description_names_adapter_kind_api_and_driver() {
        assert_eq!(
            info().description(),
            "llvmpipe (LLVM 15.0.6, 256 bits) (Cpu, Vulkan; driver llvmpipe, Mesa 22.3.6 \
             (LLVM 15.0.6))"
        );
        let quiet = GpuInfo {
            driver: String::new(),
            driver_info: " ".into(),
            ..info()
        };
        assert!(
            quiet
                .description()
                .ends_with("(Cpu, Vulkan; driver not named)"),
            "{}",
            quiet.description()
        );
        assert_eq!(
            info().setup(),
            "12.30 ms: device, pipelines and buffers, once per process"
        );
        assert_eq!(
            info().grid(),
            "workgroups of 256, up to 65535 per dimension"
        );
    }

    #[test]
    fn the_info_round_trips_through_json() {
        let text = serde_json::to_string(&info()).unwrap();
        assert_eq!(serde_json::from_str::<GpuInfo>(&text).unwrap(), info());
    }
}
