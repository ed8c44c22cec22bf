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
//! plain data ([`ProbeReport`]); the command line prints it. A figure that could not be measured
//! (too little free memory, pinning refused, no CPython) is a [`ProbeFigure`] that says why.
//!
//! Beside the probes, `figures` holds [`Stats`], [`ProbeFigure`] and the words that compare
//! figures, and `fork` the helpers that fork, exec, spawn and reap the children being timed.

mod figures;
mod fork;
pub mod fork_rss;
pub mod memory;
pub mod message;
pub mod spawn;
pub mod switch;

use serde::Serialize;

use crate::backend::processes::Processes;
use crate::cpython::Python;
use crate::error::{Error, Result};

pub use figures::{ProbeFigure, Stats};

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

crate::named::by_name!(ProbeKind, "probe", ProbeKind::ALL);

/// How to run the probes. The default: full repetitions and sizes, no CPython rows, and this
/// program as the worker of parlab's processes.
#[derive(Debug, Default)]
pub struct ProbeOptions {
    /// Fewer repetitions and smaller sizes: all probes in under 10 s.
    pub quick: bool,
    /// The CPython interpreters of the CPython rows (one set of rows each), each with whether
    /// the user named it (a failure is then bad input) rather than `all` finding it (a
    /// failure is then a note and its rows are left out).
    pub pythons: Vec<(Python, bool)>,
    /// How parlab worker processes are started (the `processes` backend's worker program).
    pub processes: Processes,
}

/// What one probe found.
#[derive(Debug, Clone, Serialize)]
pub struct ProbeReport {
    /// The probe.
    pub probe: ProbeKind,
    /// Heading.
    pub title: String,
    /// Figures.
    pub rows: Vec<ProbeFigure>,
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

/// Runs the seed script with `args` on every interpreter of `o`; returns each one's label
/// (`3.12.1`) and output. A failure of one the user named is bad input (exit 2); of one found
/// by looking, a note in `notes`, and it is left out. Ctrl-C or SIGTERM, or a limit met, is
/// no failure of the interpreter: it is the error as it is.
pub(crate) fn on_pythons(
    o: &ProbeOptions,
    args: &[String],
    notes: &mut Vec<String>,
) -> Result<Vec<(String, serde_json::Value)>> {
    let mut out = Vec::new();
    for (py, named) in &o.pythons {
        match py.run(args) {
            Ok(v) => out.push((py.version.clone(), v)),
            // Not the interpreter's doing: Ctrl-C (exit 130/143), a limit of this machine.
            Err(e) if e.interrupted_by().is_some() || e.is_limit() => return Err(e),
            Err(e) if *named => {
                return Err(Error::invalid(
                    "python",
                    py.program().display().to_string(),
                    format!("an interpreter that runs the probe to the end ({e})"),
                ));
            }
            Err(e) => notes.push(format!(
                "CPython {} ({}) failed and is left out: {e}",
                py.version,
                py.program().display()
            )),
        }
    }
    Ok(out)
}

/// Runs `probes` in order.
pub fn run(
    probes: &[ProbeKind],
    options: &ProbeOptions,
    progress: &mut dyn FnMut(ProbeKind),
) -> Result<Vec<ProbeReport>> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes_are_named_as_on_the_command_line() {
        crate::named::assert_names_round_trip(&ProbeKind::ALL, "fork", "fork-rss");
        assert_eq!("fork-rss".parse::<ProbeKind>().unwrap(), ProbeKind::ForkRss);
    }
}
