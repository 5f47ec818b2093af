use std::net::SocketAddr;
use std::sync::Arc;

use ballista_scheduler::cluster::BallistaCluster;
use ballista_scheduler::config::SchedulerConfig;
use ballista_scheduler::scheduler_process::start_server;
use datafusion::execution::session_state::{SessionState, SessionStateBuilder};
use datafusion::prelude::{SessionConfig, SessionContext};
use sru_ner_udfs::register_sru_ner;

use super::PlanningOnlyAnnotator;
use crate::{PipelineError, Result};

/// Where a scheduler listens and how fast it gives up on a silent executor.
#[derive(Debug, Clone)]
pub struct SchedulerOptions {
    /// Address to listen on, e.g. `127.0.0.1:50050` or `0.0.0.0:50050`.
    pub bind: SocketAddr,
    /// Host name executors and clients use to reach this scheduler.
    pub external_host: String,
    /// An executor that has not sent a heartbeat for this long is taken as lost and its tasks are
    /// run again elsewhere.
    pub executor_timeout_seconds: u64,
}

impl Default for SchedulerOptions {
    fn default() -> Self {
        Self { bind: SocketAddr::from(([127, 0, 0, 1], 50050)), external_host: "localhost".into(), executor_timeout_seconds: 30 }
    }
}

/// A session of this scheduler: DataFusion's defaults, `sru_ner` (planned here, run by executors) and
/// its optimizer rule, so a top-k query annotates only the rows it keeps on the cluster too.
fn scheduler_session(config: SessionConfig) -> datafusion::common::Result<SessionState> {
    let state = SessionStateBuilder::new().with_config(config).with_default_features().build();
    let ctx = SessionContext::new_with_state(state);
    register_sru_ner(&ctx, Arc::new(PlanningOnlyAnnotator));
    Ok(ctx.state())
}

/// Runs a Ballista scheduler that can plan `sru_ner` until the process is stopped.
pub async fn run_scheduler(options: &SchedulerOptions) -> Result<()> {
    let config = SchedulerConfig {
        bind_host: options.bind.ip().to_string(),
        bind_port: options.bind.port(),
        external_host: options.external_host.clone(),
        executor_timeout_seconds: options.executor_timeout_seconds,
        expire_dead_executor_interval_seconds: options.executor_timeout_seconds.clamp(1, 15),
        no_executors_grace_period_seconds: options.executor_timeout_seconds,
        override_session_builder: Some(Arc::new(scheduler_session)),
        ..SchedulerConfig::default()
    };
    let scheduler_error = |e: ballista_core::error::BallistaError| PipelineError::Cluster {
        role: "scheduler",
        address: options.bind.to_string(),
        reason: e.to_string(),
    };
    let cluster = BallistaCluster::new_from_config(&config).await.map_err(scheduler_error)?;
    start_server(cluster, options.bind, Arc::new(config)).await.map_err(scheduler_error)
}
