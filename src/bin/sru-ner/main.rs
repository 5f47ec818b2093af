//! `sru-ner`: the command-line surface of the model runtime.
mod annotate_command;
mod cluster_command;
mod eval_command;
mod import_command;
mod model_args;
mod models_command;
mod option_choices;
mod parquet_annotation;
mod sql_command;
mod stream_command;
mod train_command;

use clap::{Parser, Subcommand};

/// jemalloc for every allocation of the process: with `override_allocator_on_supported_platforms` it
/// also replaces `malloc` for libtorch and librdkafka. glibc's malloc kept tensor-sized blocks in its
/// heaps, so the bulk job's peak RSS grew with the number of batches (benches/history.md).
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Nested biomedical named-entity recognition (SRU-NER) for data pipelines.
#[derive(Debug, Parser)]
#[command(name = "sru-ner", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once at start-up, so the size of the largest variant's arguments does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Annotate text (one JSON object per document, in input order), or Parquet into Parquet with --output.
    Annotate(annotate_command::AnnotateArgs),
    /// Run SQL over Parquet/CSV files with sru_ner(text) available.
    Sql(sql_command::SqlArgs),
    /// Run a scheduler or an executor of an Apache Ballista cluster that knows sru_ner(text).
    Cluster(cluster_command::ClusterArgs),
    /// Enrich a Kafka topic: consume text messages, produce them with their entities (a consumer group).
    Stream(stream_command::StreamArgs),
    /// Convert annotated corpus files into the Parquet corpus store.
    Import(import_command::ImportArgs),
    /// Train a model on corpora of the store.
    Train(train_command::TrainArgs),
    /// Score a model on a corpus split of the store (strict span P/R/F1).
    Eval(eval_command::EvalArgs),
    /// Describe model directories from their manifests: name, encoder, types, training corpora,
    /// weights and model card (default: the committed default model).
    Models(models_command::ModelsArgs),
}

/// How many compiled kernels oneDNN keeps unless the environment says otherwise (its own default is
/// 1,024). In bf16 on a CPU, oneDNN compiles a kernel per matrix shape, and a long job meets many batch
/// shapes: the bulk job's peak RSS grew 1.74× from 1,000 to 100,000 rows with the default cache and
/// 1.33× with 16 entries, at the same speed (benches/README.md, `bulk_memory`); in fp32 it stayed flat
/// (1.03×) either way.
const ONEDNN_PRIMITIVE_CACHE_CAPACITY: &str = "16";

fn main() -> std::process::ExitCode {
    // Before any thread starts and before libtorch's first oneDNN call, which reads it once.
    if std::env::var_os("ONEDNN_PRIMITIVE_CACHE_CAPACITY").is_none() {
        std::env::set_var("ONEDNN_PRIMITIVE_CACHE_CAPACITY", ONEDNN_PRIMITIVE_CACHE_CAPACITY);
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SRU_NER_LOG").unwrap_or_else(|_| "warn,sru_ner_pipelines=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Annotate(args) => annotate_command::run(args),
        Command::Sql(args) => sql_command::run(args).map(|()| std::process::ExitCode::SUCCESS),
        Command::Cluster(args) => cluster_command::run(args).map(|()| std::process::ExitCode::SUCCESS),
        Command::Stream(args) => stream_command::run(args).map(|()| std::process::ExitCode::SUCCESS),
        Command::Import(args) => import_command::run(args).map(|()| std::process::ExitCode::SUCCESS),
        Command::Train(args) => train_command::run(args).map(|()| std::process::ExitCode::SUCCESS),
        Command::Eval(args) => eval_command::run(args).map(|()| std::process::ExitCode::SUCCESS),
        Command::Models(args) => models_command::run(args).map(|()| std::process::ExitCode::SUCCESS),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("sru-ner: error: {error:#}");
            std::process::ExitCode::from(2)
        }
    }
}
