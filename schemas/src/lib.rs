//! Data contracts shared by every sru-ner surface (CLI, SQL, bulk Parquet, Kafka, training).
//!
//! This crate holds no model code and never links libtorch: the SQL functions and the pipelines depend
//! on it alone, and reach the model through the [`Annotator`] trait.

mod annotator;
mod entity;

pub use annotator::{AnnotateError, Annotator};
pub use entity::Entity;
