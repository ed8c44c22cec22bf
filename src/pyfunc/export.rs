//! The report of `parlab python` as CSV (one row per interpreter, range, road and worker count,
//! in map mode also chunk size) and as Markdown (the table and the recommendations); JSON is the
//! [`PythonReport`] itself.

use super::{Mode, PythonReport};
use crate::error::{Error, Result};

/// One CSV row per measured row, with a header; exact answers as decimal strings.
pub fn to_csv(report: &PythonReport) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| Error::io("writing CSV", std::io::Error::other(e));
    w.write_record([
        "function",
        "python",
        "range",
        "split",
        "road",
        "workers",
        "result",
        "startup_s",
        "median_s",
        "speedup",
        "speedup_low",
        "speedup_high",
        "ceiling",
        "runs",
        "error",
        "mode",
        "chunksize",
    ])
    .map_err(failed)?;
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    for row in &report.rows {
        w.write_record([
            report.function.clone(),
            row.python.clone(),
            row.range.clone(),
            report.split.clone(),
            row.road.to_string(),
            row.workers.to_string(),
            row.result.clone().unwrap_or_default(),
            opt(row.startup_s),
            opt(row.median_s),
            opt(row.speedup.map(|s| s.value)),
            opt(row.speedup.map(|s| s.low)),
            opt(row.speedup.map(|s| s.high)),
            opt(row.ceiling),
            row.runs.to_string(),
            row.error.clone().unwrap_or_default(),
            match report.mode {
                Mode::Range => "range".to_string(),
                Mode::Map => "map".to_string(),
            },
            row.chunksize.map_or(String::new(), |c| c.to_string()),
        ])
        .map_err(failed)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::io("writing CSV", e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The table and the recommendations as Markdown.
pub fn to_markdown(report: &PythonReport) -> String {
    let map = report.mode == Mode::Map;
    let (title, second) = match &report.items {
        Some(items) if map => (
            format!(
                "# `{}` over {} items of `{}`",
                report.function, items.count, items.source
            ),
            "chunk",
        ),
        _ => (
            format!(
                "# `{}` over {} ({} split)",
                report.function, report.range, report.split
            ),
            "range",
        ),
    };
    let mut out = format!(
        "{title}\n\n| python | {second} | road | workers | start-up (s) | median (s) | speedup \
         (95% CI) | answer |\n|---|---|---|---:|---:|---:|---:|---|\n"
    );
    for row in &report.rows {
        let f = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.6}"));
        let speedup = row.speedup.map_or(String::new(), |s| s.ratio());
        let answer = match (&row.error, &row.result) {
            (Some(e), _) => format!("failed: {}", e.replace('|', "\\|")),
            (None, Some(v)) => v.clone(),
            (None, None) if map && row.runs > 0 => "ok".to_string(),
            (None, None) => String::new(),
        };
        let at = match map {
            true => row.chunksize.map_or(String::new(), |c| c.to_string()),
            false => row.range.clone(),
        };
        out.push_str(&format!(
            "| {} | {at} | {} | {} | {} | {} | {} | {} |\n",
            row.python,
            row.road,
            row.workers,
            f(row.startup_s),
            f(row.median_s),
            speedup,
            answer
        ));
    }
    for note in &report.notes {
        out.push_str(&format!("\n- {note}"));
    }
    let several = report.recommendations.len() > 1;
    if several {
        out.push('\n');
        for rec in &report.recommendations {
            out.push_str(&format!(
                "\n**On {}:** {}: {}\n",
                rec.python,
                rec.setting(),
                rec.reason
            ));
        }
    }
    if let Some(rec) = &report.recommendation {
        out.push_str(&format!(
            "\n**Recommendation{}:** {} on {}: {}\n",
            if several { " overall" } else { "" },
            rec.setting(),
            rec.python,
            rec.reason
        ));
        if let Some(r) = &rec.smallest_range {
            out.push_str(&format!(
                "\nSmallest range measured at which it wins: {r}\n"
            ));
        }
    }
    out
}
