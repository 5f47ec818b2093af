//! sru-ner: nested biomedical named-entity recognition (SRU-NER, arXiv 2507.18542) in Rust with tch.
//!
//! The pieces, in the order text flows through them:
//! - [`text`]: raw text to sentences of words with exact offsets;
//! - [`encoder`]: a BERT-family encoder (HF folder) and sub-word → word max pooling;
//! - [`network`]: the SRU-NER head (action memory, latent attention, action scorer);
//! - [`transition`]: the transition system (gold oracle, span decoder);
//! - [`model`]: encoder + head + type set, saved as a model directory;
//! - [`runtime`]: one model on one thread, batching the texts of many callers; implements
//!   [`sru_ner_schemas::Annotator`].

pub mod corpus;
pub mod encoder;
pub mod error;
pub mod evaluation;
pub mod model;
pub mod network;
pub mod runtime;
pub mod text;
pub mod training;
pub mod transition;

pub use error::{Result, SruNerError};
pub use sru_ner_schemas::{Annotator, Entity};
