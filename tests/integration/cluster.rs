//! `sru-ner cluster` and `sru-ner sql --cluster` as real processes on loopback: a scheduler and two
//! executors on the fixture model answer a query over a Parquet folder as local `sru-ner sql` does,
//! `COPY` writes the same rows, and a query survives (or cleanly fails on) an executor killed with
//! SIGKILL mid-query; an executor whose model directory is missing fails at start, not at a query.
//! The cluster test needs `../shared/data/pubmed_raw` (skipped without it).
use crate::common::{self, free_port, wait_for_port};

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

use arrow_array::RecordBatch;
use datafusion::arrow::json::LineDelimitedWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

const QUERY: &str = "SELECT pmid, sru_ner(abstract) AS entities FROM pubmed ORDER BY pmid";

fn sru_ner() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sru-ner"))
}

/// Kills its processes when dropped, so a failing test leaves none behind.
struct LoopbackCluster {
    url: String,
    scheduler: Child,
    executors: Vec<Child>,
}

impl LoopbackCluster {
    /// A scheduler that drops an executor after 5 s without a heartbeat, and `executors` executors on the
    /// fixture model, each running 2 tasks at once with one libtorch thread.
    fn start(executors: usize) -> Self {
        let port = free_port();
        let scheduler = sru_ner()
            .args(["cluster", "scheduler", "--bind", &format!("127.0.0.1:{port}"), "--executor-timeout", "5"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting the scheduler");
        wait_for_port(port, "the scheduler");
        let model = common::trained_model_dir();
        let executors = (0..executors)
            .map(|_| {
                let (flight, grpc) = (free_port(), free_port());
                let child = sru_ner()
                    .args(["cluster", "executor", "--scheduler", &format!("127.0.0.1:{port}")])
                    .args(["--flight-port", &flight.to_string(), "--grpc-port", &grpc.to_string()])
                    .args(["--concurrent-tasks", "2", "--heartbeat", "1", "--device", "cpu", "--threads", "1"])
                    .args(["--precision", "fp32", "--model"])
                    .arg(&model)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("starting an executor");
                wait_for_port(flight, "an executor");
                child
            })
            .collect();
        // The executors register with their first heartbeat.
        std::thread::sleep(Duration::from_secs(2));
        Self { url: format!("df://127.0.0.1:{port}"), scheduler, executors }
    }
}

impl Drop for LoopbackCluster {
    fn drop(&mut self) {
        for child in self.executors.iter_mut().chain([&mut self.scheduler]) {
            child.kill().ok();
            child.wait().ok();
        }
    }
}

/// A folder of 3 Parquet files of 20 PubMed abstracts each (pmid, abstract, ...), split with local SQL.
fn pubmed_folder(dir: &Path) -> PathBuf {
    let all = dir.join("all.parquet");
    common::pubmed_parquet(&all, 60, 20);
    let folder = dir.join("pubmed");
    std::fs::create_dir_all(&folder).expect("folder");
    let copies: Vec<String> = (0..3)
        .map(|i| {
            let file = folder.join(format!("part-{i}.parquet"));
            format!("COPY (SELECT * FROM all_rows ORDER BY pmid LIMIT 20 OFFSET {}) TO '{}'", i * 20, file.display())
        })
        .collect();
    let output = sru_ner()
        .args(["sql", "--device", "cpu", "--model"])
        .arg(common::trained_model_dir())
        .arg("--table")
        .arg(format!("all_rows={}", all.display()))
        .args(&copies)
        .output()
        .expect("running sru-ner sql");
    assert!(output.status.success(), "splitting the table: {}", String::from_utf8_lossy(&output.stderr));
    folder
}

fn sql(cluster: Option<&str>, folder: &Path, statement: &str) -> Output {
    let mut command = sru_ner();
    command.args(["sql", "--format", "json", "--table"]).arg(format!("pubmed={}", folder.display()));
    match cluster {
        Some(url) => command.args(["--cluster", url]),
        None => command.args(["--device", "cpu", "--precision", "fp32", "--model"]).arg(common::trained_model_dir()),
    };
    command.arg(statement).output().expect("running sru-ner sql")
}

/// (pmid, [(start, end, label, text, score)]) of each JSON line.
type Rows = Vec<(String, Vec<(i64, i64, String, String, f64)>)>;

fn rows_of_json(stdout: &[u8]) -> Rows {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|line| {
            let row: Value = serde_json::from_str(line).expect("a JSON row");
            let entities = row["entities"]
                .as_array()
                .expect("an entity list")
                .iter()
                .map(|e| {
                    let field = |k: &str| e[k].as_str().expect("a string").to_owned();
                    (e["start"].as_i64().unwrap(), e["end"].as_i64().unwrap(), field("label"), field("text"), e["score"].as_f64().unwrap())
                })
                .collect();
            (row["pmid"].to_string(), entities)
        })
        .collect()
}

/// The rows of a Parquet file written by `COPY`, sorted by pmid, through the JSON lines that
/// `sru-ner sql --format json` prints (arrow's writer), so both outputs are read by [`rows_of_json`].
fn rows_of_parquet(path: &Path) -> Rows {
    let reader =
        ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(path).expect("the COPY output")).expect("parquet").build().unwrap();
    let batches: Vec<RecordBatch> = reader.map(|batch| batch.expect("a batch")).collect();
    let mut json = Vec::new();
    let mut writer = LineDelimitedWriter::new(&mut json);
    writer.write_batches(&batches.iter().collect::<Vec<_>>()).expect("JSON lines");
    writer.finish().expect("JSON lines");
    let mut rows = rows_of_json(&json);
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    rows
}

/// Same pmids in the same order, same spans and labels; scores equal to 1e-4 (batches differ).
fn assert_same_rows(actual: &Rows, expected: &Rows) {
    assert_eq!(actual.len(), expected.len(), "row count");
    for ((pmid, entities), (expected_pmid, expected_entities)) in actual.iter().zip(expected) {
        assert_eq!(pmid, expected_pmid);
        let spans =
            |e: &[(i64, i64, String, String, f64)]| e.iter().map(|(s, t, l, x, _)| (*s, *t, l.clone(), x.clone())).collect::<Vec<_>>();
        assert_eq!(spans(entities), spans(expected_entities), "entities of {pmid}");
        for (a, b) in entities.iter().zip(expected_entities) {
            assert!((a.4 - b.4).abs() < 1e-4, "score of {a:?} in {pmid}: {} against {}", a.4, b.4);
        }
    }
}

#[test]
fn an_executor_without_its_model_fails_at_start_naming_the_directory() {
    let missing = std::env::temp_dir().join(format!("sru-ner-no-model-{}", std::process::id()));
    let port = free_port();
    let output = sru_ner()
        .args(["cluster", "executor", "--scheduler", &format!("127.0.0.1:{port}"), "--model"])
        .arg(&missing)
        .output()
        .expect("running sru-ner cluster executor");
    assert!(!output.status.success(), "an executor without a model must not start");
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(error.contains(&missing.display().to_string()), "{error}");
}

#[test]
fn a_loopback_cluster_answers_as_local_sql_and_survives_a_killed_executor() {
    if common::shared_data("pubmed_raw").is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let folder = pubmed_folder(dir.path());
    let local = sql(None, &folder, QUERY);
    assert!(local.status.success(), "local sql: {}", String::from_utf8_lossy(&local.stderr));
    let expected = rows_of_json(&local.stdout);
    assert_eq!(expected.len(), 60);
    assert!(expected.iter().map(|(_, e)| e.len()).sum::<usize>() > 0, "the fixture model finds entities in PubMed");

    let cluster = LoopbackCluster::start(2);
    let remote = sql(Some(&cluster.url), &folder, QUERY);
    assert!(remote.status.success(), "cluster sql: {}", String::from_utf8_lossy(&remote.stderr));
    assert_same_rows(&rows_of_json(&remote.stdout), &expected);

    let copied = dir.path().join("copied.parquet");
    let copy = sql(Some(&cluster.url), &folder, &format!("COPY ({QUERY}) TO '{}'", copied.display()));
    assert!(copy.status.success(), "cluster COPY: {}", String::from_utf8_lossy(&copy.stderr));
    assert_same_rows(&rows_of_parquet(&copied), &expected);
    drop(cluster);

    // SIGKILL one executor of two once the COPY is under way: the COPY completes on the other, or
    // fails with an error and leaves no file.
    let mut cluster = LoopbackCluster::start(2);
    let killed_copy = dir.path().join("killed.parquet");
    let statement = format!("COPY ({QUERY}) TO '{}'", killed_copy.display());
    let client = {
        let mut command = sru_ner();
        command.args(["sql", "--format", "json", "--cluster", &cluster.url, "--table"]).arg(format!("pubmed={}", folder.display()));
        command.arg(&statement).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("starting the client")
    };
    std::thread::sleep(Duration::from_millis(1500));
    cluster.executors[0].kill().expect("SIGKILL an executor");
    cluster.executors[0].wait().ok();
    let outcome = client.wait_with_output().expect("the client ends");
    if outcome.status.success() {
        assert_same_rows(&rows_of_parquet(&killed_copy), &expected);
    } else {
        let error = String::from_utf8_lossy(&outcome.stderr);
        assert!(error.contains("error"), "a failed query says why: {error}");
        assert!(!killed_copy.exists(), "a failed COPY leaves no file: {error}");
    }
    eprintln!("after SIGKILL of an executor the COPY {}", if outcome.status.success() { "completed" } else { "failed cleanly" });
}
