//! `sru-ner train`: the training job.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use sru_ner::runtime::parse_device;
use sru_ner::training::{train, EpochMetrics, TrainRun, TrainingConfig};

/// Arguments of `sru-ner train`.
#[derive(Debug, Args)]
#[command(after_help = "The config (TOML) names the store, the corpora, the output directory and the \
hyper-parameters (defaults: model.md §3). Each epoch appends a line to <output>/metrics.jsonl, saves \
<output>/checkpoint, redraws <output>/training.png (loss and dev F1), and saves the model directory to \
<output> when dev F1 improves. Example: \
experiments/configs/biomed-minilm.toml.")]
pub struct TrainArgs {
    /// Training configuration.
    #[arg(long)]
    config: PathBuf,
    /// Continue from <output>/checkpoint exactly where the last run stopped (fp32 weights, optimizer
    /// moments, epoch count; sampling is seeded per epoch).
    #[arg(long)]
    resume: bool,
    /// Stop after N epochs of this run, leaving a checkpoint to continue from with --resume
    /// (for time-sliced jobs).
    #[arg(long, value_name = "N")]
    stop_after_epochs: Option<usize>,
    /// Device: auto, cpu, cuda or cuda:N.
    #[arg(long, default_value = "auto")]
    device: String,
}

/// Runs the command.
pub fn run(args: TrainArgs) -> Result<()> {
    let config = TrainingConfig::from_file(&args.config)?;
    let mut plot = |_: &EpochMetrics| plot_metrics(&config.output);
    let run = TrainRun { device: parse_device(&args.device)?, resume: args.resume, stop_after_epochs: args.stop_after_epochs };
    let history = train(&config, &run, &mut plot).context("training")?;
    match history.iter().filter(|m| m.best).last() {
        Some(best) => eprintln!("best dev F1 {:.4} at epoch {}: model in {}", best.dev_f1_weighted, best.epoch, config.output.display()),
        None => eprintln!("no epoch improved on the checkpoint; model in {} unchanged", config.output.display()),
    }
    Ok(())
}

/// Draws `<output>/training.png` (loss and dev F1 by epoch) from `<output>/metrics.jsonl` with
/// `scripts/plot_metrics.py`, when `.venv` has matplotlib; warns otherwise.
fn plot_metrics(output: &Path) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let drawn = std::process::Command::new(root.join(".venv/bin/python"))
        .arg(root.join("scripts/plot_metrics.py"))
        .arg(output.join("metrics.jsonl"))
        .arg(output.join("training.png"))
        .output();
    match drawn {
        Ok(out) if out.status.success() => {}
        Ok(out) => eprintln!("sru-ner: warning: no training plot: {}", String::from_utf8_lossy(&out.stderr).trim()),
        Err(e) => eprintln!("sru-ner: warning: no training plot (scripts/setup.sh installs .venv with matplotlib): {e}"),
    }
}
