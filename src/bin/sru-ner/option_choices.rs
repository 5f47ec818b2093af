//! Command-line forms of the library's option enums: the library does not depend on clap, so each
//! choice is mirrored here with its help text and converted on use.
use clap::ValueEnum;
use sru_ner::evaluation::EvaluationMode;
use sru_ner::runtime::Precision;

/// `--precision`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PrecisionChoice {
    /// bf16 on a CPU with AVX512-BF16 and on GPUs of compute capability 8.0 or more, fp32 elsewhere;
    /// the command says which.
    Auto,
    /// fp32, as trained.
    Fp32,
    /// bfloat16 weights and activations in the encoder, and on a GPU the head's decoding products too
    /// (faster on GPUs and on CPUs with AVX512-BF16, several times slower on other CPUs); its speed and
    /// its F1 cost on the dev sets are in benches/history.md.
    Bf16,
    /// int8 products in the encoder's linear layers but each feed-forward block's second (CPU only,
    /// fbgemm, needs AVX2); for CPUs without AVX512-BF16. Its speed and its F1 cost on the dev sets
    /// are in benches/history.md.
    Int8,
}

impl PrecisionChoice {
    /// The precision asked for; `None` for `auto`, which the runtime resolves by machine.
    pub fn precision(self) -> Option<Precision> {
        match self {
            PrecisionChoice::Auto => None,
            PrecisionChoice::Fp32 => Some(Precision::Fp32),
            PrecisionChoice::Bf16 => Some(Precision::Bf16),
            PrecisionChoice::Int8 => Some(Precision::Int8),
        }
    }
}

/// `eval --mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum EvaluationModeChoice {
    /// Drop them (the paper's per-corpus evaluation): the corpus never labels them, so they are neither
    /// right nor wrong.
    Disjoint,
    /// Keep them: every prediction counts, so a type outside the corpus's set is a false positive.
    Merged,
}

impl From<EvaluationModeChoice> for EvaluationMode {
    fn from(choice: EvaluationModeChoice) -> Self {
        match choice {
            EvaluationModeChoice::Disjoint => EvaluationMode::Disjoint,
            EvaluationModeChoice::Merged => EvaluationMode::Merged,
        }
    }
}
