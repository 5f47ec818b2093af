//! The training job (model.md §3): teacher-forced, single- or multi-task, on corpora from the store.

mod adamw;
mod batching;
mod learning_rate;
mod trainer;
mod training_config;

pub use adamw::{AdamW, AdamWConfig};
pub use batching::{Batching, CorpusSampler, ExampleId, PlannedBatch, SentenceSampler};
pub use learning_rate::LinearWarmupDecay;
pub use trainer::{train, EpochMetrics, StageShares, StepProfile, StepReport, TrainRun, TrainingEvent, TrainingJob};
pub use training_config::{CorpusSpec, TrainingConfig};
