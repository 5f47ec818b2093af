//! The stage loop: starts intake (`stage_intake.rs`), batches messages across partitions for
//! enrichment (`batch_enrichment.rs`), hands the records to delivery (`record_delivery.rs`),
//! and stops cleanly on shutdown or on the first fatal error.
use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::producer::Producer;
use sru_ner_schemas::Annotator;
use tokio::sync::mpsc::UnboundedReceiver;
use tokio::task::JoinSet;

use super::batch_enrichment::enrich_batch;
use super::broker_health::BrokerHealth;
use super::offset_ledger::OffsetLedger;
use super::record_delivery::{acknowledge_deliveries, commit_in_transaction, create_producer, run_committer, send_records};
use super::stage_consumer_context::offset_list;
use super::stage_intake::{create_consumer, run_intake};
use super::stage_messages::Envelope;
use super::stage_metrics::{MetricsEndpoint, StageMetrics};
use super::stage_shared::{StageControl, StageShared};
use super::stream_config::{DeliveryGuarantee, StreamConfig};
use crate::{PipelineError, Result};

/// What a stage did before it stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct StreamSummary {
    /// Messages read.
    pub messages_in: u64,
    /// Enriched messages acknowledged.
    pub messages_out: u64,
    /// Dead-letter records acknowledged.
    pub messages_dead: u64,
    /// Wall time.
    pub elapsed: Duration,
}

/// Runs the stage until `shutdown` resolves (then stops fetching, finishes in-flight work, commits and
/// leaves the group) or a fatal error occurs (then commits what was acknowledged and returns the error).
pub async fn run_stream_stage(
    config: StreamConfig,
    annotator: Arc<dyn Annotator>,
    shutdown: impl Future<Output = ()>,
) -> Result<StreamSummary> {
    config.validate()?;
    let started = Instant::now();
    let metrics = Arc::new(StageMetrics::default());
    let _endpoint = match config.metrics_addr.as_str() {
        "off" | "" => None,
        address => {
            let endpoint = MetricsEndpoint::start(address, metrics.clone())?;
            tracing::info!("metrics on http://{}/metrics", endpoint.address);
            Some(endpoint)
        }
    };
    let ledger = Arc::new(OffsetLedger::default());
    let control = Arc::new(StageControl::default());
    let exactly_once = config.delivery == DeliveryGuarantee::ExactlyOnce;
    let health = Arc::new(BrokerHealth::new(metrics.clone()));
    let consumer = Arc::new(create_consumer(&config, ledger.clone(), metrics.clone(), health.clone())?);
    let producer = create_producer(&config, health).await?;

    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    let intake = {
        let (consumer, ledger, metrics, control, config) =
            (consumer.clone(), ledger.clone(), metrics.clone(), control.clone(), config.clone());
        std::thread::Builder::new()
            .name("sru-ner-consumer".into())
            .spawn(move || run_intake(consumer, sender, &ledger, &metrics, &control, &config))
            .map_err(|source| PipelineError::ThreadSpawn { thread: "consumer", source })?
    };
    let shared = Arc::new(StageShared {
        config: config.clone(),
        annotator,
        producer,
        consumer: consumer.clone(),
        ledger: ledger.clone(),
        metrics: metrics.clone(),
        control: control.clone(),
    });
    let mut batcher = tokio::spawn(run_batcher(shared.clone(), receiver));
    let committer = (!exactly_once).then(|| tokio::spawn(run_committer(shared.clone())));
    let reporter = tokio::spawn(run_reporter(shared.clone(), started));

    let batcher_result = tokio::select! {
        () = shutdown => {
            tracing::info!("stopping: no more fetching; finishing in-flight work");
            control.stop();
            (&mut batcher).await
        }
        result = &mut batcher => { control.stop(); result }
    };
    if let Err(source) = batcher_result.map(|r| r.map_err(|e| control.fail(e))) {
        control.fail(PipelineError::TaskFailed { task: "the batcher", source });
    }
    if let Some(committer) = committer {
        let _ = committer.await;
    }
    reporter.abort();
    // Final commit of everything acknowledged, then the consumer thread leaves the group.
    let final_commit = {
        let shared = shared.clone();
        tokio::task::spawn_blocking(move || {
            let _ = shared.producer.flush(Duration::from_secs(30));
            if !exactly_once {
                let offsets = shared.ledger.offsets_to_commit(None);
                if !offsets.is_empty() {
                    shared
                        .consumer
                        .commit(&offset_list(&offsets), CommitMode::Sync)
                        .map_err(|source| PipelineError::Kafka { context: "committing the final offsets".into(), source })?;
                }
            }
            Ok::<(), PipelineError>(())
        })
    };
    if let Ok(Err(error)) = final_commit.await {
        control.fail(error);
    }
    drop(shared);
    drop(consumer);
    control.closing.store(true, Ordering::SeqCst);
    let _ = tokio::task::spawn_blocking(move || intake.join()).await;
    let summary = StreamSummary {
        messages_in: metrics.messages_in.get(),
        messages_out: metrics.messages_out.get(),
        messages_dead: metrics.dead_letters(),
        elapsed: started.elapsed(),
    };
    tracing::info!(
        "stopped: {} in, {} out, {} dead letters in {:.1} s",
        summary.messages_in,
        summary.messages_out,
        summary.messages_dead,
        summary.elapsed.as_secs_f64()
    );
    match control.take_failure() {
        Some(error) => Err(error),
        None => Ok(summary),
    }
}

/// Batches annotated at once: while one batch is on the model, the next is collected and joins it
/// there (the runtime merges concurrent requests), as the bulk job's two workers do. Records are still
/// produced in batch order.
const BATCHES_IN_FLIGHT: usize = 2;

/// Collects batches across partitions (up to `batch_size`, waiting at most `linger_ms`), annotates them
/// on the shared model and produces their records in order.
async fn run_batcher(shared: Arc<StageShared>, mut receiver: UnboundedReceiver<Envelope>) -> Result<()> {
    let mut deliveries = JoinSet::new();
    let mut annotating = std::collections::VecDeque::new();
    let depth = match shared.config.delivery {
        DeliveryGuarantee::AtLeastOnce => BATCHES_IN_FLIGHT,
        DeliveryGuarantee::ExactlyOnce => 1,
    };
    loop {
        // Wait for new messages only when nothing is on the model; otherwise take a batch only if
        // messages are already waiting, so that a finished batch is never held back by an idle topic.
        let collect = annotating.is_empty() || (annotating.len() < depth && !receiver.is_empty());
        if collect {
            match collect_batch(&shared, &mut receiver).await {
                Some(batch) => {
                    shared.metrics.batch_size.observe(batch.len() as f64);
                    annotating.push_back(tokio::spawn(enrich_batch(shared.clone(), batch)));
                    continue;
                }
                None if annotating.is_empty() => break,
                None => {}
            }
        }
        let Some(oldest) = annotating.pop_front() else { continue };
        let records = oldest.await.map_err(|source| PipelineError::TaskFailed { task: "a batch's enrichment", source })??;
        match shared.config.delivery {
            DeliveryGuarantee::AtLeastOnce => {
                let pending = send_records(&shared, records).await?;
                deliveries.spawn(acknowledge_deliveries(shared.clone(), pending));
                while let Some(done) = deliveries.try_join_next() {
                    done.map_err(|source| PipelineError::TaskFailed { task: "a batch's delivery", source })??;
                }
            }
            DeliveryGuarantee::ExactlyOnce => commit_in_transaction(&shared, records).await?,
        }
    }
    while let Some(done) = deliveries.join_next().await {
        done.map_err(|source| PipelineError::TaskFailed { task: "a batch's delivery", source })??;
    }
    Ok(())
}

/// The next batch: the first message waits as long as it takes (None when the channel is closed), the
/// rest at most `linger_ms`.
async fn collect_batch(shared: &StageShared, receiver: &mut UnboundedReceiver<Envelope>) -> Option<Vec<Envelope>> {
    let mut batch = vec![receiver.recv().await?];
    let deadline = tokio::time::Instant::now() + shared.config.linger();
    while batch.len() < shared.config.batch_size {
        match tokio::time::timeout_at(deadline, receiver.recv()).await {
            Ok(Some(envelope)) => batch.push(envelope),
            Ok(None) | Err(_) => break,
        }
    }
    Some(batch)
}

/// Logs a progress line every `log_interval_secs`.
async fn run_reporter(shared: Arc<StageShared>, started: Instant) {
    if shared.config.log_interval_secs == 0 {
        return;
    }
    let mut ticks = tokio::time::interval(Duration::from_secs(shared.config.log_interval_secs));
    ticks.tick().await;
    loop {
        ticks.tick().await;
        let metrics = &shared.metrics;
        let out = metrics.messages_out.get();
        tracing::info!(
            "{} in, {} out, {} dead letters, {} in flight, lag {}; {:.1} messages/s",
            metrics.messages_in.get(),
            out,
            metrics.dead_letters(),
            shared.ledger.in_flight(),
            metrics.total_lag(),
            out as f64 / started.elapsed().as_secs_f64()
        );
    }
}
