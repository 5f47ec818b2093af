//! What a training run reports: the events a caller draws progress from, each epoch's metrics line,
//! and where a step's time went.
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// One line of `<output>/metrics.jsonl`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// The epoch, counted from 1.
    pub epoch: usize,
    /// Optimizer steps in the epoch.
    pub steps: usize,
    /// Mean training loss over the epoch's steps.
    pub train_loss: f64,
    /// Dev F1 per corpus (disjoint mode), then their mean weighted by gold mentions.
    pub dev_f1: Vec<(String, f64)>,
    /// The mention-weighted mean of `dev_f1`: what picks the best epoch.
    pub dev_f1_weighted: f64,
    /// Wall time of the epoch, dev evaluation included.
    pub seconds: f64,
    /// Whether this epoch was the best so far (and saved as the model directory).
    pub best: bool,
    /// Training sentences per second of the epoch's steps (dev evaluation left out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub training_sentences_per_second: Option<f64>,
    /// Share of the steps' time per stage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage_shares: Option<StageShares>,
}

/// Share of a training epoch's step time per stage (they add up to 1).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StageShares {
    /// Building the batch tensors.
    pub prepare: f64,
    /// The encoder's forward pass.
    pub encoder_forward: f64,
    /// The head's teacher-forced pass and the loss.
    pub head_forward: f64,
    /// Back-propagation through head and encoder.
    pub backward: f64,
    /// Gradient clipping and the AdamW update.
    pub optimizer: f64,
}

/// What the training job reports while it runs, for the caller to draw progress from.
#[derive(Debug)]
pub enum TrainingEvent<'a> {
    /// An epoch starts.
    EpochStarted {
        /// The epoch, counted from 1.
        epoch: usize,
        /// Epochs in the run's schedule.
        epochs: usize,
        /// Steps in this epoch.
        steps: usize,
    },
    /// A step of the epoch is done.
    Step {
        /// The epoch, counted from 1.
        epoch: usize,
        /// The step, counted from 1.
        step: usize,
        /// Steps in this epoch.
        steps: usize,
        /// The epoch's mean training loss so far.
        mean_loss: f64,
        /// Training sentences per second so far in this epoch.
        sentences_per_second: f64,
    },
    /// The epoch is done: dev scored, its metrics line appended, checkpoint (and best model) saved.
    EpochFinished(&'a EpochMetrics),
}

/// Where the time of training steps went (summed over steps).
#[derive(Debug, Clone, Copy, Default)]
pub struct StepProfile {
    /// Sampling's result into tensors: padded word pieces, gold timesteps, foreign masks.
    pub prepare: Duration,
    /// Encoder forward and word pooling.
    pub encoder_forward: Duration,
    /// The head's teacher-forced steps and the loss.
    pub head_forward: Duration,
    /// Back-propagation through head and encoder.
    pub backward: Duration,
    /// Gradient clipping and the AdamW update.
    pub optimizer: Duration,
}

impl StepProfile {
    /// The time of all stages.
    pub fn total(&self) -> Duration {
        self.prepare + self.encoder_forward + self.head_forward + self.backward + self.optimizer
    }
}

impl std::ops::AddAssign for StepProfile {
    fn add_assign(&mut self, other: StepProfile) {
        self.prepare += other.prepare;
        self.encoder_forward += other.encoder_forward;
        self.head_forward += other.head_forward;
        self.backward += other.backward;
        self.optimizer += other.optimizer;
    }
}

/// What one training step did.
#[derive(Debug, Clone, Copy)]
pub struct StepReport {
    /// The batch's loss (mean over its counted timesteps).
    pub loss: f64,
    /// Sentences in the batch.
    pub sentences: usize,
    /// Word pieces in the batch, `[CLS]` and `[SEP]` included, padding not.
    pub tokens: usize,
    /// Where its time went.
    pub profile: StepProfile,
}
