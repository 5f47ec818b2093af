//! Data contracts shared by every sru-ner surface (CLI, SQL, bulk Parquet, Kafka, training).
//!
//! This crate holds no model code and never links libtorch: the SQL functions and the pipelines depend
//! on it alone, and reach the model through the [`Annotator`] trait.

mod annotate_column;
mod annotator;
mod corpus_schema;
mod entity;
mod entity_array;

#[cfg(feature = "test-util")]
pub mod test_util;

pub use annotate_column::{annotate_column, AnnotateColumnError};
pub use annotator::{AnnotateError, Annotator};
pub use corpus_schema::{corpus_schema, span_fields, word_fields};
pub use entity::Entity;
pub use entity_array::{entity_fields, entity_list_type, EntityListBuilder, OffsetOverflow};
