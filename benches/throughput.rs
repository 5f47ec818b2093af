//! Throughput harness: end-to-end annotation against the encoder's own forward pass, on exactly the same
//! sentences and batches, in the same run.
//!
//! Sample: the first 2,000 sentences (our sentence splitter) of the `../shared/data/pubmed_raw` abstracts
//! taken in file-name order, train/ then test/. Each sentence is given to `annotate` as a document, so
//! end-to-end includes splitting, word pieces, batching, encoding, decoding and offset mapping; encoder-only
//! runs the same batches (same token budget, same length sort) through the encoder alone.
//!
//! Run: `cargo bench --bench throughput` (env: SRU_NER_BENCH_SENTENCES, SRU_NER_BENCH_MODEL=dir,
//! SRU_NER_BENCH_DEVICE=cpu|cuda, SRU_NER_BENCH_ROUNDS).
use std::path::PathBuf;
use std::time::{Duration, Instant};

use sru_ner::model::{EncoderReference, SruNerModel, DEFAULT_TYPES};
use sru_ner::runtime::{parse_device, plan_batches, ModelRuntime, ModelSource, PreparedDocument, RuntimeOptions, Stage};
use sru_ner::text::SegmentedDocument;
use sru_ner::Annotator;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

fn sample_sentences(n: usize) -> Option<Vec<String>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/pubmed_raw/jnlpba_genia_abstracts");
    if !root.is_dir() {
        eprintln!("SKIPPED: {} is absent (the benchmark reads ../shared beside the checkout)", root.display());
        return None;
    }
    let mut files: Vec<PathBuf> = ["train", "test"]
        .iter()
        .flat_map(|s| std::fs::read_dir(root.join(s)).into_iter().flatten().flatten().map(|e| e.path()))
        .collect();
    files.sort_by_key(|p| (!p.starts_with(root.join("train")), p.clone()));
    let mut sentences = Vec::with_capacity(n);
    for file in files {
        let text = std::fs::read_to_string(&file).ok()?;
        let doc = SegmentedDocument::segment(&text);
        for s in &doc.sentences {
            sentences.push(text[doc.words[s.start].start..doc.words[s.end - 1].end].to_string());
            if sentences.len() == n {
                return Some(sentences);
            }
        }
    }
    Some(sentences)
}

fn main() {
    let n: usize = env_or("SRU_NER_BENCH_SENTENCES", 2000);
    let rounds: usize = env_or("SRU_NER_BENCH_ROUNDS", 2);
    let Some(sentences) = sample_sentences(n) else { return };
    let device = parse_device(&std::env::var("SRU_NER_BENCH_DEVICE").unwrap_or_else(|_| "auto".into())).expect("device");
    let source = match std::env::var_os("SRU_NER_BENCH_MODEL") {
        Some(dir) => ModelSource::Directory(dir.into()),
        None => ModelSource::UntrainedDefault,
    };
    let options = RuntimeOptions { device, ..RuntimeOptions::default() };
    let runtime = ModelRuntime::start(source.clone(), options.clone()).expect("model");
    let model = match &source {
        ModelSource::Directory(dir) => SruNerModel::load(dir, device),
        ModelSource::UntrainedDefault => {
            SruNerModel::untrained(EncoderReference::Default, DEFAULT_TYPES.iter().map(|t| t.to_string()).collect(), device, 0)
        }
    }
    .expect("model for encoder-only");
    let texts: Vec<&str> = sentences.iter().map(String::as_str).collect();

    // The same sentences and batches for the encoder-only pass.
    let prepared: Vec<PreparedDocument> = texts
        .iter()
        .map(|t| PreparedDocument::prepare(t, model.tokenizer(), model.manifest().max_word_pieces).unwrap())
        .collect();
    let chunks: Vec<&[Vec<u32>]> = prepared.iter().flat_map(|d| d.chunks.iter().map(|c| c.pieces.as_slice())).collect();
    let lengths: Vec<usize> = chunks.iter().map(|c| c.iter().map(Vec::len).sum::<usize>() + 2).collect();
    let tokens: usize = lengths.iter().sum();
    let batches = plan_batches(&lengths, options.token_budget, options.max_batch_sentences);
    let pooling = model.pooling();
    let encoded: Vec<_> = batches
        .iter()
        .map(|b| pooling.batch(&b.iter().map(|&i| chunks[i]).collect::<Vec<_>>(), device))
        .collect();
    let encoder_only = || {
        let _guard = tch::no_grad_guard();
        let start = Instant::now();
        for batch in &encoded {
            let hidden = model.encode(batch, false);
            if let tch::Device::Cuda(i) = device {
                tch::Cuda::synchronize(i as i64);
            }
            drop(hidden);
        }
        start.elapsed()
    };

    // Warm-up.
    runtime.annotate(&texts[..texts.len().min(64)]).expect("annotate");
    encoder_only();
    let before: Vec<Duration> = Stage::ALL.iter().map(|&s| runtime.timings().get(s)).collect();

    let (mut e2e, mut enc) = (Duration::ZERO, Duration::ZERO);
    let mut n_entities = 0;
    for _ in 0..rounds {
        let start = Instant::now();
        let found = runtime.annotate(&texts).expect("annotate");
        e2e += start.elapsed();
        n_entities = found.iter().map(Vec::len).sum();
        enc += encoder_only();
    }
    let per_round = |d: Duration| d.as_secs_f64() / rounds as f64;
    let (e2e_s, enc_s) = (per_round(e2e), per_round(enc));
    let n_chunks = chunks.len();

    println!("sru-ner throughput benchmark");
    println!("  model:     {} ({})", runtime.model_id(), if runtime.manifest().trained { "trained" } else { "untrained head: decodes to its step cap, the slowest case" });
    println!("  device:    {device:?}, libtorch threads {}", tch::get_num_threads());
    println!("  sample:    {n} PubMed sentences ({n_chunks} encoder sequences, {tokens} tokens incl. CLS/SEP), {} batches", batches.len());
    println!("  rounds:    {rounds} (times are per round)");
    println!("  entities:  {n_entities} per round");
    println!("per stage (end-to-end, per round):");
    for (stage, before) in Stage::ALL.iter().zip(before) {
        let t = (runtime.timings().get(*stage) - before).as_secs_f64() / rounds as f64;
        println!("  {:<12} {:>8.3} s  {:>5.1} %", format!("{stage:?}"), t, 100.0 * t / e2e_s);
    }
    println!("peak RSS:    {:.0} MiB (both models in one process)", peak_rss_mib());
    println!("end-to-end:   {:>8.1} sentences/s  {:>9.0} tokens/s  ({e2e_s:.2} s)", n as f64 / e2e_s, tokens as f64 / e2e_s);
    println!("encoder-only: {:>8.1} sentences/s  {:>9.0} tokens/s  ({enc_s:.2} s)", n as f64 / enc_s, tokens as f64 / enc_s);
    println!("ratio end-to-end / encoder-only: {:.3} (target >= 0.85)", enc_s / e2e_s);
}
