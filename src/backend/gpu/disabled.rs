//! The `gpu` backend in a build without the `gpu` feature: a clear error.

use super::GpuInfo;
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::job::Job;
use crate::kernels::Total;
use crate::observer::Observer;

const HOW: &str = "this build has no GPU support: rebuild with `cargo build --release --features \
                   gpu` (Vulkan; for a CPU fallback install mesa-vulkan-drivers libvulkan1)";

/// The GPU backend: unavailable in this build.
#[derive(Debug, Default, Clone, Copy)]
pub struct Gpu;

/// The adapter and its set-up: unavailable in this build.
pub fn info() -> Result<GpuInfo> {
    Err(Error::invalid("backend", "gpu", HOW))
}

impl Backend for Gpu {
    fn run(&self, _job: &Job, _workers: usize, _observer: &dyn Observer) -> Result<Total> {
        Err(Error::invalid("backend", "gpu", HOW))
    }
}
