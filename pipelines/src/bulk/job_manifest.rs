use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{PipelineError, Result};

/// The manifest's file name in the output folder (readers such as DataFusion, Spark and pyarrow skip
/// `_`-prefixed files).
pub const MANIFEST_FILE: &str = "_sru_ner_manifest.json";

/// One input file as the job saw it: a rerun must see the same files with the same sizes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputRecord {
    /// The path as resolved from the input argument.
    pub path: String,
    /// Its size in bytes.
    pub bytes: u64,
    /// Its row count.
    pub rows: u64,
}

/// What makes two runs the same job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobIdentity {
    /// The model (name and version) that annotates.
    pub model: String,
    /// The column holding the text.
    pub text_column: String,
    /// The column the entities go to.
    pub entities_column: String,
    /// Most rows in one output part.
    pub rows_per_part: usize,
    /// The input files, in order.
    pub inputs: Vec<InputRecord>,
}

/// One committed output part.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartRecord {
    /// Rows in the part (as many as its input slice).
    pub rows: u64,
    /// Rows whose text was null (their entities are null).
    pub null_texts: u64,
    /// Entities in the part.
    pub entities: u64,
}

/// The output folder's record of the job and of its committed parts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobManifest {
    /// Manifest format version.
    pub format: u32,
    /// The job these parts belong to.
    pub job: JobIdentity,
    /// Committed parts by file name.
    pub parts: BTreeMap<String, PartRecord>,
}

impl JobManifest {
    /// A manifest with no part yet.
    pub fn new(job: JobIdentity) -> Self {
        Self { format: 1, job, parts: BTreeMap::new() }
    }

    /// The manifest in `folder`, or `None` when there is none.
    pub fn read(folder: &Path) -> Result<Option<Self>> {
        let path = folder.join(MANIFEST_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(PipelineError::Io { path, source }),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| PipelineError::OutputInUse { path: folder.to_path_buf(), reason: format!("unreadable {MANIFEST_FILE}: {e}") })
    }

    /// Writes the manifest to `folder` atomically (a temporary file renamed over the old one).
    pub fn write(&self, folder: &Path) -> Result<()> {
        let path = folder.join(MANIFEST_FILE);
        let temporary = folder.join(format!(".{MANIFEST_FILE}.tmp"));
        let json = serde_json::to_vec_pretty(self).expect("the manifest serialises");
        std::fs::write(&temporary, json).map_err(|source| PipelineError::Io { path: temporary.clone(), source })?;
        std::fs::rename(&temporary, &path).map_err(|source| PipelineError::Io { path, source })
    }

    /// Why `job` cannot resume in a folder holding this manifest, if it cannot.
    pub fn mismatch(&self, job: &JobIdentity) -> Option<String> {
        let mine = &self.job;
        if mine.model != job.model {
            return Some(format!("it was written with model {:?}, this run uses {:?}", mine.model, job.model));
        }
        if (&mine.text_column, &mine.entities_column) != (&job.text_column, &job.entities_column) {
            return Some(format!(
                "it was written from column {:?} into {:?}, this run uses {:?} into {:?}",
                mine.text_column, mine.entities_column, job.text_column, job.entities_column
            ));
        }
        if mine.rows_per_part != job.rows_per_part {
            return Some(format!("it was written with --rows-per-part {}, this run uses {}", mine.rows_per_part, job.rows_per_part));
        }
        if mine.inputs != job.inputs {
            let first = mine.inputs.iter().zip(&job.inputs).find(|(a, b)| a != b);
            return Some(match first {
                Some((was, now)) => format!(
                    "input {} was {} bytes, {} rows; now {} {} bytes, {} rows",
                    was.path, was.bytes, was.rows, now.path, now.bytes, now.rows
                ),
                None => format!("it was written from {} input files, this run has {}", mine.inputs.len(), job.inputs.len()),
            });
        }
        None
    }
}
