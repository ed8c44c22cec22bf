//! Probes of what threads and processes really cost on this machine, beside CPython.
//!
//! The seed's first paragraph claims that a process is slower to create than a thread (it
//! copies the parent's data and address space), that a switch between threads is cheaper than
//! one between processes, and that processes need a way to pass results back. Each probe
//! measures one claim:
//!
//! | probe | what it measures |
//! |---|---|
//! | [`spawn`] | creating and reaping a thread, a forked process, fork+exec, posix_spawn, a parlab worker by each start method |
//! | [`switch`] | a context switch by pipe ping-pong, threads and processes, pinned and unpinned |
//! | [`fork_rss`] | fork as the parent's resident memory grows, with and without copy-on-write |
//! | [`message`] | messages per second between threads and between processes |
//! | [`memory`] | resident memory of an idle thread and of an idle worker process |
//!
//! Every probe is bounded in time and memory and reaps every child it starts. Probes return
//! plain data ([`Report`]); the command line prints it.

pub mod fork_rss;
pub mod memory;
pub mod message;
pub mod spawn;
pub mod switch;

use std::ffi::CString;
use std::fmt;
use std::str::FromStr;
use std::time::Instant;

use serde::Serialize;

use crate::backend::processes::Processes;
use crate::cpython::Python;
use crate::error::{Error, Result};

/// The probes, in the order `parlab probe` runs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProbeKind {
    /// Creation and reaping costs.
    Spawn,
    /// Context switches.
    Switch,
    /// Fork cost against parent memory.
    ForkRss,
    /// Message rates.
    Message,
    /// Memory per idle thread and process.
    Memory,
}

impl ProbeKind {
    /// Every probe.
    pub const ALL: [ProbeKind; 5] = [
        ProbeKind::Spawn,
        ProbeKind::Switch,
        ProbeKind::ForkRss,
        ProbeKind::Message,
        ProbeKind::Memory,
    ];

    /// The probe's name on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            ProbeKind::Spawn => "spawn",
            ProbeKind::Switch => "switch",
            ProbeKind::ForkRss => "fork-rss",
            ProbeKind::Message => "message",
            ProbeKind::Memory => "memory",
        }
    }
}

impl fmt::Display for ProbeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for ProbeKind {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self> {
        Error::by_name("probe", s, &ProbeKind::ALL, ProbeKind::name)
    }
}

/// How to run the probes.
#[derive(Debug)]
pub struct Options {
    /// Fewer repetitions and smaller sizes: all probes in under 10 s.
    pub quick: bool,
    /// CPython, for its rows, when one is available.
    pub python: Option<Python>,
    /// How parlab worker processes are started (the `processes` backend's worker program).
    pub processes: Processes,
}

/// Timings of repeated runs of one thing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stats {
    /// Median.
    pub median: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
    /// Runs.
    pub n: usize,
}

impl Stats {
    /// Stats of `values` (at least one).
    pub fn of(mut values: Vec<f64>) -> Stats {
        assert!(!values.is_empty(), "no measurement");
        values.sort_by(f64::total_cmp);
        Stats {
            median: crate::stats::median(&values),
            min: values[0],
            max: values[values.len() - 1],
            n: values.len(),
        }
    }

    /// One value.
    pub fn single(v: f64) -> Stats {
        Stats::of(vec![v])
    }
}

/// One measured figure.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// What was measured.
    pub what: String,
    /// Unit of the figures ("us", "ms", "msgs/s", "KiB").
    pub unit: &'static str,
    /// The figures, or why there are none.
    pub value: std::result::Result<Stats, String>,
}

impl Row {
    fn new(what: impl Into<String>, unit: &'static str, value: Stats) -> Row {
        Row {
            what: what.into(),
            unit,
            value: Ok(value),
        }
    }

    fn skipped(what: impl Into<String>, unit: &'static str, why: impl Into<String>) -> Row {
        Row {
            what: what.into(),
            unit,
            value: Err(why.into()),
        }
    }

    /// The median, if measured.
    pub fn median(&self) -> Option<f64> {
        self.value.as_ref().ok().map(|s| s.median)
    }
}

/// What one probe found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The probe.
    pub probe: ProbeKind,
    /// Heading.
    pub title: String,
    /// Figures.
    pub rows: Vec<Row>,
    /// Plain-words conclusions.
    pub conclusion: Vec<String>,
    /// For `fork-rss`: latency series against parent RSS, for a plot.
    pub series: Vec<Series>,
}

/// A line of a plot: y against x.
#[derive(Debug, Clone, Serialize)]
pub struct Series {
    /// Legend.
    pub label: String,
    /// Points (x, y).
    pub points: Vec<(f64, f64)>,
}

/// Runs `probes` in order.
pub fn run(
    probes: &[ProbeKind],
    options: &Options,
    progress: &mut dyn FnMut(ProbeKind),
) -> Result<Vec<Report>> {
    probes
        .iter()
        .map(|p| {
            progress(*p);
            match p {
                ProbeKind::Spawn => spawn::probe(options),
                ProbeKind::Switch => switch::probe(options),
                ProbeKind::ForkRss => fork_rss::probe(options),
                ProbeKind::Message => message::probe(options),
                ProbeKind::Memory => memory::probe(options),
            }
        })
        .collect()
}

/// Times `f` `reps` times (after one warm-up run), in the unit `scale` per second.
fn time_reps(reps: usize, scale: f64, mut f: impl FnMut() -> Result<()>) -> Result<Stats> {
    f()?;
    let mut xs = Vec::with_capacity(reps);
    for _ in 0..reps {
        let t0 = Instant::now();
        f()?;
        xs.push(t0.elapsed().as_secs_f64() * scale);
    }
    Ok(Stats::of(xs))
}

/// Microseconds per second.
const US: f64 = 1e6;
/// Milliseconds per second.
const MS: f64 = 1e3;

/// CPython's stats object `{median_s, min_s, max_s, n}` in `scale` units.
fn python_stats(v: &serde_json::Value, scale: f64) -> Option<Stats> {
    Some(Stats {
        median: v["median_s"].as_f64()? * scale,
        min: v["min_s"].as_f64()? * scale,
        max: v["max_s"].as_f64()? * scale,
        n: v["n"].as_u64()? as usize,
    })
}

/// Forks a child that runs `child`, which must only make async-signal-safe calls (raw reads
/// and writes, memory stores, execv) and must end with [`exit_now`]. Returns its PID; the
/// caller reaps it with [`reap`].
fn fork_child(child: impl FnOnce()) -> Result<nix::unistd::Pid> {
    use nix::unistd::{ForkResult, fork};
    // SAFETY: the child runs only `child`, which by contract makes async-signal-safe calls
    // and never returns, so no lock held by another thread of the parent is touched in it.
    match unsafe { fork() }.map_err(|e| Error::io("fork", e.into()))? {
        ForkResult::Child => {
            child();
            // A child that returns instead of ending itself ends here, never in parent code.
            exit_now(0)
        }
        ForkResult::Parent { child } => Ok(child),
    }
}

/// Waits for a child started by [`fork_child`]; an exit other than 0 is an error.
fn reap(pid: nix::unistd::Pid) -> Result<()> {
    use nix::sys::wait::{WaitStatus, waitpid};
    match waitpid(pid, None).map_err(|e| Error::io("waitpid", e.into()))? {
        WaitStatus::Exited(_, 0) => Ok(()),
        other => Err(Error::io(
            format!("probe child {pid}"),
            std::io::Error::other(format!("ended with {other:?}")),
        )),
    }
}

/// Forks a child that runs `child` and waits for it.
fn fork_wait(child: impl FnOnce()) -> Result<()> {
    reap(fork_child(child)?)
}

/// Ends a forked child at once, without running destructors or atexit handlers.
fn exit_now(code: i32) -> ! {
    // SAFETY: _exit is async-signal-safe and ends the process; nothing runs after it.
    unsafe { nix::libc::_exit(code) }
}

/// `/bin/true`, prepared before a fork so the child allocates nothing.
struct TrueProgram {
    path: CString,
}

impl TrueProgram {
    fn new() -> Self {
        TrueProgram {
            path: CString::new("/bin/true").expect("no NUL"),
        }
    }

    /// In a forked child: exec `/bin/true`, or exit 127.
    fn exec(&self) -> ! {
        let argv = [self.path.as_ptr(), std::ptr::null()];
        // SAFETY: path and argv are valid NUL-terminated C strings prepared before the fork;
        // execv is async-signal-safe, and on failure the child ends with _exit.
        unsafe {
            nix::libc::execv(self.path.as_ptr(), argv.as_ptr());
        }
        exit_now(127)
    }
}

/// Free memory the kernel says it can give without swapping, in bytes.
fn mem_available() -> Option<u64> {
    let info = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb: u64 = info
        .lines()
        .find_map(|l| l.strip_prefix("MemAvailable:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// A field of `/proc/<pid>/status` or `smaps_rollup`, in KiB.
fn proc_kib(path: &str, field: &str) -> Option<f64> {
    let text = std::fs::read_to_string(path).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix(field))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// How a figure reads in words: "1.5x" or "3.2x less".
fn times(a: f64, b: f64) -> String {
    if b <= 0.0 {
        return "-".into();
    }
    format!("{:.1}x", a / b)
}
