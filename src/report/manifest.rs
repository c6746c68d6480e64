//! `manifest.json`: what produced a results folder — no timestamps, so that the same
//! inputs, plan and seed give a byte-identical file.

use serde::Serialize;

use crate::data::read::FileInfo;

#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub shine_version: &'static str,
    pub command: String,
    pub seed: u64,
    pub disclosure_threshold: u64,
    /// `default` or the plan file given.
    pub plan_source: String,
    /// The resolved plan.
    pub plan: crate::plan::Plan,
    pub inputs: Vec<FileInfo>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extract_period: Option<String>,
    /// Every file written, with its SHA-256, in path order.
    pub outputs: Vec<OutputFile>,
}

#[derive(Debug, Clone, Serialize)]
pub struct OutputFile {
    pub path: String,
    pub sha256: String,
}

pub const SHINE_VERSION: &str = env!("CARGO_PKG_VERSION");
