use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::Batching;
use crate::error::{read_to_string, Result, SruNerError};
use crate::model::EncoderReference;
use crate::network::{LinearInit, PositionDropout, ShiftTarget};
use crate::runtime::Precision;

/// One corpus of a training run.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusSpec {
    /// Corpus name in the store.
    pub name: String,
    /// Split to train on.
    #[serde(default = "default_train")]
    pub train: String,
    /// Split for early stopping.
    #[serde(default = "default_dev")]
    pub dev: String,
    /// How often a training sentence is drawn from this corpus relative to the others (1: every
    /// corpus equally often, model.md §3). A corpus that is harder or larger than the others may
    /// deserve more passes, e.g. `weight = 2.0`.
    #[serde(default = "default_corpus_weight")]
    pub weight: f64,
    /// Which mentions the corpus leaves unannotated inside which of its mentions: outer type → inner
    /// types, e.g. `unannotated_inside = { DNA = ["Gene_or_protein"] }` for JNLPBA, which keeps only the
    /// outermost of GENIA's nested mentions, so its "CXCR1 gene" is one DNA mention with no gene name
    /// inside. There, the inner types' actions are foreign (model.md §3). Outer types may be types the
    /// model does not have (BioNLP13PC's `Complex`); inner ones must be the run's. Empty by default:
    /// what the corpus does not annotate inside its mentions is a negative.
    #[serde(default)]
    pub unannotated_inside: BTreeMap<String, Vec<String>>,
}

fn default_corpus_weight() -> f64 {
    1.0
}

fn default_train() -> String {
    "train".into()
}
fn default_dev() -> String {
    "dev".into()
}

/// `pipelines/<name>.toml`: what to train and how. Paths are relative to the working directory.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainingConfig {
    /// Model name written into the manifest.
    pub name: String,
    /// The corpus store.
    pub store: PathBuf,
    /// Where the model directory goes (the best epoch); checkpoints go to `<output>/checkpoint`.
    pub output: PathBuf,
    /// Base encoder.
    #[serde(default = "default_encoder")]
    pub encoder: EncoderReference,
    /// A trained model directory whose weights (encoder and head) start the run instead of a fresh
    /// head; its types must be the config's, or their first ones (the head's rows for the types it
    /// lacks start fresh). Ignored when `--resume` finds a checkpoint.
    pub init_from: Option<PathBuf>,
    /// The corpora; several make a multi-task run.
    pub corpora: Vec<CorpusSpec>,
    /// The shared type set in action order [default: the corpora's declared types in order].
    #[serde(default)]
    pub types: Vec<String>,
    /// Seed of the head's initialisation and of sampling.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// Epochs; the learning rates decay to zero over them.
    #[serde(default = "default_epochs")]
    pub epochs: usize,
    /// Sentences per epoch [default: the mean corpus size, model.md §3].
    pub epoch_sentences: Option<usize>,
    /// Sentences per step (16).
    #[serde(default = "default_batch")]
    pub batch_size: usize,
    /// Peak learning rate of the encoder.
    #[serde(default = "default_encoder_lr")]
    pub encoder_lr: f64,
    /// Peak learning rate of the head.
    #[serde(default = "default_head_lr")]
    pub head_lr: f64,
    /// Linear warm-up of the encoder's learning rate, in epochs.
    #[serde(default = "default_encoder_warmup")]
    pub encoder_warmup_epochs: f64,
    /// Linear warm-up of the head's learning rate, in epochs.
    #[serde(default = "default_head_warmup")]
    pub head_warmup_epochs: f64,
    /// AdamW's decoupled weight decay (1e-3).
    #[serde(default = "default_weight_decay")]
    pub weight_decay: f64,
    /// Largest global gradient norm (1.0).
    #[serde(default = "default_clip")]
    pub gradient_clip: f64,
    /// Stop after this many epochs without a better dev F1.
    #[serde(default = "default_patience")]
    pub patience: usize,
    /// Keep the word-embedding table fixed (smaller model directories: only changed tensors are saved).
    #[serde(default = "default_true")]
    pub freeze_word_embeddings: bool,
    /// k, latent vectors per action (2; 10 for GENIA).
    #[serde(default = "default_latents")]
    pub latents_per_action: i64,
    /// μ, the memory's weight against the position embeddings in the read-out (1; 10 for GENIA).
    #[serde(default = "default_token_multiplier")]
    pub token_multiplier: f64,
    /// Learn μ (model.md §2: trainable for GENIA).
    #[serde(default)]
    pub train_token_multiplier: bool,
    /// h: relative positions within ±h memory slots of the pointer get their own embedding (150; the
    /// authors' GENIA setting is wider).
    #[serde(default = "default_half_context")]
    pub half_context: i64,
    /// How the head's W1 and W2 are initialised: `kaiming` (tch's default) or `torch` (PyTorch's
    /// `nn.Linear` default, as in the reference code). See [`LinearInit`].
    #[serde(default)]
    pub linear_init: LinearInit,
    /// Memory bound of one forward pass: a batch whose padded size (sentences × memory slots × gold
    /// timesteps of its longest) is larger is run as several micro-batches whose gradients add up to
    /// the batch's. About 12 KB of activations per cell at d = 384.
    #[serde(default = "default_micro_batch_cells")]
    pub micro_batch_cells: usize,
    /// How the position embeddings' dropout draws its masks (`table_rows`; `elements`: the reference's
    /// and an older trainer's). See [`PositionDropout`].
    #[serde(default = "default_position_dropout")]
    pub position_dropout: PositionDropout,
    /// How sampled sentences are grouped into batches (`length_sorted`; `sampled`: an older
    /// trainer's, kept for comparison).
    #[serde(default)]
    pub batching: Batching,
    /// With `length_sorted`: batches per pool that is sorted by length (32).
    #[serde(default = "default_sort_pool_batches")]
    pub sort_pool_batches: usize,
    /// The encoder's compute precision while training: `fp32`, or `bf16` (mixed precision: bf16
    /// activations and matrix products, fp32 master weights, gradients and AdamW moments; worth it on
    /// CPUs with AVX512-BF16 or AMX, and on GPUs). The head is always fp32.
    #[serde(default)]
    pub encoder_precision: Precision,
    /// The target of a gold `SH` in a corpus that leaves some of the run's types unannotated: `soft`
    /// (the default: 1 minus the model's largest probability for a foreign action there) or `hard` (the
    /// paper's 1). Single-task runs are the same either way. See [`ShiftTarget`].
    #[serde(default)]
    pub shift_target: ShiftTarget,
    /// How often a training sentence without any gold mention is drawn, relative to one with a mention
    /// (1: every sentence of a corpus equally, as model.md §3; 0.25: a quarter as often). Linnaeus,
    /// for one, has a mention in only 13 % of its sentences.
    #[serde(default = "default_empty_sentence_weight")]
    pub empty_sentence_weight: f64,
    /// Use at most this many training sentences per corpus (the first ones): for quick runs and tests.
    pub max_train_sentences: Option<usize>,
    /// Use at most this many dev sentences per corpus, evenly spaced over the dev split (its first ones
    /// are a few documents only).
    pub max_dev_sentences: Option<usize>,
}

fn default_encoder() -> EncoderReference {
    EncoderReference::Default
}
fn default_seed() -> u64 {
    42
}
fn default_epochs() -> usize {
    10
}
fn default_batch() -> usize {
    16
}
fn default_encoder_lr() -> f64 {
    2e-5
}
fn default_head_lr() -> f64 {
    3e-4
}
fn default_encoder_warmup() -> f64 {
    1.0
}
fn default_head_warmup() -> f64 {
    0.5
}
fn default_weight_decay() -> f64 {
    1e-3
}
fn default_clip() -> f64 {
    1.0
}
fn default_patience() -> usize {
    3
}
fn default_true() -> bool {
    true
}
fn default_micro_batch_cells() -> usize {
    250_000
}
fn default_token_multiplier() -> f64 {
    1.0
}
fn default_half_context() -> i64 {
    150
}
fn default_position_dropout() -> PositionDropout {
    PositionDropout::TableRows
}
fn default_sort_pool_batches() -> usize {
    32
}
fn default_empty_sentence_weight() -> f64 {
    1.0
}
fn default_latents() -> i64 {
    2
}

impl TrainingConfig {
    /// Reads and checks a TOML file.
    pub fn from_file(path: &Path) -> Result<Self> {
        let config: Self =
            toml::from_str(&read_to_string(path)?).map_err(|e| SruNerError::Config { path: path.to_path_buf(), reason: e.to_string() })?;
        let invalid = |reason: &str| Err(SruNerError::Config { path: path.to_path_buf(), reason: reason.into() });
        if config.corpora.is_empty() {
            return invalid("no [[corpora]]");
        }
        if config.batch_size == 0 || config.epochs == 0 {
            return invalid("batch_size and epochs must be positive");
        }
        if !(config.empty_sentence_weight.is_finite() && config.empty_sentence_weight > 0.0) {
            return invalid("empty_sentence_weight must be a positive number");
        }
        if config.half_context < 1 {
            return invalid("half_context must be at least 1");
        }
        if config.encoder_precision == Precision::Int8 {
            return invalid("encoder_precision = \"int8\" serves inference only; train in fp32 or bf16");
        }
        for corpus in &config.corpora {
            let unknown = corpus.unannotated_inside.values().flatten().find(|t| !config.types.is_empty() && !config.types.contains(t));
            if let Some(t) = unknown {
                return invalid(&format!("corpus {}: unannotated_inside names {t}, which is not in types", corpus.name));
            }
        }
        if let Some(corpus) = config.corpora.iter().find(|c| !(c.weight.is_finite() && c.weight > 0.0)) {
            return invalid(&format!("corpus {}: weight must be a positive number, not {}", corpus.name, corpus.weight));
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(extra: &str) -> Result<TrainingConfig> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.toml");
        let text = format!("name = \"n\"\nstore = \"s\"\noutput = \"o\"\n{extra}\n[[corpora]]\nname = \"c\"\n");
        std::fs::write(&path, text).unwrap();
        TrainingConfig::from_file(&path)
    }

    #[test]
    fn soft_shift_targets_and_uniform_sentences_by_default() {
        let config = read("").unwrap();
        assert_eq!(config.shift_target, ShiftTarget::Soft);
        assert_eq!(config.empty_sentence_weight, 1.0);
        assert_eq!(read("shift_target = \"hard\"").unwrap().shift_target, ShiftTarget::Hard);
    }

    #[test]
    fn head_keys_default_to_the_paper_and_parse() {
        let config = read("").unwrap();
        assert_eq!((config.half_context, config.linear_init), (150, LinearInit::Kaiming));
        let config = read("half_context = 240\nlinear_init = \"torch\"").unwrap();
        assert_eq!((config.half_context, config.linear_init), (240, LinearInit::Torch));
    }

    #[test]
    fn unannotated_inside_maps_outer_types_to_inner_ones() {
        let config = read("[[corpora]]\nname = \"jnlpba\"\nunannotated_inside = { DNA = [\"Gene\"], RNA = [\"Gene\"] }").unwrap();
        // `read` puts the extra text before its own corpus "c", which says nothing.
        assert!(config.corpora[1].unannotated_inside.is_empty());
        let jnlpba = &config.corpora[0].unannotated_inside;
        assert_eq!(jnlpba.keys().collect::<Vec<_>>(), ["DNA", "RNA"]);
        assert_eq!(jnlpba["DNA"], ["Gene"]);
        let error = read("[[corpora]]\nname = \"j\"\nunannotated_inside = [\"DNA\"]").unwrap_err().to_string();
        assert!(error.contains("unannotated_inside"), "{error}");
    }

    #[test]
    fn bad_values_are_errors_naming_the_file() {
        let cases = [
            ("empty_sentence_weight = 0.0", "empty_sentence_weight"),
            ("empty_sentence_weight = -1.0", "empty_sentence_weight"),
            ("shift_target = \"firm\"", "firm"),
            ("half_context = 0", "half_context"),
            ("linear_init = \"xavier\"", "xavier"),
            ("[[corpora]]\nname = \"c\"\nweight = 0.0", "corpus c: weight"),
            ("[[corpora]]\nname = \"c\"\nweight = -2.0", "corpus c: weight"),
            ("encoder_precision = \"int8\"", "inference only"),
            ("types = [\"A\"]\n[[corpora]]\nname = \"j\"\nunannotated_inside = { DNA = [\"B\"] }", "corpus j: unannotated_inside names B"),
        ];
        for (extra, named) in cases {
            let error = read(extra).unwrap_err().to_string();
            assert!(error.contains("run.toml"), "{extra}: {error}");
            assert!(error.contains(named), "{extra}: {error}");
        }
    }
}
