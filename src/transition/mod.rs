//! The transition system of SRU-NER (model.md §1): nested spans as a sequence of multi-label timesteps
//! of `EOA`, `SH`, `TR(t)` and `RE(t)` actions, and back.

mod action_vocabulary;
mod inner_actions;
mod span_decoder;
mod transition_oracle;

pub use action_vocabulary::{Action, ActionVocabulary};
pub use inner_actions::inner_actions;
pub use span_decoder::{DecodedSpan, SpanDecoder};
pub use transition_oracle::{timesteps_tensor, OracleError, Timestep, TransitionOracle};

/// A labelled span over the words of one sentence: words `start..end` (end exclusive), type index
/// `label` into the model's type set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WordSpan {
    /// First word of the span.
    pub start: usize,
    /// One past the last word of the span.
    pub end: usize,
    /// Index of the span's type in the [`ActionVocabulary`]'s type set.
    pub label: usize,
}
