//! The bulk Parquet job through the `sru-ner` binary: kill and resume, the pyarrow view of its output,
//! and its errors. Needs `../shared/data/pubmed_raw` (skipped without it).
use crate::common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{Array, RecordBatch};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use sru_ner::runtime::{ModelRuntime, ModelSource, RuntimeOptions};
use sru_ner::Annotator;

fn sru_ner() -> Command {
    Command::new(env!("CARGO_BIN_EXE_sru-ner"))
}

fn annotate_parquet(input: &Path, output: &Path, text_column: &str) -> Command {
    let mut command = sru_ner();
    command.arg("annotate").arg("--input").arg(input).arg("--output").arg(output);
    // fp32: in bf16 a text's entities can move with the other texts of its batch (benches/history.md), and
    // this test compares parts of 10 rows with one call over all of them.
    command.args(["--text-column", text_column, "--rows-per-part", "10", "--device", "cpu", "--precision", "fp32"]);
    command
}

/// Every row of every part, in part-name order.
fn read_output(folder: &Path) -> Vec<RecordBatch> {
    let mut parts: Vec<_> = std::fs::read_dir(folder)
        .expect("output folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("part-")))
        .collect();
    parts.sort();
    parts
        .iter()
        .flat_map(|p| {
            let reader =
                ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(p).expect("part")).expect("parquet").build().expect("reader");
            reader.map(|b| b.expect("batch")).collect::<Vec<_>>()
        })
        .collect()
}

fn part_count(folder: &Path) -> usize {
    std::fs::read_dir(folder).map(|d| d.flatten().filter(|e| e.file_name().to_string_lossy().starts_with("part-")).count()).unwrap_or(0)
}

#[test]
fn a_killed_job_resumes_without_duplicate_or_missing_rows() {
    if common::shared_data("pubmed_raw").is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("pubmed.parquet");
    common::pubmed_parquet(&input, 120, 30);
    let output = dir.path().join("annotated");

    // First run: killed with SIGKILL once a few parts are committed.
    let mut child = annotate_parquet(&input, &output, "abstract").stderr(Stdio::null()).spawn().expect("spawn sru-ner");
    let started = Instant::now();
    while part_count(&output) < 3 {
        assert!(started.elapsed() < Duration::from_secs(300), "no parts after 300 s");
        assert!(child.try_wait().expect("wait").is_none(), "the job ended before it could be killed");
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().expect("kill");
    child.wait().expect("wait");
    let parts_before = part_count(&output);
    assert!(parts_before < 12, "the job finished before the kill ({parts_before} parts)");

    // Second run: same arguments, resumes.
    let rerun = annotate_parquet(&input, &output, "abstract").output().expect("rerun");
    let stderr = String::from_utf8_lossy(&rerun.stderr);
    assert!(rerun.status.success(), "rerun failed: {stderr}");
    assert!(stderr.contains("resuming"), "the rerun did not resume: {stderr}");
    assert_eq!(part_count(&output), 12, "120 rows in parts of 10");
    assert!(!std::fs::read_dir(&output).unwrap().flatten().any(|e| e.file_name().to_string_lossy().starts_with(".tmp-")));

    // Rows out = rows in, each once, in input order, every input column kept.
    let batches = read_output(&output);
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    assert_eq!(rows, 120);
    let muids: Vec<String> = batches
        .iter()
        .flat_map(|b| b.column_by_name("muid").unwrap().as_string::<i32>().iter().map(|m| m.unwrap().to_string()).collect::<Vec<_>>())
        .collect();
    let input_batches: Vec<RecordBatch> = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&input).unwrap())
        .unwrap()
        .build()
        .unwrap()
        .map(|b| b.unwrap())
        .collect();
    let input_muids: Vec<String> = input_batches
        .iter()
        .flat_map(|b| b.column_by_name("muid").unwrap().as_string::<i32>().iter().map(|m| m.unwrap().to_string()).collect::<Vec<_>>())
        .collect();
    assert_eq!(muids, input_muids);
    let schema = batches[0].schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["pmid", "muid", "split", "title", "abstract", "entities"]);

    // The entities equal what the runtime gives for the same abstracts.
    let runtime = ModelRuntime::start(ModelSource::Directory(common::default_model_dir()), RuntimeOptions::default()).expect("model");
    let abstracts: Vec<String> = batches
        .iter()
        .flat_map(|b| b.column_by_name("abstract").unwrap().as_string::<i32>().iter().map(|t| t.unwrap().to_string()).collect::<Vec<_>>())
        .collect();
    let sample: Vec<&str> = abstracts.iter().step_by(7).map(String::as_str).collect();
    let expected = runtime.annotate(&sample).expect("annotate");
    let mut found: BTreeMap<usize, Vec<(i32, i32, String)>> = BTreeMap::new();
    let mut row = 0;
    for batch in &batches {
        let entities = batch.column_by_name("entities").unwrap().as_list::<i32>();
        for i in 0..batch.num_rows() {
            let list = entities.value(i);
            let list = list.as_struct();
            let starts = list.column(0).as_primitive::<Int32Type>();
            let ends = list.column(1).as_primitive::<Int32Type>();
            let labels = list.column(2).as_string::<i32>();
            found.insert(row, (0..list.len()).map(|k| (starts.value(k), ends.value(k), labels.value(k).to_string())).collect());
            row += 1;
        }
    }
    for (k, entities) in expected.iter().enumerate() {
        let want: Vec<(i32, i32, String)> = entities.iter().map(|e| (e.start as i32, e.end as i32, e.label.clone())).collect();
        assert_eq!(found[&(k * 7)], want, "row {}", k * 7);
    }
    assert!(found.values().map(Vec::len).sum::<usize>() > 200, "too few entities for 120 abstracts");

    // A third run finds everything committed and writes nothing.
    let again = annotate_parquet(&input, &output, "abstract").output().expect("third run");
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("0 parts written, 12 kept"), "{}", String::from_utf8_lossy(&again.stderr));
}

#[test]
fn pyarrow_reads_the_nested_entities_and_their_offsets() {
    if common::shared_data("pubmed_raw").is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("pubmed.parquet");
    common::pubmed_parquet(&input, 30, 30);
    let output = dir.path().join("annotated");
    let run = annotate_parquet(&input, &output, "abstract").output().expect("run");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let check = Command::new(common::python())
        .arg(common::repo().join("tests/reference/check_entities_parquet.py"))
        .arg(&output)
        .arg("abstract")
        .output()
        .expect("python");
    assert!(check.status.success(), "pyarrow check failed: {}", String::from_utf8_lossy(&check.stderr));
    let summary: serde_json::Value = serde_json::from_slice(&check.stdout).expect("json summary");
    assert_eq!(summary["rows"], 30);
    assert!(summary["entities"].as_u64().unwrap() > 50, "{summary}");
}

#[test]
fn bad_inputs_and_foreign_output_folders_are_refused_with_names() {
    if common::shared_data("pubmed_raw").is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("pubmed.parquet");
    common::pubmed_parquet(&input, 10, 10);

    let missing = annotate_parquet(&input, &dir.path().join("a"), "body").output().unwrap();
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(!missing.status.success());
    assert!(stderr.contains("pubmed.parquet") && stderr.contains("\"body\"") && stderr.contains("abstract"), "{stderr}");

    let wrong_type = annotate_parquet(&input, &dir.path().join("b"), "pmid").output().unwrap();
    assert!(String::from_utf8_lossy(&wrong_type.stderr).contains("not a string column"));

    let foreign = dir.path().join("foreign");
    std::fs::create_dir_all(&foreign).unwrap();
    std::fs::write(foreign.join("notes.txt"), "mine").unwrap();
    let refused = annotate_parquet(&input, &foreign, "abstract").output().unwrap();
    assert!(String::from_utf8_lossy(&refused.stderr).contains("not empty"), "{}", String::from_utf8_lossy(&refused.stderr));
    assert_eq!(std::fs::read_to_string(foreign.join("notes.txt")).unwrap(), "mine");

    // The same folder, another job (a different text column): refused, nothing overwritten.
    let out = dir.path().join("c");
    assert!(annotate_parquet(&input, &out, "abstract").output().unwrap().status.success());
    let other = annotate_parquet(&input, &out, "title").output().unwrap();
    let stderr = String::from_utf8_lossy(&other.stderr);
    assert!(!other.status.success() && stderr.contains("another job"), "{stderr}");

    let nothing = annotate_parquet(&dir.path().join("*.nothing"), &dir.path().join("d"), "abstract").output().unwrap();
    assert!(String::from_utf8_lossy(&nothing.stderr).contains("no Parquet file matches"));
}
