use tch::nn::{self, Module};
use tch::Tensor;

use super::{HeadConfig, LinearInit};

/// The action scorer, model.md §2 step 1: `u = W2 tanh(W1 dropout([S_w ; ctx]))`, W1: 2d → 2d,
/// W2: 2d → |A| (the reference's `PredictionModel.mlp`).
#[derive(Debug)]
pub struct ActionHead {
    w1: nn::Linear,
    w2: nn::Linear,
    dropout: f64,
}

impl ActionHead {
    /// Builds `w1` and `w2` under `p`.
    pub fn new(p: nn::Path<'_>, config: &HeadConfig) -> Self {
        let d2 = 2 * config.hidden_size;
        let init = |fan_in: i64| match config.linear_init {
            LinearInit::Kaiming => nn::LinearConfig::default(),
            LinearInit::Torch => {
                let bound = 1.0 / (fan_in as f64).sqrt();
                nn::LinearConfig { ws_init: nn::Init::Uniform { lo: -bound, up: bound }, ..Default::default() }
            }
        };
        Self {
            w1: nn::linear(&p / "w1", d2, d2, init(d2)),
            w2: nn::linear(&p / "w2", d2, config.n_actions, init(d2)),
            dropout: config.dropout_features,
        }
    }

    /// Action logits (B, |A|) from the current word vectors (B, d) and the memory read-out (B, d).
    pub fn forward_t(&self, word: &Tensor, context: &Tensor, train: bool) -> Tensor {
        let features = Tensor::cat(&[word, context], 1).dropout(self.dropout, train);
        self.w2.forward(&self.w1.forward(&features).tanh())
    }

    /// Inference only: the head prepared for a batch S (B, Q, d): the word half of
    /// `W1 [S_w ; ctx] + b1` for every slot, and contiguous transposed weights for the rest, so a step costs
    /// one (B, d)·(d, 2d) product and the W2 product. `context_scale` (d) is the read-out's diagonal
    /// scaling D2 (`ctx = attended ∘ D2`), folded into W1's context half so that a step passes the
    /// attention-weighted memory itself.
    pub fn for_inference(&self, sentence: &Tensor, context_scale: &Tensor) -> InferenceHead {
        let (d, kind) = (sentence.size()[2], sentence.kind());
        let w1 = self.w1.ws.to_kind(kind);
        let word_halves = sentence.matmul(&w1.narrow(1, 0, d).tr());
        let word_halves = match &self.w1.bs {
            Some(bias) => word_halves + bias.to_kind(kind),
            None => word_halves,
        };
        InferenceHead {
            word_halves,
            w1_context: (w1.narrow(1, d, d).tr() * context_scale.to_kind(kind).view([d, 1])).contiguous(),
            w2: self.w2.ws.to_kind(kind).tr().contiguous(),
            b2: self.w2.bs.as_ref().map(|bias| bias.to_kind(kind)),
        }
    }
}

/// [`ActionHead`] prepared for one batch by [`ActionHead::for_inference`].
#[derive(Debug)]
pub struct InferenceHead {
    /// `W1[:, :d] S_i + b1` for every slot, (B, Q, 2d).
    pub word_halves: Tensor,
    /// `diag(D2) W1[:, d:]ᵀ`, (d, 2d).
    w1_context: Tensor,
    w2: Tensor,
    b2: Option<Tensor>,
}

impl InferenceHead {
    /// Keeps only the batch rows `rows` (indices into the current batch).
    pub fn retain(&mut self, rows: &Tensor) {
        self.word_halves = self.word_halves.index_select(0, rows);
    }

    /// Logits from the word halves at the pointers (B, 2d) and the attention-weighted memory before
    /// D2 (B, d); equal to [`ActionHead::forward_t`] without dropout. Two fused products (`addmm`) and
    /// a tanh: three kernels a step.
    pub fn forward(&self, word_half: &Tensor, attended: &Tensor) -> Tensor {
        let hidden = word_half.addmm(attended, &self.w1_context).tanh();
        match &self.b2 {
            Some(bias) => bias.addmm(&hidden, &self.w2),
            None => hidden.matmul(&self.w2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::{nn::VarStore, Device};

    /// The largest |weight| of W1 and W2 as a multiple of 1/√fan_in.
    fn widest_weight(linear_init: LinearInit) -> f64 {
        let config = HeadConfig { linear_init, ..HeadConfig::new(64, 2) };
        let store = VarStore::new(Device::Cpu);
        let head = ActionHead::new(store.root(), &config);
        let scale = (2.0 * 64.0f64).sqrt();
        [&head.w1.ws, &head.w2.ws].iter().map(|w| w.abs().max().double_value(&[]) * scale).fold(0.0, f64::max)
    }

    #[test]
    fn torch_init_stays_within_one_over_root_fan_in_and_kaiming_does_not() {
        // W1 alone has 128 × 128 uniform draws, so each maximum lies within 0.1 % of its bound.
        let torch = widest_weight(LinearInit::Torch);
        assert!((0.99..=1.0).contains(&torch), "torch: {torch}");
        let kaiming = widest_weight(LinearInit::Kaiming);
        assert!((2.4..=6f64.sqrt()).contains(&kaiming), "kaiming: {kaiming}");
    }
}
