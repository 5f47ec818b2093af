use std::path::PathBuf;
use std::sync::Arc;

use ballista_core::registry::BallistaFunctionRegistry;
use ballista_executor::executor_process::{start_executor_process, ExecutorProcessConfig};
use datafusion::logical_expr::ScalarUDF;
use sru_ner_schemas::Annotator;
use sru_ner_udfs::SruNerUdf;

use crate::{PipelineError, Result};

/// Which scheduler an executor serves, where it listens, and how much it runs at once.
#[derive(Debug, Clone)]
pub struct ExecutorOptions {
    /// The scheduler's host.
    pub scheduler_host: String,
    /// The scheduler's port.
    pub scheduler_port: u16,
    /// Seconds to keep trying to reach the scheduler at start-up before failing.
    pub scheduler_connect_timeout_seconds: u16,
    /// Address to listen on (`0.0.0.0` to serve other machines).
    pub bind_host: String,
    /// Host name the scheduler and clients use to reach this executor [default: its address].
    pub external_host: Option<String>,
    /// Port of the Arrow Flight service that serves task results.
    pub flight_port: u16,
    /// Port of the gRPC service that receives tasks.
    pub grpc_port: u16,
    /// Tasks run at once; they share one annotator (0: one per core).
    pub concurrent_tasks: usize,
    /// Where shuffle files go [default: a temporary folder].
    pub work_dir: Option<PathBuf>,
    /// Seconds between heartbeats to the scheduler (below its executor timeout).
    pub heartbeat_seconds: u64,
}

impl Default for ExecutorOptions {
    fn default() -> Self {
        Self {
            scheduler_host: "localhost".into(),
            scheduler_port: 50050,
            scheduler_connect_timeout_seconds: 20,
            bind_host: "127.0.0.1".into(),
            external_host: None,
            flight_port: 50051,
            grpc_port: 50052,
            concurrent_tasks: 0,
            work_dir: None,
            heartbeat_seconds: 5,
        }
    }
}

/// Runs a Ballista executor whose tasks call `sru_ner` on `annotator`, until the process is stopped.
/// Fails when the scheduler cannot be reached within the connect timeout.
pub async fn run_executor(options: &ExecutorOptions, annotator: Arc<dyn Annotator>) -> Result<()> {
    // Ballista's default registry lacks DataFusion's array functions (`cardinality`, `array_length`,
    // ...), which queries over `sru_ner`'s lists use; a local context has them.
    let mut registry = BallistaFunctionRegistry::default();
    let sru_ner = Arc::new(ScalarUDF::from(SruNerUdf::new(annotator)));
    for function in datafusion::functions_nested::all_default_nested_functions().into_iter().chain([sru_ner]) {
        registry.scalar_functions.insert(function.name().to_owned(), function);
    }
    let config = ExecutorProcessConfig {
        scheduler_host: options.scheduler_host.clone(),
        scheduler_port: options.scheduler_port,
        scheduler_connect_timeout_seconds: options.scheduler_connect_timeout_seconds,
        bind_host: options.bind_host.clone(),
        external_host: options.external_host.clone(),
        port: options.flight_port,
        grpc_port: options.grpc_port,
        vcores: options.concurrent_tasks,
        work_dir: options.work_dir.as_ref().map(|dir| dir.display().to_string()),
        executor_heartbeat_interval_seconds: options.heartbeat_seconds.max(1),
        override_function_registry: Some(Arc::new(registry)),
        ..ExecutorProcessConfig::default()
    };
    let scheduler = format!("{}:{}", options.scheduler_host, options.scheduler_port);
    start_executor_process(Arc::new(config)).await.map_err(|e| PipelineError::Cluster {
        role: "executor",
        address: scheduler,
        reason: e.to_string(),
    })
}
