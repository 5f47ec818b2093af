//! Helpers shared by the benchmark harnesses.
#![allow(dead_code)]
use std::path::{Path, PathBuf};

pub use sru_ner_test_support::status_mib;

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Prints the machine a benchmark runs on, first, so that every dated figure names its CPU: its model,
/// family and model numbers (this project's AMD Zen 3 VMs say family 25 model 1), logical CPUs,
/// and whether it has AVX512-BF16, without which libtorch's bf16 products are several times slower
/// than fp32 (`Precision::cpu_computes_bf16`).
pub fn print_machine() {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let field = |name: &str| {
        cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix(name).and_then(|rest| rest.trim_start().strip_prefix(':')))
            .map_or_else(|| "?".to_string(), |v| v.trim().to_string())
    };
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let bf16 = if sru_ner::runtime::Precision::cpu_computes_bf16() { "yes" } else { "no" };
    eprintln!(
        "machine: {} (family {}, model {}), {cpus} CPUs, AVX512-BF16: {bf16}",
        field("model name"),
        field("cpu family"),
        field("model"),
    );
}

/// A port that was free a moment ago on the loopback interface.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port()
}

/// An environment variable parsed as `T`, or `default`.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// This process's peak resident set size (`VmHWM`), in MiB.
pub fn peak_rss_mib() -> f64 {
    peak_rss_mib_of("self")
}

/// The peak resident set size (`VmHWM`) of process `pid` ("self" for this one), in MiB.
pub fn peak_rss_mib_of(pid: &str) -> f64 {
    status_mib(pid, "VmHWM:")
}

/// Writes a Parquet table of `pubmed_raw` abstracts with `scripts/abstracts_to_parquet.py`, passing
/// `options` (e.g. `--limit 2000 --row-group-size 500`).
pub fn pubmed_parquet(path: &Path, options: &[&str]) {
    let status = std::process::Command::new(repo().join(".venv/bin/python"))
        .arg(repo().join("scripts/abstracts_to_parquet.py"))
        .args(options)
        .arg(path)
        .status()
        .expect("running scripts/abstracts_to_parquet.py");
    assert!(status.success(), "scripts/abstracts_to_parquet.py failed");
}

/// The input of the SQL benchmarks: the first `SRU_NER_BENCH_ABSTRACTS` (default 2,000) `pubmed_raw`
/// abstracts as one Parquet file in row groups of `row_group_size`, in a temporary folder that lives as
/// long as the sample, and the model (`SRU_NER_BENCH_MODEL`, default `models/default`). None, with a
/// SKIPPED line, when `../shared` is absent.
pub struct PubmedSample {
    /// Holds the table; removed on drop.
    pub work: tempfile::TempDir,
    /// The Parquet file.
    pub table: PathBuf,
    /// The model directory.
    pub model: PathBuf,
}

/// See [`PubmedSample`].
pub fn pubmed_sample(row_group_size: usize) -> Option<PubmedSample> {
    if !repo().join("../shared/data/pubmed_raw").is_dir() {
        eprintln!("SKIPPED: ../shared/data/pubmed_raw is absent");
        return None;
    }
    let n: usize = env_or("SRU_NER_BENCH_ABSTRACTS", 2000);
    let model = std::env::var("SRU_NER_BENCH_MODEL").map(PathBuf::from).unwrap_or_else(|_| repo().join("models/default"));
    let work = tempfile::tempdir().expect("tempdir");
    let table = work.path().join("pubmed.parquet");
    pubmed_parquet(&table, &["--limit", &n.to_string(), "--row-group-size", &row_group_size.to_string()]);
    Some(PubmedSample { work, table, model })
}

/// The bulk job's model path without the job: two threads call `annotate` with 256 texts at a time.
/// Returns the number of entities found.
pub fn runtime_alone(runtime: &sru_ner::runtime::ModelRuntime, abstracts: &[String]) -> usize {
    let chunks: Vec<&[String]> = abstracts.chunks(256).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let total = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(chunk) = chunks.get(i) else { break };
                let texts: Vec<&str> = chunk.iter().map(String::as_str).collect();
                let found: usize = sru_ner::Annotator::annotate(runtime, &texts).expect("annotate").iter().map(Vec::len).sum();
                total.fetch_add(found, std::sync::atomic::Ordering::Relaxed);
            });
        }
    });
    total.into_inner()
}

/// The abstract lines of the first `n` `pubmed_raw` files (`train/` then `test/`, by file name), or None
/// when `../shared` is absent.
pub fn pubmed_abstract_lines(n: usize) -> Option<Vec<String>> {
    let dir = repo().join("../shared/data/pubmed_raw/jnlpba_genia_abstracts");
    let mut files: Vec<PathBuf> = ["train", "test"]
        .iter()
        .filter_map(|split| std::fs::read_dir(dir.join(split)).ok())
        .flatten()
        .map(|e| e.expect("dir entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    if files.is_empty() {
        return None;
    }
    files.sort();
    Some(
        files
            .iter()
            .take(n)
            .map(|p| std::fs::read_to_string(p).expect("abstract").lines().nth(1).unwrap_or_default().to_string())
            .collect(),
    )
}
