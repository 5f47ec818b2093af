//! Data contracts shared by every sru-ner surface (CLI, SQL, bulk Parquet, Kafka, training).
//!
//! This crate holds no model code and never links libtorch: the SQL functions and the pipelines depend
//! on it alone, and reach the model through the [`Annotator`] trait.

mod annotator;
mod corpus_schema;
mod entity;

pub use annotator::{AnnotateError, Annotator};
pub use corpus_schema::{corpus_schema, span_fields, word_fields};
pub use entity::Entity;
