//! Training throughput: today's training path against the older one (sampled batches, fp32 encoder,
//! position dropout per element), in the same run.
//!
//! Sample: the multi-task store of `experiments/configs/biomed-minilm.toml` (BC2GM, BC5CDR, JNLPBA, Linnaeus,
//! NCBI-disease, imported from `../shared/data` by `experiments/import-biomed.sh` into
//! `target/bench-store` on first use), the first `SRU_NER_BENCH_TRAIN_SENTENCES` (4,000) training
//! sentences of each corpus, seed 42, epoch 0's sampling (corpus-balanced, with replacement). Each path
//! runs `SRU_NER_BENCH_STEPS` (64) optimizer steps of 16 sentences from the same initial model, after 2
//! warm-up steps; a step is forward, backward and the AdamW update together.
//!
//! Paths: `before` is `batching = "sampled"`, `encoder_precision = "fp32"`, `position_dropout =
//! "elements"`, `shift_target = "hard"` (the last costs no time either way); `after` is the config
//! file's (the committed default: length-sorted batches, bf16 encoder, position dropout by table rows).
//! `SRU_NER_BENCH_AFTER` overrides the after path as `batching,precision` (e.g. `length_sorted,fp32`) and
//! `SRU_NER_BENCH_AFTER_POSITION_DROPOUT=elements|table_rows` its position dropout, to measure one idea
//! at a time.
//! Each path runs alone in the process (the other job dropped), and its peak RSS is measured from a
//! reset of `VmHWM`.
//!
//! Run: `cargo bench --bench training` (prints SKIPPED without `../shared`).
mod common;

use std::path::Path;
use std::time::Instant;

use common::{env_or, peak_rss_mib, repo};
use sru_ner::network::{PositionDropout, ShiftTarget};
use sru_ner::runtime::Precision;
use sru_ner::training::{Batching, StepProfile, TrainingConfig, TrainingJob};

struct PathResult {
    name: String,
    sentences: usize,
    tokens: usize,
    seconds: f64,
    profile: StepProfile,
    mean_loss: f64,
    peak_rss_mib: f64,
}

/// Resets this process's peak RSS (`VmHWM`) to the current RSS.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn ensure_store(store: &Path) {
    let corpora = ["bc2gm", "bc5cdr", "jnlpba", "linnaeus", "ncbi_disease"];
    if corpora.iter().all(|c| store.join(c).join("dev").is_dir()) {
        return;
    }
    let _ = std::fs::remove_dir_all(store);
    eprintln!("importing the five corpora into {} (once)", store.display());
    let status = std::process::Command::new("bash")
        .arg(repo().join("experiments/import-biomed.sh"))
        .arg(store)
        .env("SRU_NER_BIN", env!("CARGO_BIN_EXE_sru-ner"))
        .current_dir(repo())
        .stdout(std::process::Stdio::null())
        .status()
        .expect("running experiments/import-biomed.sh");
    assert!(status.success(), "experiments/import-biomed.sh failed");
}

fn run_path(name: &str, config: &TrainingConfig, steps: usize) -> PathResult {
    reset_peak_rss();
    let mut job = TrainingJob::new(config, tch::Device::Cpu, false).expect("training job");
    // Warm-up on another epoch's batches: allocator, thread pool and oneDNN kernels.
    let warmup = job.plan_epoch(1);
    for batch in warmup.iter().take(2) {
        job.step(0, batch);
    }
    let batches = job.plan_epoch(0);
    assert!(batches.len() >= steps, "the sample gives only {} steps", batches.len());
    let (mut sentences, mut tokens, mut loss, mut profile) = (0, 0, 0.0, StepProfile::default());
    let started = Instant::now();
    for (step, batch) in batches.iter().take(steps).enumerate() {
        let report = job.step(step, batch);
        sentences += report.sentences;
        tokens += report.tokens;
        loss += report.loss;
        profile += report.profile;
    }
    let seconds = started.elapsed().as_secs_f64();
    PathResult { name: name.into(), sentences, tokens, seconds, profile, mean_loss: loss / steps as f64, peak_rss_mib: peak_rss_mib() }
}

fn print(result: &PathResult) {
    let p = &result.profile;
    let total = p.total().as_secs_f64();
    let share = |d: std::time::Duration| 100.0 * d.as_secs_f64() / total;
    println!(
        "{:<7} {:>6} sentences {:>8} tokens in {:>6.1} s: {:>6.2} sentences/s, {:>7.0} tokens/s, mean loss {:.4}, peak RSS {:.0} MiB",
        result.name,
        result.sentences,
        result.tokens,
        result.seconds,
        result.sentences as f64 / result.seconds,
        result.tokens as f64 / result.seconds,
        result.mean_loss,
        result.peak_rss_mib
    );
    println!(
        "        stages: prepare {:.1} %, encoder forward {:.1} %, head forward {:.1} %, backward {:.1} %, optimizer {:.1} %",
        share(p.prepare),
        share(p.encoder_forward),
        share(p.head_forward),
        share(p.backward),
        share(p.optimizer)
    );
}

fn main() {
    common::print_machine();
    let data = repo().join("../shared/data");
    if !data.join("bc5cdr").is_dir() {
        eprintln!("SKIPPED: {} is absent (the benchmark reads ../shared beside the checkout)", data.display());
        return;
    }
    let store = repo().join("target/bench-store");
    ensure_store(&store);
    let steps: usize = env_or("SRU_NER_BENCH_STEPS", 64);
    let train_sentences: usize = env_or("SRU_NER_BENCH_TRAIN_SENTENCES", 4000);
    let scratch = tempfile::tempdir().expect("tempdir");
    let mut after = TrainingConfig::from_file(&repo().join("experiments/configs/biomed-minilm.toml")).expect("config");
    after.store = store;
    after.output = scratch.path().join("model");
    after.max_train_sentences = Some(train_sentences);
    after.max_dev_sentences = Some(1);
    if let Ok(spec) = std::env::var("SRU_NER_BENCH_AFTER") {
        let (batching, precision) = spec.split_once(',').expect("SRU_NER_BENCH_AFTER=batching,precision");
        after.batching = if batching == "sampled" { Batching::Sampled } else { Batching::LengthSorted };
        after.encoder_precision = if precision == "bf16" { Precision::Bf16 } else { Precision::Fp32 };
    }
    if let Ok(spec) = std::env::var("SRU_NER_BENCH_AFTER_POSITION_DROPOUT") {
        after.position_dropout = if spec == "elements" { PositionDropout::Elements } else { PositionDropout::TableRows };
    }
    let before = TrainingConfig {
        batching: Batching::Sampled,
        encoder_precision: Precision::Fp32,
        position_dropout: PositionDropout::Elements,
        shift_target: ShiftTarget::Hard,
        ..after.clone()
    };
    println!(
        "training benchmark: {steps} steps of {} sentences per path, first {train_sentences} training sentences per corpus, seed {}, {} threads",
        after.batch_size,
        after.seed,
        tch::get_num_threads()
    );
    let describe = |c: &TrainingConfig| {
        format!("batching {:?}, encoder {:?}, position dropout {:?}", c.batching, c.encoder_precision, c.position_dropout)
    };
    println!("before: {}\nafter:  {}", describe(&before), describe(&after));
    let old = run_path("before", &before, steps);
    print(&old);
    let new = run_path("after", &after, steps);
    print(&new);
    let rate = |r: &PathResult| r.sentences as f64 / r.seconds;
    println!("after / before, training sentences/s: {:.3}", rate(&new) / rate(&old));
}
