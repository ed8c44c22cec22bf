//! The machine's ceiling: what a perfectly parallel loop reaches at W workers right now.
//!
//! On a shared VM the host lends each vCPU only part of a core at times, so the same job takes
//! twice as long in some seconds as in others, and two vCPUs can run at different speeds. A
//! speedup means little without knowing what the hardware allowed at that moment. So before
//! a round the engine runs the count loop (no shared memory, no messages) for 15-20 ms on one
//! thread, then on W threads at once, each counting as fast as it can, then on one thread
//! again; the ceiling at W is the W threads' combined rate over the one thread's: the speedup a
//! parallel, perfectly balanced job could reach. With a neighbour taking half of one of two
//! cores it is about 1.5, although two equal halves of a job (a static split) end only when the
//! slower one does (1.0): the gap is the static split's, and a dynamic split can close it. A
//! backend's `vs_ceiling` is its speedup over the ceiling of the same round (the latest probe
//! before it): the share of what the machine allowed that it reached.
//!
//! The ceiling is what the CPUs allow, never more: a sample above the worker count or the CPU
//! count (beyond a 5% slack, [`CAP_SLACK`], within which it is held to that count) is taken
//! again, and dropped if it reads too high again ([`Probe::sample_with`]). The W threads are held
//! to distinct CPUs (round robin over the CPUs this process may use): unpinned, the OS may leave
//! two new threads on one CPU for longer than a 15-20 ms loop, and a probe beside a busy loop on
//! one CPU then read 0.92x where a dynamic split reached 1.24x. And the ceiling is taken at equal
//! CPU speed, as the rows it judges are: where the W threads counted an index in less CPU time
//! than the one thread did, their CPUs ran faster, and the ratio is divided by that much.
//!
//! The loops are sized so that probing costs about 6% of the rounds' time (see
//! [`Probe::fit`]): before every round when rounds are long, every few rounds when they are
//! short (shorter loops are at the mercy of the scheduler on a loaded machine); what the probes
//! cost is reported. Each CPU's relative speed is measured once at the start with the loop
//! pinned to that CPU ([`cpu_speeds`]).

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::kernels::Kernel;
use crate::limits;
use crate::span::Span;

/// Shortest loop a probe runs: below this, thread start-up weighs on the ratio, and on a loaded
/// machine a thread may not be scheduled at all within the loop.
const MIN_LOOP: Duration = Duration::from_millis(15);
/// Longest loop a probe runs: long enough to average over the host's scheduling.
const MAX_LOOP: Duration = Duration::from_millis(20);
/// Indices a thread counts between two looks at the clock: some 40 us of work.
const BLOCK: u64 = 100_000;
/// Share of a loop's time every counting thread must have spent on a CPU before its window
/// closes (see [`rate`]).
const MIN_CPU_SHARE: f64 = 0.25;
/// A loop's window closes after at most this many times its planned length, whatever ran.
const LATEST: u32 = 10;
/// Two one-thread loops whose rates differ by more than this ratio are taken for a burst on the
/// slower one (see [`Probe::sample_with`]).
const BURST: f64 = 0.8;
/// A sample this share above what the CPUs allow (the worker count, at most the CPU count) is
/// noise and is held to that count; further above, it is taken again, then dropped.
pub const CAP_SLACK: f64 = 0.05;
/// Times a sample that read above what the CPUs allow is taken again before it is dropped.
const RETAKES: usize = 2;
/// Share of a round the probe is sized to take: on a loaded machine its loops overrun (a
/// sleeping thread wakes late), so this leaves room under the 10% it must stay within.
pub const MAX_SHARE: f64 = 0.06;

/// The ceiling probe of one benchmark: the worker counts it measures, its loop's size, and
/// the probing time the rounds so far have earned.
#[derive(Debug, Clone)]
pub struct Probe {
    workers: Vec<usize>,
    /// CPUs this process may use: the W threads are held to them, and no ceiling exceeds them.
    cpus: Vec<usize>,
    per_loop: Duration,
    /// Seconds of probing earned ([`MAX_SHARE`] of every round) and not yet spent.
    earned: f64,
    /// The last sample, given again until the next probe is earned.
    last: Option<Vec<(usize, f64)>>,
    /// Time spent probing so far.
    spent: Duration,
}

impl Probe {
    /// A probe for these worker counts (those above 1), its loops at their shortest until the
    /// first round's time is known ([`Probe::fit`]).
    pub fn new(workers: &[usize]) -> Probe {
        let mut ws: Vec<usize> = workers.iter().copied().filter(|&w| w > 1).collect();
        ws.sort_unstable();
        ws.dedup();
        let mut cpus = allowed_cpus();
        if cpus.is_empty() {
            // No affinity to read: the CPU count bounds the ceiling, and no thread is pinned.
            cpus = (0..std::thread::available_parallelism().map_or(1, |n| n.get()))
                .map(|_| usize::MAX)
                .collect();
        }
        Probe {
            workers: ws,
            cpus,
            per_loop: MIN_LOOP,
            earned: 0.0,
            last: None,
            spent: Duration::ZERO,
        }
    }

    /// The worker counts measured.
    pub fn workers(&self) -> &[usize] {
        &self.workers
    }

    /// Loops a probe runs: the single thread twice, then one per worker count.
    fn loops(&self) -> f64 {
        2.0 + self.workers.len() as f64
    }

    /// After a round that took `round`: earns [`MAX_SHARE`] of it for probing, and sizes the
    /// loops to that share of one round (each loop between 15 and 20 ms; `round` zero, before
    /// any round ran, gives the shortest loops). Rounds too short for loops of 15 ms are probed
    /// not before every round but as often as what they earned pays for.
    pub fn fit(&mut self, round: Duration) {
        self.earned += round.as_secs_f64() * MAX_SHARE;
        self.per_loop = Duration::from_secs_f64(round.as_secs_f64() * MAX_SHARE / self.loops())
            .clamp(MIN_LOOP, MAX_LOOP);
    }

    /// True when the next call of [`Probe::sample`] measures rather than gives the last sample
    /// again: before the first round, and when the rounds since have earned a probe's time.
    pub fn due(&self) -> bool {
        self.last.is_none() || self.earned >= self.loops() * self.per_loop.as_secs_f64()
    }

    /// Time spent probing so far, in all the samples timed for real.
    pub fn spent(&self) -> Duration {
        self.spent
    }

    /// One sample of the ceiling at every worker count, timed for real when one is
    /// [due](Probe::due), else the last one again; with what it cost (zero for the last again).
    /// A counting thread the OS refuses to start is an error naming the limit, after the
    /// threads already counting have stopped.
    pub fn sample(&mut self) -> Result<(Vec<(usize, f64)>, Duration)> {
        if let Some(last) = self.last.as_ref().filter(|_| !self.due()) {
            return Ok((last.clone(), Duration::ZERO));
        }
        let t0 = Instant::now();
        let per_loop = self.per_loop;
        let cpus = self.cpus.clone();
        let mut failed = None;
        let ceilings = self.sample_with(&mut |w| {
            if failed.is_some() {
                return Loop::from(1.0);
            }
            rate(w, per_loop, &cpus).unwrap_or_else(|e| {
                failed = Some(e);
                Loop::from(1.0)
            })
        });
        if let Some(e) = failed {
            return Err(e);
        }
        let cost = t0.elapsed();
        self.earned = (self.earned - cost.as_secs_f64()).max(0.0);
        self.spent += cost;
        self.last = Some(ceilings.clone());
        Ok((ceilings, cost))
    }

    /// One sample of the ceiling at every worker count, from `rate(w)`: what `w` threads
    /// counted together ([`Loop`]; `rate(1)`: one thread alone, asked before and after the
    /// others). A worker count whose sample read above what the CPUs allow, every time it was
    /// taken, is left out.
    pub fn sample_with(&self, rate: &mut dyn FnMut(usize) -> Loop) -> Vec<(usize, f64)> {
        if self.workers.is_empty() {
            return Vec::new();
        }
        // The one-thread loop runs before and after the others. Their mean is the one
        // thread's rate while the others ran, when the machine drifted; but when one of the two
        // is far slower, a burst hit it alone and only the faster counts: a burst would make
        // the machine look more parallel than it is. (Taking the faster of two always would
        // pick the upward noise and set the ceiling some 5-10% low, under speedups that
        // genuinely reached it.)
        let before = rate(1);
        let together: Vec<(usize, Vec<Loop>)> = self
            .workers
            .iter()
            .map(|&w| {
                let mut tries = vec![rate(w)];
                while tries.len() <= RETAKES
                    && tries
                        .last()
                        .is_some_and(|l| l.per_s / before.per_s > self.cap(w))
                {
                    tries.push(rate(w));
                }
                (w, tries)
            })
            .collect();
        let after = rate(1);
        let (slow, fast) = if before.per_s <= after.per_s {
            (before, after)
        } else {
            (after, before)
        };
        let one = if slow.per_s >= BURST * fast.per_s {
            Loop {
                per_s: (before.per_s + after.per_s) / 2.0,
                cpu_per_index: before
                    .cpu_per_index
                    .zip(after.cpu_per_index)
                    .map(|(a, b)| (a + b) / 2.0),
            }
        } else {
            fast
        };
        together
            .into_iter()
            .filter_map(|(w, tries)| {
                let allowed = self.allowed(w);
                tries.iter().find_map(|l| {
                    let c = l.per_s / one.per_s * l.speed_factor(&one);
                    (c <= allowed * (1.0 + CAP_SLACK)).then(|| (w, c.min(allowed)))
                })
            })
            .collect()
    }

    /// What the CPUs allow `w` threads: `w`, at most the CPU count.
    fn allowed(&self, w: usize) -> f64 {
        w.min(self.cpus.len().max(1)) as f64
    }

    /// The highest clock ratio at `w` kept without a retake.
    fn cap(&self, w: usize) -> f64 {
        self.allowed(w) * (1.0 + CAP_SLACK)
    }
}

/// What one probe loop counted: its rate and, where the CPU clocks could be read, the CPU time
/// it spent per index.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Loop {
    /// Indices per second, all threads together.
    pub per_s: f64,
    /// CPU nanoseconds per index, all threads together.
    pub cpu_per_index: Option<f64>,
}

impl From<f64> for Loop {
    /// A loop of this rate whose CPU time is unknown.
    fn from(per_s: f64) -> Loop {
        Loop {
            per_s,
            cpu_per_index: None,
        }
    }
}

impl Loop {
    /// The factor that takes this loop's ratio over `one` to equal CPU speed: where this loop
    /// counted an index in less CPU time, its CPUs ran faster, and its ratio is divided by that
    /// much (never multiplied: more CPU time is overhead or a slower CPU, which look alike).
    fn speed_factor(&self, one: &Loop) -> f64 {
        match (self.cpu_per_index, one.cpu_per_index) {
            (Some(mine), Some(theirs)) if mine > 0.0 && theirs > 0.0 => (mine / theirs).min(1.0),
            _ => 1.0,
        }
    }
}

/// Indices per second that `w` threads count together for about `time`, each in blocks of
/// [`BLOCK`] until told to stop.
///
/// The window closes after `time`, but not before every thread has had a quarter of it on a CPU
/// (its own CPU clock, [`MIN_CPU_SHARE`]), and at the latest after [`LATEST`] times `time`. On
/// a loaded machine a thread may wait for a CPU for most of a 15 ms window: a one-thread loop
/// that hardly ran made the ceiling look hundreds of times the CPU count, a W-thread loop that
/// hardly ran made it look like zero. Waiting until each has run keeps the window a measure of
/// the rate the machine gives while all W count, which is what a job of W workers gets.
fn rate(w: usize, time: Duration, cpus: &[usize]) -> Result<Loop> {
    let stop = AtomicBool::new(false);
    let cpu_ns: Vec<AtomicU64> = (0..w).map(|_| AtomicU64::new(0)).collect();
    let enough = time.mul_f64(MIN_CPU_SHARE).as_nanos() as u64;
    let t0 = Instant::now();
    let counted: Vec<u64> = std::thread::scope(|scope| {
        let mut threads = Vec::with_capacity(w);
        for (i, used) in cpu_ns.iter().enumerate() {
            let stop = &stop;
            // W threads on distinct CPUs; one thread where the OS puts it.
            let cpu = (w > 1 && !cpus.is_empty())
                .then(|| cpus[i % cpus.len()])
                .filter(|&c| c != usize::MAX);
            let started = limits::spawn_scoped(scope, &format!("parlab-ceiling-{i}"), move || {
                let _pinned = cpu.and_then(pin);
                let start_cpu = thread_cpu_ns();
                // At least one block, even when the thread starts after the stop: a rate
                // is never zero.
                let mut n = 0;
                loop {
                    let block = Span {
                        start: n,
                        end: n + BLOCK,
                    };
                    n += Kernel::Count
                        .run(block)
                        .expect("count cannot fail")
                        .headline() as u64;
                    used.store(thread_cpu_ns().saturating_sub(start_cpu), Ordering::Relaxed);
                    if stop.load(Ordering::Relaxed) {
                        break n;
                    }
                }
            });
            match started {
                Ok(t) => threads.push(t),
                Err(e) => {
                    // The threads already counting stop before the scope waits for them.
                    stop.store(true, Ordering::Relaxed);
                    return Err(e);
                }
            }
        }
        std::thread::sleep(time);
        let latest = t0 + time * LATEST;
        while Instant::now() < latest && cpu_ns.iter().any(|u| u.load(Ordering::Relaxed) < enough) {
            std::thread::sleep(Duration::from_millis(1));
        }
        stop.store(true, Ordering::Relaxed);
        Ok(threads
            .into_iter()
            .map(|t| t.join().expect("a counting thread cannot panic"))
            .collect())
    })?;
    let wall = t0.elapsed().as_secs_f64();
    let total: u64 = counted.iter().sum();
    let cpu: Vec<u64> = cpu_ns.iter().map(|u| u.load(Ordering::Relaxed)).collect();
    // The CPU clock is readable when no thread reported the "cannot read" figure.
    let cpu_per_index = (!cpu.iter().any(|&c| c >= u64::MAX / 2))
        .then(|| cpu.iter().sum::<u64>() as f64 / total as f64)
        .filter(|c| c.is_finite() && *c > 0.0);
    Ok(Loop {
        per_s: total as f64 / wall,
        cpu_per_index,
    })
}

/// CPU time the calling thread has used, in nanoseconds; where the clock cannot be read, a
/// figure that already meets any share, so that the window closes on time as before.
fn thread_cpu_ns() -> u64 {
    match nix::time::clock_gettime(nix::time::ClockId::CLOCK_THREAD_CPUTIME_ID) {
        Ok(t) => t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64,
        Err(_) => u64::MAX,
    }
}

/// One CPU's speed relative to the fastest.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CpuSpeed {
    /// The CPU's number.
    pub cpu: usize,
    /// Its count-loop speed over the fastest CPU's (1.0 for the fastest).
    pub relative: f64,
}

/// Each CPU this process may run on, timed with the count loop pinned to it (the best of three
/// tries), relative to the fastest. Empty where the OS does not let a thread pin itself; an
/// error (naming the limit) where it refuses the thread that times them.
pub fn cpu_speeds() -> Result<Vec<CpuSpeed>> {
    Ok(cpu_times()?
        .map(|times| relative_speeds(&times))
        .unwrap_or_default())
}

/// Speeds from each CPU's best time: the fastest time over each.
pub fn relative_speeds(times: &[(usize, f64)]) -> Vec<CpuSpeed> {
    let best = times.iter().map(|t| t.1).fold(f64::INFINITY, f64::min);
    times
        .iter()
        .map(|&(cpu, t)| CpuSpeed {
            cpu,
            relative: best / t,
        })
        .collect()
}

/// CPUs slower than this share of the fastest make the machine's CPUs "unequal".
pub const UNEQUAL_BELOW: f64 = 0.85;

/// The CPUs this process may run on, in ascending order; empty where the OS does not say.
pub fn allowed_cpus() -> Vec<usize> {
    #[cfg(target_os = "linux")]
    {
        use nix::sched::{CpuSet, sched_getaffinity};
        use nix::unistd::Pid;
        if let Ok(allowed) = sched_getaffinity(Pid::from_raw(0)) {
            return (0..CpuSet::count())
                .filter(|&c| allowed.is_set(c).unwrap_or(false))
                .collect();
        }
    }
    Vec::new()
}

/// The calling thread held to one CPU; dropping it gives the thread back the CPUs it had.
/// Threads it starts meanwhile inherit the one CPU (Linux copies a thread's affinity to the
/// threads it creates), so a backend that starts its one worker thread runs where its caller
/// is held.
#[derive(Debug)]
pub struct Pinned {
    #[cfg(target_os = "linux")]
    before: nix::sched::CpuSet,
}

/// Holds the calling thread to `cpu` until the guard is dropped; `None` (and nothing changed)
/// where the OS does not allow it.
pub fn pin(cpu: usize) -> Option<Pinned> {
    #[cfg(target_os = "linux")]
    {
        use nix::sched::{CpuSet, sched_getaffinity, sched_setaffinity};
        use nix::unistd::Pid;
        let before = sched_getaffinity(Pid::from_raw(0)).ok()?;
        let mut one = CpuSet::new();
        one.set(cpu).ok()?;
        sched_setaffinity(Pid::from_raw(0), &one).ok()?;
        Some(Pinned { before })
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = cpu;
        None
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        {
            use nix::sched::sched_setaffinity;
            use nix::unistd::Pid;
            // The set was the thread's own a moment ago, so the OS accepts it back.
            let _ = sched_setaffinity(Pid::from_raw(0), &self.before);
        }
    }
}

fn cpu_times() -> Result<Option<Vec<(usize, f64)>>> {
    let cpus = allowed_cpus();
    if cpus.is_empty() {
        return Ok(None);
    }
    let n = 2_000_000;
    // Pinned in a thread of its own, so the caller's affinity is left as it was.
    let timer = limits::spawn("parlab-cpu-speeds", move || {
        let mut times = Vec::with_capacity(cpus.len());
        for &cpu in &cpus {
            let _pinned = pin(cpu)?;
            let best = (0..3)
                .map(|_| {
                    let t0 = Instant::now();
                    Kernel::Count
                        .run(Span { start: 0, end: n })
                        .expect("count cannot fail");
                    t0.elapsed().as_secs_f64()
                })
                .fold(f64::INFINITY, f64::min);
            times.push((cpu, best));
        }
        Some(times)
    })?;
    Ok(timer.join().ok().flatten())
}

#[cfg(test)]
mod tests;
