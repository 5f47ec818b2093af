use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// The stages of annotation, for profiling.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Sentence splitting, word tokenisation and word pieces (caller threads).
    Tokenize,
    /// Padding, index building and host → device copies.
    BatchBuild,
    /// The encoder forward pass.
    Encode,
    /// The head's greedy decoding steps.
    DecodeSteps,
    /// Probabilities → spans (device → host copy and the span decoder).
    SpanDecode,
    /// Spans → character offsets and entity records.
    MapOffsets,
}

impl Stage {
    /// All stages, in pipeline order.
    pub const ALL: [Stage; 6] =
        [Stage::Tokenize, Stage::BatchBuild, Stage::Encode, Stage::DecodeSteps, Stage::SpanDecode, Stage::MapOffsets];
}

/// Accumulated wall time per stage (nanoseconds), shared between threads.
#[derive(Debug, Default)]
pub struct StageTimings {
    nanos: [AtomicU64; 6],
}

impl StageTimings {
    /// Adds time to a stage.
    pub fn add(&self, stage: Stage, elapsed: Duration) {
        self.nanos[stage as usize].fetch_add(elapsed.as_nanos() as u64, Ordering::Relaxed);
    }

    /// Total time of a stage so far.
    pub fn get(&self, stage: Stage) -> Duration {
        Duration::from_nanos(self.nanos[stage as usize].load(Ordering::Relaxed))
    }
}
