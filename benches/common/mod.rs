//! Helpers shared by the benchmark harnesses.
#![allow(dead_code)]
use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// An environment variable parsed as `T`, or `default`.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// This process's peak resident set size (`VmHWM`), in MiB.
pub fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
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
