//! A Ballista scheduler and executors in this process, with the lexicon stand-in as the model: the
//! cluster's answer equals a local context's, a stock executor and an unreachable scheduler fail with
//! errors that say what to do. The real model on real processes is tested in the root crate.
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use ballista_executor::executor_process::{start_executor_process, ExecutorProcessConfig};
use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use sru_ner_pipelines::cluster::{collect_on_cluster, connect_cluster, run_executor, run_scheduler, ExecutorOptions, SchedulerOptions};
use sru_ner_pipelines::PipelineError;
use sru_ner_schemas::test_util::LexiconAnnotator;
use sru_ner_udfs::register_sru_ner;

const LEXICON: &[(&str, &str)] = &[("aspirin", "Chemical"), ("fever", "Disease"), ("IL-2", "Gene_or_protein")];

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("its address").port()
}

/// Two Parquet files of 40 rows each under `dir/docs` (id, text; every fifth text NULL).
async fn write_documents(dir: &Path) {
    let ctx = SessionContext::new();
    std::fs::create_dir_all(dir.join("docs")).expect("docs folder");
    for (file, first) in [("a.parquet", 0), ("b.parquet", 40)] {
        let rows: Vec<String> = (first..first + 40)
            .map(|i| match i % 5 {
                0 => format!("({i}, NULL)"),
                1 => format!("({i}, 'aspirin eased the fever of patient {i}')"),
                2 => format!("({i}, 'IL-2 and aspirin, then IL-2 again')"),
                3 => format!("({i}, '')"),
                _ => format!("({i}, 'nothing to find in row {i}')"),
            })
            .collect();
        let path = dir.join("docs").join(file);
        let sql = format!("COPY (SELECT column1 AS id, column2 AS text FROM (VALUES {})) TO '{}'", rows.join(", "), path.display());
        ctx.sql(&sql).await.expect("planning the COPY").collect().await.expect("writing a document file");
    }
}

/// Starts a scheduler on a free port; returns its client URL.
async fn start_scheduler() -> String {
    let port = free_port();
    let options = SchedulerOptions { bind: ([127, 0, 0, 1], port).into(), executor_timeout_seconds: 10, ..SchedulerOptions::default() };
    tokio::spawn(async move { run_scheduler(&options).await });
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return format!("df://127.0.0.1:{port}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the scheduler did not listen on port {port}");
}

fn executor_options(scheduler_url: &str) -> ExecutorOptions {
    let port = scheduler_url.rsplit_once(':').expect("a port").1.parse().expect("a number");
    ExecutorOptions {
        scheduler_host: "127.0.0.1".into(),
        scheduler_port: port,
        flight_port: free_port(),
        grpc_port: free_port(),
        concurrent_tasks: 2,
        heartbeat_seconds: 1,
        ..ExecutorOptions::default()
    }
}

/// [`QUERY`] over `dir/docs` on the cluster of `url`, within 2 minutes.
async fn query_docs(url: &str, dir: &Path) -> sru_ner_pipelines::Result<Vec<datafusion::arrow::record_batch::RecordBatch>> {
    let cluster = connect_cluster(url).await.expect("connecting to the scheduler");
    let docs = dir.join("docs");
    cluster.register_parquet("docs", docs.to_str().expect("a UTF-8 path"), ParquetReadOptions::default()).await.expect("docs");
    tokio::time::timeout(Duration::from_secs(120), collect_on_cluster(&cluster, QUERY)).await.expect("an answer within 2 minutes")
}

const QUERY: &str = "SELECT id, sru_ner(text) AS entities, cardinality(sru_ner(text)) AS n FROM docs ORDER BY id";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_cluster_answers_as_a_local_context_does() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_documents(dir.path()).await;
    let docs = dir.path().join("docs");

    let local = SessionContext::new();
    let local_lexicon = LexiconAnnotator::new(LEXICON);
    register_sru_ner(&local, Arc::new(local_lexicon.clone()));
    local.register_parquet("docs", docs.to_str().expect("a UTF-8 path"), ParquetReadOptions::default()).await.expect("docs");
    let expected = pretty_format_batches(&local.sql(QUERY).await.expect("plan").collect().await.expect("run")).expect("print").to_string();

    let url = start_scheduler().await;
    let lexicon = LexiconAnnotator::new(LEXICON);
    let executor = executor_options(&url);
    let annotator = Arc::new(lexicon.clone());
    tokio::spawn(async move { run_executor(&executor, annotator).await });

    let cluster = connect_cluster(&url).await.expect("connecting to the scheduler");
    cluster.register_parquet("docs", docs.to_str().expect("a UTF-8 path"), ParquetReadOptions::default()).await.expect("docs");
    let batches = tokio::time::timeout(Duration::from_secs(120), collect_on_cluster(&cluster, QUERY))
        .await
        .expect("the cluster answers within 2 minutes")
        .expect("the query runs on the cluster");
    let answer = pretty_format_batches(&batches).expect("print").to_string();
    assert_eq!(answer, expected);
    assert!(expected.contains("Gene_or_protein") && expected.contains("Chemical"), "{expected}");
    // The executor's annotator did the work, as much of it as the local one, not the client's stand-in.
    assert!(local_lexicon.texts_annotated() >= 64, "{}", local_lexicon.texts_annotated());
    assert_eq!(lexicon.texts_annotated(), local_lexicon.texts_annotated());

    // COPY on the cluster writes the same rows.
    let copied = dir.path().join("copied.parquet");
    let copy = format!("COPY ({QUERY}) TO '{}'", copied.display());
    collect_on_cluster(&cluster, &copy).await.expect("COPY on the cluster");
    let reread = SessionContext::new();
    reread.register_parquet("copied", copied.to_str().expect("a UTF-8 path"), ParquetReadOptions::default()).await.expect("copied");
    let copied_rows = reread.sql("SELECT * FROM copied ORDER BY id").await.expect("plan").collect().await.expect("read");
    assert_eq!(pretty_format_batches(&copied_rows).expect("print").to_string(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stock_executor_fails_the_query_naming_sru_ner() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_documents(dir.path()).await;
    let url = start_scheduler().await;
    let options = executor_options(&url);
    // Ballista's own executor: DataFusion's functions only.
    let stock = ExecutorProcessConfig {
        scheduler_host: options.scheduler_host,
        scheduler_port: options.scheduler_port,
        scheduler_connect_timeout_seconds: 10,
        port: options.flight_port,
        grpc_port: options.grpc_port,
        vcores: 1,
        executor_heartbeat_interval_seconds: 1,
        ..ExecutorProcessConfig::default()
    };
    tokio::spawn(async move { start_executor_process(Arc::new(stock)).await });

    let error = query_docs(&url, dir.path()).await.expect_err("a stock executor cannot run sru_ner");
    assert!(matches!(error, PipelineError::ClusterLacksSruNer { .. }), "{error}");
    let message = error.to_string();
    assert!(message.contains("sru-ner cluster executor"), "{message}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stock_scheduler_fails_the_query_naming_sru_ner() {
    let dir = tempfile::tempdir().expect("tempdir");
    write_documents(dir.path()).await;
    let port = free_port();
    // Ballista's own scheduler: DataFusion's functions only.
    let config = SchedulerConfig { bind_port: port, executor_timeout_seconds: 10, ..SchedulerConfig::default() };
    tokio::spawn(async move {
        let cluster = BallistaCluster::new_from_config(&config).await?;
        start_server(cluster, ([127, 0, 0, 1], port).into(), Arc::new(config)).await
    });
    let url = format!("df://127.0.0.1:{port}");
    let options = executor_options(&url);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        assert!(std::time::Instant::now() < deadline, "the scheduler did not listen");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::spawn(async move { run_executor(&options, Arc::new(LexiconAnnotator::new(LEXICON))).await });

    let error = query_docs(&url, dir.path()).await.expect_err("a stock scheduler cannot plan sru_ner");
    assert!(matches!(error, PipelineError::ClusterLacksSruNer { .. }), "{error}");
    assert!(error.to_string().contains("sru-ner cluster scheduler"), "{error}");
}

#[tokio::test]
async fn an_unreachable_scheduler_is_an_error_naming_its_address() {
    let port = free_port();
    let url = format!("df://127.0.0.1:{port}");
    let Err(error) = connect_cluster(&url).await else { panic!("nothing listens on port {port}") };
    assert!(error.to_string().contains(&format!("127.0.0.1:{port}")), "{error}");
    let Err(error) = connect_cluster("localhost:50050").await else { panic!("not a df:// URL") };
    assert!(error.to_string().contains("df://HOST:PORT"), "{error}");
}
