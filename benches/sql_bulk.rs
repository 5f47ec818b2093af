//! SQL and bulk throughput against the runtime alone, in the same run, on the same model instance.
//!
//! Sample: the first N (default 2,000) `pubmed_raw` abstracts (abstract line only), written to Parquet in
//! row groups of 500 by `scripts/abstracts_to_parquet.py`. Three passes over them:
//! - runtime: two threads call `ModelRuntime::annotate` with 256 abstracts at a time (the bulk job's batch);
//! - SQL: `SELECT pmid, sru_ner(abstract) FROM pubmed` collected by DataFusion (one partition per core);
//! - bulk: the Parquet job into a fresh folder (2 workers, parts of 2,000 rows cut at row groups).
//!
//! The entity counts of the three passes must agree.
//!
//! Run: `cargo bench --bench sql_bulk` (env: SRU_NER_BENCH_ABSTRACTS, SRU_NER_BENCH_MODEL=dir).
mod common;

use std::sync::Arc;
use std::time::Instant;

use common::peak_rss_mib;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use sru_ner::runtime::{ModelRuntime, ModelSource, RuntimeOptions};
use sru_ner::Annotator;
use sru_ner_pipelines::bulk::{BulkJob, BulkOptions};

fn main() {
    common::print_machine();
    let Some(sample) = common::pubmed_sample(500) else { return };
    let (work, table, model) = (&sample.work, &sample.table, sample.model.clone());

    let runtime = Arc::new(ModelRuntime::start(ModelSource::Directory(model.clone()), RuntimeOptions::default()).expect("model"));
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio");
    let ctx = SessionContext::new();
    sru_ner_udfs::register_sru_ner(&ctx, Arc::clone(&runtime) as Arc<dyn Annotator>);
    tokio.block_on(ctx.register_parquet("pubmed", table.to_str().unwrap(), ParquetReadOptions::default())).expect("table");
    let abstracts: Vec<String> = tokio
        .block_on(async { ctx.sql("SELECT abstract FROM pubmed").await?.collect().await })
        .expect("read abstracts")
        .iter()
        .flat_map(|b| b.column(0).as_string_view().iter().map(|t| t.unwrap_or_default().to_string()).collect::<Vec<_>>())
        .collect();
    let chars: usize = abstracts.iter().map(|a| a.chars().count()).sum();
    eprintln!("sample: {} abstracts, {chars} characters; model {}", abstracts.len(), model.display());
    common::runtime_alone(&runtime, &abstracts[..abstracts.len().min(50)]); // warm-up

    let started = Instant::now();
    let runtime_entities = common::runtime_alone(&runtime, &abstracts);
    let runtime_s = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let batches =
        tokio.block_on(async { ctx.sql("SELECT pmid, sru_ner(abstract) AS entities FROM pubmed").await?.collect().await }).expect("SQL");
    let sql_s = started.elapsed().as_secs_f64();
    let sql_entities: usize = batches.iter().map(|b| b.column(1).as_list::<i32>().values().len()).sum();

    let output = work.path().join("bulk");
    let options = BulkOptions { text_column: "abstract".into(), ..BulkOptions::default() };
    let started = Instant::now();
    let job = BulkJob::plan(table.to_str().unwrap(), &output, options, runtime.model_id()).expect("plan");
    let summary = job.run(runtime.as_ref(), &|_| {}).expect("bulk");
    let bulk_s = started.elapsed().as_secs_f64();

    assert_eq!(sql_entities, runtime_entities, "SQL and runtime disagree");
    assert_eq!(summary.entities as usize, runtime_entities, "bulk and runtime disagree");
    let per_s = |s: f64| abstracts.len() as f64 / s;
    println!("| pass | seconds | abstracts/s | entities |");
    println!("| --- | --- | --- | --- |");
    println!("| runtime alone | {runtime_s:.1} | {:.2} | {runtime_entities} |", per_s(runtime_s));
    println!("| SQL `sru_ner(abstract)` | {sql_s:.1} | {:.2} | {sql_entities} |", per_s(sql_s));
    println!("| bulk Parquet job | {bulk_s:.1} | {:.2} | {} |", per_s(bulk_s), summary.entities);
    println!("peak RSS of the process: {:.0} MiB", peak_rss_mib());
    println!("SQL / bulk: {:.3}", bulk_s / sql_s);
    println!("bulk / runtime: {:.3}", runtime_s / bulk_s);
    println!("SQL / runtime: {:.3}", runtime_s / sql_s);
}
