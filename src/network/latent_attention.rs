use tch::nn::{self, Module};
use tch::{Kind, Tensor};

use super::HeadConfig;

/// The memory read-out, model.md §2 step 3 (the reference's `AttentionModel`):
///
/// `score_i = max_j (L_j ∘ D1) · (μ C_i + P(i − m))`, padding masked out,
/// `α = softmax_i(score)`, `ctx = Σ_i α_i (C_i ∘ D2)`,
///
/// with J = k·|A| latent vectors L (zeros at start), diagonal scalings D1, D2 (ones at start) and
/// relative-position embeddings P: ids `0..=2h` for offsets `-h..=h`, then one id each for the `[CLS]`
/// slot, out-of-window slots and padding.
#[derive(Debug)]
pub struct LatentAttention {
    latents: Tensor,
    d1: Tensor,
    d2: Tensor,
    positions: nn::Embedding,
    token_multiplier: Tensor,
    half_context: i64,
    dropout_positions: f64,
    dropout_latents: f64,
}

impl LatentAttention {
    /// Builds `latents`, `d1`, `d2`, `positions` and `token_multiplier` under `p`.
    pub fn new(p: nn::Path, config: &HeadConfig) -> Self {
        let d = config.hidden_size;
        let h = config.half_context;
        let n_positions = 2 * h + 4;
        let positions =
            nn::embedding(&p / "positions", n_positions, d, nn::EmbeddingConfig { padding_idx: n_positions - 1, ..Default::default() });
        tch::no_grad(|| {
            let _ = positions.ws.get(n_positions - 1).zero_();
        });
        let token_multiplier = if config.train_token_multiplier {
            p.var("token_multiplier", &[], nn::Init::Const(config.token_multiplier))
        } else {
            Tensor::from(config.token_multiplier).to_kind(Kind::Float).to_device(p.device())
        };
        Self {
            latents: p.zeros("latents", &[config.latents_per_action * config.n_actions, d]),
            d1: p.ones("d1", &[d]),
            d2: p.ones("d2", &[d]),
            positions,
            token_multiplier,
            half_context: h,
            dropout_positions: config.dropout_positions,
            dropout_latents: config.dropout_latents,
        }
    }

    /// Relative position ids (B, Q) of every slot with respect to the pointer `m` (B).
    fn position_ids(&self, slot_mask: &Tensor, pointer: &Tensor) -> Tensor {
        let h = self.half_context;
        let (cls, out_of_window, padding) = (2 * h + 1, 2 * h + 2, 2 * h + 3);
        let q = slot_mask.size()[1];
        let relative = Tensor::arange(q, (Kind::Int64, pointer.device())).unsqueeze(0) - pointer.unsqueeze(1);
        let in_window = relative.abs().le(h);
        let ids = (&relative + h).where_self(&in_window, &Tensor::from(out_of_window).to_device(pointer.device()));
        let ids = ids.index_fill(1, &Tensor::from_slice(&[0i64]).to_device(pointer.device()), cls);
        ids.masked_fill(&slot_mask.eq(0.0), padding)
    }

    /// ctx (B, d) from the memory C (B, Q, d), its slot mask (B, Q) and the pointer m (B).
    pub fn forward_t(&self, slots: &Tensor, slot_mask: &Tensor, pointer: &Tensor, train: bool) -> Tensor {
        let kind = slots.kind();
        let positions = self.positions.forward(&self.position_ids(slot_mask, pointer)).dropout(self.dropout_positions, train);
        let keys = slots * self.token_multiplier.to_kind(kind) + positions.to_kind(kind);
        let latents = (self.latents.dropout(self.dropout_latents, train) * &self.d1).to_kind(kind);
        // (B, Q, J) -> max over the latents j -> (B, Q)
        let (scores, _) = keys.matmul(&latents.tr()).max_dim(2, false);
        let scores = scores.masked_fill(&slot_mask.eq(0.0), -1e12);
        let alpha = scores.softmax(1, kind);
        alpha.unsqueeze(1).bmm(slots).squeeze_dim(1) * self.d2.to_kind(kind)
    }
}
