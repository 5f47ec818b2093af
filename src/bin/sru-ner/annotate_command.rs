//! `sru-ner annotate`: documents in (arguments or a file, one document per line), JSON lines out; or,
//! with `--output`, Parquet in and Parquet out (see `parquet_annotation`).
use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use serde_json::json;
use sru_ner::{Annotator, Entity};

use crate::model_args::{runtime_warning, ModelArgs};
use crate::parquet_annotation::{self, ParquetArgs};

/// Arguments of `sru-ner annotate`.
#[derive(Debug, Args)]
#[command(after_help = "Output: one line per input document, in input order (empty lines included):\n  \
{\"line\": 0, \"entities\": [{\"start\": 0, \"end\": 4, \"label\": \"...\", \"text\": \"...\", \"score\": 0.9}]}\n\
start/end are character offsets (Unicode scalar values, end exclusive) into that line.\n\
A line that cannot be annotated (invalid UTF-8, longer than --max-chars) gives\n  \
{\"line\": 3, \"error\": \"...\"}\nand the command exits with status 1 after writing every line.")]
pub struct AnnotateArgs {
    /// A document to annotate (repeat for several; line numbers follow the order given).
    #[arg(long, conflicts_with = "input")]
    text: Vec<String>,
    /// A UTF-8 text file with one document per line (`-` for standard input).
    #[arg(long)]
    input: Option<PathBuf>,
    /// Documents longer than this many characters are reported as errors instead of annotated.
    #[arg(long, default_value_t = 100_000)]
    max_chars: usize,
    /// Documents sent to the model per request (two requests are in flight; more documents per request
    /// sort into batches with less padding: 256 ran 1.2x faster than 64 on PubMed abstracts).
    #[arg(long, default_value_t = 256)]
    batch_lines: usize,
    /// Parquet mode: write the annotated rows of --input (a Parquet file, a folder or a quoted glob) as
    /// Parquet parts into this folder, with a manifest; rerunning the same command resumes.
    #[arg(long, requires = "input")]
    output: Option<PathBuf>,
    #[command(flatten)]
    parquet: ParquetArgs,
    #[command(flatten)]
    model: ModelArgs,
}

/// One input document, or why it cannot be annotated.
type Document = std::result::Result<String, String>;

fn read_documents(args: &AnnotateArgs) -> Result<Vec<Document>> {
    let bytes = match &args.input {
        None if args.text.is_empty() => bail!("nothing to annotate: give --text or --input (see --help)"),
        None => return Ok(args.text.iter().map(|t| check_length(t.clone(), args.max_chars)).collect()),
        Some(path) if path == Path::new("-") => {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut std::io::stdin(), &mut bytes).context("reading standard input")?;
            bytes
        }
        Some(path) => std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
    };
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    if bytes.ends_with(b"\n") {
        lines.pop();
    }
    Ok(lines
        .into_iter()
        .map(|line| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            match std::str::from_utf8(line) {
                Ok(text) => check_length(text.to_string(), args.max_chars),
                Err(e) => Err(format!("invalid UTF-8 at byte {} of the line", e.valid_up_to())),
            }
        })
        .collect())
}

fn check_length(text: String, max_chars: usize) -> Document {
    let n = text.chars().count();
    if n > max_chars {
        Err(format!("the line has {n} characters, more than --max-chars {max_chars}"))
    } else {
        Ok(text)
    }
}

/// Runs the command; exit status 1 when some documents could not be annotated.
pub fn run(args: AnnotateArgs) -> Result<ExitCode> {
    if let (Some(output), Some(input)) = (&args.output, &args.input) {
        return parquet_annotation::run(input, output, &args.parquet, &args.model);
    }
    let documents = read_documents(&args)?;
    let runtime = args.model.start_runtime()?;
    let warning = runtime_warning(&runtime);
    let started = Instant::now();
    let progress = ProgressBar::new(documents.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} documents, {per_sec}, ETA {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let mut out = BufWriter::new(std::io::stdout().lock());
    let (mut n_entities, mut failures) = (0usize, Vec::new());
    let chunk_size = args.batch_lines.max(1);
    let chunks: Vec<(usize, &[Document])> = documents.chunks(chunk_size).enumerate().map(|(i, c)| (i * chunk_size, c)).collect();
    // Two callers keep the model busy: one prepares (splits, tokenises) while the other's batch runs.
    let (work_tx, work_rx) = crossbeam_channel::unbounded();
    for chunk in &chunks {
        work_tx.send(*chunk).ok();
    }
    drop(work_tx);
    let (done_tx, done_rx) = crossbeam_channel::unbounded();
    std::thread::scope(|scope| -> Result<()> {
        for _ in 0..2 {
            let (work_rx, done_tx, runtime) = (work_rx.clone(), done_tx.clone(), &runtime);
            scope.spawn(move || {
                for (first_line, chunk) in work_rx {
                    let texts: Vec<&str> = chunk.iter().filter_map(|d| d.as_deref().ok()).collect();
                    let result = runtime.annotate(&texts);
                    if done_tx.send((first_line, chunk, result)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done_tx);
        let mut waiting = BTreeMap::new();
        let mut next_line = 0;
        for (first_line, chunk, result) in done_rx {
            waiting.insert(first_line, (chunk, result));
            while let Some((chunk, result)) = waiting.remove(&next_line) {
                let mut entities = result.context("annotating")?.into_iter();
                for (offset, document) in chunk.iter().enumerate() {
                    let line = next_line + offset;
                    let record = match document {
                        Ok(_) => {
                            let found: Vec<Entity> = entities.next().unwrap_or_default();
                            n_entities += found.len();
                            match warning {
                                Some(w) => json!({"line": line, "entities": found, "warning": w}),
                                None => json!({"line": line, "entities": found}),
                            }
                        }
                        Err(reason) => {
                            failures.push(format!("line {line}: {reason}"));
                            json!({"line": line, "error": reason})
                        }
                    };
                    writeln!(out, "{record}").context("writing standard output")?;
                }
                next_line += chunk.len();
                progress.inc(chunk.len() as u64);
            }
        }
        Ok(())
    })?;
    out.flush().context("writing standard output")?;
    progress.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();
    if args.input.is_some() {
        eprintln!(
            "sru-ner: {} documents, {} entities, {} errors in {:.1} s ({:.1} documents/s)",
            documents.len(),
            n_entities,
            failures.len(),
            seconds,
            documents.len() as f64 / seconds.max(1e-9)
        );
    }
    if failures.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        for failure in failures.iter().take(20) {
            eprintln!("sru-ner: {failure}");
        }
        if failures.len() > 20 {
            eprintln!("sru-ner: ... and {} more", failures.len() - 20);
        }
        Ok(ExitCode::from(1))
    }
}
