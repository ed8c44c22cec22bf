//! `--export-csv`: one row per cell, for spreadsheets and scripts.

use serde::Serialize;

use super::export::Exporter;
use crate::bench::{BenchCell, BenchReport};
use crate::error::{Error, Result};

/// CSV export.
#[derive(Debug, Default, Clone, Copy)]
pub struct Csv;

#[derive(Serialize)]
struct CsvRow<'a> {
    kernel: &'a str,
    range_start: u64,
    range_end: u64,
    split: &'a str,
    backend: &'a str,
    workers: usize,
    baseline: bool,
    runs: usize,
    wall_median_s: Option<f64>,
    wall_mean_s: Option<f64>,
    wall_stddev_s: Option<f64>,
    wall_min_s: Option<f64>,
    wall_max_s: Option<f64>,
    user_s: Option<f64>,
    sys_s: Option<f64>,
    peak_rss_kib: Option<u64>,
    speedup: Option<f64>,
    speedup_ci_low: Option<f64>,
    speedup_ci_high: Option<f64>,
    efficiency: Option<f64>,
    ceiling: Option<f64>,
    ceiling_ci_low: Option<f64>,
    ceiling_ci_high: Option<f64>,
    vs_ceiling: Option<f64>,
    vs_ceiling_ci_low: Option<f64>,
    vs_ceiling_ci_high: Option<f64>,
    artefact: Option<&'a str>,
    karp_flatt: Option<f64>,
    karp_flatt_ci_low: Option<f64>,
    karp_flatt_ci_high: Option<f64>,
    baseline_change: Option<f64>,
    baseline_change_ci_low: Option<f64>,
    baseline_change_ci_high: Option<f64>,
    outliers: usize,
    mismatches: usize,
    status: &'a str,
}

impl<'a> From<&'a BenchCell> for CsvRow<'a> {
    fn from(c: &'a BenchCell) -> Self {
        CsvRow {
            kernel: &c.kernel,
            range_start: c.range.start,
            range_end: c.range.end,
            split: &c.split,
            backend: c.backend.name(),
            workers: c.workers,
            baseline: c.baseline,
            runs: c.runs.len(),
            wall_median_s: c.wall.map(|w| w.median),
            wall_mean_s: c.wall.map(|w| w.mean),
            wall_stddev_s: c.wall.map(|w| w.stddev),
            wall_min_s: c.wall.map(|w| w.min),
            wall_max_s: c.wall.map(|w| w.max),
            user_s: c.user_s,
            sys_s: c.sys_s,
            peak_rss_kib: c.peak_rss_kib,
            speedup: c.speedup.map(|s| s.value),
            speedup_ci_low: c.speedup.map(|s| s.low),
            speedup_ci_high: c.speedup.map(|s| s.high),
            efficiency: c.efficiency.map(|e| e.value),
            ceiling: c.ceiling.map(|e| e.value),
            ceiling_ci_low: c.ceiling.map(|e| e.low),
            ceiling_ci_high: c.ceiling.map(|e| e.high),
            vs_ceiling: c.vs_ceiling.map(|e| e.value),
            vs_ceiling_ci_low: c.vs_ceiling.map(|e| e.low),
            vs_ceiling_ci_high: c.vs_ceiling.map(|e| e.high),
            artefact: c.artefact.as_deref(),
            karp_flatt: c.karp_flatt.map(|e| e.value),
            karp_flatt_ci_low: c.karp_flatt.map(|e| e.low),
            karp_flatt_ci_high: c.karp_flatt.map(|e| e.high),
            baseline_change: c.baseline_change.map(|e| e.value),
            baseline_change_ci_low: c.baseline_change.map(|e| e.low),
            baseline_change_ci_high: c.baseline_change.map(|e| e.high),
            outliers: c.outliers,
            mismatches: c.mismatches,
            status: c.status(),
        }
    }
}

impl Exporter for Csv {
    fn name(&self) -> &'static str {
        "csv"
    }

    fn render(&self, report: &BenchReport) -> Result<Vec<u8>> {
        let fail = |e: csv::Error| Error::io("rendering CSV", std::io::Error::other(e));
        let mut w = csv::Writer::from_writer(Vec::new());
        for cell in &report.cells {
            w.serialize(CsvRow::from(cell)).map_err(fail)?;
        }
        w.into_inner()
            .map_err(|e| Error::io("rendering CSV", std::io::Error::other(e.to_string())))
    }
}
