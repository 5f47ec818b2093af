//! Serving a model: [`ModelRuntime`] runs one model on one thread (libtorch state is not `Sync`), fed by
//! any number of callers through a channel; it batches the sentences of all pending requests by a token
//! budget, sorted by length, and implements [`sru_ner_schemas::Annotator`].
//!
//! The parts: `model_thread` (the thread and the [`ModelRuntime`] handle), `inference`
//! (`annotate_sentences`, batched inference on the calling thread, which evaluation also uses),
//! `batch_planner` and `document_preparation` (what inference batches and maps back), `precision` and
//! `runtime_options` (how it runs), `stage_timings` (where the time goes).

mod batch_planner;
mod document_preparation;
mod inference;
mod model_thread;
mod precision;
mod runtime_options;
mod stage_timings;

pub use batch_planner::{plan_batches, plan_decode_groups};
pub use document_preparation::{PreparedDocument, SentenceChunk};
pub(crate) use inference::annotate_sentences;
pub use model_thread::{ModelRuntime, ModelSource};
pub use precision::Precision;
pub use runtime_options::{parse_device, RuntimeOptions};
pub use stage_timings::{Stage, StageTimings};
