//! The whole SRU-NER model (encoder + head + type set) and its directory on disk.

mod manifest;
mod sru_ner_model;

pub use manifest::{EncoderReference, ModelManifest, DEFAULT_TYPES};
pub use sru_ner_model::{BatchProfile, GoldInput, SruNerModel, MAX_WORD_PIECES};
