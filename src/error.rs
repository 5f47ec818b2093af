//! The one error type of the sru-ner library.
use std::path::PathBuf;

/// Everything that can go wrong in the model library, with the file or input it concerns.
#[derive(Debug, thiserror::Error)]
pub enum SruNerError {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    /// A JSON file (config, manifest) could not be parsed.
    #[error("{path}: invalid JSON: {source}")]
    Json { path: PathBuf, source: serde_json::Error },
    /// A libtorch operation failed.
    #[error("libtorch: {context}: {source}")]
    Torch { context: String, source: tch::TchError },
    /// The `tokenizer.json` could not be loaded or applied.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// An encoder folder lacks a file or has an unsupported configuration.
    #[error("encoder {path}: {reason}")]
    Encoder { path: PathBuf, reason: String },
    /// Only safetensors weights are read: pickled checkpoints can run code when loaded.
    #[error("{path}: refusing pickled weights (pytorch_model.bin); convert the checkpoint to model.safetensors, e.g. with `transformers` save_pretrained(..., safe_serialization=True)")]
    PickledWeights { path: PathBuf },
    /// A weights file lacks tensors the model needs, or has one of the wrong shape.
    #[error("{path}: {reason}")]
    Weights { path: PathBuf, reason: String },
    /// A model directory is malformed.
    #[error("model directory {path}: {reason}")]
    ModelDirectory { path: PathBuf, reason: String },
    /// The gold spans of a sentence cannot be turned into actions.
    #[error("sentence {sentence}: {source}")]
    Oracle { sentence: usize, source: crate::transition::OracleError },
    /// A corpus file is malformed at this line.
    #[error("{}:{line}: {reason}", path.display())]
    Corpus { path: PathBuf, line: usize, reason: String },
    /// A corpus-store file could not be written or read.
    #[error("corpus store {}: {reason}", path.display())]
    Store { path: PathBuf, reason: String },
    /// A training configuration is invalid.
    #[error("{}: {reason}", path.display())]
    Config { path: PathBuf, reason: String },
    /// The requested device is not available.
    #[error("device {0} is not available in this libtorch build or machine")]
    DeviceUnavailable(String),
}

/// Result with [`SruNerError`].
pub type Result<T, E = SruNerError> = std::result::Result<T, E>;

/// Adds context to libtorch errors: `tensor_op().context("loading weights")?`.
pub trait TorchContext<T> {
    /// Wraps a [`tch::TchError`] into [`SruNerError::Torch`] with `context`.
    fn context(self, context: impl Into<String>) -> Result<T>;
}

impl<T> TorchContext<T> for std::result::Result<T, tch::TchError> {
    fn context(self, context: impl Into<String>) -> Result<T> {
        self.map_err(|source| SruNerError::Torch { context: context.into(), source })
    }
}

/// Reads a file, naming it in the error.
pub(crate) fn read_to_string(path: &std::path::Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|source| SruNerError::Io { path: path.to_path_buf(), source })
}
