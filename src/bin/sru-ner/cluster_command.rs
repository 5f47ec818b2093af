//! `sru-ner cluster`: a Ballista scheduler, or an executor that runs `sru_ner` on a model.
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use sru_ner::Annotator;
use sru_ner_pipelines::cluster::{run_executor, run_scheduler, ExecutorOptions, SchedulerOptions};

use crate::model_args::{runtime_warning, ModelArgs};

/// Runs one process of an Apache Ballista cluster that knows sru_ner(text).
///
/// Start one scheduler and any number of executors (one per machine; each loads the model once and
/// runs several tasks on it), then query with `sru-ner sql --cluster df://HOST:PORT`. Table paths
/// and COPY targets are read and written by the executors: give paths every executor sees the same
/// way (absolute paths on shared storage). Stock `ballista-scheduler`/`ballista-executor` binaries
/// cannot run sru_ner: they do not have the function.
#[derive(Debug, Args)]
#[command(after_help = "Example, one machine:\n  \
sru-ner cluster scheduler --bind 127.0.0.1:50050 &\n  \
sru-ner cluster executor --scheduler localhost:50050 &\n  \
sru-ner sql --cluster df://localhost:50050 --table pubmed=/data/pubmed \\\n    \
\"SELECT pmid, sru_ner(abstract) AS entities FROM pubmed LIMIT 3\"")]
pub struct ClusterArgs {
    #[command(subcommand)]
    process: ClusterProcess,
}

#[derive(Debug, Subcommand)]
enum ClusterProcess {
    /// Run the scheduler: plans queries (sru_ner included) and hands their tasks to executors.
    Scheduler(SchedulerArgs),
    /// Run an executor: loads the model once and runs the tasks the scheduler sends.
    Executor(ExecutorArgs),
}

/// Arguments of `sru-ner cluster scheduler`.
#[derive(Debug, Args)]
struct SchedulerArgs {
    /// Address to listen on (0.0.0.0:50050 to serve other machines).
    #[arg(long, default_value = "127.0.0.1:50050")]
    bind: SocketAddr,
    /// Host name executors use to reach the scheduler.
    #[arg(long, default_value = "localhost")]
    external_host: String,
    /// Seconds without a heartbeat after which an executor is lost and its tasks run elsewhere.
    #[arg(long, default_value_t = 30)]
    executor_timeout: u64,
}

/// Arguments of `sru-ner cluster executor`.
#[derive(Debug, Args)]
struct ExecutorArgs {
    /// The scheduler, HOST:PORT.
    #[arg(long)]
    scheduler: String,
    /// Address to listen on (0.0.0.0 to serve other machines).
    #[arg(long, default_value = "127.0.0.1")]
    bind_host: String,
    /// Host name the scheduler and clients use to reach this executor [default: its address].
    #[arg(long)]
    external_host: Option<String>,
    /// Port of the Arrow Flight service that serves results.
    #[arg(long, default_value_t = 50051)]
    flight_port: u16,
    /// Port of the gRPC service that receives tasks.
    #[arg(long, default_value_t = 50052)]
    grpc_port: u16,
    /// Tasks run at once, all on the one model [default: one per core].
    #[arg(long, default_value_t = 0)]
    concurrent_tasks: usize,
    /// Folder for shuffle files [default: a temporary folder].
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Seconds to keep trying to reach the scheduler at start-up.
    #[arg(long, default_value_t = 20)]
    connect_timeout: u16,
    /// Seconds between heartbeats to the scheduler (keep it below the scheduler's --executor-timeout).
    #[arg(long, default_value_t = 5)]
    heartbeat: u64,
    #[command(flatten)]
    model: ModelArgs,
}

/// Runs the command until the process is stopped (SIGINT, SIGTERM) or fails.
pub fn run(args: ClusterArgs) -> Result<()> {
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting tokio")?;
    match args.process {
        ClusterProcess::Scheduler(args) => {
            let options =
                SchedulerOptions { bind: args.bind, external_host: args.external_host, executor_timeout_seconds: args.executor_timeout };
            eprintln!("sru-ner: scheduler listening on {}", args.bind);
            tokio.block_on(run_scheduler(&options))?;
        }
        ClusterProcess::Executor(args) => {
            let Some((host, port)) = args.scheduler.rsplit_once(':') else {
                anyhow::bail!("--scheduler {:?}: expected HOST:PORT, e.g. localhost:50050", args.scheduler);
            };
            let port = port.parse().with_context(|| format!("--scheduler {:?}: the port is not a number", args.scheduler))?;
            // The model loads before the executor registers, so a bad model fails the start, not a query.
            let runtime = Arc::new(args.model.start_runtime()?);
            runtime_warning(&runtime);
            let options = ExecutorOptions {
                scheduler_host: host.to_owned(),
                scheduler_port: port,
                scheduler_connect_timeout_seconds: args.connect_timeout,
                bind_host: args.bind_host,
                external_host: args.external_host,
                flight_port: args.flight_port,
                grpc_port: args.grpc_port,
                concurrent_tasks: args.concurrent_tasks,
                work_dir: args.work_dir,
                heartbeat_seconds: args.heartbeat,
            };
            eprintln!("sru-ner: executor of {} serving scheduler {}", runtime.manifest().name, args.scheduler);
            let result = tokio.block_on(run_executor(&options, Arc::clone(&runtime) as Arc<dyn Annotator>));
            runtime.shutdown();
            result?;
        }
    }
    Ok(())
}
