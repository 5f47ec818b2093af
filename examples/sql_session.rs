//! Registers `sru_ner(text)` in your own DataFusion `SessionContext` and queries it with SQL: the
//! function returns a list of entity structs per row, which `unnest` turns into one row per entity.
//!
//! ```text
//! cargo run --release --example sql_session -- [PARQUET_FILE TEXT_COLUMN]
//! ```
//! Without arguments it queries an in-memory table of two abstracts; with them, the text column of a
//! Parquet file (first 10 rows).
use std::sync::Arc;

use datafusion::arrow::array::{Int64Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use sru_ner::runtime::{ModelRuntime, ModelSource, RuntimeOptions};
use sru_ner_udfs::register_sru_ner;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/default");
    let runtime = ModelRuntime::start(ModelSource::Directory(model), RuntimeOptions { precision: None, ..RuntimeOptions::default() })?;

    let ctx = SessionContext::new();
    // The UDF calls the runtime from DataFusion's threads; the runtime batches their rows together.
    register_sru_ner(&ctx, Arc::new(runtime));

    let args: Vec<String> = std::env::args().skip(1).collect();
    let text_column = match args.as_slice() {
        [file, column] => {
            ctx.register_parquet("abstracts", file, ParquetReadOptions::default()).await?;
            column.clone()
        }
        [] => {
            let schema =
                Arc::new(Schema::new(vec![Field::new("pmid", DataType::Int64, false), Field::new("abstract", DataType::Utf8, true)]));
            let batch = RecordBatch::try_new(
                schema,
                vec![
                    Arc::new(Int64Array::from(vec![1, 2])),
                    Arc::new(StringArray::from(vec![
                        Some("Cisplatin-induced nephrotoxicity was reduced by magnesium in rats."),
                        Some("Mutations in BRCA1 increase the risk of breast cancer."),
                    ])),
                ],
            )?;
            ctx.register_batch("abstracts", batch)?;
            "abstract".to_string()
        }
        _ => return Err("usage: sql_session [PARQUET_FILE TEXT_COLUMN]".into()),
    };

    // One row per entity: the struct's fields are start, end, label, text and score.
    let sql = format!(
        "SELECT e['label'] AS label, e['text'] AS text, e['start'] AS start_char, e['end'] AS end_char \
         FROM (SELECT unnest(sru_ner(\"{text_column}\")) AS e FROM (SELECT * FROM abstracts LIMIT 10)) \
         ORDER BY label, start_char"
    );
    ctx.sql(&sql).await?.show().await?;
    Ok(())
}
