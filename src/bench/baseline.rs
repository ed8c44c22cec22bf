//! Comparing a benchmark with a saved one (`bench --baseline OLD.json`) and the gate on it
//! (`--fail-if-slower PCT`).
//!
//! Cells are matched by kernel, range, split, backend and workers. A matched cell's change is
//! the ratio of this run's median wall time to the old one, with a 95% bootstrap interval that
//! resamples both runs' samples, so a change the noise of either run could give holds 1. The
//! gate fails a cell only when its whole interval lies above the allowed slowdown; an interval
//! that holds it is "maybe", which a re-run settles, not a failure.

use std::path::Path;

use super::schema::{BaselineComparison, BenchCell, BenchReport, SCHEMA_VERSION, Slowdown};
use crate::backend::BackendKind;
use crate::error::{Error, Result};
use crate::escape::controls;
use crate::input::Unread;
use crate::measure::BOOTSTRAP_ROUNDS;
use crate::span::Span;
use crate::stats::{self, Estimate, Side};
use crate::units::{Bare, parse_percentage};

/// What identifies a cell across reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellKey {
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
}

impl CellKey {
    /// The key of `cell`.
    pub fn of(cell: &BenchCell) -> CellKey {
        CellKey {
            kernel: cell.kernel.clone(),
            range: cell.range,
            split: cell.split.clone(),
            backend: cell.backend,
            workers: cell.workers,
        }
    }

    /// `threads x2 on count 0..500000000` (with the split when it is not `static`).
    pub fn label(&self) -> String {
        let split = if self.split == "static" {
            String::new()
        } else {
            format!(", {}", self.split)
        };
        format!(
            "{} x{} on {} {}{split}",
            self.backend, self.workers, self.kernel, self.range
        )
    }
}

/// The most bytes a baseline may hold: far more than any report bench writes, and a bound on
/// what a path such as `/dev/zero` can make parlab read.
pub const MAX_BASELINE_BYTES: usize = 64 << 20;

/// The shortest wall time a run can have (the clock's resolution): a baseline run below it,
/// zero or negative, is no measurement and would turn every change into infinity.
const MIN_WALL_S: f64 = 1e-9;

/// The longest (about 31 years), and the largest ratio of times a report can hold: beyond
/// them a change would round to nothing and a figure fill a screen.
const MAX_FIGURE: f64 = 1e9;

/// Reads a saved report: one line, as [`Error::Invalid`], when the file is missing, not a
/// regular file or stream, larger than [`MAX_BASELINE_BYTES`], not JSON, not a report of this
/// schema, or holds a figure no benchmark measures. A FIFO waits for its writer; Ctrl-C or
/// SIGTERM ends the wait (and the read) as [`Error::Interrupted`].
pub fn load(path: &str) -> Result<BenchReport> {
    let bad = |allowed: String| Error::invalid("baseline", path, allowed);
    let bytes =
        crate::input::read_bounded(Path::new(path), MAX_BASELINE_BYTES).map_err(
            |why| match why {
                Unread::Io(e) => bad(format!(
                    "cannot read it ({}); give a report written by bench --export-json",
                    first_line(&e.to_string())
                )),
                Unread::TooLarge(limit) => bad(format!(
                    "larger than {} MiB, more than any report bench writes; give a report written \
                 by bench --export-json",
                    limit >> 20
                )),
                Unread::Stopped(signal) => crate::interrupt::error(signal),
            },
        )?;
    parse(path, &bytes)
}

/// Reads the report `bytes`, the content of the file `path`: what [`load`] does once the
/// file is read. Any bytes give a report or one [`Error::Invalid`], never a panic.
pub fn parse(path: &str, bytes: &[u8]) -> Result<BenchReport> {
    let bad = |allowed: String| Error::invalid("baseline", path, allowed);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        bad(format!(
            "not JSON (not UTF-8 text: {e}); give a report written by bench --export-json"
        ))
    })?;
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        bad(format!(
            "not JSON ({}); give a report written by bench --export-json",
            controls(&e.to_string())
        ))
    })?;
    match value.get("schema").and_then(|s| s.as_u64()) {
        Some(s) if s == u64::from(SCHEMA_VERSION) => {}
        Some(s) => {
            return Err(bad(format!(
                "a report of schema {s}; this parlab compares with schema {SCHEMA_VERSION} only"
            )));
        }
        None => {
            return Err(bad(
                "JSON but not a parlab bench report (no \"schema\"); give a report written by \
                 bench --export-json"
                    .into(),
            ));
        }
    }
    let report: BenchReport = serde_json::from_value(value).map_err(|e| {
        bad(format!(
            "not a complete schema {SCHEMA_VERSION} report ({})",
            controls(&e.to_string())
        ))
    })?;
    check_figures(&report).map_err(|why| {
        bad(format!(
            "{why}; no benchmark measures that: give a report written by bench --export-json"
        ))
    })?;
    Ok(report)
}

/// The first figure of `report` that no benchmark could have measured, as "where: what", among
/// those a comparison reads: every run's times, the speedups and ceilings, and a cell of a
/// complete report with neither runs nor an error to say why. A figure is "from 1 ns" or
/// "above zero" and at most [`MAX_FIGURE`].
fn check_figures(report: &BenchReport) -> std::result::Result<(), String> {
    let wall = |v: f64| (MIN_WALL_S..=MAX_FIGURE).contains(&v);
    let cpu = |v: f64| (0.0..=MAX_FIGURE).contains(&v);
    let ratio = |v: f64| v > 0.0 && v <= MAX_FIGURE;
    for (i, cell) in report.cells.iter().enumerate() {
        let at = |field: String, value: f64, rule: &str| {
            format!(
                "cells[{i}] ({}): {field} is {}, {rule}",
                controls(&CellKey::of(cell).label()),
                shown(value)
            )
        };
        if cell.runs.is_empty() && report.complete && cell.errors.is_empty() && cell.mismatches == 0
        {
            return Err(format!(
                "cells[{i}] ({}): runs is empty in a complete report, and the cell has no error \
                 to say why",
                controls(&CellKey::of(cell).label())
            ));
        }
        for (j, run) in cell.runs.iter().enumerate() {
            let longer = "and a run takes from 1 ns to 1e9 s";
            if !wall(run.wall_s) {
                return Err(at(format!("runs[{j}].wall_s"), run.wall_s, longer));
            }
            if let Some(b) = run.baseline_s.filter(|b| !wall(*b)) {
                return Err(at(format!("runs[{j}].baseline_s"), b, longer));
            }
            for (name, v) in [
                ("user_s", Some(run.user_s)),
                ("sys_s", Some(run.sys_s)),
                ("baseline_cpu_s", run.baseline_cpu_s),
            ] {
                if let Some(v) = v.filter(|v| !cpu(*v)) {
                    return Err(at(
                        format!("runs[{j}].{name}"),
                        v,
                        "and CPU time is from 0 to 1e9 s",
                    ));
                }
            }
            if let Some(c) = run.ceiling.filter(|c| !ratio(*c)) {
                return Err(at(
                    format!("runs[{j}].ceiling"),
                    c,
                    "and a ceiling is above zero and at most 1e9",
                ));
            }
        }
        for (name, e) in [("speedup", cell.speedup), ("ceiling", cell.ceiling)] {
            let Some(e) = e else { continue };
            for (end, v) in [("value", e.value), ("low", e.low), ("high", e.high)] {
                if !ratio(v) {
                    return Err(at(
                        format!("{name}.{end}"),
                        v,
                        "and a ratio of times is above zero and at most 1e9",
                    ));
                }
            }
        }
    }
    for (k, c) in report.ceilings.at.iter().enumerate() {
        for (end, v) in [
            ("value", c.ceiling.value),
            ("low", c.ceiling.low),
            ("high", c.ceiling.high),
        ] {
            if !ratio(v) {
                return Err(format!(
                    "ceilings.at[{k}].ceiling.{end} is {}, and a ratio of times is above zero \
                     and at most 1e9",
                    shown(v)
                ));
            }
        }
    }
    Ok(())
}

/// A figure as it stands in the file, short: `0`, `-1.5`, `5e-324`.
fn shown(v: f64) -> String {
    if v == 0.0 || (1e-3..1e9).contains(&v.abs()) {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// Refuses a baseline that shares no cell with the cells about to be measured (`keys`), or
/// whose cells in common have no measured run: a comparison that could compare nothing.
pub fn check_overlap(path: &str, old: &BenchReport, keys: &[CellKey]) -> Result<()> {
    let common: Vec<&BenchCell> = old
        .cells
        .iter()
        .filter(|c| keys.contains(&CellKey::of(c)))
        .collect();
    if common.iter().any(|c| !c.runs.is_empty()) {
        return Ok(());
    }
    let listed = |cells: &[&BenchCell]| {
        let mut text: Vec<String> = cells
            .iter()
            .take(3)
            .map(|c| controls(&CellKey::of(c).label()).into_owned())
            .collect();
        if cells.len() > 3 {
            text.push("...".into());
        }
        text.join(", ")
    };
    if !common.is_empty() {
        return Err(Error::invalid(
            "baseline",
            path,
            format!(
                "its cells in common with this benchmark ({}) have no measured run to compare \
                 with; give a report that measured them",
                listed(&common)
            ),
        ));
    }
    let theirs: Vec<&BenchCell> = old.cells.iter().collect();
    Err(Error::invalid(
        "baseline",
        path,
        format!(
            "no cell in common with this benchmark (it holds {}); benchmark the same kernel, \
             range, split, backend and workers",
            if theirs.is_empty() {
                "no cells".to_string()
            } else {
                listed(&theirs)
            },
        ),
    ))
}

/// Compares `new` with `old`: sets every matched cell's `baseline_change` and
/// `baseline_speedup`, and the report's `comparison`. `fail_if_slower` is a share (0.2).
pub fn annotate(new: &mut BenchReport, old: &BenchReport, file: &str, fail_if_slower: Option<f64>) {
    let limit = 1.0 + fail_if_slower.unwrap_or(0.0);
    let mut comparison = BaselineComparison {
        file: file.to_string(),
        machine_differences: machine_differences(old, new),
        fail_if_slower,
        ..Default::default()
    };
    for cell in new.cells.iter_mut() {
        let key = CellKey::of(cell);
        let Some(then) = old.cells.iter().find(|c| CellKey::of(c) == key) else {
            comparison.only_here.push(key.label());
            continue;
        };
        cell.baseline_speedup = then.speedup;
        cell.baseline_change = change(then, cell);
        let Some(change) = cell.baseline_change else {
            continue;
        };
        if fail_if_slower.is_none() || cell.status() == "mismatch" || cell.status() == "error" {
            continue;
        }
        let slowdown = || Slowdown {
            cell: key.label(),
            change,
            explained: explained(then, cell, &change, limit),
        };
        match change.side_of(limit) {
            Side::Above => comparison.slower.push(slowdown()),
            Side::Holds => comparison.maybe.push(slowdown()),
            Side::Below => {}
        }
    }
    comparison.only_in_baseline = old
        .cells
        .iter()
        .map(CellKey::of)
        .filter(|k| !new.cells.iter().any(|c| CellKey::of(c) == *k))
        .map(|k| controls(&k.label()).into_owned())
        .collect();
    new.comparison = Some(comparison);
}

/// This cell's median wall over the old one's, with a bootstrap interval over both samples.
pub fn change(then: &BenchCell, now: &BenchCell) -> Option<Estimate> {
    let walls = |c: &BenchCell| c.runs.iter().map(|r| r.wall_s).collect::<Vec<f64>>();
    let (old, new) = (walls(then), walls(now));
    if old.is_empty() || new.is_empty() || stats::median(&old) <= 0.0 {
        return None;
    }
    Some(stats::speedup(&new, &old, BOOTSTRAP_ROUNDS))
}

/// Why a slowdown is the machine's: its ceiling at the cell's workers now lies wholly below
/// the baseline's, and the change divided by the ceiling's fall no longer clears `limit`.
fn explained(then: &BenchCell, now: &BenchCell, change: &Estimate, limit: f64) -> Option<String> {
    let (old, new) = (then.ceiling?, now.ceiling?);
    if new.high >= old.low || new.value <= 0.0 {
        return None;
    }
    let fall = old.value / new.value;
    (change.scaled(1.0 / fall).side_of(limit) != Side::Above).then(|| {
        format!(
            "explained by the machine's lower ceiling ({:.2}x then, {:.2}x now)",
            old.value, new.value
        )
    })
}

/// How the machine of `old` differs from that of `new`, one sentence each; the text either
/// file holds is shown with its control characters escaped.
pub fn machine_differences(old: &BenchReport, new: &BenchReport) -> Vec<String> {
    let (a, b) = (&old.machine, &new.machine);
    let mut out = Vec::new();
    if a.cpu_model != b.cpu_model {
        out.push(format!(
            "CPU model: {} then, {} now",
            controls(&a.cpu_model),
            controls(&b.cpu_model)
        ));
    }
    if a.available_parallelism != b.available_parallelism {
        out.push(format!(
            "CPUs: {} then, {} now",
            a.available_parallelism, b.available_parallelism
        ));
    }
    if old.parlab_version != new.parlab_version {
        out.push(format!(
            "parlab version: {} then, {} now",
            controls(&old.parlab_version),
            controls(&new.parlab_version)
        ));
    }
    for now in &new.ceilings.at {
        let Some(then) = old.ceilings.at.iter().find(|c| c.workers == now.workers) else {
            continue;
        };
        let (t, n) = (then.ceiling, now.ceiling);
        if n.side_of(t.value) != Side::Holds && t.side_of(n.value) != Side::Holds {
            out.push(format!(
                "ceiling at {} workers: {} then, {} now",
                now.workers,
                t.ratio(),
                n.ratio()
            ));
        }
    }
    out
}

/// `--fail-if-slower`: a percentage such as `20%` or `20` (percent either way), 0 to 1000, as
/// a share (0.2 for 20%).
pub fn parse_fail_if_slower(text: &str) -> Result<f64> {
    parse_percentage(
        "--fail-if-slower",
        text,
        Bare::Percent,
        0.0..=10.0,
        "a percentage from 0 to 1000, such as 20% or 20",
    )
}

#[cfg(test)]
#[path = "baseline_tests.rs"]
pub(super) mod tests;
