//! Exporters: one file format each, behind one trait, all rendering the same [`Report`].

use std::path::Path;

use crate::bench::Report;
use crate::error::Result;
use crate::report::write_atomic;

/// Renders a benchmark report in one format.
pub trait Exporter {
    /// The format's name ("json", "csv", ...).
    fn name(&self) -> &'static str;

    /// The report as the file's bytes.
    fn render(&self, report: &Report) -> Result<Vec<u8>>;

    /// Renders and writes atomically to `path`.
    fn write(&self, report: &Report, path: &Path) -> Result<()> {
        write_atomic(path, &self.render(report)?)
    }
}

/// Seconds in the unit that reads best, e.g. `12.3 ms`.
pub fn seconds(s: f64) -> String {
    if s >= 1.0 {
        format!("{s:.3} s")
    } else if s >= 1e-3 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.1} us", s * 1e6)
    }
}
