//! A run's checkpoint, `<output>/checkpoint/`: the model directory of the last epoch, the optimizer's
//! fp32 weights and moments (`optimizer.safetensors`) and where to resume (`trainer_state.json`); and the
//! JSON helpers the trainer also writes `metrics.jsonl` with.
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::AdamW;
use crate::error::{Result, SruNerError};
use crate::model::SruNerModel;

/// Where a run's checkpoint lives, and how it is written and read back.
pub(super) struct Checkpoint {
    /// `<output>/checkpoint`.
    pub(super) dir: PathBuf,
}

impl Checkpoint {
    /// The checkpoint of the run writing to `output`.
    pub(super) fn of(output: &Path) -> Self {
        Self { dir: output.join("checkpoint") }
    }

    fn state_path(&self) -> PathBuf {
        self.dir.join("trainer_state.json")
    }

    fn optimizer_path(&self) -> PathBuf {
        self.dir.join("optimizer.safetensors")
    }

    /// Where the run stands and its model, when a checkpoint has been written.
    pub(super) fn load(&self, device: tch::Device) -> Result<Option<(SruNerModel, TrainerState)>> {
        if !self.state_path().is_file() {
            return Ok(None);
        }
        let state = read_json(&self.state_path())?;
        Ok(Some((SruNerModel::load(&self.dir, device)?, state)))
    }

    /// Restores the optimizer's weights and moments; an older checkpoint without them restarts the
    /// moments from zero, with a warning.
    pub(super) fn load_optimizer(&self, optimizer: &mut AdamW) -> Result<()> {
        if self.optimizer_path().is_file() {
            optimizer.load(&self.optimizer_path())
        } else {
            tracing::warn!("{}: no optimizer state (an older checkpoint): moments restart from zero", self.dir.display());
            Ok(())
        }
    }

    /// Writes the model, the optimizer and where the run stands, after an epoch.
    pub(super) fn save(&self, model: &mut SruNerModel, optimizer: &AdamW, state: &TrainerState) -> Result<()> {
        model.save(&self.dir)?;
        optimizer.save(&self.optimizer_path())?;
        write_json(&self.state_path(), state)
    }
}

/// `<output>/checkpoint/trainer_state.json`: where to resume.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct TrainerState {
    pub(super) epochs_done: usize,
    pub(super) best_f1: f64,
    pub(super) epochs_without_improvement: usize,
}

/// Reads a JSON file, naming it in the error.
fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text = crate::error::read_to_string(path)?;
    serde_json::from_str(&text).map_err(|source| SruNerError::Json { path: path.to_path_buf(), source })
}

/// Writes a JSON file (pretty), naming it in the error.
fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string_pretty(value).map_err(|source| SruNerError::Json { path: path.to_path_buf(), source })?;
    std::fs::write(path, text).map_err(|source| SruNerError::Io { path: path.to_path_buf(), source })
}

/// Appends one JSON line (`metrics.jsonl`), naming the file in the error.
pub(super) fn append_json_line<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    use std::io::Write;
    let line = serde_json::to_string(value).map_err(|source| SruNerError::Json { path: path.to_path_buf(), source })?;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|source| SruNerError::Io { path: path.to_path_buf(), source })?;
    writeln!(file, "{line}").map_err(|source| SruNerError::Io { path: path.to_path_buf(), source })
}
