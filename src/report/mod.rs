//! Reports: files written for people and programs, atomically where they are files, in place
//! where they are FIFOs or devices (see [`output`]). Benchmark exports are one file per format
//! behind the [`export::Exporter`] trait.

pub mod csv;
pub mod export;
pub mod html;
pub mod json;
pub mod markdown;
pub mod output;
pub mod plot;
pub mod speedup;
pub mod table;
pub mod width;

pub use output::write_atomic;

#[cfg(test)]
mod export_tests {
    use super::csv::Csv;
    use super::export::Exporter;
    use super::html::Html;
    use super::json::Json;
    use super::markdown::Markdown;
    use super::speedup::SpeedupPlot;
    use crate::backend::BackendKind;
    use crate::bench::{BenchCell, BenchReport, Estimate, Machine, Run, SampleSummary, Settings};
    use crate::span::Span;

    /// A fixed report: a baseline, two thread cells, one cell with a wrong answer.
    fn fixture() -> BenchReport {
        let cell = |backend, workers, baseline, median: f64, speedup: Option<f64>| BenchCell {
            kernel: "count".into(),
            range: Span {
                start: 0,
                end: 100_000_000,
            },
            split: "static".into(),
            backend,
            workers,
            baseline,
            expected: "100000000".into(),
            runs: vec![
                Run {
                    wall_s: median,
                    user_s: median,
                    sys_s: 0.001,
                    peak_rss_kib: Some(4096),
                    baseline_s: Some(0.013),
                    baseline_cpu_s: None,
                    ceiling: (workers > 1).then_some(1.9),
                };
                3
            ],
            wall: Some(SampleSummary {
                median,
                mean: median,
                stddev: median / 100.0,
                min: median * 0.99,
                max: median * 1.01,
            }),
            user_s: Some(median * workers as f64),
            sys_s: Some(0.001),
            peak_rss_kib: Some(4096),
            speedup: speedup.map(|v| Estimate {
                value: v,
                low: v * 0.95,
                high: v * 1.03,
            }),
            speedup_by_clock: None,
            noise: None,
            verdict: None,
            efficiency: speedup.map(|v| Estimate {
                value: v / workers as f64,
                low: v * 0.95 / workers as f64,
                high: v * 1.03 / workers as f64,
            }),
            ceiling: (workers > 1).then_some(Estimate {
                value: 1.9,
                low: 1.8,
                high: 2.0,
            }),
            vs_ceiling: speedup.filter(|_| workers > 1).map(|v| Estimate {
                value: v / 1.9,
                low: v * 0.95 / 2.0,
                high: v * 1.03 / 1.8,
            }),
            artefact: None,
            within_precision: None,
            karp_flatt: (workers > 1).then_some(Estimate {
                value: 0.02,
                low: 0.0,
                high: 0.05,
            }),
            baseline_change: None,
            baseline_speedup: None,
            outliers: 0,
            mismatches: 0,
            errors: Vec::new(),
        };
        let mut wrong = cell(BackendKind::Pool, 2, false, 0.0065, Some(2.0));
        wrong.mismatches = 1;
        wrong.errors = vec!["wrong answer 99999999 (expected 100000000)".into()];
        BenchReport {
            schema: 2,
            parlab_version: "0.1.0".into(),
            started_unix_s: 1_800_000_000.0,
            rounds: 3,
            complete: true,
            interrupted: None,
            machine: Machine {
                cpu_model: "Test CPU".into(),
                available_parallelism: 2,
                os: "linux 6.1".into(),
                load_before: [0.1, 0.2, 0.3],
                load_after: [1.0, 0.5, 0.4],
                busy_warning: None,
                cpu_speeds: Vec::new(),
                unequal_cpus: None,
            },
            gpu_adapter: None,
            gpu: None,
            settings: Settings {
                warmup: 1,
                runs: 3,
                min_time_s: None,
                timeout_s: Some(10.0),
                start_method: Some("forkserver".into()),
                switch_interval_s: None,
                check_interval: None,
                precision: Some(0.05),
                max_time_s: Some(30.0),
            },
            ceilings: Default::default(),
            comparison: None,
            cells: vec![
                cell(BackendKind::Sequential, 1, true, 0.013, Some(1.0)),
                cell(BackendKind::Threads, 2, false, 0.0066, Some(1.97)),
                wrong,
            ],
        }
    }

    fn text(e: &dyn Exporter) -> String {
        String::from_utf8(e.render(&fixture()).unwrap()).unwrap()
    }

    #[test]
    fn csv_snapshot() {
        insta::assert_snapshot!(text(&Csv));
    }

    #[test]
    fn markdown_snapshot() {
        insta::assert_snapshot!(text(&Markdown));
    }

    #[test]
    fn json_snapshot_and_round_trip() {
        let json = text(&Json);
        insta::assert_snapshot!(json);
        let back: BenchReport = serde_json::from_str(&json).unwrap();
        assert_eq!(back, fixture());
    }

    #[test]
    fn svg_plot_draws_every_line_with_bars() {
        let svg = text(&SpeedupPlot);
        assert!(svg.starts_with("<svg"), "{svg}");
        for label in [
            "ideal (speedup = workers)",
            "threads",
            "pool",
            "Speedup: count over 0..100000000",
        ] {
            assert!(svg.contains(label), "{label} missing");
        }
        // The baseline is not a line of its own.
        assert!(!svg.lines().any(|l| l == "sequential"), "{svg}");
        assert!(svg.matches("<polyline").count() >= 3, "{svg}");
    }

    #[test]
    fn backend_settings_are_listed_with_readable_units() {
        let mut report = fixture();
        report.settings.switch_interval_s = Some(0.005);
        report.settings.check_interval = Some(100);
        let lines = super::markdown::machine_lines(&report);
        assert!(
            lines.contains(
                &"Backend settings: processes started by forkserver; gil switch interval 5 ms; \
              gil-legacy check interval 100"
                    .to_string()
            )
        );
        report.settings.switch_interval_s = Some(0.00025);
        report.settings.start_method = None;
        let lines = super::markdown::machine_lines(&report);
        assert!(
            lines.contains(
                &"Backend settings: gil switch interval 250 us; gil-legacy check interval 100"
                    .to_string()
            ),
            "{lines:?}"
        );
    }

    #[test]
    fn sequential_benchmarked_at_more_workers_starts_at_the_baseline() {
        let mut report = fixture();
        let mut two = report.cells[0].clone();
        two.baseline = false;
        two.workers = 2;
        report.cells.push(two);
        let svg = String::from_utf8(SpeedupPlot.render(&report).unwrap()).unwrap();
        assert!(svg.lines().any(|l| l == "sequential"), "{svg}");
        // Sequential's blue line joins its two points: the baseline and two workers.
        // (The first such polyline is the data; the legend's swatch comes last.)
        let line = svg
            .lines()
            .find(|l| l.contains(r##"stroke="#1F77B4" stroke-width="2""##))
            .expect("a blue line");
        let points = line
            .split("points=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        assert_eq!(points.split_whitespace().count(), 2, "{line}");
    }

    #[test]
    fn html_is_self_contained_and_marks_bad_cells() {
        let html = text(&Html);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<svg") && html.contains("</table>"));
        assert!(html.contains("<tr class=\"mismatch\">"));
        assert!(html.contains("Test CPU, 2 threads available"));
        // (The SVG's xmlns attribute names a namespace; it loads nothing.)
        for external in ["<script", "<link", "src=", "href=\"http", "url(", "@import"] {
            assert!(!html.contains(external), "external asset: {external}");
        }
    }

    #[test]
    fn html_leaves_out_the_columns_this_run_left_empty() {
        let html = text(&Html);
        assert!(!html.contains("<th>wall vs baseline</th>"), "no --baseline");
        assert!(html.contains("<th>serial fraction (Karp-Flatt)</th>"));
        let mut report = fixture();
        for c in &mut report.cells {
            c.karp_flatt = None;
        }
        report.comparison = Some(Default::default());
        let html = String::from_utf8(Html.render(&report).unwrap()).unwrap();
        assert!(!html.contains("Karp-Flatt)</th>"), "every cell '-'");
        assert!(html.contains("<th>wall vs baseline</th>"));
        // A figure wraps before its interval only, inside a box that scrolls if it must.
        assert!(html.contains("<div class=\"cells\"><table>"));
        assert!(html.contains("</span> <span class=\"nw\">(± "), "{html}");
    }

    #[test]
    fn html_explains_the_ceiling_only_when_one_was_measured() {
        assert!(!text(&Html).contains("The ceiling is"));
        let mut report = fixture();
        report.ceilings = serde_json::from_value(serde_json::json!({
            "at": [{"workers": 2, "ceiling": {"value": 1.4, "low": 1.3, "high": 1.5},
                    "range": [1.1, 1.9]}],
            "cost_s": 0.5, "cost_share": 0.05,
        }))
        .unwrap();
        let html = String::from_utf8(Html.render(&report).unwrap()).unwrap();
        assert!(
            html.contains("1.40x at 2 workers here (samples 1.10-1.90x)"),
            "{html}"
        );
        assert!(html.contains("The probes took 5.0% of the benchmark"));
    }
}
