//! `sru-ner annotate --input <parquet> --output <folder>`: the restartable bulk job over Parquet.
use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use sru_ner::Annotator;
use sru_ner_pipelines::bulk::{BulkJob, BulkOptions};

use crate::model_args::{runtime_warning, ModelArgs};

/// Options of the Parquet mode of `annotate` (used with --output).
#[derive(Debug, Clone, Args)]
pub struct ParquetArgs {
    /// Parquet mode: the column holding the text.
    #[arg(long, default_value = "text")]
    pub text_column: String,
    /// Parquet mode: the column added with the entities.
    #[arg(long, default_value = "entities")]
    pub entities_column: String,
    /// Parquet mode: most rows per output part (a killed job redoes at most this many rows per worker).
    #[arg(long, default_value_t = 2000)]
    pub rows_per_part: usize,
    /// Parquet mode: parts annotated at once (their rows share the model's batches).
    #[arg(long, default_value_t = 2)]
    pub workers: usize,
}

/// Plans (or resumes) the job, runs it with a progress bar, and prints a summary.
pub fn run(input: &Path, output: &Path, parquet: &ParquetArgs, model: &ModelArgs) -> Result<ExitCode> {
    let input = input.to_str().context("the --input path is not valid UTF-8")?;
    let runtime = model.start_runtime()?;
    runtime_warning(&runtime);
    let options = BulkOptions {
        text_column: parquet.text_column.clone(),
        entities_column: parquet.entities_column.clone(),
        rows_per_part: parquet.rows_per_part.max(1),
        workers: parquet.workers.max(1),
        ..BulkOptions::default()
    };
    let job = BulkJob::plan(input, output, options, runtime.model_id())?;
    let (total, committed) = (job.total_rows(), job.committed_rows());
    if committed > 0 {
        eprintln!("sru-ner: resuming: {committed} of {total} rows already committed in {}", output.display());
    }
    let progress = ProgressBar::new(total).with_position(committed).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} rows, {per_sec}, ETA {eta}").unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let summary = job.run(&runtime, &|rows| progress.inc(rows))?;
    progress.finish_and_clear();
    let seconds = summary.elapsed.as_secs_f64();
    eprintln!(
        "sru-ner: {} rows from {} files into {}: {} rows annotated now in {:.1} s ({:.1} rows/s), {} parts written, {} kept from an earlier run; {} entities, {} null texts",
        summary.total_rows,
        summary.inputs,
        output.display(),
        summary.rows_annotated,
        seconds,
        summary.rows_annotated as f64 / seconds.max(1e-9),
        summary.parts_written,
        summary.parts_skipped,
        summary.entities,
        summary.null_texts,
    );
    Ok(ExitCode::SUCCESS)
}
