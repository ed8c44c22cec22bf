//! `--export-html`: one self-contained page (machine section, table, plot), no external assets.

use std::fmt::Write;

use super::export::Exporter;
use super::markdown::{
    COLUMNS, cells_of, comparison_lines, findings, machine_lines, shown_columns,
};
use super::speedup::SpeedupPlot;
use crate::bench::BenchReport;
use crate::error::Result;

/// HTML export.
#[derive(Debug, Default, Clone, Copy)]
pub struct Html;

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The page's style. The table sits in a box of its own that scrolls sideways if it must, so
/// the page never does; headers wrap, and a figure wraps only before its interval.
const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2rem auto;\
max-width:1200px;color:#222;padding:0 1rem}h1{font-size:1.6rem;margin-bottom:.2rem}\
ul.machine{color:#444;line-height:1.5}li.warn{color:#b00020;font-weight:600}\
figure{margin:1.5rem 0}figure svg{max-width:100%;height:auto;border:1px solid #ddd}\
div.cells{overflow-x:auto;max-width:100%}\
table{border-collapse:collapse;font-size:.86rem}th,td{padding:.3rem .4rem;\
border-bottom:1px solid #e4e4e4;text-align:right;vertical-align:top}\
th{background:#f4f6f8;vertical-align:bottom;font-weight:600}\
td:last-child,th:last-child{text-align:left;min-width:9rem}\
td:nth-child(-n+3),th:nth-child(-n+3){text-align:left}\
tr.mismatch td,tr.error td{background:#fde8e8}tr.baseline td{color:#555}\
p.note{color:#555;font-size:.9rem}p.warn{color:#b00020;font-weight:600}\
span.nw{white-space:nowrap}";

/// A figure's cell: it may break only before its interval (`1.02 ms (± 3.1 us)`) and after a
/// slash (`CPU user / sys`), never inside a figure, its unit or its interval.
fn figure_cell(v: &str) -> String {
    let parts: Vec<&str> = v.split(" / ").collect();
    let mut pieces: Vec<String> = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        let slash = if i + 1 < parts.len() { " /" } else { "" };
        match part.find(" (") {
            Some(at) => {
                pieces.push(part[..at].to_string());
                pieces.push(format!("{}{slash}", &part[at + 1..]));
            }
            None => pieces.push(format!("{part}{slash}")),
        }
    }
    pieces
        .iter()
        .map(|p| format!("<span class=\"nw\">{}</span>", escape(p)))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Exporter for Html {
    fn name(&self) -> &'static str {
        "html"
    }

    fn render(&self, report: &BenchReport) -> Result<Vec<u8>> {
        let mut s = String::new();
        let _ = write!(
            s,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
             <title>parlab bench</title><style>{STYLE}</style></head><body>\n<h1>parlab bench</h1>\n<ul class=\"machine\">\n"
        );
        for line in machine_lines(report)
            .into_iter()
            .chain(comparison_lines(report))
        {
            let class = if line.starts_with("Warning") || line.starts_with("Stopped") {
                " class=\"warn\""
            } else {
                ""
            };
            let _ = writeln!(s, "<li{class}>{}</li>", escape(&line));
        }
        // The table first, in the window's first screen; the plot under it. The columns with
        // something to show in this run.
        let shown = shown_columns(report);
        s.push_str("</ul>\n<div class=\"cells\"><table>\n<thead><tr>");
        for &i in &shown {
            let _ = write!(s, "<th>{}</th>", escape(COLUMNS[i]));
        }
        s.push_str("</tr></thead>\n<tbody>\n");
        for cell in &report.cells {
            let class = if cell.baseline && cell.status() == "ok" {
                "baseline"
            } else {
                cell.status()
            };
            let _ = write!(s, "<tr class=\"{class}\">");
            let values = cells_of(cell);
            for &i in &shown {
                let v = &values[i];
                let text = if COLUMNS[i] == "status" {
                    escape(v)
                } else {
                    figure_cell(v)
                };
                let _ = write!(s, "<td>{text}</td>");
            }
            s.push_str("</tr>\n");
        }
        s.push_str("</tbody>\n</table></div>\n<figure>\n");
        s.push_str(&SpeedupPlot.svg(report)?);
        s.push_str("\n</figure>\n");
        for line in findings(report) {
            let class = if line.starts_with("Slower") {
                "warn"
            } else {
                "note"
            };
            let _ = writeln!(s, "<p class=\"{class}\">{}</p>", escape(&line));
        }
        s.push_str(
            "<p class=\"note\">Speedup is against the sequential backend \
             with one worker on the same kernel and range, run beside it in the same round: the \
             median of the paired ratios, with a 95% percentile bootstrap over the pairs (bars \
             and intervals). One-worker cells and their baseline runs are held to one CPU per \
             round. Every run's answer was checked against the sequential answer.</p>\n",
        );
        if let Some(note) = ceiling_note(report) {
            let _ = writeln!(s, "<p class=\"note\">{}</p>", escape(&note));
        }
        s.push_str("</body></html>\n");
        Ok(s.into_bytes())
    }
}

/// What the ceiling is and what it cost, when one was measured.
fn ceiling_note(report: &BenchReport) -> Option<String> {
    let at = report.ceilings.at.first()?;
    Some(format!(
        "The ceiling is what a perfectly parallel loop (the count loop on every worker, nothing \
         shared) reached against one thread just before the rounds: what this machine allowed at \
         that moment, {:.2}x at {} workers here (samples {:.2}-{:.2}x). \"Of ceiling\" is each \
         cell's speedup over the ceiling of the same round: the share of what the machine \
         allowed that the backend reached. On a shared VM a vCPU is at times lent only part of a \
         core, so the ceiling falls below the worker count, and a speedup above the ceiling's \
         interval is flagged as an artefact of the measurement, not reported as a finding. The \
         probes took {:.1}% of the benchmark's time.",
        at.ceiling.value,
        at.workers,
        at.range.0,
        at.range.1,
        100.0 * report.ceilings.cost_share
    ))
}

#[cfg(test)]
mod tests {
    use super::figure_cell;

    #[test]
    fn a_figure_breaks_only_before_its_interval_and_after_a_slash() {
        assert_eq!(
            figure_cell("1.02 ms (± 3.1 us)"),
            "<span class=\"nw\">1.02 ms</span> <span class=\"nw\">(± 3.1 us)</span>"
        );
        assert_eq!(
            figure_cell("0.5 s / 1.0 ms"),
            "<span class=\"nw\">0.5 s /</span> <span class=\"nw\">1.0 ms</span>"
        );
        assert_eq!(figure_cell("-"), "<span class=\"nw\">-</span>");
        assert_eq!(figure_cell("a<b"), "<span class=\"nw\">a&lt;b</span>");
    }
}
