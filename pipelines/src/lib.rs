//! Pipeline stages of sru-ner that run over data stores, sharing one model through the
//! [`Annotator`](sru_ner_schemas::Annotator) trait.
//!
//! - [`bulk`]: Parquet in, Parquet out with an `entities` column added; bounded memory, parts committed
//!   atomically with a manifest, so a killed job rerun with the same arguments resumes.
//! - [`stream`]: Kafka in, Kafka out: enriched messages, dead letters, at-least-once or exactly-once.
//! - [`cluster`]: `sru_ner` in SQL on an Apache Ballista cluster: scheduler, executors, client.
//!
//! Each is a feature (`bulk`, `stream`, `cluster`; all by default), so a program that embeds only the
//! bulk job builds neither librdkafka nor Ballista.

#[cfg(feature = "bulk")]
pub mod bulk;
#[cfg(feature = "cluster")]
pub mod cluster;
mod error;
#[cfg(feature = "stream")]
pub mod stream;

pub use error::{PipelineError, Result};
