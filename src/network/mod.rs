//! The SRU-NER head (model.md §2): the action memory ("slot-based recurrent unit"), its latent
//! attention read-out, and the MLP that scores actions, driven step by step by [`SruParser`].

mod action_head;
mod action_memory;
mod gold_actions;
mod latent_attention;
mod sru_parser;

pub use action_head::{ActionHead, InferenceHead};
pub use action_memory::{ActionMemory, MemoryState};
pub use gold_actions::GoldActions;
pub use latent_attention::{IncrementalReadout, LatentAttention};
pub use sru_parser::{GreedyDecoding, SruParser, TeacherForcedOutput};

use serde::{Deserialize, Serialize};
use tch::Tensor;

/// The index of slot `pointer[b]` in each sentence of a (B, Q, `width`) tensor, as (B, 1, `width`):
/// for `gather` and `scatter_add_` along the slots.
fn at_pointer(pointer: &Tensor, width: i64) -> Tensor {
    pointer.view([-1, 1, 1]).expand([-1, 1, width], false)
}

/// How the dropout on the position embeddings P draws its masks at a training timestep.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PositionDropout {
    /// A mask for every element of the gathered `P(i − m)` (B, Q, d), as the reference implementation
    /// does: B·Q·d random numbers per timestep, which cost half of a CPU training step's head time.
    #[default]
    Elements,
    /// A mask for every element of the rows of P that the timestep can read (offsets within the
    /// batch's longest sentence, and the special ids), shared by the batch's sentences. Within one
    /// sentence every slot and every timestep still gets its own mask, as with `elements`; only
    /// sentences of the same batch at the same timestep share them. About (2Q + 3)·d random numbers
    /// per timestep, and the position half of the scores becomes a (rows, J) product that is gathered.
    TableRows,
}

/// How the head's two linear layers W1 and W2 draw their initial weights (biases are uniform in
/// ±1/√fan_in either way). Only a fresh head is affected; a loaded model keeps its weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinearInit {
    /// tch's default: Kaiming-uniform with the ReLU gain, bound √(6 / fan_in), about 2.45× PyTorch's.
    #[default]
    Kaiming,
    /// PyTorch's `nn.Linear` default, which the authors' reference code gets: bound 1/√fan_in.
    Torch,
}

/// The target of a gold `SH` in a sentence whose corpus leaves some types unannotated (multi-task
/// training; with every type annotated both give 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShiftTarget {
    /// The paper's: 1, unless the shift is deferred because a foreign action is more probable.
    Hard,
    /// 1 − p, where p is the largest probability the model gives (detached) to a foreign action at that
    /// timestep: a gold `SH` is only as certain as the model's belief that no mention of an
    /// unannotated type opens or closes there. A departure from the paper (model.md §5): with
    /// `hard`, every mention of a type its corpus does not annotate is a shift with target 1, which
    /// teaches the decoder to prefer `SH` over that type's actions (e.g. "patients", a Species mention
    /// in Linnaeus, is an unannotated word in every other corpus). Deferral is unchanged. The default:
    /// at equal budget it won on dev both for the synthetic BC5CDR halves and for the multi-task
    /// default (experiments/README.md).
    #[default]
    Soft,
}

/// Hyper-parameters of the head; stored in a model directory's manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeadConfig {
    /// d: the encoder's hidden size.
    pub hidden_size: i64,
    /// |A| = 2 + 2|E|.
    pub n_actions: i64,
    /// k: latent vectors per action, J = k·|A| (2; 10 for GENIA).
    pub latents_per_action: i64,
    /// Relative positions within ±this many slots of the pointer get their own embedding (150).
    pub half_context: i64,
    /// μ, the token multiplier of the attention keys (1; 10 and trainable for GENIA).
    pub token_multiplier: f64,
    /// Whether μ is learned.
    pub train_token_multiplier: bool,
    /// How W1 and W2 are initialised (absent from older manifests: `kaiming`).
    #[serde(default)]
    pub linear_init: LinearInit,
    /// Dropout before W1 (0.1).
    pub dropout_features: f64,
    /// Dropout on the position embeddings P (0.2).
    pub dropout_positions: f64,
    /// How that dropout's masks are drawn in training (absent from older manifests: `elements`).
    #[serde(default)]
    pub position_dropout: PositionDropout,
    /// Dropout on the latent vectors L (0.2).
    pub dropout_latents: f64,
    /// Greedy decoding stops after `ceil(factor · (N + 2))` timesteps if no `EOA` came (1.5).
    pub max_steps_factor: f64,
}

impl HeadConfig {
    /// The paper's defaults for an encoder of width `hidden_size` and `n_types` entity types.
    pub fn new(hidden_size: i64, n_types: usize) -> Self {
        Self {
            hidden_size,
            n_actions: 2 + 2 * n_types as i64,
            latents_per_action: 2,
            half_context: 150,
            token_multiplier: 1.0,
            train_token_multiplier: false,
            linear_init: LinearInit::Kaiming,
            dropout_features: 0.1,
            dropout_positions: 0.2,
            position_dropout: PositionDropout::TableRows,
            dropout_latents: 0.2,
            max_steps_factor: 1.5,
        }
    }
}
