//! The training job (model.md §3): teacher-forced, single- or multi-task, on corpora from the store.

mod adamw;
mod learning_rate;
mod trainer;
mod training_config;

pub use adamw::{AdamW, AdamWConfig};
pub use learning_rate::LinearWarmupDecay;
pub use trainer::{train, EpochMetrics, TrainRun};
pub use training_config::{CorpusSpec, TrainingConfig};
