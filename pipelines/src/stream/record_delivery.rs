//! Delivery: producing records, waiting for the broker's acknowledgements, and committing input offsets
//! (periodically in at-least-once mode, in the batch's transaction in exactly-once mode).
use std::sync::Arc;
use std::time::Duration;

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};

use super::broker_health::{BrokerHealth, StageProducerContext};
use super::stage_consumer_context::offset_list;
use super::stage_messages::OutgoingRecord;
use super::stage_shared::StageShared;
use super::stream_config::{DeliveryGuarantee, StreamConfig};
use crate::{PipelineError, Result};

/// The producer; transactional (and initialised) in exactly-once mode.
pub(super) async fn create_producer(config: &StreamConfig, health: Arc<BrokerHealth>) -> Result<FutureProducer<StageProducerContext>> {
    let mut client = ClientConfig::new();
    client.set("bootstrap.servers", &config.brokers).set("linger.ms", "5");
    if config.delivery == DeliveryGuarantee::ExactlyOnce {
        client.set("transactional.id", config.transactional_id.as_deref().unwrap_or_default());
    }
    for (key, value) in &config.kafka {
        client.set(key, value);
    }
    let producer: FutureProducer<StageProducerContext> = client
        .create_with_context(StageProducerContext { health })
        .map_err(|source| PipelineError::Kafka { context: "creating the producer".into(), source })?;
    if config.delivery == DeliveryGuarantee::ExactlyOnce {
        let producer = producer.clone();
        tokio::task::spawn_blocking(move || producer.init_transactions(Duration::from_secs(30)))
            .await
            .map_err(|source| PipelineError::TaskFailed { task: "initialising transactions", source })?
            .map_err(|source| PipelineError::Kafka { context: "initialising transactions".into(), source })?;
    }
    Ok(producer)
}

/// Hands the records to the producer, waiting while its queue is full.
pub(super) async fn send_records(shared: &StageShared, records: Vec<OutgoingRecord>) -> Result<Vec<(OutgoingRecord, DeliveryFuture)>> {
    let mut pending = Vec::with_capacity(records.len());
    for record in records {
        let topic = if record.dead.is_some() { &shared.config.dead_letter_topic } else { &shared.config.output_topic };
        let future = loop {
            let mut message = FutureRecord::<[u8], [u8]>::to(topic).headers(record.headers.clone());
            if let Some(payload) = &record.payload {
                message = message.payload(payload);
            }
            if let Some(key) = &record.key {
                message = message.key(key);
            }
            match shared.producer.send_result(message) {
                Ok(future) => break future,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
                Err((source, _)) => {
                    return Err(PipelineError::Kafka { context: format!("producing to {topic}"), source });
                }
            }
        };
        pending.push((record, future));
    }
    Ok(pending)
}

/// Waits for the broker's acknowledgements and marks their input offsets committable. A record that is
/// not delivered (after librdkafka's own retries) stops the stage with its offset uncommitted.
pub(super) async fn acknowledge_deliveries(shared: Arc<StageShared>, pending: Vec<(OutgoingRecord, DeliveryFuture)>) -> Result<()> {
    for (record, future) in pending {
        let source = &record.source;
        let failed = |reason: String| PipelineError::Delivery {
            topic: source.topic.clone(),
            partition: source.partition,
            offset: source.offset,
            reason,
        };
        let reason = match future.await {
            Ok(Ok(_delivery)) => {
                record_acknowledged(&shared, &record);
                continue;
            }
            Ok(Err((error, _))) => error.to_string(),
            Err(_cancelled) => "the producer was closed".to_string(),
        };
        // Stop the stage now (the batcher may be idle, waiting for input) and report the same error.
        shared.control.fail(failed(reason.clone()));
        return Err(failed(reason));
    }
    Ok(())
}

/// Marks the record's input offset committable and counts it.
fn record_acknowledged(shared: &StageShared, record: &OutgoingRecord) {
    let source = &record.source;
    shared.ledger.acknowledge(&source.topic, source.partition, source.offset);
    match record.dead {
        None => {
            shared.metrics.messages_out.inc();
        }
        Some(kind) => shared.metrics.count_dead_letter(kind),
    }
    shared.metrics.latency.observe(record.received.elapsed().as_secs_f64());
}

/// Exactly-once: the batch's records and its input offsets in one transaction. Any failure aborts it and
/// stops the stage; a restart resumes from the last committed transaction.
pub(super) async fn commit_in_transaction(shared: &Arc<StageShared>, records: Vec<OutgoingRecord>) -> Result<()> {
    let kafka = |context: &str| {
        let context = context.to_string();
        move |source| PipelineError::Kafka { context, source }
    };
    let producer = shared.producer.clone();
    blocking(move || producer.begin_transaction()).await?.map_err(kafka("beginning a transaction"))?;
    let outcome: Result<Vec<OutgoingRecord>> = async {
        let pending = send_records(shared, records).await?;
        let mut delivered = Vec::with_capacity(pending.len());
        let mut next_offsets = std::collections::BTreeMap::new();
        for (record, future) in pending {
            match future.await {
                Ok(Ok(_)) => {}
                Ok(Err((source, _))) => return Err(kafka("producing in a transaction")(source)),
                Err(_) => {
                    let source = &record.source;
                    return Err(PipelineError::ProducerClosed {
                        topic: source.topic.clone(),
                        partition: source.partition,
                        offset: source.offset,
                    });
                }
            }
            let next = next_offsets.entry((record.source.topic.clone(), record.source.partition)).or_insert(0);
            *next = (*next).max(record.source.offset + 1);
            delivered.push(record);
        }
        let offsets: Vec<_> = next_offsets.into_iter().collect();
        let group = shared.consumer.group_metadata().ok_or(PipelineError::NoGroupMetadata)?;
        let producer = shared.producer.clone();
        blocking(move || {
            producer.send_offsets_to_transaction(&offset_list(&offsets), &group, Duration::from_secs(30))?;
            producer.commit_transaction(Duration::from_secs(30))
        })
        .await?
        .map_err(kafka("committing a transaction"))?;
        Ok(delivered)
    }
    .await;
    match outcome {
        Ok(delivered) => {
            for record in &delivered {
                record_acknowledged(shared, record);
            }
            Ok(())
        }
        Err(error) => {
            let producer = shared.producer.clone();
            let _ = blocking(move || producer.abort_transaction(Duration::from_secs(30))).await;
            Err(error)
        }
    }
}

/// Runs a blocking Kafka call off the async threads.
async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(|source| PipelineError::TaskFailed { task: "a blocking Kafka call", source })
}

/// At-least-once: commits the acknowledged offsets every `commit_interval_ms` until the stage stops.
pub(super) async fn run_committer(shared: Arc<StageShared>) {
    let mut ticks = tokio::time::interval(Duration::from_millis(shared.config.commit_interval_ms.max(10)));
    while !shared.control.stopping() {
        ticks.tick().await;
        let offsets = shared.ledger.offsets_to_commit(None);
        if !offsets.is_empty() {
            tracing::debug!("committing {offsets:?}");
            if let Err(error) = shared.consumer.commit(&offset_list(&offsets), CommitMode::Async) {
                tracing::warn!("offset commit failed: {error}");
            }
        }
    }
}
