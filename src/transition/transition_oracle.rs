use super::{Action, ActionVocabulary, WordSpan};

/// One timestep: the set of action indices that are gold at that step (a 0/1 row over A).
pub type Timestep = Vec<usize>;

/// Builds the gold timestep sequence of a sentence from its spans (model.md §1).
///
/// Boundary by boundary, `b = 0..=N` (b words already shifted): `RE(t)` of every span ending at b,
/// shortest first (inner spans close before outer ones); `TR(t)` of every span starting at b, longest
/// first (outer spans open before inner ones); `SH` if `b < N`; `EOA` after the last boundary. Ties are
/// broken by type index. Consecutive `TR`/`RE` actions with distinct indices share a timestep; a repeated
/// index starts a new one; `SH` and `EOA` are timesteps of their own.
#[derive(Debug, Clone, Copy)]
pub struct TransitionOracle<'a> {
    vocabulary: &'a ActionVocabulary,
}

/// Why a span set has no gold action sequence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OracleError {
    /// The span is empty or reaches past the sentence.
    #[error("span {start}..{end} does not fit a sentence of {n_words} words")]
    SpanOutOfRange {
        /// First word of the span.
        start: usize,
        /// One past the span's last word.
        end: usize,
        /// Words in the sentence.
        n_words: usize,
    },
    /// The span's type is not in the vocabulary.
    #[error("span type {label} is not in the type set ({n_types} types)")]
    UnknownType {
        /// The span's type index.
        label: usize,
        /// Types in the type set.
        n_types: usize,
    },
}

impl<'a> TransitionOracle<'a> {
    /// An oracle over this vocabulary.
    pub fn new(vocabulary: &'a ActionVocabulary) -> Self {
        Self { vocabulary }
    }

    /// The gold timesteps for `spans` over a sentence of `n_words` words. Duplicate spans (same
    /// boundaries and type) count once: the system cannot express two of them.
    pub fn timesteps(&self, spans: &[WordSpan], n_words: usize) -> Result<Vec<Timestep>, OracleError> {
        let n_types = self.vocabulary.types().len();
        for s in spans {
            if s.start >= s.end || s.end > n_words {
                return Err(OracleError::SpanOutOfRange { start: s.start, end: s.end, n_words });
            }
            if s.label >= n_types {
                return Err(OracleError::UnknownType { label: s.label, n_types });
            }
        }
        let mut spans = spans.to_vec();
        spans.sort();
        spans.dedup();

        let mut actions = Vec::with_capacity(2 * spans.len() + n_words + 1);
        for b in 0..=n_words {
            let mut ending: Vec<&WordSpan> = spans.iter().filter(|s| s.end == b).collect();
            ending.sort_by_key(|s| (s.end - s.start, s.label));
            actions.extend(ending.iter().map(|s| Action::Reduce(s.label)));
            let mut starting: Vec<&WordSpan> = spans.iter().filter(|s| s.start == b).collect();
            starting.sort_by_key(|s| (std::cmp::Reverse(s.end - s.start), s.label));
            actions.extend(starting.iter().map(|s| Action::Open(s.label)));
            actions.push(if b < n_words { Action::Shift } else { Action::EndOfActions });
        }
        Ok(self.group(&actions))
    }

    /// Packs a single-label action sequence into multi-label timesteps.
    fn group(&self, actions: &[Action]) -> Vec<Timestep> {
        let mut timesteps: Vec<Timestep> = Vec::with_capacity(actions.len());
        let mut open_group = false;
        for &action in actions {
            let index = self.vocabulary.index(action);
            match action {
                Action::Shift | Action::EndOfActions => {
                    timesteps.push(vec![index]);
                    open_group = false;
                }
                Action::Open(_) | Action::Reduce(_) => match timesteps.last_mut() {
                    Some(step) if open_group && !step.contains(&index) => step.push(index),
                    _ => {
                        timesteps.push(vec![index]);
                        open_group = true;
                    }
                },
            }
        }
        timesteps
    }
}

/// Gold timestep sequences of a batch as a 0/1 tensor (B, G, |A|), G the longest sequence; shorter
/// sequences are padded with all-zero rows.
pub fn timesteps_tensor(sequences: &[&[Timestep]], n_actions: usize) -> tch::Tensor {
    let g = sequences.iter().map(|s| s.len()).max().unwrap_or(0);
    let mut rows = vec![0f32; sequences.len() * g * n_actions];
    for (b, sequence) in sequences.iter().enumerate() {
        for (t, actions) in sequence.iter().enumerate() {
            for &action in actions {
                rows[(b * g + t) * n_actions + action] = 1.0;
            }
        }
    }
    tch::Tensor::from_slice(&rows).view([sequences.len() as i64, g as i64, n_actions as i64])
}
