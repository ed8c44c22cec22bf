//! `--plot FILE.svg`: speedup against workers, one line per backend (and per kernel and range
//! when there are several), the ideal line, and 95% confidence bars; with `--baseline`, each
//! backend's line in the baseline report too, dashed.

use plotters::prelude::*;

use super::export::Exporter;
use super::plot::{COLORS, draw_legend, legend_dashed, legend_line, svg_document, titled};
use crate::backend::BackendKind;
use crate::bench::{BenchCell, BenchReport, Estimate};
use crate::error::Result;

/// The speedup plot.
#[derive(Debug, Default, Clone, Copy)]
pub struct SpeedupPlot;

/// The ideal line's dashes: pixels on, pixels off.
const IDEAL: (i32, i32) = (6, 4);
/// The ceiling's: short, so that it reads as dotted.
const CEILING: (i32, i32) = (3, 3);
/// A backend's line in the baseline report.
const BASELINE: (i32, i32) = (8, 5);

/// A point of a line: workers, speedup, and the interval's low and high ends.
type Point = (f64, f64, f64, f64);

/// The plot's lines: label and points, of the speedup `pick` takes from each cell (this run's,
/// or the baseline report's).
fn lines(
    report: &BenchReport,
    pick: fn(&BenchCell) -> Option<Estimate>,
) -> Vec<(String, Vec<Point>)> {
    let jobs: std::collections::BTreeSet<(String, String)> = report
        .cells
        .iter()
        .map(|c| (c.kernel.clone(), c.range.to_string()))
        .collect();
    let mut out: Vec<(String, Vec<Point>)> = Vec::new();
    // The baseline (sequential, one worker) starts the sequential line when sequential was
    // benchmarked at other worker counts too; otherwise it is only the reference.
    let sequential_line = |c: &&BenchCell| {
        report.cells.iter().any(|o| {
            !o.baseline
                && o.backend == BackendKind::Sequential
                && o.kernel == c.kernel
                && o.range == c.range
        })
    };
    for c in report
        .cells
        .iter()
        .filter(|c| !c.baseline || sequential_line(c))
    {
        let Some(s) = pick(c) else { continue };
        let label = if jobs.len() > 1 {
            format!("{} ({} {})", c.backend, c.kernel, c.range)
        } else {
            c.backend.to_string()
        };
        let point = (c.workers as f64, s.value, s.low, s.high);
        match out.iter_mut().find(|(l, _)| *l == label) {
            Some((_, pts)) => pts.push(point),
            None => out.push((label, vec![point])),
        }
    }
    for (_, pts) in &mut out {
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    out
}

/// The baseline report's lines (empty without `--baseline`).
fn lines_of_baseline(report: &BenchReport) -> Vec<(String, Vec<Point>)> {
    if report.comparison.is_none() {
        return Vec::new();
    }
    lines(report, |c| c.baseline_speedup)
}

impl SpeedupPlot {
    /// The plot as an SVG document.
    pub fn svg(&self, report: &BenchReport) -> Result<String> {
        let lines = lines(report, |c| c.speedup);
        let baseline_lines = lines_of_baseline(report);
        let max_workers = report
            .cells
            .iter()
            .map(|c| c.workers)
            .max()
            .unwrap_or(1)
            .max(2) as f64;
        let max_speedup = lines
            .iter()
            .chain(&baseline_lines)
            .flat_map(|(_, p)| p.iter().map(|q| q.3))
            .fold(1.0f64, f64::max);
        let y_max = (max_speedup.max(max_workers.min(max_speedup * 1.5)) * 1.15).max(2.0);
        let title = match report.cells.first() {
            Some(c) if lines.iter().all(|(l, _)| !l.contains('(')) => {
                format!("Speedup: {} over {}", c.kernel, c.range)
            }
            _ => "Speedup against one sequential worker".to_string(),
        };
        svg_document((900, 520), "the speedup plot", |root| {
            let mut chart = titled(root, &title, 56)
                .build_cartesian_2d(0.5f64..max_workers + 0.5, 0f64..y_max)?;
            chart
                .configure_mesh()
                .x_desc("workers")
                .y_desc("speedup (x)")
                .x_labels(max_workers as usize + 1)
                .x_label_formatter(&|x| format!("{}", x.round() as i64))
                .label_style(("sans-serif", 14))
                .draw()?;
            let grey = RGBColor(120, 120, 120);
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(1.0, 1.0), (max_workers, max_workers)],
                    IDEAL.0,
                    IDEAL.1,
                    grey.stroke_width(1),
                ))?
                .label("ideal (speedup = workers)")
                .legend(legend_dashed(grey.stroke_width(1), IDEAL));
            // The machine's ceiling: what a perfectly parallel loop reached, measured before
            // every round; a line well under the ideal one means the machine, not the backend,
            // held the speedups down.
            let ceiling: Vec<(f64, f64, f64, f64)> = std::iter::once((1.0, 1.0, 1.0, 1.0))
                .chain(report.ceilings.at.iter().map(|c| {
                    let e = c.ceiling;
                    (c.workers as f64, e.value, e.low, e.high)
                }))
                .collect();
            if ceiling.len() > 1 {
                let black = RGBColor(0, 0, 0);
                chart
                    .draw_series(DashedLineSeries::new(
                        ceiling.iter().map(|p| (p.0, p.1)),
                        CEILING.0,
                        CEILING.1,
                        black.stroke_width(2),
                    ))?
                    .label("machine's ceiling (measured)")
                    .legend(legend_dashed(black.stroke_width(2), CEILING));
                chart.draw_series(ceiling.iter().skip(1).map(|p| {
                    ErrorBar::new_vertical(p.0, p.2, p.1, p.3, black.stroke_width(1), 8)
                }))?;
            }
            for (i, (label, pts)) in lines.iter().enumerate() {
                let color = COLORS[i % COLORS.len()];
                chart
                    .draw_series(LineSeries::new(
                        pts.iter().map(|p| (p.0, p.1)),
                        color.stroke_width(2),
                    ))?
                    .label(label.clone())
                    .legend(legend_line(color.stroke_width(2)));
                chart.draw_series(pts.iter().map(|p| {
                    ErrorBar::new_vertical(p.0, p.2, p.1, p.3, color.stroke_width(1), 8)
                }))?;
                chart.draw_series(
                    pts.iter()
                        .map(|p| Circle::new((p.0, p.1), 4, color.filled())),
                )?;
                // The same backend in the baseline report (`--baseline`): dashed, same colour.
                if let Some((_, old)) = baseline_lines.iter().find(|(l, _)| l == label) {
                    chart
                        .draw_series(DashedLineSeries::new(
                            old.iter().map(|p| (p.0, p.1)),
                            BASELINE.0,
                            BASELINE.1,
                            color.stroke_width(2),
                        ))?
                        .label(format!("{label}, baseline"))
                        .legend(legend_dashed(color.stroke_width(2), BASELINE));
                }
            }
            draw_legend(&mut chart)
        })
    }
}

impl Exporter for SpeedupPlot {
    fn name(&self) -> &'static str {
        "svg"
    }

    fn render(&self, report: &BenchReport) -> Result<Vec<u8>> {
        Ok(self.svg(report)?.into_bytes())
    }
}
