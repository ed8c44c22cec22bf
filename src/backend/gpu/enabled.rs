//! The `gpu` backend over wgpu.

use std::sync::OnceLock;

use crate::backend::{Backend, check_workers};
use crate::error::{Error, Result};
use crate::job::Job;
use crate::kernels::collatz::Collatz;
use crate::kernels::{Kernel, Total};
use crate::observer::Observer;
use crate::span::{Part, Span};

use super::{ITERATION_CAP, WORKGROUP};

/// Words of output per invocation (see `kernels.wgsl`).
const STRIDE: u64 = 8;
/// Most indices one dispatch covers (invocation offsets must fit in 32 bits).
const DISPATCH_INDICES: u64 = 1 << 30;

/// The GPU backend.
#[derive(Debug, Default, Clone, Copy)]
pub struct Gpu;

struct Context {
    device: wgpu::Device,
    queue: wgpu::Queue,
    description: String,
    pipelines: Vec<(&'static str, wgpu::ComputePipeline)>,
}

fn context() -> Result<&'static Context> {
    static CONTEXT: OnceLock<std::result::Result<Context, String>> = OnceLock::new();
    CONTEXT
        .get_or_init(open)
        .as_ref()
        .map_err(|e| Error::io("the gpu backend", std::io::Error::other(e.clone())))
}

fn open() -> std::result::Result<Context, String> {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor::new_without_display_handle());
    let adapter = pollster::block_on(instance.request_adapter(&wgpu::RequestAdapterOptions {
        power_preference: wgpu::PowerPreference::HighPerformance,
        ..Default::default()
    }))
    .map_err(|e| {
        format!(
            "no GPU adapter found: looked for a Vulkan adapter through wgpu ({e}); on a machine \
             without a GPU, install Mesa's CPU driver: apt-get install mesa-vulkan-drivers libvulkan1"
        )
    })?;
    let info = adapter.get_info();
    let description = format!("{} ({:?}, {:?})", info.name, info.device_type, info.backend);
    let (device, queue) =
        pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor::default()))
            .map_err(|e| format!("opening {description}: {e}"))?;
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("parlab kernels"),
        source: wgpu::ShaderSource::Wgsl(include_str!("kernels.wgsl").into()),
    });
    let pipelines = ["count", "sum", "pi", "primes", "collatz"]
        .into_iter()
        .map(|entry| {
            let p = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: None,
                module: &module,
                entry_point: Some(entry),
                compilation_options: Default::default(),
                cache: None,
            });
            (entry, p)
        })
        .collect();
    Ok(Context {
        device,
        queue,
        description,
        pipelines,
    })
}

/// The adapter in use: its name, type and graphics API.
pub fn adapter() -> Result<String> {
    Ok(context()?.description.clone())
}

impl Backend for Gpu {
    fn supports(&self, kernel: &Kernel) -> bool {
        !kernel.is_blocking()
    }

    fn run(&self, job: &Job, workers: usize, observer: &dyn Observer) -> Result<Total> {
        let workers = check_workers(workers)?;
        let entry = match job.kernel {
            Kernel::Count => "count",
            Kernel::Sum => "sum",
            Kernel::Pi => "pi",
            Kernel::Primes => "primes",
            Kernel::Collatz => "collatz",
            Kernel::Sleep { .. } => {
                return Err(Error::invalid(
                    "kernel",
                    job.kernel.to_string(),
                    "the gpu backend cannot run sleep: a shader cannot block; use a CPU backend",
                ));
            }
        };
        if job.kernel == Kernel::Primes && job.range.end > 1 << 32 {
            return Err(Error::invalid(
                "range",
                job.range.to_string(),
                "the gpu backend counts primes below 2^32 = 4294967296 only (trial division in \
                 32-bit words); use a CPU backend beyond",
            ));
        }
        let ctx = context()?;
        let pipeline = &ctx
            .pipelines
            .iter()
            .find(|(e, _)| *e == entry)
            .expect("pipeline")
            .1;
        observer.worker_started(0, None);
        let plan = job.plan(workers);
        let mut total = job.kernel.zero();
        for part in plan.parts() {
            total = total.then(run_part(ctx, pipeline, job.kernel, part, workers as u32)?);
            observer.part_done(part, 0, part.index + 1, plan.len());
        }
        Ok(total)
    }
}

/// Indices per invocation for `kernel` over a range ending at `end`, and the worst-case loop
/// iterations that gives, which must stay under the cap.
fn items_per_invocation(kernel: Kernel, end: u64) -> (u32, u32) {
    match kernel {
        Kernel::Count | Kernel::Sum | Kernel::Pi => (4096, 4096),
        Kernel::Primes => {
            // One iteration per number plus up to sqrt(n)/2 odd trial divisors.
            let per_number = ((end.saturating_sub(1)).isqrt() / 2 + 2) as u32;
            let items = (ITERATION_CAP / per_number).max(1);
            (items, items * per_number)
        }
        // No bound is known in advance: the shader flags an invocation that reaches the cap,
        // and the host computes its indices on the CPU.
        Kernel::Collatz => (16, ITERATION_CAP),
        Kernel::Sleep { .. } => unreachable!("refused above"),
    }
}

/// One part, in as many dispatches as it needs.
fn run_part(
    ctx: &Context,
    pipeline: &wgpu::ComputePipeline,
    kernel: Kernel,
    part: Part,
    workgroups: u32,
) -> Result<Total> {
    let (items, worst) = items_per_invocation(kernel, part.end);
    assert!(
        worst <= ITERATION_CAP,
        "{kernel}: {worst} iterations per invocation would pass the cap of {ITERATION_CAP}"
    );
    let invocations = workgroups * WORKGROUP;
    let per_dispatch = (invocations as u64 * items as u64).min(DISPATCH_INDICES);
    let mut total = kernel.zero();
    let mut start = part.start;
    while start < part.end {
        let end = part.end.min(start.saturating_add(per_dispatch));
        total = total.then(dispatch(
            ctx,
            pipeline,
            kernel,
            Span { start, end },
            items,
            workgroups,
        )?);
        start = end;
    }
    Ok(total)
}

/// One dispatch over `span`; returns its total.
fn dispatch(
    ctx: &Context,
    pipeline: &wgpu::ComputePipeline,
    kernel: Kernel,
    span: Span,
    items: u32,
    workgroups: u32,
) -> Result<Total> {
    let n = span.len() as u32;
    let used = n.div_ceil(items);
    let groups = used.div_ceil(WORKGROUP).min(workgroups).max(1);
    let slots = (groups * WORKGROUP) as u64;
    let params: [u32; 8] = [
        span.start as u32,
        (span.start >> 32) as u32,
        items,
        n,
        ITERATION_CAP,
        0,
        0,
        0,
    ];
    let device = &ctx.device;
    let uniform = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("params"),
        size: 32,
        usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    ctx.queue
        .write_buffer(&uniform, 0, bytemuck::cast_slice(&params));
    let size = slots * STRIDE * 4;
    let out = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("results"),
        size,
        usage: wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_SRC,
        mapped_at_creation: false,
    });
    let read = device.create_buffer(&wgpu::BufferDescriptor {
        label: Some("read back"),
        size,
        usage: wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
        mapped_at_creation: false,
    });
    let bind = device.create_bind_group(&wgpu::BindGroupDescriptor {
        label: None,
        layout: &pipeline.get_bind_group_layout(0),
        entries: &[
            wgpu::BindGroupEntry {
                binding: 0,
                resource: uniform.as_entire_binding(),
            },
            wgpu::BindGroupEntry {
                binding: 1,
                resource: out.as_entire_binding(),
            },
        ],
    });
    let mut encoder = device.create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
    {
        let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
        pass.set_pipeline(pipeline);
        pass.set_bind_group(0, &bind, &[]);
        pass.dispatch_workgroups(groups, 1, 1);
    }
    encoder.copy_buffer_to_buffer(&out, 0, &read, 0, size);
    ctx.queue.submit([encoder.finish()]);
    read.slice(..).map_async(wgpu::MapMode::Read, |_| {});
    device
        .poll(wgpu::PollType::Wait {
            submission_index: None,
            timeout: None,
        })
        .map_err(|e| Error::io("waiting for the GPU", std::io::Error::other(e.to_string())))?;
    let view = read
        .slice(..)
        .get_mapped_range()
        .map_err(|e| Error::io("reading GPU results", std::io::Error::other(e.to_string())))?;
    let words: &[u32] = bytemuck::cast_slice(&view);
    let mut total = kernel.zero();
    // The dispatch was sized to hold the span; only `used` invocations had indices.
    assert!(
        used <= groups * WORKGROUP,
        "a dispatch of {groups} workgroups cannot hold {n} indices"
    );
    for id in 0..used as u64 {
        let w = &words[(id * STRIDE) as usize..((id + 1) * STRIDE) as usize];
        let lo = span.start + id * items as u64;
        let hi = span.end.min(lo.saturating_add(items as u64));
        let t = if w[7] != 0 {
            // Cut off or out of 64 bits: this invocation's result cannot be trusted.
            kernel.run(Span { start: lo, end: hi })?
        } else {
            decode(kernel, w, span.start, hi - lo)
        };
        total = total.then(t);
    }
    drop(view);
    read.unmap();
    Ok(total)
}

/// One invocation's result words as a total.
fn decode(kernel: Kernel, w: &[u32], base: u64, len: u64) -> Total {
    match kernel {
        Kernel::Count => Total::Count { count: w[0] as u64 },
        Kernel::Sum => Total::Sum {
            sum: w[0] as u128 | (w[1] as u128) << 32 | (w[2] as u128) << 64,
        },
        Kernel::Pi => Total::Pi {
            hits: w[0] as u64,
            points: len,
        },
        Kernel::Primes => Total::Primes {
            primes: w[0] as u64,
        },
        Kernel::Collatz => Total::Collatz(Collatz {
            steps: w[0] as u128 | (w[1] as u128) << 32,
            max_steps: w[2],
            argmax: (w[4] != 0).then(|| base + w[3] as u64),
        }),
        Kernel::Sleep { .. } => unreachable!("refused before dispatch"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_invocation_can_pass_the_iteration_cap() {
        for kernel in [
            Kernel::Count,
            Kernel::Sum,
            Kernel::Pi,
            Kernel::Primes,
            Kernel::Collatz,
        ] {
            for end in [2, 1_000, 1 << 20, 1 << 31, 1 << 32] {
                let (items, worst) = items_per_invocation(kernel, end);
                assert!(
                    items >= 1 && worst <= ITERATION_CAP,
                    "{kernel} to {end}: {items} x -> {worst}"
                );
            }
        }
    }
}
