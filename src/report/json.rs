//! `--export-json`: the report as one JSON document, schema in docs/bench-json.md.

use super::export::Exporter;
use crate::bench::BenchReport;
use crate::error::{Error, Result};

/// JSON export.
#[derive(Debug, Default, Clone, Copy)]
pub struct Json;

impl Exporter for Json {
    fn name(&self) -> &'static str {
        "json"
    }

    fn render(&self, report: &BenchReport) -> Result<Vec<u8>> {
        let mut out = serde_json::to_vec_pretty(report)
            .map_err(|e| Error::io("rendering JSON", std::io::Error::other(e)))?;
        out.push(b'\n');
        Ok(out)
    }
}
