//! `sru-ner models`: what a model directory holds, from its manifest, without loading the weights.
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use serde::Serialize;
use sru_ner::model::{EncoderReference, ModelManifest};

use crate::model_args::default_model_dir;

/// Arguments of `sru-ner models`.
#[derive(Debug, Args)]
pub struct ModelsArgs {
    /// Model directories [default: the committed default model, models/default].
    models: Vec<PathBuf>,
    /// Print one JSON object per model: `directory`, `manifest` (manifest.json as is), `files` (name and
    /// bytes of each file of the directory) and `model_card` (the path of its README.md, or null).
    #[arg(long)]
    json: bool,
}

/// One model directory as `--json` prints it.
#[derive(Debug, Serialize)]
struct ModelSummary {
    directory: PathBuf,
    manifest: ModelManifest,
    files: Vec<(String, u64)>,
    model_card: Option<PathBuf>,
}

/// Runs the command.
pub fn run(args: ModelsArgs) -> Result<()> {
    let directories = if args.models.is_empty() { vec![default_model_dir()] } else { args.models };
    for directory in directories {
        let summary = summarize(&directory)?;
        if args.json {
            println!("{}", serde_json::to_string(&summary)?);
        } else {
            print!("{}", describe(&summary));
        }
    }
    Ok(())
}

fn summarize(directory: &Path) -> Result<ModelSummary> {
    let manifest = ModelManifest::read(directory).with_context(|| format!("reading the model in {}", directory.display()))?;
    let mut files = Vec::new();
    for entry in std::fs::read_dir(directory).with_context(|| format!("listing {}", directory.display()))? {
        let entry = entry.with_context(|| format!("listing {}", directory.display()))?;
        let metadata = entry.metadata().with_context(|| format!("reading {}", entry.path().display()))?;
        if metadata.is_file() {
            files.push((entry.file_name().to_string_lossy().into_owned(), metadata.len()));
        }
    }
    files.sort();
    let card = directory.join("README.md");
    Ok(ModelSummary { directory: directory.to_path_buf(), manifest, files, model_card: card.is_file().then_some(card) })
}

/// The text form: one block per model.
fn describe(summary: &ModelSummary) -> String {
    let m = &summary.manifest;
    let encoder = match &m.encoder {
        EncoderReference::Default => "all-MiniLM-L6-v2 (embedded default)".to_string(),
        EncoderReference::Path(path) => path.display().to_string(),
    };
    let weights: Vec<String> = summary
        .files
        .iter()
        .filter(|(name, _)| name.ends_with(".safetensors"))
        .map(|(name, bytes)| format!("{name} {:.1} MB", *bytes as f64 / 1e6))
        .collect();
    let mut text = format!("{}\n", summary.directory.display());
    let mut line = |key: &str, value: String| text.push_str(&format!("  {key:<12} {value}\n"));
    line("name", format!("{} {}{}", m.name, m.version, if m.trained { "" } else { " (UNTRAINED: its entities are not meaningful)" }));
    line("encoder", encoder);
    line("types", m.types.join(", "));
    line("trained on", if m.trained_on.is_empty() { "-".into() } else { m.trained_on.join(", ") });
    line(
        "head",
        format!(
            "k = {} latents per action, token multiplier {}{}, position window ±{}",
            m.head.latents_per_action,
            if m.head.train_token_multiplier { "learned from " } else { "" },
            m.head.token_multiplier,
            m.head.half_context
        ),
    );
    line("weights", if weights.is_empty() { "-".into() } else { weights.join(", ") });
    if !m.description.is_empty() {
        line("description", m.description.clone());
    }
    line("model card", summary.model_card.as_ref().map_or("none".into(), |card| card.display().to_string()));
    text
}
