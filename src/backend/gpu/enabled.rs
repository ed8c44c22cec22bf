//! The `gpu` backend over wgpu.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use super::shape::{self, Dispatch, Grid, LISTED, MAX_DISPATCHES, RECORD_WORDS, SCRATCH_GROUPS};
use super::{GpuInfo, ITERATION_CAP};
use crate::backend::combine::Combiner;
use crate::backend::{Backend, check_workers};
use crate::error::{Error, Result};
use crate::job::Job;
use crate::kernels::collatz::Collatz;
use crate::kernels::{Kernel, Total};
use crate::observer::Observer;

/// Submissions on a GPU at once: one is read back while the next runs.
const SLOTS: usize = 2;
/// The same on an adapter that runs shaders on the CPU (lavapipe): its submit waits for the
/// submission before, and a run waiting there could not see a stop; the CPUs gain nothing
/// from the overlap anyway.
const CPU_SLOTS: usize = 1;
/// Longest wait for the device between two looks at whether a stop was asked for.
const STOP_CHECK: std::time::Duration = std::time::Duration::from_millis(100);
/// Bytes of a dispatch's parameters (`Params` in `kernels.wgsl`).
const PARAMS_BYTES: u64 = 32;
/// `primes` runs below this end only: trial division in 32-bit words.
const PRIMES_END: u64 = 1 << 32;
/// Bytes of a dispatch's record.
const RECORD_BYTES: u64 = RECORD_WORDS as u64 * 4;

/// The GPU backend. Every value shares the process's one device (see the module doc).
#[derive(Debug, Default, Clone, Copy)]
pub struct Gpu;

/// The device and everything made for it, once per process.
struct Context {
    device: wgpu::Device,
    queue: wgpu::Queue,
    info: GpuInfo,
    grid: Grid,
    /// Submissions on the device at once ([`SLOTS`], or [`CPU_SLOTS`]).
    in_flight: usize,
    /// Bytes between two dispatches' parameters (the adapter's uniform offset alignment).
    params_stride: u64,
    layout: wgpu::BindGroupLayout,
    pipelines: Vec<(&'static str, wgpu::ComputePipeline)>,
    /// The buffers of the submissions in flight; `None` after a run failed midway, made again
    /// by the next run.
    slots: Mutex<Option<Vec<Slot>>>,
    /// The first error the device reported outside a call that returns one.
    failure: Arc<Mutex<Option<String>>>,
}

/// The buffers of one submission.
struct Slot {
    params: wgpu::Buffer,
    records: wgpu::Buffer,
    read: wgpu::Buffer,
    bind: wgpu::BindGroup,
    /// Set by the read-back's map callback.
    mapped: Arc<Mutex<Option<std::result::Result<(), wgpu::BufferAsyncError>>>>,
}

fn context() -> Result<&'static Context> {
    static CONTEXT: OnceLock<std::result::Result<Context, String>> = OnceLock::new();
    CONTEXT
        .get_or_init(open)
        .as_ref()
        .map_err(|e| Error::io("the gpu backend", std::io::Error::other(e.clone())))
}

fn open() -> std::result::Result<Context, String> {
    let started = Instant::now();
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
    let a = adapter.get_info();
    let limits = adapter.limits();
    let grid = Grid::from_limits(
        limits.max_compute_invocations_per_workgroup,
        limits.max_compute_workgroup_size_x,
        limits.max_compute_workgroups_per_dimension,
    );
    let name = format!("{} ({:?}, {:?})", a.name, a.device_type, a.backend);
    let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
        label: Some("parlab"),
        required_limits: limits.clone(),
        ..Default::default()
    }))
    .map_err(|e| format!("opening {name}: {e}"))?;
    let failure = Arc::new(Mutex::new(None::<String>));
    let seen = failure.clone();
    device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
        let mut f = seen.lock().unwrap_or_else(|p| p.into_inner());
        f.get_or_insert_with(|| e.to_string());
    }));
    let lost = failure.clone();
    device.set_device_lost_callback(move |reason, message| {
        let mut f = lost.lock().unwrap_or_else(|p| p.into_inner());
        f.get_or_insert_with(|| format!("the device was lost ({reason:?}): {message}"));
    });
    let source = format!(
        "const WG: u32 = {}u;\nconst RECORD: u32 = {RECORD_WORDS}u;\nconst LISTED: u32 = \
         {LISTED}u;\n{}",
        grid.workgroup,
        include_str!("kernels.wgsl")
    );
    let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
    let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
        label: Some("parlab kernels"),
        source: wgpu::ShaderSource::Wgsl(source.into()),
    });
    let buffer_entry = |binding, ty, has_dynamic_offset, min| wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty,
            has_dynamic_offset,
            min_binding_size: std::num::NonZeroU64::new(min),
        },
        count: None,
    };
    let storage = wgpu::BufferBindingType::Storage { read_only: false };
    let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
        label: Some("parlab bindings"),
        entries: &[
            buffer_entry(0, wgpu::BufferBindingType::Uniform, true, PARAMS_BYTES),
            buffer_entry(1, storage, false, RECORD_BYTES),
            buffer_entry(2, storage, false, 8),
        ],
    });
    let pipeline_layout = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
        label: Some("parlab pipelines"),
        bind_group_layouts: &[Some(&layout)],
        immediate_size: 0,
    });
    let pipelines = ["count", "sum", "pi", "primes", "collatz", "collatz_argmax"]
        .into_iter()
        .map(|entry| {
            let p = device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                label: Some(entry),
                layout: Some(&pipeline_layout),
                module: &module,
                entry_point: Some(entry),
                compilation_options: wgpu::PipelineCompilationOptions {
                    zero_initialize_workgroup_memory: true,
                    ..Default::default()
                },
                cache: None,
            });
            (entry, p)
        })
        .collect();
    if let Some(e) = pollster::block_on(scope.pop()) {
        return Err(format!("compiling the shaders for {name}: {e}"));
    }
    let align = (limits.min_uniform_buffer_offset_alignment as u64).max(PARAMS_BYTES);
    let mut ctx = Context {
        device,
        queue,
        info: GpuInfo {
            adapter: a.name.clone(),
            device_type: format!("{:?}", a.device_type),
            backend: format!("{:?}", a.backend),
            driver: a.driver.clone(),
            driver_info: a.driver_info.clone(),
            workgroup_size: grid.workgroup,
            max_workgroups_per_dimension: grid.per_dimension,
            setup_s: 0.0,
        },
        grid,
        in_flight: if a.device_type == wgpu::DeviceType::Cpu {
            CPU_SLOTS
        } else {
            SLOTS
        },
        params_stride: PARAMS_BYTES.div_ceil(align) * align,
        layout,
        pipelines,
        slots: Mutex::new(None),
        failure,
    };
    let slots = ctx.make_slots();
    ctx.slots = Mutex::new(Some(slots));
    ctx.check().map_err(|e| e.to_string())?;
    ctx.info.setup_s = started.elapsed().as_secs_f64();
    Ok(ctx)
}

/// The adapter in use, the shape of its dispatches and what the set-up took; opens the device
/// on first use (the set-up then happens here, not in a run).
pub fn info() -> Result<GpuInfo> {
    Ok(context()?.info.clone())
}

impl Context {
    fn pipeline(&self, entry: &str) -> &wgpu::ComputePipeline {
        &self
            .pipelines
            .iter()
            .find(|(e, _)| *e == entry)
            .expect("every entry point has a pipeline")
            .1
    }

    fn make_slots(&self) -> Vec<Slot> {
        (0..self.in_flight).map(|_| self.make_slot()).collect()
    }

    fn make_slot(&self) -> Slot {
        let buffer = |label, size, usage| {
            self.device.create_buffer(&wgpu::BufferDescriptor {
                label: Some(label),
                size,
                usage,
                mapped_at_creation: false,
            })
        };
        use wgpu::BufferUsages as U;
        let records_size = MAX_DISPATCHES as u64 * RECORD_BYTES;
        let params = buffer(
            "params",
            MAX_DISPATCHES as u64 * self.params_stride,
            U::UNIFORM | U::COPY_DST,
        );
        let records = buffer(
            "records",
            records_size,
            U::STORAGE | U::COPY_SRC | U::COPY_DST,
        );
        let read = buffer("read back", records_size, U::MAP_READ | U::COPY_DST);
        let scratch = buffer("scratch", SCRATCH_GROUPS as u64 * 8, U::STORAGE);
        let bind = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
            label: Some("parlab bindings"),
            layout: &self.layout,
            entries: &[
                wgpu::BindGroupEntry {
                    binding: 0,
                    resource: wgpu::BindingResource::Buffer(wgpu::BufferBinding {
                        buffer: &params,
                        offset: 0,
                        size: std::num::NonZeroU64::new(PARAMS_BYTES),
                    }),
                },
                wgpu::BindGroupEntry {
                    binding: 1,
                    resource: records.as_entire_binding(),
                },
                wgpu::BindGroupEntry {
                    binding: 2,
                    resource: scratch.as_entire_binding(),
                },
            ],
        });
        Slot {
            params,
            records,
            read,
            bind,
            mapped: Arc::new(Mutex::new(None)),
        }
    }

    /// An error for anything the device reported since the last check.
    fn check(&self) -> Result<()> {
        let mut f = self.failure.lock().unwrap_or_else(|p| p.into_inner());
        match f.take() {
            Some(e) => Err(gpu_error("the GPU reported an error", e)),
            None => Ok(()),
        }
    }

    /// Sends `dispatches` of `kernel` through `slot`: their parameters, the dispatches, and the
    /// copy of their records to the read-back buffer, which is then mapped.
    fn submit(
        &self,
        slot: &Slot,
        kernel: Kernel,
        dispatches: &[Dispatch],
    ) -> wgpu::SubmissionIndex {
        assert!(
            !dispatches.is_empty() && dispatches.len() <= MAX_DISPATCHES,
            "{} dispatches in one submission",
            dispatches.len()
        );
        let mut params = vec![0u8; dispatches.len() * self.params_stride as usize];
        for (k, d) in dispatches.iter().enumerate() {
            let words: [u32; 8] = [
                d.span.start as u32,
                (d.span.start >> 32) as u32,
                d.items,
                d.span.len() as u32,
                ITERATION_CAP,
                d.invocations,
                k as u32,
                d.group_count(),
            ];
            let at = k * self.params_stride as usize;
            params[at..at + PARAMS_BYTES as usize].copy_from_slice(bytemuck::cast_slice(&words));
        }
        self.queue.write_buffer(&slot.params, 0, &params);
        let size = dispatches.len() as u64 * RECORD_BYTES;
        let mut encoder = self
            .device
            .create_command_encoder(&wgpu::CommandEncoderDescriptor::default());
        encoder.clear_buffer(&slot.records, 0, Some(size));
        {
            let mut pass = encoder.begin_compute_pass(&wgpu::ComputePassDescriptor::default());
            let main = self.pipeline(entry(kernel));
            for (k, d) in dispatches.iter().enumerate() {
                let offset = (k as u64 * self.params_stride) as u32;
                pass.set_pipeline(main);
                pass.set_bind_group(0, &slot.bind, &[offset]);
                let [x, y, z] = d.groups;
                pass.dispatch_workgroups(x, y, z);
                if kernel == Kernel::Collatz {
                    pass.set_pipeline(self.pipeline("collatz_argmax"));
                    let [x, y, z] = self.grid.argmax_dims(d);
                    pass.dispatch_workgroups(x, y, z);
                }
            }
        }
        encoder.copy_buffer_to_buffer(&slot.records, 0, &slot.read, 0, size);
        let index = self.queue.submit([encoder.finish()]);
        *slot.mapped.lock().unwrap_or_else(|p| p.into_inner()) = None;
        let mapped = slot.mapped.clone();
        slot.read
            .slice(..size)
            .map_async(wgpu::MapMode::Read, move |r| {
                *mapped.lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
            });
        index
    }

    /// Waits for `index` and returns the records of its `count` dispatches.
    fn read(&self, slot: &Slot, index: wgpu::SubmissionIndex, count: usize) -> Result<Vec<u32>> {
        // Waits in slices, so that a stop (Ctrl-C, SIGTERM) ends the run within one.
        loop {
            match self.device.poll(wgpu::PollType::Wait {
                submission_index: Some(index.clone()),
                timeout: Some(STOP_CHECK),
            }) {
                Ok(_) => break,
                Err(wgpu::PollError::Timeout) => {
                    self.check()?;
                    if let Some(signal) = crate::interrupt::requested() {
                        return Err(crate::interrupt::error(signal));
                    }
                }
                Err(e) => return Err(gpu_error("waiting for the GPU", e.to_string())),
            }
        }
        self.check()?;
        let mapped = slot.mapped.lock().unwrap_or_else(|p| p.into_inner()).take();
        match mapped {
            Some(Ok(())) => {}
            Some(Err(e)) => return Err(gpu_error("reading GPU results", e.to_string())),
            None => {
                return Err(gpu_error(
                    "reading GPU results",
                    "the read-back was not mapped once its submission finished".into(),
                ));
            }
        }
        let size = count as u64 * RECORD_BYTES;
        let words = {
            let view = slot
                .read
                .slice(..size)
                .get_mapped_range()
                .map_err(|e| gpu_error("reading GPU results", e.to_string()))?;
            bytemuck::cast_slice::<u8, u32>(&view).to_vec()
        };
        slot.read.unmap();
        Ok(words)
    }

    /// Runs `dispatches` through `slot` and waits: for a dispatch run again in pieces.
    fn run_now(&self, slot: &Slot, kernel: Kernel, dispatches: &[Dispatch]) -> Result<Total> {
        let mut total = kernel.zero();
        for group in dispatches.chunks(MAX_DISPATCHES) {
            let index = self.submit(slot, kernel, group);
            let words = self.read(slot, index, group.len())?;
            for (d, record) in group.iter().zip(words.chunks(RECORD_WORDS as usize)) {
                let t = self.total_of(slot, kernel, d, record)?;
                total = total.then(t);
            }
        }
        Ok(total)
    }

    /// The total of one dispatch from its record: the device's combined total, with the
    /// listed invocations computed again on the CPU; a dispatch that listed more than its
    /// record holds runs again in pieces that cannot.
    fn total_of(&self, slot: &Slot, kernel: Kernel, d: &Dispatch, record: &[u32]) -> Result<Total> {
        let listed = record[6];
        if listed > LISTED {
            return self.run_now(slot, kernel, &self.grid.listable(d));
        }
        let mut again = kernel.zero();
        let mut again_len = 0;
        for &id in &record[8..8 + listed as usize] {
            if id >= d.invocations {
                return Err(gpu_error(
                    "reading GPU results",
                    format!("invocation {id} listed of {}", d.invocations),
                ));
            }
            let span = d.invocation(id);
            again_len += span.len();
            again = merge(again, kernel.run(span)?);
        }
        let value = record[..4]
            .iter()
            .rev()
            .fold(0u128, |acc, &w| acc << 32 | w as u128);
        let small = || {
            u64::try_from(value).map_err(|_| {
                gpu_error(
                    "reading GPU results",
                    format!("a total of {value} over {} indices", d.span.len()),
                )
            })
        };
        let device = match kernel {
            Kernel::Count => Total::Count { count: small()? },
            Kernel::Sum => Total::Sum { sum: value },
            Kernel::Pi => Total::Pi {
                hits: small()?,
                points: d.span.len() - again_len,
            },
            Kernel::Primes => Total::Primes { primes: small()? },
            Kernel::Collatz => Total::Collatz(Collatz {
                steps: value,
                max_steps: record[4].saturating_sub(1),
                argmax: (record[4] != 0).then(|| d.span.start + !record[5] as u64),
            }),
            Kernel::Sleep { .. } => unreachable!("refused before any dispatch"),
        };
        Ok(merge(device, again))
    }
}

/// Combines two totals of disjoint index sets in either order: `collatz`'s longest run keeps
/// its least index whichever comes first, as a sequential run would.
fn merge(a: Total, b: Total) -> Total {
    match (a, b) {
        (Total::Collatz(x), Total::Collatz(y)) => {
            let x_first = match (x.argmax, y.argmax) {
                (_, None) => true,
                (None, Some(_)) => false,
                (Some(i), Some(j)) => {
                    x.max_steps > y.max_steps || (x.max_steps == y.max_steps && i < j)
                }
            };
            Total::Collatz(if x_first { x.then(y) } else { y.then(x) })
        }
        (a, b) => a.then(b),
    }
}

fn gpu_error(context: &str, e: String) -> Error {
    Error::io(context, std::io::Error::other(e))
}

/// The shader entry point of `kernel`.
fn entry(kernel: Kernel) -> &'static str {
    match kernel {
        Kernel::Count => "count",
        Kernel::Sum => "sum",
        Kernel::Pi => "pi",
        Kernel::Primes => "primes",
        Kernel::Collatz => "collatz",
        Kernel::Sleep { .. } => unreachable!("refused before any dispatch"),
    }
}

/// A submission on the device, or a piece with no indices that finishes parts in turn.
struct InFlight {
    slot: usize,
    work: Option<(wgpu::SubmissionIndex, Vec<Dispatch>)>,
    parts: std::ops::Range<u64>,
}

impl Backend for Gpu {
    fn supports(&self, job: &Job) -> bool {
        let beyond = job.kernel == Kernel::Primes && job.range.end > PRIMES_END;
        !job.kernel.is_blocking() && !beyond
    }

    fn run(&self, job: &Job, workers: usize, observer: &dyn Observer) -> Result<Total> {
        let workers = check_workers(workers)?;
        if job.kernel.is_blocking() {
            return Err(Error::invalid(
                "kernel",
                job.kernel.to_string(),
                "the gpu backend cannot run sleep: a shader cannot block; use a CPU backend",
            ));
        }
        if job.kernel == Kernel::Primes && job.range.end > PRIMES_END {
            return Err(Error::invalid(
                "range",
                job.range.to_string(),
                "the gpu backend counts primes below 2^32 = 4294967296 only (trial division in \
                 32-bit words); use a CPU backend beyond",
            ));
        }
        let ctx = context()?;
        // One run at a time on the device; a run that failed midway left no slots behind.
        let mut guard = ctx.slots.lock().unwrap_or_else(|p| p.into_inner());
        let slots = match guard.take() {
            Some(s) => s,
            None => ctx.make_slots(),
        };
        observer.worker_started(0, None);
        let plan = job.plan(workers);
        let mut results = Combiner::new(&job.kernel, plan.len());
        match run_plan(ctx, &slots, job, workers, observer, &mut results) {
            Ok(()) => {
                *guard = Some(slots);
                Ok(results.finish())
            }
            // The slots may still be mapped or in flight: they are dropped, and made again.
            Err(e) => Err(results.incomplete(e, &plan)),
        }
    }
}

/// Sends the plan's pieces, up to the device's submissions in flight at once, and folds what
/// comes back in part order.
fn run_plan(
    ctx: &Context,
    slots: &[Slot],
    job: &Job,
    workers: usize,
    observer: &dyn Observer,
    results: &mut Combiner,
) -> Result<()> {
    let plan = job.plan(workers);
    let kernel = job.kernel;
    let grid = ctx.grid;
    let mut flight: VecDeque<InFlight> = VecDeque::new();
    // What the pieces read since the last finished part gave.
    let mut batch = kernel.zero();
    let mut finish = |f: InFlight, batch: &mut Total| -> Result<()> {
        if let Some((index, dispatches)) = f.work {
            let slot = &slots[f.slot];
            let words = ctx.read(slot, index, dispatches.len())?;
            for (d, record) in dispatches.iter().zip(words.chunks(RECORD_WORDS as usize)) {
                *batch = batch.then(ctx.total_of(slot, kernel, d, record)?);
            }
        }
        for index in f.parts.clone() {
            let total = if index == f.parts.start {
                std::mem::replace(batch, kernel.zero())
            } else {
                kernel.zero()
            };
            results.push(index, total);
            observer.part_done(plan.part(index), 0, results.done(), plan.len());
        }
        Ok(())
    };
    // As much as a submission holds at the range's end (for primes, the least per invocation).
    let most = grid.submission_indices(kernel, plan.range().end);
    for (n, piece) in shape::pieces(plan, most).enumerate() {
        if let Some(signal) = crate::interrupt::requested() {
            return Err(crate::interrupt::error(signal));
        }
        if flight.len() == slots.len() {
            let f = flight.pop_front().expect("a submission in flight");
            finish(f, &mut batch)?;
        }
        let slot = n % slots.len();
        let dispatches = grid.dispatches(kernel, piece.span);
        let work = (!dispatches.is_empty()).then(|| {
            let index = ctx.submit(&slots[slot], kernel, &dispatches);
            (index, dispatches)
        });
        flight.push_back(InFlight {
            slot,
            work,
            parts: piece.parts,
        });
    }
    while let Some(f) = flight.pop_front() {
        finish(f, &mut batch)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::observer::Silent;
    use crate::span::Span;

    /// The device: a build with the `gpu` feature is tested where an adapter exists (lavapipe
    /// where there is no GPU).
    fn device() -> &'static Context {
        context().expect("the gpu tests need an adapter (lavapipe: mesa-vulkan-drivers)")
    }

    #[test]
    fn merging_keeps_the_least_index_of_the_longest_run_in_either_order() {
        let c = |steps, max_steps, argmax| {
            Total::Collatz(Collatz {
                steps,
                max_steps,
                argmax,
            })
        };
        let early = c(5, 9, Some(10));
        let late = c(7, 9, Some(20));
        let longer = c(1, 10, Some(30));
        assert_eq!(merge(early, late), c(12, 9, Some(10)));
        assert_eq!(merge(late, early), c(12, 9, Some(10)));
        assert_eq!(merge(late, longer), c(8, 10, Some(30)));
        assert_eq!(merge(longer, early), c(6, 10, Some(30)));
        let none = Kernel::Collatz.zero();
        assert_eq!(merge(none, late), late);
        assert_eq!(merge(late, none), late);
    }

    #[test]
    fn a_dispatch_that_lists_more_than_its_record_holds_runs_again_in_pieces() {
        let ctx = device();
        // Every invocation here meets a trajectory that leaves 64 bits and lists itself: far
        // more than one record holds, so the dispatch runs again in pieces.
        let span = Span::new(u64::MAX - 20_000, u64::MAX).unwrap();
        let ds = ctx.grid.dispatches(Kernel::Collatz, span);
        assert_eq!(ds.len(), 1);
        let slots = ctx.make_slots();
        let index = ctx.submit(&slots[0], Kernel::Collatz, &ds);
        let record = ctx.read(&slots[0], index, 1).unwrap();
        assert!(record[6] > LISTED, "{} listed", record[6]);
        let got = ctx.total_of(&slots[0], Kernel::Collatz, &ds[0], &record);
        assert_eq!(got.unwrap(), Kernel::Collatz.run(span).unwrap());
    }

    #[test]
    fn grids_in_three_dimensions_give_the_same_totals() {
        let ctx = device();
        // A grid of at most 3 workgroups per dimension: a few thousand invocations already
        // need all three, and several dispatches.
        let small = Grid {
            workgroup: ctx.grid.workgroup,
            per_dimension: 3,
        };
        let slots = ctx.make_slots();
        for (kernel, span) in [
            (Kernel::Count, Span::new(7, 3_000_007).unwrap()),
            (
                Kernel::Sum,
                Span::new(u64::MAX - 2_000_000, u64::MAX).unwrap(),
            ),
            (Kernel::Pi, Span::new(0, 400_000).unwrap()),
            (Kernel::Primes, Span::new(0, 300_000).unwrap()),
            (Kernel::Collatz, Span::new(1, 60_000).unwrap()),
        ] {
            let ds = small.dispatches(kernel, span);
            assert!(ds.iter().any(|d| d.groups[2] > 1), "{kernel}: {ds:?}");
            let mut total = kernel.zero();
            for group in ds.chunks(MAX_DISPATCHES) {
                total = total.then(ctx.run_now(&slots[0], kernel, group).unwrap());
            }
            assert_eq!(total, kernel.run(span).unwrap(), "{kernel} {span}");
        }
    }

    #[test]
    fn a_run_reuses_the_devices_buffers() {
        let ctx = device();
        let job = Job {
            kernel: Kernel::Count,
            range: Span::new(0, 1_000_000).unwrap(),
            split: "chunks:1000".parse().unwrap(),
        };
        // Two runs one after the other leave the same buffers in place.
        Gpu.run(&job, 4, &Silent).unwrap();
        let first = ctx
            .slots
            .lock()
            .unwrap()
            .as_ref()
            .map(|s| s[0].read.clone());
        assert_eq!(
            Gpu.run(&job, 4, &Silent).unwrap(),
            Total::Count { count: 1_000_000 }
        );
        let second = ctx
            .slots
            .lock()
            .unwrap()
            .as_ref()
            .map(|s| s[0].read.clone());
        assert!(first.is_some());
        assert_eq!(first, second);
    }
}
