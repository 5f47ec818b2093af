//! The bulk job on a stand-in annotator (no model): a run that fails part-way keeps its committed
//! parts, and a rerun with the same arguments resumes and completes with every row exactly once.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::Int32Type;
use arrow_array::{Array, Int32Array, RecordBatch, StringArray};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use sru_ner_pipelines::bulk::{BulkJob, BulkOptions};
use sru_ner_schemas::test_util::LexiconAnnotator;

const ROWS: i32 = 120;

/// `ROWS` rows (`id`, `text`) in row groups of 40; row 75's text holds the marker `FAIL`, and every
/// fifth text is null.
fn write_input(path: &Path) {
    let schema = Arc::new(Schema::new(vec![Field::new("id", DataType::Int32, false), Field::new("text", DataType::Utf8, true)]));
    let ids = Int32Array::from_iter_values(0..ROWS);
    let texts = StringArray::from_iter((0..ROWS).map(|i| match i {
        _ if i % 5 == 4 => None,
        75 => Some(format!("row {i}: Aspirin, FAIL")),
        _ => Some(format!("row {i}: Aspirin lowers fever")),
    }));
    let batch = RecordBatch::try_new(schema.clone(), vec![Arc::new(ids), Arc::new(texts)]).expect("batch");
    let properties = WriterProperties::builder().set_max_row_group_row_count(Some(40)).build();
    let mut writer = ArrowWriter::try_new(std::fs::File::create(path).expect("input"), schema, Some(properties)).expect("writer");
    writer.write(&batch).expect("write");
    writer.close().expect("close");
}

fn part_files(folder: &Path) -> Vec<std::path::PathBuf> {
    let mut parts: Vec<_> = std::fs::read_dir(folder)
        .expect("output folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("part-")))
        .collect();
    parts.sort();
    parts
}

fn options() -> BulkOptions {
    BulkOptions { rows_per_part: 10, batch_rows: 5, workers: 1, ..BulkOptions::default() }
}

#[test]
fn a_failed_job_resumes_without_duplicate_or_missing_rows() {
    let dir = tempfile::tempdir().expect("tempdir");
    let input = dir.path().join("input.parquet");
    write_input(&input);
    let output = dir.path().join("annotated");
    let lexicon = LexiconAnnotator::new(&[("Aspirin", "Chemical"), ("fever", "Disease")]);
    let input = input.to_str().expect("utf-8 path");

    // First run: the annotator fails on row 75, in the eighth part of ten rows.
    let failing = lexicon.clone().failing_on("FAIL");
    let job = BulkJob::plan(input, &output, options(), "lexicon-test-annotator").expect("plan");
    assert_eq!(job.total_rows(), ROWS as u64);
    let error = job.run(&failing, &|_| {}).expect_err("the run fails at row 75");
    let message = error.to_string();
    assert!(message.contains("input.parquet, rows 75..80") && message.contains("test failure"), "{message}");
    let committed = part_files(&output).len();
    assert!((1..12).contains(&committed), "{committed} parts committed before the failure");

    // Second run: same arguments, an annotator that does not fail; it resumes.
    let job = BulkJob::plan(input, &output, options(), "lexicon-test-annotator").expect("plan again");
    assert_eq!(job.committed_rows(), 10 * committed as u64);
    let summary = job.run(&lexicon, &|_| {}).expect("the rerun completes");
    assert_eq!((summary.parts_skipped, summary.parts_written), (committed, 12 - committed));
    assert_eq!(summary.null_texts, (ROWS / 5) as u64);
    assert_eq!(summary.entities, 2 * (ROWS - ROWS / 5) as u64 - 1, "two mentions per text; row 75 has no fever");

    let mut ids = BTreeSet::new();
    for part in part_files(&output) {
        let reader =
            ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&part).expect("part")).expect("parquet").build().expect("reader");
        for batch in reader {
            let batch = batch.expect("batch");
            let (id, text, entities) =
                (batch.column(0).as_primitive::<Int32Type>(), batch.column(1).as_string::<i32>(), batch.column(2).as_list::<i32>());
            for row in 0..batch.num_rows() {
                assert!(ids.insert(id.value(row)), "row {} twice", id.value(row));
                assert_eq!(entities.is_null(row), text.is_null(row), "row {}", id.value(row));
                if text.is_valid(row) {
                    let first = entities.value(row);
                    let first = first.as_struct();
                    let aspirin = text.value(row).chars().position(|c| c == 'A').expect("Aspirin") as i32;
                    assert_eq!(first.column(0).as_primitive::<Int32Type>().value(0), aspirin, "row {}", id.value(row));
                }
            }
        }
    }
    assert_eq!(ids, (0..ROWS).collect::<BTreeSet<_>>());
    assert!(!std::fs::read_dir(&output).expect("output").flatten().any(|e| e.file_name().to_string_lossy().starts_with(".tmp-")));
}
