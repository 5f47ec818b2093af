//! `sru_ner(text)`: nested biomedical named-entity recognition as a DataFusion SQL function.
//!
//! ```sql
//! SELECT pmid, sru_ner(abstract) AS entities FROM pubmed;
//! SELECT pmid, e.label, e.text FROM (SELECT pmid, unnest(sru_ner(abstract)) AS e FROM pubmed);
//! ```
//!
//! The function returns `List<Struct<start: Int32, end: Int32, label: Utf8, text: Utf8, score: Float32>>`
//! (character offsets, end exclusive, so `substr(abstract, start + 1, end - start) = text`); NULL in gives
//! NULL out and an empty string an empty list. It accepts Utf8, LargeUtf8 and Utf8View. Every call goes
//! to one shared [`Annotator`], which batches the rows of all partitions together on one model.
//!
//! Embedding DataFusion? Register the function on your own context with [`register_sru_ner`], which
//! also adds [`AnnotateAfterTopK`] so that `ORDER BY ... LIMIT n` annotates only the n rows it keeps.

mod annotate_after_top_k;
mod register_sru_ner;
mod sru_ner_udf;

pub use annotate_after_top_k::AnnotateAfterTopK;
pub use register_sru_ner::register_sru_ner;
pub use sru_ner_schemas::Annotator;
pub use sru_ner_udf::SruNerUdf;
