//! Pipeline stages of sru-ner that run over data stores, sharing one model through the
//! [`Annotator`](sru_ner_schemas::Annotator) trait.
//!
//! - [`bulk`]: Parquet in, Parquet out with an `entities` column added; bounded memory, parts committed
//!   atomically with a manifest, so a killed job rerun with the same arguments resumes.
//! - [`stream`]: Kafka in, Kafka out: enriched messages, dead letters, at-least-once or exactly-once.

pub mod bulk;
mod error;
pub mod stream;

pub use error::{PipelineError, Result};
