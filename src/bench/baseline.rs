//! Comparing a benchmark with a saved one (`bench --baseline OLD.json`) and the gate on it
//! (`--fail-if-slower PCT`).
//!
//! Cells are matched by kernel, range, split, backend and workers. A matched cell's change is
//! the ratio of this run's median wall time to the old one, with a 95% bootstrap interval that
//! resamples both runs' samples, so a change the noise of either run could give holds 1. The
//! gate fails a cell only when its whole interval lies above the allowed slowdown; an interval
//! that holds it is "maybe", which a re-run settles, not a failure.

use super::schema::{Cell, Comparison, Report, SCHEMA_VERSION, Slowdown};
use crate::backend::BackendKind;
use crate::error::{Error, Result};

use crate::span::Span;
use crate::stats::{self, Estimate, Side};

/// Bootstrap resamples of a change's interval.
const BOOTSTRAP_ROUNDS: usize = 2000;

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
    pub fn of(cell: &Cell) -> CellKey {
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

/// Reads a saved report: one line, as [`Error::Invalid`], when the file is missing, is not
/// JSON, or is not a report of this schema.
pub fn load(path: &str) -> Result<Report> {
    let bad = |allowed: String| Error::invalid("baseline", path, allowed);
    let text = std::fs::read_to_string(path).map_err(|e| {
        bad(format!(
            "cannot read it ({}); give a report written by bench --export-json",
            first_line(&e.to_string())
        ))
    })?;
    let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        bad(format!(
            "not JSON ({e}); give a report written by bench --export-json"
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
    serde_json::from_value(value).map_err(|e| {
        bad(format!(
            "not a complete schema {SCHEMA_VERSION} report ({e})"
        ))
    })
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

/// Refuses a baseline that shares no cell with the cells about to be measured (`keys`).
pub fn check_overlap(path: &str, old: &Report, keys: &[CellKey]) -> Result<()> {
    if old.cells.iter().any(|c| keys.contains(&CellKey::of(c))) {
        return Ok(());
    }
    let theirs: Vec<String> = old
        .cells
        .iter()
        .take(3)
        .map(|c| CellKey::of(c).label())
        .collect();
    Err(Error::invalid(
        "baseline",
        path,
        format!(
            "no cell in common with this benchmark (it holds {}{}); benchmark the same kernel, \
             range, split, backend and workers",
            if theirs.is_empty() {
                "no cells".to_string()
            } else {
                theirs.join(", ")
            },
            if old.cells.len() > 3 { ", ..." } else { "" }
        ),
    ))
}

/// Compares `new` with `old`: sets every matched cell's `baseline_change` and
/// `baseline_speedup`, and the report's `comparison`. `fail_if_slower` is a share (0.2).
pub fn annotate(new: &mut Report, old: &Report, file: &str, fail_if_slower: Option<f64>) {
    let limit = 1.0 + fail_if_slower.unwrap_or(0.0);
    let mut comparison = Comparison {
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
        .map(|k| k.label())
        .collect();
    new.comparison = Some(comparison);
}

/// This cell's median wall over the old one's, with a bootstrap interval over both samples.
pub fn change(then: &Cell, now: &Cell) -> Option<Estimate> {
    let walls = |c: &Cell| c.runs.iter().map(|r| r.wall_s).collect::<Vec<f64>>();
    let (old, new) = (walls(then), walls(now));
    if old.is_empty() || new.is_empty() || stats::median(&old) <= 0.0 {
        return None;
    }
    Some(stats::speedup(&new, &old, BOOTSTRAP_ROUNDS))
}

/// Why a slowdown is the machine's: its ceiling at the cell's workers now lies wholly below
/// the baseline's, and the change divided by the ceiling's fall no longer clears `limit`.
fn explained(then: &Cell, now: &Cell, change: &Estimate, limit: f64) -> Option<String> {
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

/// How the machine of `old` differs from that of `new`, one sentence each.
pub fn machine_differences(old: &Report, new: &Report) -> Vec<String> {
    let (a, b) = (&old.machine, &new.machine);
    let mut out = Vec::new();
    if a.cpu_model != b.cpu_model {
        out.push(format!(
            "CPU model: {} then, {} now",
            a.cpu_model, b.cpu_model
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
            old.parlab_version, new.parlab_version
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

/// `--fail-if-slower`: a percentage such as `20%` or `20` (percent either way), 0 to 1000.
pub fn parse_percentage(text: &str) -> Result<f64> {
    let digits = text.trim().strip_suffix('%').unwrap_or(text.trim());
    match digits.trim().parse::<f64>() {
        Ok(p) if (0.0..=1000.0).contains(&p) => Ok(p / 100.0),
        _ => Err(Error::invalid(
            "--fail-if-slower",
            text,
            "a percentage from 0 to 1000, such as 20% or 20",
        )),
    }
}

#[cfg(test)]
#[path = "baseline_tests.rs"]
pub(super) mod tests;
