//! Runs the sqllogictest files in `tests/sql/` against DataFusion with `sru_ner` registered on the
//! committed default model, end to end. `pubmed.slt` also needs `../shared/data/pubmed_raw` (skipped
//! without it). The function's SQL behaviour on its own is specified in `udfs/tests/sql/`.
use crate::common;

use std::sync::Arc;

use sru_ner::runtime::{ModelRuntime, ModelSource, RuntimeOptions};

fn run_slt(file: &str, runtime: Arc<ModelRuntime>, tables: Vec<(String, String)>) {
    sru_ner_test_support::run_slt(&common::repo().join("tests/sql").join(file), runtime, tables);
}

fn default_runtime() -> Arc<ModelRuntime> {
    Arc::new(ModelRuntime::start(ModelSource::Directory(common::default_model_dir()), RuntimeOptions::default()).expect("default model"))
}

#[test]
fn sru_ner_in_sql() {
    run_slt("sru_ner.slt", default_runtime(), Vec::new());
}

#[test]
fn sru_ner_over_a_pubmed_parquet_table() {
    if common::shared_data("pubmed_raw").is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let table = dir.path().join("pubmed.parquet");
    common::pubmed_parquet(&table, 100, 30);
    run_slt("pubmed.slt", default_runtime(), vec![("pubmed".into(), table.display().to_string())]);
}
