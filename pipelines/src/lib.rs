//! Pipeline stages of sru-ner that run over data stores, sharing one model through the
//! [`Annotator`](sru_ner_schemas::Annotator) trait.
//!
//! - [`bulk`]: Parquet in, Parquet out with an `entities` column added; bounded memory, parts committed
//!   atomically with a manifest, so a killed job rerun with the same arguments resumes.
//! - [`stream`]: Kafka in, Kafka out: enriched messages, dead letters, at-least-once or exactly-once.
//!
//! Each is a feature (`bulk`, `stream`; both by default), so a program that embeds only the bulk job
//! does not build librdkafka.

#[cfg(feature = "bulk")]
pub mod bulk;
mod error;
#[cfg(feature = "stream")]
pub mod stream;

pub use error::{PipelineError, Result};
