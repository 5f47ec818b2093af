//! The model options shared by the commands that serve a model (`annotate`, `sql`).
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use sru_ner::runtime::{parse_device, ModelRuntime, ModelSource, Precision, RuntimeOptions};
use tch::Device;

use crate::option_choices::PrecisionChoice;

/// Which model serves, and on what.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// Model directory [default: the committed default model, models/default].
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Device: auto, cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    pub device: String,
    /// Most tokens per encoder batch.
    #[arg(long, default_value_t = 8192)]
    pub token_budget: usize,
    /// libtorch threads [default: one per core].
    #[arg(long)]
    pub threads: Option<i32>,
    /// Encoder precision. auto: bf16 on a CPU with AVX512-BF16 (about 1.6× as fast there) and on GPUs
    /// of compute capability 8.0 or more (Ampere and newer), fp32 elsewhere: on a CPU without
    /// AVX512-BF16, bf16 took 4.5× as long. The command says which it picked. F1 is within 0.1 point
    /// either way (benches/history.md). On a GPU, bf16 covers the head's decoding products too. int8
    /// (CPU only, never picked by auto): int8 products in most of the encoder's linear layers, about
    /// 1.2× as fast as fp32 on a CPU without AVX512-BF16, dev F1 0.07 lower over the five corpora
    /// (0.6 on NCBI-disease).
    #[arg(long, value_enum, default_value = "auto")]
    pub precision: PrecisionChoice,
}

/// Where the committed default model lives.
pub fn default_model_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("models").join("default")
}

impl ModelArgs {
    /// Loads the model on its runtime thread.
    pub fn start_runtime(&self) -> Result<ModelRuntime> {
        let source = match &self.model {
            Some(dir) => ModelSource::Directory(dir.clone()),
            None if default_model_dir().join("manifest.json").is_file() => ModelSource::Directory(default_model_dir()),
            None => ModelSource::UntrainedDefault,
        };
        let options = RuntimeOptions {
            device: parse_device(&self.device)?,
            token_budget: self.token_budget,
            threads: self.threads,
            precision: self.precision.precision(),
            ..RuntimeOptions::default()
        };
        let device = options.device;
        let runtime = ModelRuntime::start(source, options).context("loading the model")?;
        if self.precision == PrecisionChoice::Auto {
            let why = match (device, runtime.precision()) {
                (Device::Cpu, Precision::Bf16) => "this CPU has AVX512-BF16",
                (Device::Cpu, _) => "this CPU lacks AVX512-BF16, without which bf16 is slower than fp32",
                (_, Precision::Bf16) => "the GPUs have compute capability 8.0 or more",
                _ => "a GPU before compute capability 8.0 emulates bf16, or NVML could not say",
            };
            eprintln!("sru-ner: encoder precision {} (auto: {why}; --precision fp32|bf16|int8 forces one)", runtime.precision());
        }
        Ok(runtime)
    }
}

/// Warns on standard error, and returns the warning, when the served head is untrained.
pub fn runtime_warning(runtime: &ModelRuntime) -> Option<&'static str> {
    let warning = (!runtime.manifest().trained).then_some("untrained head: these entities are not meaningful");
    if let Some(w) = warning {
        eprintln!("sru-ner: warning: {w}");
    }
    warning
}
