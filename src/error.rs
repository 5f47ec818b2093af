//! The one error type of the sru-ner library.
use std::path::PathBuf;

/// Everything that can go wrong in the model library, with the file or input it concerns.
#[derive(Debug, thiserror::Error)]
pub enum SruNerError {
    /// Reading or writing a file failed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A JSON file (config, manifest) could not be parsed.
    #[error("{path}: invalid JSON: {source}")]
    Json {
        /// The file or folder concerned.
        path: PathBuf,
        /// The underlying error.
        source: serde_json::Error,
    },
    /// A libtorch operation failed.
    #[error("libtorch: {context}: {source}")]
    Torch {
        /// What was being done.
        context: String,
        /// The underlying error.
        source: tch::TchError,
    },
    /// The `tokenizer.json` could not be loaded or applied.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// An encoder folder lacks a file or has an unsupported configuration.
    #[error("encoder {path}: {reason}")]
    Encoder {
        /// The file or folder concerned.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// Only safetensors weights are read: pickled checkpoints can run code when loaded.
    #[error("{path}: refusing pickled weights (pytorch_model.bin); convert the checkpoint to model.safetensors, e.g. with `transformers` save_pretrained(..., safe_serialization=True)")]
    PickledWeights {
        /// The file or folder concerned.
        path: PathBuf,
    },
    /// A weights file lacks tensors the model needs, or has one of the wrong shape.
    #[error("{path}: {reason}")]
    Weights {
        /// The file or folder concerned.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A model directory is malformed.
    #[error("model directory {path}: {reason}")]
    ModelDirectory {
        /// The file or folder concerned.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The gold spans of a sentence cannot be turned into actions.
    #[error("sentence {sentence}: {source}")]
    Oracle {
        /// The sentence, counted in its corpus.
        sentence: usize,
        /// The underlying error.
        source: crate::transition::OracleError,
    },
    /// A corpus file is malformed at this line.
    #[error("{}:{line}: {reason}", path.display())]
    Corpus {
        /// The file or folder concerned.
        path: PathBuf,
        /// The line, counted from 1.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A corpus-store file could not be written or read.
    #[error("corpus store {}: {reason}", path.display())]
    Store {
        /// The file or folder concerned.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A training configuration is invalid.
    #[error("{}: {reason}", path.display())]
    Config {
        /// The file or folder concerned.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A thread the library runs work on could not be started.
    #[error("could not start the {thread} thread: {source}")]
    ThreadSpawn {
        /// Which thread.
        thread: &'static str,
        /// The operating system's error.
        source: std::io::Error,
    },
    /// The model thread ended (it panicked) before the model was loaded.
    #[error("the model thread ended while loading the model")]
    ModelThreadEnded,
    /// The requested device is not available.
    #[error("device {0} is not available in this libtorch build or machine")]
    DeviceUnavailable(String),
    /// A precision the device cannot serve.
    #[error("precision {precision} is not served on {device}: {reason}")]
    PrecisionUnavailable {
        /// The precision asked for.
        precision: String,
        /// The device, as tch names it.
        device: String,
        /// Why not.
        reason: String,
    },
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
