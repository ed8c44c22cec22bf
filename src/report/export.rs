//! Exporters: one file format each, behind one trait, all rendering the same [`BenchReport`].

use crate::bench::BenchReport;
use crate::error::Result;
use crate::report::output::Output;

/// Renders a benchmark report in one format.
pub trait Exporter {
    /// The format's name ("json", "csv", ...).
    fn name(&self) -> &'static str;

    /// The report as the file's bytes.
    fn render(&self, report: &BenchReport) -> Result<Vec<u8>>;

    /// Renders and writes to `to`: a file atomically, standard output or a special file in
    /// place.
    fn write(&self, report: &BenchReport, to: &Output) -> Result<()> {
        to.write(&self.render(report)?)
    }
}
