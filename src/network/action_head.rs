use tch::nn::{self, Module};
use tch::Tensor;

use super::HeadConfig;

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
    pub fn new(p: nn::Path, config: &HeadConfig) -> Self {
        let d2 = 2 * config.hidden_size;
        Self {
            w1: nn::linear(&p / "w1", d2, d2, Default::default()),
            w2: nn::linear(&p / "w2", d2, config.n_actions, Default::default()),
            dropout: config.dropout_features,
        }
    }

    /// Action logits (B, |A|) from the current word vectors (B, d) and the memory read-out (B, d).
    pub fn forward_t(&self, word: &Tensor, context: &Tensor, train: bool) -> Tensor {
        let features = Tensor::cat(&[word, context], 1).dropout(self.dropout, train);
        self.w2.forward(&self.w1.forward(&features).tanh())
    }
}
