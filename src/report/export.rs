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
