use tch::{Device, Kind, Tensor};

use crate::transition::{timesteps_tensor, Timestep};

/// What the teacher-forced pass ([`super::SruParser::forward_teacher_forced`], model.md §3) is forced
/// along: a batch's gold timesteps and, per sentence, the actions of types its corpus does not annotate.
///
/// ```
/// use sru_ner::network::GoldActions;
/// use tch::Device;
/// // |A| = 4 (SH, EOA, TR(A), RE(A)): one sentence of two gold timesteps, one of three.
/// let first: Vec<Vec<usize>> = vec![vec![2], vec![0]];
/// let second: Vec<Vec<usize>> = vec![vec![0], vec![0], vec![1]];
/// let gold = GoldActions::fully_annotated(&[first.as_slice(), second.as_slice()], 4, Device::Cpu);
/// assert_eq!(gold.timesteps.size(), [2, 3, 4]);
/// assert_eq!(gold.lengths, [2, 3]);
/// assert_eq!(gold.foreign.sum(tch::Kind::Float).double_value(&[]), 0.0);
/// ```
#[derive(Debug)]
pub struct GoldActions {
    /// (B, G, |A|), G the longest sequence: 1.0 where an action is gold at a timestep; the rows past a
    /// sentence's length are zero.
    pub timesteps: Tensor,
    /// How many of its G timesteps are real, per sentence.
    pub lengths: Vec<usize>,
    /// (B, |A|): 1.0 for the `TR`/`RE` actions of types the sentence's corpus does not annotate.
    pub foreign: Tensor,
    /// (B, G, |A|), when some sentence's corpus leaves mentions unannotated inside its own
    /// (`unannotated_inside`): 1.0 for the actions that would open or close such a mention inside a
    /// gold one at that timestep ([`crate::transition::inner_actions`]); foreign there as the rows of
    /// `foreign` are everywhere.
    pub inner: Option<Tensor>,
}

impl GoldActions {
    /// Gold `sequences` of sentences whose corpora annotate every type (single-task training, the
    /// action probe): no action is foreign.
    pub fn fully_annotated(sequences: &[&[Timestep]], n_actions: usize, device: Device) -> Self {
        let foreign = Tensor::zeros([sequences.len() as i64, n_actions as i64], (Kind::Float, device));
        Self::with_foreign_rows(sequences, n_actions, foreign)
    }

    /// Gold `sequences` with `foreign`, |A| values per sentence in the order of `sequences` (1.0 for a
    /// foreign action, else 0.0).
    ///
    /// # Panics
    /// When `foreign` does not hold `sequences.len()` × `n_actions` values.
    pub fn with_foreign(sequences: &[&[Timestep]], n_actions: usize, foreign: &[f32], device: Device) -> Self {
        assert_eq!(foreign.len(), sequences.len() * n_actions, "one row of {n_actions} foreign flags per sentence");
        let foreign = Tensor::from_slice(foreign).view([sequences.len() as i64, n_actions as i64]).to_device(device);
        Self::with_foreign_rows(sequences, n_actions, foreign)
    }

    fn with_foreign_rows(sequences: &[&[Timestep]], n_actions: usize, foreign: Tensor) -> Self {
        let device = foreign.device();
        Self {
            timesteps: timesteps_tensor(sequences, n_actions).to_device(device),
            lengths: sequences.iter().map(|s| s.len()).collect(),
            foreign,
            inner: None,
        }
    }

    /// The same gold actions, with `inner`: per sentence and gold timestep (in the order and lengths of
    /// the gold sequences), the actions that are unknown there because they would nest a mention the
    /// corpus leaves unannotated inside a gold one.
    ///
    /// # Panics
    /// When a sentence's `inner` sequence is not as long as its gold sequence.
    pub fn with_inner(mut self, inner: &[&[Timestep]]) -> Self {
        assert!(inner.iter().map(|s| s.len()).eq(self.lengths.iter().copied()), "one inner row per gold timestep of every sentence");
        let n_actions = self.foreign.size()[1];
        self.inner = Some(timesteps_tensor(inner, n_actions as usize).to_device(self.foreign.device()));
        self
    }
}
