//! `sru-ner train`: the training job.
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use sru_ner::runtime::parse_device;
use sru_ner::training::{train, TrainingConfig};

/// Arguments of `sru-ner train`.
#[derive(Debug, Args)]
#[command(after_help = "The config (TOML) names the store, the corpora, the output directory and the \
hyper-parameters (defaults: model.md §3). Each epoch appends a line to <output>/metrics.jsonl, saves \
<output>/checkpoint, and saves the model directory to <output> when dev F1 improves. Example: \
pipelines/biomed-minilm.toml.")]
pub struct TrainArgs {
    /// Training configuration.
    #[arg(long)]
    config: PathBuf,
    /// Continue from <output>/checkpoint (weights and epoch count; optimizer moments restart).
    #[arg(long)]
    resume: bool,
    /// Device: auto, cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    device: String,
}

/// Runs the command.
pub fn run(args: TrainArgs) -> Result<()> {
    let config = TrainingConfig::from_file(&args.config)?;
    let history = train(&config, args.resume, parse_device(&args.device)?).context("training")?;
    match history.iter().filter(|m| m.best).last() {
        Some(best) => eprintln!("best dev F1 {:.4} at epoch {}: model in {}", best.dev_f1_weighted, best.epoch, config.output.display()),
        None => eprintln!("no epoch improved on the checkpoint; model in {} unchanged", config.output.display()),
    }
    Ok(())
}
