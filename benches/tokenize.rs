//! The Tokenize stage alone (sentence splitting, words, word pieces, chunking: what `ModelRuntime::prepare`
//! does before the model sees a document), on 1 thread against every core, in the same run.
//!
//! Sample: the first 2,000 `pubmed_raw` abstracts (`SRU_NER_BENCH_DOCUMENTS`), whole, as `annotate` gets
//! them. Run: `cargo bench --bench tokenize` (env: SRU_NER_BENCH_DOCUMENTS, SRU_NER_BENCH_ROUNDS).
mod common;

use std::time::{Duration, Instant};

use common::{env_or, peak_rss_mib, pubmed_abstract_lines};
use sru_ner::encoder::{default_encoder_dir, EncoderFiles, SubwordTokenizer};
use sru_ner::model::MAX_WORD_PIECES;
use sru_ner::runtime::PreparedDocument;

fn main() {
    common::print_machine();
    let n: usize = env_or("SRU_NER_BENCH_DOCUMENTS", 2000);
    let rounds: usize = env_or("SRU_NER_BENCH_ROUNDS", 3);
    let Some(abstracts) = pubmed_abstract_lines(n) else {
        eprintln!("SKIPPED: ../shared/data/pubmed_raw is absent (the benchmark reads ../shared beside the checkout)");
        return;
    };
    let files = EncoderFiles::locate(&default_encoder_dir()).expect("the default encoder (scripts/setup.sh installs it)");
    let tokenizer = SubwordTokenizer::from_file(&files.tokenizer).expect("tokenizer");
    let texts: Vec<&str> = abstracts.iter().map(String::as_str).collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let best_of = |threads: usize| -> (Duration, usize) {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("thread pool");
        let mut best = Duration::MAX;
        let mut sentences = 0;
        for _ in 0..rounds {
            let start = Instant::now();
            let prepared = pool.install(|| PreparedDocument::prepare_all(&texts, &tokenizer, MAX_WORD_PIECES)).expect("prepare");
            best = best.min(start.elapsed());
            sentences = prepared.iter().map(|d| d.chunks.len()).sum();
        }
        (best, sentences)
    };
    best_of(1); // warm-up: page cache, allocator
    let (one, sentences) = best_of(1);
    let (all, _) = best_of(cores);
    let rate = |d: Duration| texts.len() as f64 / d.as_secs_f64();
    println!("tokenize: {} abstracts ({sentences} sentence chunks), best of {rounds} rounds", texts.len());
    println!("  1 thread:   {:8.3} s  {:8.0} abstracts/s", one.as_secs_f64(), rate(one));
    println!("  {cores} threads:  {:8.3} s  {:8.0} abstracts/s", all.as_secs_f64(), rate(all));
    println!("  ratio {cores} threads / 1 thread: {:.2}", one.as_secs_f64() / all.as_secs_f64());
    println!("  peak RSS {:.0} MiB", peak_rss_mib());
}
