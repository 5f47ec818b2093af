//! `sru-ner sql`: SQL over Parquet and CSV files with `sru_ner(text)` registered (DataFusion).
use std::io::{BufRead, Write};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Args, ValueEnum};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::prelude::{CsvReadOptions, ParquetReadOptions, SessionContext};
use sru_ner::Annotator;
use sru_ner_pipelines::cluster::{collect_on_cluster, connect_cluster};
use sru_ner_udfs::register_sru_ner;

use crate::model_args::{runtime_warning, ModelArgs};

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// An aligned text table.
    Table,
    /// One JSON object per row (nested entities as JSON arrays).
    Json,
    /// CSV with a header (nested columns are not supported by CSV; unnest them or use json).
    Csv,
}

/// Arguments of `sru-ner sql`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
sru-ner sql --table pubmed=pubmed.parquet \"SELECT pmid, sru_ner(abstract) AS entities FROM pubmed LIMIT 3\"\n  \
sru-ner sql --table pubmed=pubmed.parquet \\\n    \
\"SELECT e.label, count(*) FROM (SELECT unnest(sru_ner(abstract)) AS e FROM pubmed) GROUP BY e.label\"\n  \
sru-ner sql --table pubmed=pubmed.parquet \\\n    \
\"COPY (SELECT pmid, sru_ner(abstract) AS entities FROM pubmed) TO 'entities.parquet'\"\n\n\
sru_ner(text) returns List<Struct<start Int32, end Int32, label Utf8, text Utf8, score Float32>>;\n\
start/end are character offsets (end exclusive): substr(text, start + 1, end - start) = entity text.\n\
NULL text gives NULL; an empty string gives an empty list.\n\
With no QUERY, statements are read from standard input (an interactive prompt on a terminal),\n\
each ended by ';'.")]
pub struct SqlArgs {
    /// A table: NAME=PATH, where PATH is a Parquet or CSV file, a folder of them, or a glob (repeat).
    #[arg(long = "table", value_name = "NAME=PATH")]
    tables: Vec<String>,
    /// Statements to run in order; none: read them from standard input.
    #[arg(value_name = "QUERY")]
    queries: Vec<String>,
    /// Output format of query results.
    #[arg(long, value_enum, default_value = "table")]
    format: OutputFormat,
    /// Run on an Apache Ballista cluster: the scheduler's df://HOST:PORT (see `sru-ner cluster`).
    /// The executors annotate with the model they were started with; the model options here are
    /// then unused, and table paths must be readable by every executor.
    #[arg(long, value_name = "df://HOST:PORT")]
    cluster: Option<String>,
    #[command(flatten)]
    model: ModelArgs,
}

/// Where the statements run.
enum Backend {
    /// On a model loaded in this process.
    Local(Arc<sru_ner::runtime::ModelRuntime>),
    /// On the cluster at this scheduler URL, whose executors hold the model.
    Cluster(String),
}

/// Runs the command: locally on a model loaded here, or on the cluster of `--cluster`, whose executors
/// hold the model.
pub fn run(args: SqlArgs) -> Result<()> {
    let backend = match &args.cluster {
        Some(url) => Backend::Cluster(url.clone()),
        None => {
            let runtime = Arc::new(args.model.start_runtime()?);
            runtime_warning(&runtime);
            Backend::Local(runtime)
        }
    };
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting tokio")?;
    let result = tokio.block_on(async {
        let ctx = match &backend {
            Backend::Cluster(url) => connect_cluster(url).await?,
            Backend::Local(runtime) => {
                let ctx = SessionContext::new();
                register_sru_ner(&ctx, Arc::clone(runtime) as Arc<dyn Annotator>);
                ctx
            }
        };
        for table in &args.tables {
            register_table(&ctx, table).await?;
        }
        run_statements(&ctx, &args).await
    });
    drop(tokio);
    if let Backend::Local(runtime) = backend {
        runtime.shutdown();
    }
    result
}

/// Runs the statements of the command line, or those of standard input when there are none.
async fn run_statements(ctx: &SessionContext, args: &SqlArgs) -> Result<()> {
    let cluster = args.cluster.is_some();
    if args.queries.is_empty() {
        return run_statements_from_stdin(ctx, args.format, cluster).await;
    }
    for query in &args.queries {
        run_statement(ctx, query, args.format, cluster).await?;
    }
    Ok(())
}

/// Registers `NAME=PATH` as a Parquet or CSV table (by the path's extension; Parquet otherwise).
async fn register_table(ctx: &SessionContext, spec: &str) -> Result<()> {
    let Some((name, path)) = spec.split_once('=') else {
        bail!("--table {spec:?}: expected NAME=PATH, e.g. pubmed=abstracts.parquet");
    };
    let is_csv = path.ends_with(".csv") || path.ends_with(".csv/") || path.ends_with("*.csv");
    let registered = if is_csv {
        ctx.register_csv(name, path, CsvReadOptions::new()).await
    } else {
        ctx.register_parquet(name, path, ParquetReadOptions::default()).await
    };
    registered.with_context(|| format!("--table {name}={path}"))
}

/// Runs one statement, locally or on the `cluster` of `ctx`, and prints its result (a `COPY` prints
/// the rows it wrote).
async fn run_statement(ctx: &SessionContext, sql: &str, format: OutputFormat, cluster: bool) -> Result<()> {
    let batches = if cluster {
        collect_on_cluster(ctx, sql).await?
    } else {
        let frame = ctx.sql(sql).await.with_context(|| format!("planning {sql:?}"))?;
        frame.collect().await.with_context(|| format!("running {sql:?}"))?
    };
    print_batches(&batches, format)
}

fn print_batches(batches: &[RecordBatch], format: OutputFormat) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        OutputFormat::Table => {
            writeln!(out, "{}", datafusion::arrow::util::pretty::pretty_format_batches(batches)?)?;
        }
        OutputFormat::Json => {
            let mut writer = datafusion::arrow::json::LineDelimitedWriter::new(&mut out);
            writer.write_batches(&batches.iter().collect::<Vec<_>>())?;
            writer.finish()?;
        }
        OutputFormat::Csv => {
            let mut writer = datafusion::arrow::csv::Writer::new(&mut out);
            for batch in batches {
                writer.write(batch).context("CSV cannot hold nested columns: unnest them, or use --format json")?;
            }
        }
    }
    out.flush()?;
    Ok(())
}

/// Reads `;`-terminated statements from standard input; an error is printed and the next statement
/// runs (the exit status is still an error if any failed and the input was not a terminal).
async fn run_statements_from_stdin(ctx: &SessionContext, format: OutputFormat, cluster: bool) -> Result<()> {
    use std::io::IsTerminal;
    let interactive = std::io::stdin().is_terminal();
    let prompt = |continuation: bool| {
        if interactive {
            eprint!("{}", if continuation { "     -> " } else { "sru-ner> " });
            std::io::stderr().flush().ok();
        }
    };
    let mut failed = 0;
    let mut statement = String::new();
    prompt(false);
    for line in std::io::stdin().lock().lines() {
        let line = line.context("reading standard input")?;
        statement.push_str(&line);
        statement.push('\n');
        if line.trim_end().ends_with(';') {
            let sql = statement.trim().trim_end_matches(';').to_string();
            statement.clear();
            if !sql.is_empty() {
                if let Err(error) = run_statement(ctx, &sql, format, cluster).await {
                    eprintln!("sru-ner: error: {error:#}");
                    failed += 1;
                }
            }
        }
        prompt(!statement.trim().is_empty());
    }
    if !statement.trim().is_empty() {
        run_statement(ctx, statement.trim(), format, cluster).await?;
    }
    if failed > 0 && !interactive {
        bail!("{failed} statements failed");
    }
    Ok(())
}
