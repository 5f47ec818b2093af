use tch::nn::{self, Init};
use tch::{Kind, Tensor};

use super::HeadConfig;
use crate::transition::ActionVocabulary;

/// The action memory's learned parts (model.md §2 steps 2 and the initial state): one embedding per
/// action and the start vector written into the `[CLS]` slot.
#[derive(Debug)]
pub struct ActionMemory {
    action_embeddings: Tensor,
    start_action: Tensor,
}

/// The memory of a batch while it is parsed.
#[derive(Debug)]
pub struct MemoryState {
    /// C: one slot per position of S (B, Q, d).
    pub slots: Tensor,
    /// m: the slot that the next action is written into, per sentence (B), int64.
    pub pointer: Tensor,
}

impl ActionMemory {
    /// Builds `action_embeddings` (|A|, d) and `start_action` (d, zeros) under `p`.
    pub fn new(p: nn::Path<'_>, config: &HeadConfig) -> Self {
        let d = config.hidden_size;
        Self {
            action_embeddings: p.var("action_embeddings", &[config.n_actions, d], Init::Randn { mean: 0.0, stdev: 1.0 }),
            start_action: p.zeros("start_action", &[d]),
        }
    }

    /// The initial state: C = S, the start vector added to slot 0, the pointer on slot 0.
    pub fn begin(&self, sentence: &Tensor) -> MemoryState {
        let (b, q, d) = sentence.size3().expect("S is (B, Q, d)");
        let first_slot = Tensor::zeros([1, q, 1], (sentence.kind(), sentence.device()));
        let first_slot = first_slot.index_fill(1, &Tensor::from_slice(&[0i64]).to_device(sentence.device()), 1.0);
        let slots = sentence + first_slot * self.start_action.view([1, 1, d]).to_kind(sentence.kind());
        MemoryState { slots, pointer: Tensor::zeros([b], (Kind::Int64, sentence.device())) }
    }

    /// The paper's Eq. (2), model.md §2 step 2: `ω = Σ_a softmax(u)_a · keep_a · emb(a)` with
    /// `keep_a = [σ(u_a) ≥ σ(u_SH)]`; (B, d).
    pub fn omega(&self, logits: &Tensor) -> Tensor {
        let shift = logits.select(1, ActionVocabulary::SH as i64).unsqueeze(1);
        let weights = logits.softmax(1, logits.kind()).masked_fill(&logits.lt_tensor(&shift), 0.0);
        weights.matmul(&self.action_embeddings.to_kind(logits.kind()))
    }

    /// Write-back for training: `C[m] += ω`, out of place so that autograd sees it (one copy of C; the
    /// gradient of ω is read at the pointers only). `rows` is `0..B`, made once per batch by the caller.
    pub fn write_back(&self, state: &mut MemoryState, logits: &Tensor, rows: &Tensor) {
        let omega = self.omega(logits).to_kind(state.slots.kind());
        state.slots = state.slots.index_put(&[Some(rows.shallow_clone()), Some(state.pointer.shallow_clone())], &omega, true);
    }

    /// Write-back for inference: `C[m] += ω` in place (B·d values touched, not B·Q·d); returns ω. One
    /// `scatter_add_` along the slots: each row writes one slot, so nothing collides (`index_put_` with
    /// accumulation sorts its indices on CUDA, several kernels a step).
    pub fn write_back_in_place(&self, state: &mut MemoryState, logits: &Tensor) -> Tensor {
        let omega = self.omega(logits).to_kind(state.slots.kind());
        let _ = state.slots.scatter_add_(1, &super::at_pointer(&state.pointer, omega.size()[1]), &omega.unsqueeze(1));
        omega
    }
}
