//! `sru_ner` on a one-executor Ballista cluster against local SQL, same query, same model, same run.
//! The point is overhead: planning on the client and the scheduler, task dispatch, and
//! results coming back over Arrow Flight; two cores cannot show a speed-up.
//!
//! Sample: the first N (default 2,000) `pubmed_raw` abstracts in Parquet row groups of 250. Both passes
//! run `SELECT pmid, sru_ner(abstract) AS entities FROM pubmed` and collect every row on the client,
//! each after a warm-up query of 20 rows:
//! - local: this process, DataFusion with `sru_ner` on a `ModelRuntime` (one partition per core);
//! - cluster: `sru-ner cluster scheduler` and one `sru-ner cluster executor` (one task per core) as
//!   child processes, queried from this process through `connect_cluster`.
//!
//! The local model is dropped before the cluster starts, so the two never compete for the cores. The
//! entity counts of the two passes must agree.
//!
//! Run: `cargo bench --bench cluster` (env: SRU_NER_BENCH_ABSTRACTS, SRU_NER_BENCH_MODEL=dir).
mod common;

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{free_port, peak_rss_mib, peak_rss_mib_of};

use datafusion::arrow::array::AsArray;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use sru_ner::runtime::{ModelRuntime, ModelSource, RuntimeOptions};
use sru_ner::Annotator;
use sru_ner_pipelines::cluster::{collect_on_cluster, connect_cluster};

const QUERY: &str = "SELECT pmid, sru_ner(abstract) AS entities FROM pubmed";
const WARM_UP: &str = "SELECT pmid, sru_ner(abstract) AS entities FROM pubmed LIMIT 20";

fn entities(batches: &[RecordBatch]) -> usize {
    batches.iter().map(|b| b.column(1).as_list::<i32>().values().len()).sum()
}

fn rows(batches: &[RecordBatch]) -> usize {
    batches.iter().map(RecordBatch::num_rows).sum()
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on port {port}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn main() {
    common::print_machine();
    let Some(sample) = common::pubmed_sample(250) else { return };
    let model = sample.model.clone();
    let table = sample.table.to_str().expect("a UTF-8 path").to_owned();
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio");

    // Local pass.
    let runtime = Arc::new(ModelRuntime::start(ModelSource::Directory(model.clone()), RuntimeOptions::default()).expect("model"));
    let ctx = SessionContext::new();
    sru_ner_udfs::register_sru_ner(&ctx, Arc::clone(&runtime) as Arc<dyn Annotator>);
    let (local_s, local_batches) = tokio.block_on(async {
        ctx.register_parquet("pubmed", &table, ParquetReadOptions::default()).await.expect("table");
        ctx.sql(WARM_UP).await.expect("plan").collect().await.expect("warm-up");
        let started = Instant::now();
        let batches = ctx.sql(QUERY).await.expect("plan").collect().await.expect("local query");
        (started.elapsed().as_secs_f64(), batches)
    });
    let local_rss = peak_rss_mib();
    drop(ctx);
    runtime.shutdown();
    drop(runtime);

    // Cluster pass: a scheduler and one executor on the same model.
    let sru_ner = env!("CARGO_BIN_EXE_sru-ner");
    let port = free_port();
    let mut scheduler = Command::new(sru_ner)
        .args(["cluster", "scheduler", "--bind", &format!("127.0.0.1:{port}")])
        .stderr(Stdio::null())
        .spawn()
        .expect("scheduler");
    wait_for_port(port);
    let flight = free_port();
    let mut executor = Command::new(sru_ner)
        .args(["cluster", "executor", "--scheduler", &format!("127.0.0.1:{port}"), "--flight-port", &flight.to_string()])
        .args(["--grpc-port", &free_port().to_string(), "--precision", "fp32", "--model"])
        .arg(&model)
        .stderr(Stdio::null())
        .spawn()
        .expect("executor");
    wait_for_port(flight);
    std::thread::sleep(Duration::from_secs(6));
    let (cluster_s, cluster_batches) = tokio.block_on(async {
        let cluster = connect_cluster(&format!("df://127.0.0.1:{port}")).await.expect("connect");
        cluster.register_parquet("pubmed", &table, ParquetReadOptions::default()).await.expect("table");
        collect_on_cluster(&cluster, WARM_UP).await.expect("warm-up");
        let started = Instant::now();
        let batches = collect_on_cluster(&cluster, QUERY).await.expect("cluster query");
        (started.elapsed().as_secs_f64(), batches)
    });
    let executor_rss = peak_rss_mib_of(&executor.id().to_string());
    executor.kill().ok();
    scheduler.kill().ok();
    executor.wait().ok();
    scheduler.wait().ok();

    assert_eq!(rows(&cluster_batches), rows(&local_batches), "row counts differ");
    assert_eq!(entities(&cluster_batches), entities(&local_batches), "entity counts differ");
    let per_s = |s: f64| rows(&local_batches) as f64 / s;
    println!("| pass | seconds | abstracts/s | entities | peak RSS |");
    println!("| --- | --- | --- | --- | --- |");
    println!(
        "| local `sru-ner sql` (in process) | {local_s:.1} | {:.2} | {} | {local_rss:.0} MiB (this process) |",
        per_s(local_s),
        entities(&local_batches)
    );
    println!(
        "| Ballista, 1 executor | {cluster_s:.1} | {:.2} | {} | {executor_rss:.0} MiB (executor) |",
        per_s(cluster_s),
        entities(&cluster_batches)
    );
    println!("cluster / local throughput: {:.3}", local_s / cluster_s);
}
