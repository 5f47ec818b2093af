//! Peak memory of the bulk Parquet job as the input grows: `sru-ner annotate --input ... --output ...`
//! run as a child process on 1,000 and on 100,000 rows, peak RSS (ru_maxrss) of each.
//!
//! Rows: `pubmed_raw` abstracts repeated to the row count by `scripts/abstracts_to_parquet.py --rows`,
//! in row groups of 1,000, annotated in parts of 500 rows so that both runs keep the job's 2 workers
//! busy (with one part, the 1,000-row run would use one worker and measure a smaller pipeline); the annotated column is the title (one sentence a row), which keeps the
//! 100,000-row run to minutes on a CPU while the job still reads, buffers and writes every column
//! (abstracts included) of every row.
//!
//! Run: `cargo bench --bench bulk_memory` (env: SRU_NER_BENCH_ROWS="1000,100000",
//! SRU_NER_BENCH_TEXT_COLUMN=title, SRU_NER_BENCH_PRECISION=auto|fp32|bf16; the child inherits the rest of
//! the environment, ONEDNN_PRIMITIVE_CACHE_CAPACITY included).
mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

/// Runs `command` and returns its peak RSS in MiB (from wait4's rusage).
#[allow(clippy::zombie_processes)] // the child is reaped by wait4 below, which also gives its rusage
fn run_measuring_peak_rss(command: &mut Command) -> f64 {
    let child = command.spawn().expect("spawn sru-ner");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: rusage is plain old data, and the pid is our own child, which we reap here exactly once.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(reaped, pid, "wait4 failed");
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0, "sru-ner failed");
    usage.ru_maxrss as f64 / 1024.0
}

fn main() {
    common::print_machine();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    if !root.join("../shared/data/pubmed_raw").is_dir() {
        eprintln!("SKIPPED: ../shared/data/pubmed_raw is absent");
        return;
    }
    let rows: Vec<usize> = std::env::var("SRU_NER_BENCH_ROWS")
        .unwrap_or_else(|_| "1000,100000".into())
        .split(',')
        .filter_map(|r| r.trim().parse().ok())
        .collect();
    let column = std::env::var("SRU_NER_BENCH_TEXT_COLUMN").unwrap_or_else(|_| "title".into());
    let precision = std::env::var("SRU_NER_BENCH_PRECISION").unwrap_or_else(|_| "auto".into());
    let work = tempfile::tempdir().expect("tempdir");
    let mut results = Vec::new();
    for &n in &rows {
        let table = work.path().join(format!("pubmed-{n}.parquet"));
        common::pubmed_parquet(&table, &["--rows", &n.to_string(), "--row-group-size", "1000"]);
        let started = Instant::now();
        let peak = run_measuring_peak_rss(
            Command::new(env!("CARGO_BIN_EXE_sru-ner"))
                .args(["annotate", "--device", "cpu", "--precision", &precision, "--text-column", &column, "--rows-per-part", "500"])
                .arg("--input")
                .arg(&table)
                .arg("--output")
                .arg(work.path().join(format!("out-{n}"))),
        );
        let seconds = started.elapsed().as_secs_f64();
        eprintln!("{n} rows: peak RSS {peak:.0} MiB, {seconds:.0} s");
        results.push((n, peak, seconds));
    }
    println!("| rows | peak RSS (MiB) | seconds | rows/s |");
    println!("| --- | --- | --- | --- |");
    for (n, peak, seconds) in &results {
        println!("| {n} | {peak:.0} | {seconds:.0} | {:.0} |", *n as f64 / seconds);
    }
    if let (Some(first), Some(last)) = (results.first(), results.last()) {
        println!("peak RSS ratio {} rows / {} rows: {:.3}", last.0, first.0, last.1 / first.1);
    }
}
