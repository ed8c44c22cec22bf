//! `--export-markdown`: the machine section and the table, for READMEs and issues.

use std::fmt::Write;

use super::export::Exporter;
use crate::bench::{BenchCell, BenchReport};
use crate::error::Result;
use crate::escape::controls;
use crate::units::seconds;

/// Markdown export.
#[derive(Debug, Default, Clone, Copy)]
pub struct Markdown;

/// The cells' table columns, shared with the HTML export.
pub const COLUMNS: [&str; 13] = [
    "kernel",
    "range",
    "backend",
    "workers",
    "median wall (± sd)",
    "speedup (95% CI)",
    "of ceiling",
    "efficiency",
    "CPU user / sys",
    "peak RSS",
    "serial fraction (Karp-Flatt)",
    "wall vs baseline",
    "status",
];

/// The [`COLUMNS`] with something to show in report `r`: a column whose every cell is "-" is
/// left out, and "wall vs baseline" without `--baseline`. Indices into [`COLUMNS`], in order.
pub fn shown_columns(r: &BenchReport) -> Vec<usize> {
    let rows: Vec<[String; 13]> = r.cells.iter().map(cells_of).collect();
    (0..COLUMNS.len())
        .filter(|&i| match COLUMNS[i] {
            "wall vs baseline" => r.comparison.is_some(),
            // The job's columns and the status always show, even for a benchmark of no cell.
            "kernel" | "range" | "backend" | "workers" | "status" => true,
            _ => rows.iter().any(|row| row[i] != "-"),
        })
        .collect()
}

/// A cell's table row, as plain strings.
pub fn cells_of(c: &BenchCell) -> [String; 13] {
    let wall = c.wall.map_or("-".into(), |w| {
        format!("{} (± {})", seconds(w.median), seconds(w.stddev))
    });
    let speedup = match (c.baseline, c.speedup) {
        (true, Some(_)) => "1.00x (baseline)".to_string(),
        (_, Some(s)) => s.ratio(),
        (_, None) => "-".into(),
    };
    let cpu = match (c.user_s, c.sys_s) {
        (Some(u), Some(s)) => format!("{} / {}", seconds(u), seconds(s)),
        _ => "-".into(),
    };
    let rss = c
        .peak_rss_kib
        .map_or("-".into(), |p| format!("{:.1} MiB", p as f64 / 1024.0));
    let mut status = c.status().to_string();
    if c.outliers > 0 {
        status.push_str(&format!(
            ", {} outlier{}",
            c.outliers,
            if c.outliers == 1 { "" } else { "s" }
        ));
    }
    if c.baseline {
        status.push_str(", baseline");
    } else if let Some(v) = c.verdict {
        status.push_str(&format!(", {}", v.word()));
    }
    [
        c.kernel.clone(),
        c.range.to_string(),
        c.backend.name().to_string(),
        c.workers.to_string(),
        wall,
        speedup,
        c.vs_ceiling
            .map_or("-".into(), |v| v.scaled(100.0).figure(0, "%")),
        c.efficiency
            .map_or("-".into(), |e| e.scaled(100.0).figure(0, "%")),
        cpu,
        rss,
        c.karp_flatt.map_or("-".into(), |e| e.figure(3, "")),
        c.baseline_change.map_or("-".into(), |e| e.ratio()),
        status,
    ]
}

/// With `--baseline`: what the run is compared with and how the machines differ, shown before
/// the table; empty without a baseline.
pub fn comparison_lines(r: &BenchReport) -> Vec<String> {
    let Some(c) = &r.comparison else {
        return Vec::new();
    };
    let mut lines = vec![format!(
        "Compared with {}: wall vs baseline is this run's median wall over the baseline's (above \
         1: slower now), with a 95% bootstrap interval over both runs",
        controls(&c.file)
    )];
    for d in &c.machine_differences {
        lines.push(format!("The machines differ: {d}"));
    }
    if c.machine_differences.is_empty() {
        lines.push(
            "The machines do not differ in CPU model, CPU count, parlab version or ceiling".into(),
        );
    }
    lines
}

/// What the figures say beyond the table: the cells on one side only and the gate's verdicts
/// with `--baseline`, how the serial fraction moves with the workers, and the break-even. One
/// paragraph per line; none when there is nothing to say.
pub fn findings(r: &BenchReport) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(c) = &r.comparison {
        if !c.only_here.is_empty() {
            lines.push(format!("Not in the baseline: {}.", c.only_here.join("; ")));
        }
        if !c.only_in_baseline.is_empty() {
            lines.push(format!(
                "In the baseline only: {}.",
                c.only_in_baseline.join("; ")
            ));
        }
        if let Some(limit) = c.fail_if_slower {
            let pct = limit * 100.0;
            for s in &c.slower {
                lines.push(format!("Slower by more than {pct:.0}%: {}.", s.line()));
            }
            for s in &c.maybe {
                lines.push(format!(
                    "Maybe slower by more than {pct:.0}% (the interval holds it): {}.",
                    s.line()
                ));
            }
            if c.slower.is_empty() && c.maybe.is_empty() {
                lines.push(format!("No cell slower by more than {pct:.0}%."));
            }
        }
    }
    for c in r.cells.iter().filter(|c| c.baseline) {
        if let Some(n) = c.noise {
            lines.push(format!(
                "The baseline ({} {}) against itself, run beside run: {}; the noise every speedup \
                 of its cells carries.",
                c.kernel,
                c.range,
                n.ratio()
            ));
        }
    }
    lines.extend(crate::bench::karp_flatt::trends(r));
    lines.extend(crate::bench::break_even::sentences(r));
    lines
}

/// The machine section as lines of text.
pub fn machine_lines(r: &BenchReport) -> Vec<String> {
    let m = &r.machine;
    let mut lines = vec![
        format!(
            "CPU: {}, {} available",
            controls(&m.cpu_model),
            crate::units::count(m.available_parallelism as u64, "thread")
        ),
        format!(
            "OS: {}; parlab {}",
            controls(&m.os),
            controls(&r.parlab_version)
        ),
        format!(
            "Load average: {:.2} {:.2} {:.2} before, {:.2} {:.2} {:.2} after",
            m.load_before[0],
            m.load_before[1],
            m.load_before[2],
            m.load_after[0],
            m.load_after[1],
            m.load_after[2]
        ),
        format!(
            "Runs: {} warm-up and {} measured rounds, interleaved across cells{}{}",
            r.settings.warmup,
            r.rounds,
            r.settings
                .timeout_s
                .map_or(String::new(), |t| format!("; timeout {t} s per run")),
            if r.complete { "" } else { " (incomplete)" }
        ),
    ];
    let settings = [
        r.settings
            .start_method
            .as_ref()
            .map(|m| format!("processes started by {m}")),
        r.settings.switch_interval_s.map(|s| {
            let us = (s * 1e6).round();
            if us >= 1000.0 && us % 1000.0 == 0.0 {
                format!("gil switch interval {} ms", us / 1000.0)
            } else {
                format!("gil switch interval {us} us")
            }
        }),
        r.settings
            .check_interval
            .map(|n| format!("gil-legacy check interval {n}")),
    ];
    let settings: Vec<String> = settings.into_iter().flatten().collect();
    if !settings.is_empty() {
        lines.push(format!("Backend settings: {}", settings.join("; ")));
    }
    if let Some(g) = &r.gpu_adapter {
        lines.push(format!("GPU adapter: {}", controls(g)));
    }
    if let Some(g) = &r.gpu {
        lines.push(format!("GPU set-up: {}; in no run's time", g.setup()));
        lines.push(format!("GPU dispatches: {}", g.grid()));
    }
    if let Some(w) = &m.busy_warning {
        lines.push(format!("Warning: {w}"));
    }
    if let Some(i) = &r.interrupted {
        lines.push(format!("Stopped early: {i}"));
    }
    lines
}

impl Exporter for Markdown {
    fn name(&self) -> &'static str {
        "markdown"
    }

    fn render(&self, report: &BenchReport) -> Result<Vec<u8>> {
        let mut s = String::from("# parlab bench\n\n");
        for line in machine_lines(report)
            .into_iter()
            .chain(comparison_lines(report))
        {
            let _ = writeln!(s, "- {line}");
        }
        s.push('\n');
        let _ = writeln!(s, "| {} |", COLUMNS.join(" | "));
        let _ = writeln!(s, "|{}", "---|".repeat(COLUMNS.len()));
        for c in &report.cells {
            let _ = writeln!(s, "| {} |", cells_of(c).join(" | "));
        }
        for line in findings(report) {
            let _ = writeln!(s, "\n{line}");
        }
        s.push_str("\nSpeedup is against the sequential backend with one worker on the same kernel and range; the interval is a 95% percentile bootstrap of the ratio of medians.\n");
        Ok(s.into_bytes())
    }
}
