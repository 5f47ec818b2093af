use std::sync::Arc;
use std::time::Duration;

use ballista::prelude::SessionContextExt;
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::error::DataFusionError;
use datafusion::execution::session_state::SessionStateBuilder;
use datafusion::prelude::SessionContext;
use sru_ner_udfs::register_sru_ner;

use super::PlanningOnlyAnnotator;
use crate::{PipelineError, Result};

/// A context whose queries run on the Ballista cluster of the scheduler at `url`
/// (`df://HOST:PORT`), with `sru_ner` registered for planning; the executors annotate.
///
/// Fails with an error naming the address when the scheduler cannot be reached within 10 s.
pub async fn connect_cluster(url: &str) -> Result<SessionContext> {
    let bad_url = |reason: &str| PipelineError::Cluster { role: "client", address: url.to_owned(), reason: reason.to_owned() };
    let address = url.strip_prefix("df://").ok_or_else(|| bad_url("expected df://HOST:PORT, e.g. df://localhost:50050"))?;
    let address = address.trim_end_matches('/');
    if address.rsplit_once(':').is_none_or(|(host, port)| host.is_empty() || port.parse::<u16>().is_err()) {
        return Err(bad_url("expected df://HOST:PORT, e.g. df://localhost:50050"));
    }
    match tokio::time::timeout(Duration::from_secs(10), tokio::net::TcpStream::connect(address)).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(bad_url(&format!("cannot reach the scheduler: {e} (is `sru-ner cluster scheduler` running there?)"))),
        Err(_) => return Err(bad_url("cannot reach the scheduler: no answer within 10 s")),
    }
    let state = SessionStateBuilder::new().with_default_features().build();
    let ctx = SessionContext::remote_with_state(url, state).await.map_err(|e| bad_url(&e.to_string()))?;
    register_sru_ner(&ctx, Arc::new(PlanningOnlyAnnotator));
    Ok(ctx)
}

/// Plans `sql` on `ctx` (from [`connect_cluster`]) and runs it on the cluster. A query calling
/// `sru_ner` that the cluster's scheduler cannot plan or an executor rejects (stock Ballista
/// processes, which lack the function; Ballista reports only "rejected by executor" to the client)
/// gives [`PipelineError::ClusterLacksSruNer`], which says how to start processes that have it.
pub async fn collect_on_cluster(ctx: &SessionContext, sql: &str) -> Result<Vec<RecordBatch>> {
    let calls_sru_ner = sql.to_lowercase().contains("sru_ner");
    let query_error = |source: DataFusionError| {
        let message = source.to_string();
        let rejected = message.contains("rejected by executor");
        // A stock scheduler cannot decode the plan ("... not provided for scalar function sru_ner").
        let unknown = message.contains("no UDF named \"sru_ner\"") || message.contains("scalar function sru_ner");
        if unknown || (calls_sru_ner && rejected) {
            PipelineError::ClusterLacksSruNer { message }
        } else {
            PipelineError::Query { sql: sql.to_owned(), source: Box::new(source) }
        }
    };
    let frame = ctx.sql(sql).await.map_err(query_error)?;
    frame.collect().await.map_err(query_error)
}
