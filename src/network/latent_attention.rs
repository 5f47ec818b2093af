use tch::nn::{self, Module};
use tch::{Kind, Tensor};

use super::{HeadConfig, PositionDropout};

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
    position_dropout: PositionDropout,
    dropout_latents: f64,
}

impl LatentAttention {
    /// Builds `latents`, `d1`, `d2`, `positions` and `token_multiplier` under `p`.
    pub fn new(p: nn::Path<'_>, config: &HeadConfig) -> Self {
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
            position_dropout: config.position_dropout,
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

    /// The inference form of the read-out for memory `slots` (B, Q, d) (no dropout, so exact by
    /// linearity): `score_i = μ · ((L∘D1)·C_i) + ((L∘D1)·P)[id(i, m)]`. The position half is tabulated
    /// once per batch for every pointer value m, and `(L∘D1)·C` is kept up to date as slots are written
    /// ([`IncrementalReadout::slot_written`]), so a step builds no (B, Q, d) tensor. Padding slots are
    /// masked after the max, so their position id does not matter here.
    pub fn incremental(&self, slots: &Tensor) -> IncrementalReadout {
        let kind = slots.kind();
        let q = slots.size()[1];
        let latents = (&self.latents * &self.d1).to_kind(kind);
        let per_id = self.positions.ws.to_kind(kind).matmul(&latents.tr());
        let all_pointers = Tensor::arange(q, (Kind::Int64, slots.device()));
        let every_slot = Tensor::ones([q, q], (kind, slots.device()));
        let ids = self.position_ids(&every_slot, &all_pointers);
        let j = per_id.size()[1];
        IncrementalReadout {
            position_scores: per_id.index_select(0, &ids.view([-1])).view([q, q, j]),
            latent_scores: slots.matmul(&latents.tr()) * self.token_multiplier.to_kind(kind),
            latents: latents * self.token_multiplier.to_kind(kind),
            context_scale: self.d2.to_kind(kind),
        }
    }

    /// `Σ_i α_i C_i` (B, d) from the incremental read-out, the memory C (B, Q, d), the padding slots
    /// (B, Q, bool: `slot_mask == 0`, computed once per batch) and the pointer m: ctx before its
    /// scaling D2, which [`crate::network::InferenceHead`] folds into its weights.
    pub fn attended_incremental(&self, readout: &IncrementalReadout, slots: &Tensor, padding: &Tensor, pointer: &Tensor) -> Tensor {
        let keys = &readout.latent_scores + readout.position_scores.index_select(0, pointer);
        let scores = keys.amax([2], false).masked_fill(padding, -1e12);
        scores.softmax(1, slots.kind()).unsqueeze(1).bmm(slots).squeeze_dim(1)
    }

    /// ctx (B, d) from the memory C (B, Q, d), its slot mask (B, Q) and the pointer m (B).
    pub fn forward_t(&self, slots: &Tensor, slot_mask: &Tensor, pointer: &Tensor, train: bool) -> Tensor {
        let kind = slots.kind();
        let ids = self.position_ids(slot_mask, pointer);
        let latents = (self.latents.dropout(self.dropout_latents, train) * &self.d1).to_kind(kind).tr();
        // (μ C_i + P_i)·L_j as μ (C_i·L_j) + P_i·L_j: (B, Q, J) products, no (B, Q, d) sum of keys.
        let position_scores = if train && self.dropout_positions > 0.0 && self.position_dropout == PositionDropout::TableRows {
            self.dropped_row_scores(&ids, slots.size()[1], &latents)
        } else {
            self.positions.forward(&ids).dropout(self.dropout_positions, train).to_kind(kind).matmul(&latents)
        };
        let keys = slots.matmul(&latents) * self.token_multiplier.to_kind(kind) + position_scores;
        // (B, Q, J) -> max over the latents j -> (B, Q)
        let (scores, _) = keys.max_dim(2, false);
        let scores = scores.masked_fill(&slot_mask.eq(0.0), -1e12);
        let alpha = scores.softmax(1, kind);
        alpha.unsqueeze(1).bmm(slots).squeeze_dim(1) * self.d2.to_kind(kind)
    }

    /// `dropout(P)(ids)·Lᵀ` (B, Q, J) with [`PositionDropout::TableRows`]: dropout on the rows of P that
    /// position ids (B, Q) of a batch of Q slots can hold (offsets −(Q−1)..=Q−1 within the window, then
    /// the `[CLS]`, out-of-window and padding ids), a (rows, J) product, gathered by id.
    fn dropped_row_scores(&self, ids: &Tensor, q: i64, latents: &Tensor) -> Tensor {
        let h = self.half_context;
        let (low, high) = ((h - (q - 1)).max(0), (h + q - 1).min(2 * h));
        let table = &self.positions.ws;
        let rows = Tensor::cat(&[table.narrow(0, low, high - low + 1), table.narrow(0, 2 * h + 1, 3)], 0);
        let row_scores = rows.dropout(self.dropout_positions, true).to_kind(latents.kind()).matmul(latents);
        // Id → row: offsets in low..=high first, then the three special ids.
        let row_of = (ids - low).where_self(&ids.le(2 * h), &(ids - (2 * h + 1) + (high - low + 1)));
        let (b, j) = (ids.size()[0], row_scores.size()[1]);
        row_scores.index_select(0, &row_of.view([-1])).view([b, q, j])
    }
}

/// State of [`LatentAttention::incremental`] for one batch.
#[derive(Debug)]
pub struct IncrementalReadout {
    /// μ·(L∘D1), (J, d).
    latents: Tensor,
    /// (L∘D1)·P(id(i, m)) for every pointer m and slot i, (Q, Q, J).
    position_scores: Tensor,
    /// μ·(L∘D1)·C_i for every slot, (B, Q, J).
    latent_scores: Tensor,
    /// D2, (d).
    context_scale: Tensor,
}

impl IncrementalReadout {
    /// Keeps only the batch rows `rows` (indices into the current batch).
    pub fn retain(&mut self, rows: &Tensor) {
        self.latent_scores = self.latent_scores.index_select(0, rows);
    }

    /// The read-out's scaling D2 (d): `ctx = attended ∘ D2`.
    pub fn context_scale(&self) -> &Tensor {
        &self.context_scale
    }

    /// Records `C[m] += delta` (delta: (B, d)) for the pointer m of each sentence, with one
    /// `scatter_add_` as in [`crate::network::ActionMemory::write_back_in_place`].
    pub fn slot_written(&mut self, pointer: &Tensor, delta: &Tensor) {
        let update = delta.matmul(&self.latents.tr()).unsqueeze(1);
        let _ = self.latent_scores.scatter_add_(1, &super::at_pointer(pointer, update.size()[2]), &update);
    }
}
