//! The SQL behaviour of `sru_ner(text)` (`tests/sql/*.slt`), on a stand-in annotator that tags a fixed
//! word list: no model, no libtorch. The root crate runs the same runner on the real model.
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::Int64Type;
use datafusion::prelude::SessionContext;
use sru_ner_schemas::test_util::LexiconAnnotator;
use sru_ner_udfs::register_sru_ner;

#[test]
fn sru_ner_in_sql() {
    let lexicon = LexiconAnnotator::new(&[
        ("Aspirin", "Chemical"),
        ("myocardial infarction", "Disease"),
        ("infarction", "Disease"),
        ("diabetes", "Disease"),
        ("Interleukin-2", "Gene_or_protein"),
        ("T cells", "Cell_Type"),
        ("naïve", "Cell_Type"),
    ])
    .failing_on("FAIL");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sql/sru_ner.slt");
    sru_ner_test_support::run_slt(&path, Arc::new(lexicon), Vec::new());
}

/// A table of `n` rows `(id, body)`, every body naming Aspirin once.
fn aspirin_table(n: i64) -> RecordBatch {
    let ids = Int64Array::from_iter_values(1..=n);
    let bodies = StringArray::from_iter_values((1..=n).map(|i| format!("Aspirin, dose {i}.")));
    RecordBatch::try_from_iter([("id", Arc::new(ids) as ArrayRef), ("body", Arc::new(bodies) as ArrayRef)]).unwrap()
}

/// The plan lines of one `EXPLAIN` row (`logical_plan` or `physical_plan`).
async fn explained(ctx: &SessionContext, sql: &str, plan_type: &str) -> String {
    let batches = ctx.sql(&format!("EXPLAIN {sql}")).await.unwrap().collect().await.unwrap();
    for batch in &batches {
        let (types, plans) = (batch.column(0).as_string::<i32>(), batch.column(1).as_string::<i32>());
        if let Some(row) = (0..batch.num_rows()).find(|&r| types.value(r) == plan_type) {
            return plans.value(row).to_string();
        }
    }
    panic!("no {plan_type} in EXPLAIN {sql}")
}

/// A top-k query annotates only the rows it returns, a plain LIMIT and a filter too; a sort
/// on the function's result still annotates every row.
#[test]
fn sql_annotates_only_the_rows_a_query_keeps() {
    let lexicon = LexiconAnnotator::new(&[("Aspirin", "Chemical")]);
    let ctx = SessionContext::new();
    register_sru_ner(&ctx, Arc::new(lexicon.clone()));
    register_sru_ner(&ctx, Arc::new(lexicon.clone()));
    let rules = ctx.state().optimizers().iter().filter(|r| r.name() == "sru_ner_annotate_after_top_k").count();
    assert_eq!(rules, 1, "registering twice adds the rule once");
    ctx.register_batch("pubmed", aspirin_table(1500)).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        // The rows the model sees for one query, and the query's rows.
        let rows_seen = |sql: &'static str| {
            let (ctx, lexicon) = (ctx.clone(), lexicon.clone());
            async move {
                let before = lexicon.texts_annotated();
                let batches = ctx.sql(sql).await.unwrap().collect().await.unwrap();
                (lexicon.texts_annotated() - before, batches)
            }
        };
        let top_k = "SELECT id, sru_ner(body) AS e FROM pubmed ORDER BY id DESC LIMIT 20";
        let (seen, batches) = rows_seen(top_k).await;
        assert_eq!(seen, 20, "ORDER BY ... LIMIT 20 annotated {seen} rows");
        let ids: Vec<i64> = batches.iter().flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec()).collect();
        assert_eq!(ids, (1481..=1500).rev().collect::<Vec<_>>());
        let entities: usize = batches.iter().map(|b| b.column(1).as_list::<i32>().values().len()).sum();
        assert_eq!(entities, 20, "one Aspirin per row");
        // Where it runs: the projection with sru_ner sits above the sort, in both plans.
        let logical = explained(&ctx, top_k, "logical_plan").await;
        let (projection, sort) = (logical.find("Projection:").unwrap(), logical.find("Sort:").unwrap());
        assert!(projection < sort, "sru_ner below the top-k:\n{logical}");
        let physical = explained(&ctx, top_k, "physical_plan").await;
        let (projection, sort) = (physical.find("ProjectionExec").unwrap(), physical.find("SortExec").unwrap());
        assert!(projection < sort && physical.contains("sru_ner"), "sru_ner below the top-k:\n{physical}");

        let (seen, _) = rows_seen("SELECT id, sru_ner(body) FROM pubmed LIMIT 20").await;
        assert_eq!(seen, 20, "LIMIT 20 annotated {seen} rows");
        let (seen, _) = rows_seen("SELECT * FROM (SELECT id, sru_ner(body) AS e FROM pubmed) WHERE id <= 10").await;
        assert_eq!(seen, 10, "a filter on id annotated {seen} rows");
        // Ordering by the result needs every row annotated; the answer is still right.
        let (seen, batches) = rows_seen("SELECT id FROM pubmed ORDER BY cardinality(sru_ner(body)) DESC, id LIMIT 3").await;
        assert!(seen >= 1500, "a sort on the result annotated only {seen} rows");
        assert_eq!(batches[0].column(0).as_primitive::<Int64Type>().values().to_vec(), vec![1, 2, 3]);
    });
}
