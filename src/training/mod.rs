//! The training job (model.md §3): teacher-forced, single- or multi-task, on corpora from the store.
//!
//! The parts: `training_config` (the TOML), `training_corpora` (sentences to gold timesteps and loss
//! masks), `batching` and `learning_rate` (what each step sees, at what rate), `warm_start` (the model
//! a run starts from), `gradients` (one step's loss and back-propagation), `adamw`, `checkpoint` (what
//! a resumed run reads), `training_events` (what a run reports), and `trainer` (the loop).

mod adamw;
mod batching;
mod checkpoint;
mod gradients;
mod learning_rate;
mod trainer;
mod training_config;
mod training_corpora;
mod training_events;
mod warm_start;

pub use adamw::{AdamW, AdamWConfig};
pub use batching::{Batching, ExampleId, PlannedBatch};
pub(crate) use learning_rate::LinearWarmupDecay;
pub use trainer::{train, TrainRun, TrainingJob};
pub use training_config::{CorpusSpec, TrainingConfig};
pub use training_events::{EpochMetrics, StageShares, StepProfile, StepReport, TrainingEvent};
