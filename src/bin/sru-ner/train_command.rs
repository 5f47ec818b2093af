//! `sru-ner train`: the training job.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use sru_ner::runtime::parse_device;
use sru_ner::training::{train, TrainRun, TrainingConfig, TrainingEvent};

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
    let run = TrainRun { device: parse_device(&args.device)?, resume: args.resume, stop_after_epochs: args.stop_after_epochs };
    let mut progress = ProgressBar::hidden();
    let mut on_event = |event: TrainingEvent<'_>| match event {
        TrainingEvent::EpochStarted { steps, .. } => {
            progress = ProgressBar::new(steps as u64).with_style(
                ProgressStyle::with_template("epoch {msg} {bar:30} {pos}/{len} steps, {per_sec}, ETA {eta}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
        }
        TrainingEvent::Step { epoch, step, steps, mean_loss, sentences_per_second } => {
            progress.set_message(format!("{epoch}/{} loss {mean_loss:.4}", config.epochs));
            progress.inc(1);
            // Without a terminal (CI, nohup) the bar is hidden: a line every 50 steps instead.
            if progress.is_hidden() && step % 50 == 0 {
                eprintln!(
                    "epoch {epoch}/{} step {step}/{steps}: loss {mean_loss:.4} ({sentences_per_second:.1} sentences/s)",
                    config.epochs
                );
            }
        }
        TrainingEvent::EpochFinished(metrics) => {
            progress.finish_and_clear();
            eprintln!(
                "epoch {}/{}: loss {:.4}, dev F1 {:.4}{} ({:.0} s, {:.1} training sentences/s)",
                metrics.epoch,
                config.epochs,
                metrics.train_loss,
                metrics.dev_f1_weighted,
                if metrics.best { " (best, saved)" } else { "" },
                metrics.seconds,
                metrics.training_sentences_per_second.unwrap_or(0.0)
            );
            plot_metrics(&config.output);
        }
    };
    let history = train(&config, &run, &mut on_event).context("training")?;
    match history.iter().rfind(|m| m.best) {
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
