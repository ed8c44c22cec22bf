//! The benchmark report: what `parlab bench --export-json` writes and every export reads.
//!
//! These types are the JSON schema documented in `docs/bench-json.md`, field for field; they
//! live apart from the engine so that a change to how cells are run cannot reshape the file
//! by accident. Any incompatible change bumps [`SCHEMA_VERSION`].

use serde::{Deserialize, Serialize};

use super::machine::Machine;
use crate::backend::BackendKind;
use crate::measure::judge::{self, Bounds, Verdict};
use crate::span::Span;
use crate::stats::{Estimate, SampleSummary};

/// Version of the report's schema (docs/bench-json.md); bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 2;

/// One measured run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Run {
    /// Wall time, seconds.
    pub wall_s: f64,
    /// User CPU time of parlab and its reaped worker processes, seconds.
    pub user_s: f64,
    /// System CPU time, likewise.
    pub sys_s: f64,
    /// Peak resident memory of parlab during the run, KiB.
    pub peak_rss_kib: Option<u64>,
    /// Wall time of the baseline run paired with this one: it ran just before or just after,
    /// in the same round, so the two saw the same machine. `None` for a baseline run with no
    /// baseline run before it in its round.
    #[serde(default)]
    pub baseline_s: Option<f64>,
    /// CPU time (user and system) of that baseline run, seconds: with this run's, it says how
    /// fast the two runs' CPUs ran (equal CPU speed).
    #[serde(default)]
    pub baseline_cpu_s: Option<f64>,
    /// The machine's ceiling at this cell's worker count, measured just before the round or
    /// the latest before it when rounds are short (for more than one worker).
    #[serde(default)]
    pub ceiling: Option<f64>,
}

/// One cell of the matrix and what was measured in it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchCell {
    /// Kernel, as written on the command line.
    pub kernel: String,
    /// Range.
    pub range: Span,
    /// Split.
    pub split: String,
    /// Backend.
    pub backend: BackendKind,
    /// Workers.
    pub workers: usize,
    /// True for the sequential one-worker cell the others are compared with.
    pub baseline: bool,
    /// The sequential answer (headline number, as a string: it may exceed 2^53).
    pub expected: String,
    /// Measured runs that gave the right answer.
    pub runs: Vec<Run>,
    /// Wall-time figures over `runs`.
    pub wall: Option<SampleSummary>,
    /// Median user CPU time, seconds.
    pub user_s: Option<f64>,
    /// Median system CPU time, seconds.
    pub sys_s: Option<f64>,
    /// Highest peak resident memory of parlab over the runs, KiB.
    pub peak_rss_kib: Option<u64>,
    /// Speedup against the baseline: the median ratio of paired runs, with a 95% bootstrap
    /// interval over the pairs, at equal CPU speed where the CPU time is counted in full; 1 for
    /// the baseline cell; absent for a cell with no work.
    pub speedup: Option<Estimate>,
    /// The ratio of wall times alone, where it differs from `speedup` (equal CPU speed applied).
    #[serde(default)]
    pub speedup_by_clock: Option<Estimate>,
    /// The baseline cell only: its runs paired with each other (an A/A comparison), the noise
    /// every speedup carries.
    #[serde(default)]
    pub noise: Option<Estimate>,
    /// The judge's word for `speedup` (absent for the baseline and cells with no work).
    #[serde(default)]
    pub verdict: Option<crate::measure::Verdict>,
    /// Speedup divided by workers, with the speedup's interval.
    pub efficiency: Option<Estimate>,
    /// The machine's ceiling at this worker count over the rounds (median and 95% interval),
    /// for more than one worker.
    pub ceiling: Option<Estimate>,
    /// Speedup over the ceiling of the same round: the share of what the machine allowed that
    /// the cell reached (median and 95% interval over rounds).
    pub vs_ceiling: Option<Estimate>,
    /// Why the speedup is a measurement artefact rather than a finding (above the ceiling's
    /// interval, or above the number of CPUs), if it is one.
    pub artefact: Option<String>,
    /// Whether the speedup's interval is within `--precision` (`None`: no precision asked, or
    /// the baseline itself).
    pub within_precision: Option<bool>,
    /// The Karp-Flatt serial fraction `(1/S - 1/W) / (1 - 1/W)` of the speedup, with the
    /// interval its ends map to (for more than one worker).
    #[serde(default)]
    pub karp_flatt: Option<Estimate>,
    /// With `--baseline`: this cell's median wall over the same cell's in the baseline report,
    /// with a 95% bootstrap interval over both runs' samples (above 1: slower now).
    #[serde(default)]
    pub baseline_change: Option<Estimate>,
    /// With `--baseline`: the same cell's speedup in the baseline report.
    #[serde(default)]
    pub baseline_speedup: Option<Estimate>,
    /// Runs outside Tukey's fences (1.5 IQR beyond the quartiles).
    pub outliers: usize,
    /// Runs that gave a wrong answer.
    pub mismatches: usize,
    /// Errors of failed runs (wrong answers included), at most 5 kept.
    pub errors: Vec<String>,
}

impl BenchCell {
    /// "ok", "mismatch", "error" or "artefact" (right answers, but a speedup the machine
    /// could not have given).
    pub fn status(&self) -> &'static str {
        if self.mismatches > 0 {
            "mismatch"
        } else if !self.errors.is_empty() {
            "error"
        } else if self.artefact.is_some() {
            "artefact"
        } else {
            "ok"
        }
    }

    /// A short label: `threads x4, count 0..100000000`.
    pub fn label(&self) -> String {
        format!(
            "{} x{}, {} {}",
            self.backend, self.workers, self.kernel, self.range
        )
    }
}

/// The benchmark's settings, as recorded in the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Warm-up rounds.
    pub warmup: usize,
    /// Measured rounds asked for.
    pub runs: usize,
    /// `--min-time`, seconds.
    pub min_time_s: Option<f64>,
    /// `--timeout`, seconds.
    pub timeout_s: Option<f64>,
    /// How `processes` workers were started (`forkserver` or `spawn`), when that backend ran.
    #[serde(default)]
    pub start_method: Option<String>,
    /// The `gil` model's switch interval in seconds, when that backend ran.
    #[serde(default)]
    pub switch_interval_s: Option<f64>,
    /// The `gil-legacy` model's check interval, when that backend ran.
    #[serde(default)]
    pub check_interval: Option<u32>,
    /// `--precision`: the half-width of every speedup's 95% interval asked for, as a share of
    /// the speedup (0.05 = +-5%); rounds are added until it is met or `max_time_s` passes.
    #[serde(default)]
    pub precision: Option<f64>,
    /// `--max-time`: no round starts after this much time, in seconds.
    #[serde(default)]
    pub max_time_s: Option<f64>,
}

/// The machine's ceiling at one worker count, over every round.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CeilingAt {
    /// Workers.
    pub workers: usize,
    /// Median ceiling and its 95% interval.
    pub ceiling: Estimate,
    /// Lowest and highest sample: how far the machine moved during the benchmark.
    pub range: (f64, f64),
}

/// What the ceiling probes found and cost.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Ceilings {
    /// Per worker count above 1.
    pub at: Vec<CeilingAt>,
    /// Time the probes took, seconds.
    pub cost_s: f64,
    /// That time as a share of the benchmark's measuring time (probes included).
    pub cost_share: f64,
}

/// Everything a benchmark measured: the export schema (docs/bench-json.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BenchReport {
    /// [`SCHEMA_VERSION`].
    pub schema: u32,
    /// parlab's version.
    pub parlab_version: String,
    /// When the benchmark started, seconds since the Unix epoch.
    pub started_unix_s: f64,
    /// Measured rounds completed so far.
    pub rounds: usize,
    /// True once every round ran; false while running or after an interruption.
    pub complete: bool,
    /// The signal that stopped the benchmark, if one did.
    pub interrupted: Option<String>,
    /// The machine.
    pub machine: Machine,
    /// The GPU adapter used by `gpu` cells: name, type, graphics API and driver.
    #[serde(default)]
    pub gpu_adapter: Option<String>,
    /// The GPU of `gpu` cells in full: adapter, driver, API, the shape of its dispatches, and
    /// its set-up time, paid once before the rounds and in no run's time.
    #[serde(default)]
    pub gpu: Option<crate::backend::gpu::GpuInfo>,
    /// Settings.
    pub settings: Settings,
    /// The machine's ceiling, measured before the rounds (every few rounds when they are short).
    #[serde(default)]
    pub ceilings: Ceilings,
    /// With `--baseline`: how this run compares with the saved one.
    #[serde(default)]
    pub comparison: Option<BaselineComparison>,
    /// Cells, baselines first for each kernel and range.
    pub cells: Vec<BenchCell>,
}

impl BenchReport {
    /// True when every cell of a complete benchmark got every answer right.
    pub fn all_correct(&self) -> bool {
        self.cells
            .iter()
            .all(|c| c.mismatches == 0 && c.errors.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The field names of the table under the heading `## {section}` of docs/bench-json.md.
    fn documented(section: &str) -> BTreeSet<String> {
        let doc = include_str!("../../docs/bench-json.md");
        let heading = format!("## {section}\n");
        let start = doc.find(&heading).expect("section documented") + heading.len();
        let body = &doc[start..];
        let body = &body[..body.find("\n## ").unwrap_or(body.len())];
        body.lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .flat_map(|l| {
                let names = &l[..l.find(" |").unwrap()];
                names
                    .split(", ")
                    .map(|n| n.trim_matches('`').to_string())
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    fn keys(v: &serde_json::Value) -> BTreeSet<String> {
        v.as_object().unwrap().keys().cloned().collect()
    }

    #[test]
    fn the_report_has_exactly_the_documented_fields() {
        let report =
            crate::bench::run(&crate::bench::spec::sample(), &mut |_| {}, &mut |_| Ok(())).unwrap();
        let v = serde_json::to_value(&report).unwrap();
        assert_eq!(v["schema"], SCHEMA_VERSION);
        assert_eq!(keys(&v), documented("Top level"));
        assert_eq!(keys(&v["machine"]), documented("`machine`"));
        assert_eq!(keys(&v["settings"]), documented("`settings`"));
        assert_eq!(keys(&v["cells"][1]), documented("`cells[]`"));
        let run = &v["cells"][1]["runs"][0];
        assert_eq!(
            keys(run),
            [
                "baseline_cpu_s",
                "baseline_s",
                "ceiling",
                "peak_rss_kib",
                "sys_s",
                "user_s",
                "wall_s"
            ]
            .map(String::from)
            .into()
        );
        let back: BenchReport = serde_json::from_value(v).unwrap();
        assert_eq!(back, report);
    }
}

/// A cell that the gate fails or cannot clear.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slowdown {
    /// The cell, as [`CellKey::label`] writes it.
    pub cell: String,
    /// Its change: this run's median wall over the baseline's, with a 95% interval.
    pub change: Estimate,
    /// Set when the machine's ceiling at the cell's worker count fell enough since the baseline
    /// to account for the slowdown.
    pub explained: Option<String>,
}

impl Slowdown {
    /// `threads x2 on count 0..5e8: 1.92x slower (1.71-2.10)`, with the explanation if any.
    pub fn line(&self) -> String {
        let mut s = format!("{}: {}", self.cell, describe(&self.change));
        if let Some(e) = &self.explained {
            s.push_str(&format!("; {e}"));
        }
        s
    }
}

/// This run against a saved report: the `comparison` section of the JSON report.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct BaselineComparison {
    /// The baseline file as given on the command line.
    pub file: String,
    /// How the two machines differ (CPU model, CPU count, parlab version, ceilings).
    pub machine_differences: Vec<String>,
    /// Cells measured here only.
    pub only_here: Vec<String>,
    /// Cells of the baseline not measured here.
    pub only_in_baseline: Vec<String>,
    /// `--fail-if-slower`, as a share (0.2 for 20%).
    pub fail_if_slower: Option<f64>,
    /// Cells whose change interval lies wholly above `1 + fail_if_slower`.
    pub slower: Vec<Slowdown>,
    /// Cells whose change interval holds `1 + fail_if_slower`: maybe slower, maybe not.
    pub maybe: Vec<Slowdown>,
}

impl BaselineComparison {
    /// True when the gate was asked for and some cell failed it.
    pub fn failed(&self) -> bool {
        self.fail_if_slower.is_some() && !self.slower.is_empty()
    }
}

/// The change in words, from the judge's verdict on the speed ratio (the baseline's wall over
/// this run's, the change inverted): "slower: 1.92x (1.71-2.10) the baseline's wall time",
/// "faster: 1.10x (1.02-1.19) the baseline's speed", "no faster: 1.02x (0.99-1.04) the
/// baseline's wall time" (with the margin's qualifier when it decided), or "noise hides it:
/// ...".
pub fn describe(change: &Estimate) -> String {
    let speed = Estimate {
        value: 1.0 / change.value,
        low: 1.0 / change.high,
        high: 1.0 / change.low,
    };
    let wall = format!("{} the baseline's wall time", change.ratio());
    match judge::judge(&speed, Bounds::default()) {
        Verdict::Faster => format!("faster: {} the baseline's speed", speed.ratio()),
        Verdict::NoFaster => match judge::no_faster_because(&speed) {
            Some(why) => format!("no faster: {wall} ({why})"),
            None => format!("no faster: {wall}"),
        },
        verdict => format!("{}: {wall}", verdict.word()),
    }
}
