//! Throughput harness: end-to-end annotation against the encoder's own forward pass, on exactly the same
//! sentences and batches, in the same run.
//!
//! Sample: the first 2,000 sentences (our sentence splitter) of the `../shared/data/pubmed_raw` abstracts
//! taken in file-name order, train/ then test/. Each sentence is given to `annotate` as a document, so
//! end-to-end includes splitting, word pieces, batching, encoding, decoding and offset mapping; encoder-only
//! runs the same batches (same token budget, same length sort) through the encoder alone.
//!
//! The Python baseline, `benches/python_baseline.py` (HF token-classification pipeline over the same
//! encoder), runs on the same sentences in the same run, with `.venv`.
//!
//! Run: `cargo bench --bench throughput` (env: SRU_NER_BENCH_SENTENCES, SRU_NER_BENCH_MODEL=dir|untrained [default: models/default],
//! SRU_NER_BENCH_DEVICE=cpu|cuda, SRU_NER_BENCH_ROUNDS, SRU_NER_BENCH_PYTHON=0 to skip the baseline,
//! SRU_NER_BENCH_PYTHON_BATCH=32, SRU_NER_BENCH_PRECISION=auto|fp32|bf16 (default auto, as the command line), SRU_NER_BENCH_DECODING_PRECISION=fp32|bf16 (the head's; default by device), SRU_NER_BENCH_TOKEN_BUDGET=8192, SRU_NER_BENCH_BATCH_SENTENCES=256, SRU_NER_BENCH_DOCUMENTS_PER_JOB=<n> (default: by device), SRU_NER_BENCH_DECODE_TOKENS=<n> (tokens decoded in one loop; default: by device), SRU_NER_BENCH_SENTENCES_FILE=<one sentence a line> instead of ../shared, SRU_NER_BENCH_WRITE_SAMPLE=<file> writes the sample there and stops, SRU_NER_BENCH_ENCODER=<HF folder> for an
//! untrained head on another encoder; the Python baseline runs only for the default encoder on CPU).
mod common;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use common::{env_or, peak_rss_mib};

use sru_ner::model::{EncoderReference, SruNerModel, DEFAULT_TYPES};
use sru_ner::runtime::{parse_device, plan_batches, ModelRuntime, ModelSource, Precision, PreparedDocument, RuntimeOptions, Stage};
use sru_ner::text::SegmentedDocument;
use sru_ner::Annotator;

fn sample_sentences(n: usize) -> Option<Vec<String>> {
    // SRU_NER_BENCH_SENTENCES_FILE: one sentence per line, for a machine without ../shared (a GPU
    // machine that only has the stripped bench binary).
    if let Ok(file) = std::env::var("SRU_NER_BENCH_SENTENCES_FILE") {
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{file}: {e}"));
        return Some(text.lines().filter(|l| !l.trim().is_empty()).take(n).map(str::to_string).collect());
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data/pubmed_raw/jnlpba_genia_abstracts");
    if !root.is_dir() {
        eprintln!("SKIPPED: {} is absent (the benchmark reads ../shared beside the checkout)", root.display());
        return None;
    }
    let mut files: Vec<PathBuf> =
        ["train", "test"].iter().flat_map(|s| std::fs::read_dir(root.join(s)).into_iter().flatten().flatten().map(|e| e.path())).collect();
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
    common::print_machine();
    let n: usize = env_or("SRU_NER_BENCH_SENTENCES", 2000);
    let rounds: usize = env_or("SRU_NER_BENCH_ROUNDS", 2);
    let Some(sentences) = sample_sentences(n) else { return };
    if let Ok(path) = std::env::var("SRU_NER_BENCH_WRITE_SAMPLE") {
        std::fs::write(&path, sentences.join("\n")).unwrap_or_else(|e| panic!("{path}: {e}"));
        eprintln!("wrote the {} sample sentences to {path}", sentences.len());
        return;
    }
    let device = parse_device(&std::env::var("SRU_NER_BENCH_DEVICE").unwrap_or_else(|_| "auto".into())).expect("device");
    // The command line's default, auto, unless SRU_NER_BENCH_PRECISION forces one.
    let precision = match std::env::var("SRU_NER_BENCH_PRECISION").as_deref() {
        Ok("bf16") => Precision::Bf16,
        Ok("fp32") => Precision::Fp32,
        Ok("int8") => Precision::Int8,
        _ => Precision::auto_for(device),
    };
    // The head's decoding precision: by device (the encoder's on CUDA, fp32 on CPU) unless forced.
    let decoding_precision = match std::env::var("SRU_NER_BENCH_DECODING_PRECISION").as_deref() {
        Ok("bf16") => Some(Precision::Bf16),
        Ok("fp32") => Some(Precision::Fp32),
        _ => None,
    };
    // SRU_NER_BENCH_ENCODER=<HF folder>: an untrained head on that encoder (the GPU run uses a random
    // BioLinkBERT-large-shaped one from benches/make_random_encoder.py), saved to a temporary model dir.
    let scratch = tempfile::tempdir().expect("tempdir");
    let default_model = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/default");
    let source = match (std::env::var("SRU_NER_BENCH_ENCODER"), std::env::var("SRU_NER_BENCH_MODEL")) {
        (Ok(encoder), _) => {
            let types = DEFAULT_TYPES.iter().map(|t| t.to_string()).collect();
            let mut model = SruNerModel::untrained(EncoderReference::Path(encoder.into()), types, device, 0).expect("encoder");
            model.save(scratch.path()).expect("save the untrained model");
            ModelSource::Directory(scratch.path().to_path_buf())
        }
        (_, Ok(dir)) if dir == "untrained" => ModelSource::UntrainedDefault,
        (_, Ok(dir)) => ModelSource::Directory(dir.into()),
        _ if default_model.join("manifest.json").is_file() => ModelSource::Directory(default_model),
        _ => ModelSource::UntrainedDefault,
    };
    let options = RuntimeOptions {
        device,
        precision: Some(precision),
        decoding_precision,
        token_budget: env_or("SRU_NER_BENCH_TOKEN_BUDGET", RuntimeOptions::default().token_budget),
        max_batch_sentences: env_or("SRU_NER_BENCH_BATCH_SENTENCES", RuntimeOptions::default().max_batch_sentences),
        documents_per_job: std::env::var("SRU_NER_BENCH_DOCUMENTS_PER_JOB").ok().and_then(|v| v.parse().ok()),
        decode_token_budget: std::env::var("SRU_NER_BENCH_DECODE_TOKENS").ok().and_then(|v| v.parse().ok()),
        ..RuntimeOptions::default()
    };
    let runtime = ModelRuntime::start(source.clone(), options.clone()).expect("model");
    let mut model = match &source {
        ModelSource::Directory(dir) => SruNerModel::load(dir, device),
        ModelSource::UntrainedDefault => {
            SruNerModel::untrained(EncoderReference::Default, DEFAULT_TYPES.iter().map(|t| t.to_string()).collect(), device, 0)
        }
    }
    .expect("model for encoder-only");
    precision.apply_to(&mut model, decoding_precision).expect("the precision for encoder-only");
    let texts: Vec<&str> = sentences.iter().map(String::as_str).collect();

    // The same sentences and batches for the encoder-only pass.
    let prepared: Vec<PreparedDocument> =
        texts.iter().map(|t| PreparedDocument::prepare(t, model.tokenizer(), model.manifest().max_word_pieces).unwrap()).collect();
    let chunks: Vec<&[Vec<u32>]> = prepared.iter().flat_map(|d| d.chunks.iter().map(|c| c.pieces.as_slice())).collect();
    let lengths: Vec<usize> = chunks.iter().map(|c| c.iter().map(Vec::len).sum::<usize>() + 2).collect();
    let tokens: usize = lengths.iter().sum();
    let batches = plan_batches(&lengths, options.token_budget, options.max_batch_sentences);
    let pooling = model.pooling();
    let encoded: Vec<_> = batches.iter().map(|b| pooling.batch(&b.iter().map(|&i| chunks[i]).collect::<Vec<_>>(), device)).collect();
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
    println!(
        "  model:     {} ({})",
        runtime.model_id(),
        if runtime.manifest().trained { "trained" } else { "untrained head: decodes to its step cap, the slowest case" }
    );
    println!("  device:    {device:?}, libtorch threads {}, encoder precision {precision:?}", tch::get_num_threads());
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
    let same_as_python = device == tch::Device::Cpu && std::env::var_os("SRU_NER_BENCH_ENCODER").is_none();
    if let Some(python) = same_as_python.then(|| python_baseline(&sentences, rounds)).flatten() {
        println!(
            "python pipeline: {:>8.1} sentences/s  ({:.2} s; HF token-classification pipeline, batch {}, {} torch threads, {} entities)",
            python.sentences_per_s, python.seconds, python.batch_size, python.torch_threads, python.entities
        );
        println!("ratio end-to-end / python pipeline: {:.3} (target >= 1.5)", python.seconds / e2e_s);
    }
    println!("ratio end-to-end / encoder-only: {:.3} (target >= 0.85)", enc_s / e2e_s);
}

/// What `benches/python_baseline.py` measured.
#[derive(serde::Deserialize)]
struct PythonBaseline {
    seconds: f64,
    sentences_per_s: f64,
    entities: usize,
    batch_size: usize,
    torch_threads: usize,
}

/// Runs the HF pipeline baseline on the same sentences (CPU; skipped with SRU_NER_BENCH_PYTHON=0).
fn python_baseline(sentences: &[String], rounds: usize) -> Option<PythonBaseline> {
    if std::env::var("SRU_NER_BENCH_PYTHON").is_ok_and(|v| v == "0") {
        return None;
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), sentences.join("\n")).expect("write sentences");
    let output = std::process::Command::new(root.join(".venv/bin/python"))
        .arg(root.join("benches/python_baseline.py"))
        .arg(file.path())
        .args(["--rounds", &rounds.to_string(), "--batch-size", &env_or("SRU_NER_BENCH_PYTHON_BATCH", 32usize).to_string()])
        .output()
        .expect("running benches/python_baseline.py");
    if !output.status.success() {
        eprintln!("python baseline failed: {}", String::from_utf8_lossy(&output.stderr));
        return None;
    }
    serde_json::from_slice(&output.stdout).ok()
}
