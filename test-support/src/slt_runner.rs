//! Runs a sqllogictest file against a DataFusion context with `sru_ner` registered on an annotator and
//! Parquet tables registered by name.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};
use datafusion::error::DataFusionError;
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use sqllogictest::{DBOutput, DefaultColumnType};
use sru_ner_schemas::Annotator;

/// One SQL session: a DataFusion context with `sru_ner` registered.
struct SqlSession {
    ctx: SessionContext,
}

fn column_type(data_type: &DataType) -> DefaultColumnType {
    match data_type {
        t if t.is_integer() => DefaultColumnType::Integer,
        t if t.is_floating() => DefaultColumnType::FloatingPoint,
        _ => DefaultColumnType::Text,
    }
}

fn rows(batches: &[RecordBatch]) -> Result<Vec<Vec<String>>, DataFusionError> {
    let options = FormatOptions::default().with_null("NULL");
    let mut rows = Vec::new();
    for batch in batches {
        let formatters = batch.columns().iter().map(|c| ArrayFormatter::try_new(c.as_ref(), &options)).collect::<Result<Vec<_>, _>>()?;
        for row in 0..batch.num_rows() {
            rows.push(formatters.iter().map(|f| f.value(row).to_string()).collect());
        }
    }
    Ok(rows)
}

#[async_trait]
impl sqllogictest::AsyncDB for SqlSession {
    type Error = DataFusionError;
    type ColumnType = DefaultColumnType;

    async fn run(&mut self, sql: &str) -> Result<DBOutput<DefaultColumnType>, DataFusionError> {
        let frame = self.ctx.sql(sql).await?;
        let types = frame.schema().fields().iter().map(|f| column_type(f.data_type())).collect::<Vec<_>>();
        let batches = frame.collect().await?;
        if types.is_empty() {
            return Ok(DBOutput::StatementComplete(0));
        }
        Ok(DBOutput::Rows { types, rows: rows(&batches)? })
    }

    async fn shutdown(&mut self) {}

    fn engine_name(&self) -> &str {
        "datafusion+sru_ner"
    }
}

/// Runs the `.slt` file at `path` against a fresh context per connection, with `sru_ner` calling
/// `annotator` and each `(name, path)` of `tables` registered as a Parquet table; panics with the file
/// and the first mismatch.
pub fn run_slt(path: &Path, annotator: Arc<dyn Annotator>, tables: Vec<(String, String)>) {
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("tokio");
    tokio.block_on(async move {
        let mut runner = sqllogictest::Runner::new(move || {
            let (annotator, tables) = (Arc::clone(&annotator), tables.clone());
            async move {
                let ctx = SessionContext::new();
                sru_ner_udfs::register_sru_ner(&ctx, annotator);
                for (name, path) in tables {
                    ctx.register_parquet(&name, &path, ParquetReadOptions::default()).await?;
                }
                Ok(SqlSession { ctx })
            }
        });
        runner.with_column_validator(sqllogictest::strict_column_validator);
        if let Err(error) = runner.run_file_async(path).await {
            panic!("{}: {error}", path.display());
        }
    });
}
