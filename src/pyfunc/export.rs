//! The report of `parlab python` as CSV (one row per interpreter, range, road and worker count)
//! and as Markdown (the table and the recommendation); JSON is the [`Report`] itself.

use super::Report;
use crate::error::{Error, Result};

/// One CSV row per measured row, with a header; exact answers as decimal strings.
pub fn to_csv(report: &Report) -> Result<String> {
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
        ])
        .map_err(failed)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| Error::io("writing CSV", e.into_error()))?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

/// The table and the recommendation as Markdown.
pub fn to_markdown(report: &Report) -> String {
    let mut out = format!(
        "# `{}` over {} ({} split)\n\n| python | range | road | workers | start-up (s) | \
         median (s) | speedup (95% CI) | answer |\n|---|---|---|---:|---:|---:|---:|---|\n",
        report.function, report.range, report.split
    );
    for row in &report.rows {
        let f = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.6}"));
        let speedup = row.speedup.map_or(String::new(), |s| s.ratio());
        let answer = match &row.error {
            Some(e) => format!("failed: {}", e.replace('|', "\\|")),
            None => row.result.clone().unwrap_or_default(),
        };
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            row.python,
            row.range,
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
    if let Some(rec) = &report.recommendation {
        out.push_str(&format!(
            "\n**Recommendation:** {} with {} on {}: {}\n",
            rec.road,
            crate::units::count(rec.workers as u64, "worker"),
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
