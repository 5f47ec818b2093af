//! The Kafka enrichment stage: a consumer thread reads and decodes, a batcher annotates across partitions
//! on the shared model, a producer writes enriched and dead-letter records, and offsets are committed
//! only once those records are acknowledged.
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord, Producer};
use rdkafka::Message;
use serde_json::Value;
use sru_ner_schemas::{AnnotateError, Annotator, Entity};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender};
use tokio::task::JoinSet;

use super::message_decoder::{decode_message, DeadLetterReason, DecodedMessage};
use super::offset_ledger::OffsetLedger;
use super::stage_consumer_context::{offset_list, StageConsumerContext};
use super::stage_metrics::{MetricsEndpoint, ReasonLabel, StageMetrics};
use super::stream_config::{DeliveryGuarantee, StreamConfig};
use crate::{PipelineError, Result};

/// Header names the stage writes.
pub mod headers {
    /// The input topic of the record's source message.
    pub const SOURCE_TOPIC: &str = "sru_ner.source.topic";
    /// The input partition of the record's source message.
    pub const SOURCE_PARTITION: &str = "sru_ner.source.partition";
    /// The input offset of the record's source message.
    pub const SOURCE_OFFSET: &str = "sru_ner.source.offset";
    /// Dead-letter records: why the message could not be annotated.
    pub const ERROR: &str = "sru_ner.error";
    /// Dead-letter records: the reason's short name (`invalid_json`, `text_too_large`, ...).
    pub const ERROR_KIND: &str = "sru_ner.error.kind";
}

type StageConsumer = BaseConsumer<StageConsumerContext>;

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

/// Where a record came from.
#[derive(Debug, Clone)]
struct SourceOffset {
    topic: String,
    partition: i32,
    offset: i64,
}

/// One input message on its way through the stage.
struct Envelope {
    source: SourceOffset,
    key: Option<Vec<u8>>,
    headers: Option<OwnedHeaders>,
    received: Instant,
    /// The decoded message, or why it goes to the dead-letter topic with its original payload.
    content: std::result::Result<DecodedMessage, (DeadLetterReason, Option<Vec<u8>>)>,
}

/// A record to produce, enriched or dead.
struct OutgoingRecord {
    source: SourceOffset,
    received: Instant,
    key: Option<Vec<u8>>,
    headers: OwnedHeaders,
    payload: Option<Vec<u8>>,
    /// `Some(kind)` for a dead-letter record.
    dead: Option<&'static str>,
}

/// Stop and failure flags shared by the stage's threads and tasks.
#[derive(Default)]
struct StageControl {
    stopping: AtomicBool,
    closing: AtomicBool,
    failure: Mutex<Option<PipelineError>>,
}

impl StageControl {
    fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }
    fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }
    /// Records the first fatal error and stops the stage.
    fn fail(&self, error: PipelineError) {
        tracing::error!("{error}");
        let mut failure = self.failure.lock().unwrap_or_else(|p| p.into_inner());
        failure.get_or_insert(error);
        self.stop();
    }
    fn take_failure(&self) -> Option<PipelineError> {
        self.failure.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// Everything the batcher and its delivery tasks share.
struct StageShared {
    config: StreamConfig,
    annotator: Arc<dyn Annotator>,
    producer: FutureProducer,
    consumer: Arc<StageConsumer>,
    ledger: Arc<OffsetLedger>,
    metrics: Arc<StageMetrics>,
    control: Arc<StageControl>,
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
    let consumer = Arc::new(create_consumer(&config, ledger.clone(), metrics.clone())?);
    let producer = create_producer(&config).await?;

    let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
    let intake = {
        let (consumer, ledger, metrics, control, config) =
            (consumer.clone(), ledger.clone(), metrics.clone(), control.clone(), config.clone());
        std::thread::Builder::new()
            .name("sru-ner-consumer".into())
            .spawn(move || run_intake(consumer, sender, &ledger, &metrics, &control, &config))
            .map_err(|source| PipelineError::Io { path: "consumer thread".into(), source })?
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
    if let Err(panic) = batcher_result.map(|r| r.map_err(|e| control.fail(e))) {
        control.fail(PipelineError::Stream(format!("the batcher panicked: {panic}")));
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
        messages_dead: metrics.dead_total(),
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

/// The consumer with manual commits, subscribed to the input topics.
fn create_consumer(config: &StreamConfig, ledger: Arc<OffsetLedger>, metrics: Arc<StageMetrics>) -> Result<StageConsumer> {
    let mut client = ClientConfig::new();
    client
        .set("bootstrap.servers", &config.brokers)
        .set("group.id", &config.group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("statistics.interval.ms", "5000")
        .set("isolation.level", "read_committed");
    for (key, value) in &config.kafka {
        client.set(key, value);
    }
    let context = StageConsumerContext {
        ledger,
        metrics,
        commits_offsets: config.delivery == DeliveryGuarantee::AtLeastOnce,
        drain_timeout: Duration::from_secs(config.drain_timeout_secs),
    };
    let consumer: StageConsumer =
        client.create_with_context(context).map_err(|source| PipelineError::Kafka { context: "creating the consumer".into(), source })?;
    let topics: Vec<&str> = config.input_topics.iter().map(String::as_str).collect();
    consumer
        .subscribe(&topics)
        .map_err(|source| PipelineError::Kafka { context: format!("subscribing to {}", topics.join(",")), source })?;
    Ok(consumer)
}

/// The producer; transactional (and initialised) in exactly-once mode.
async fn create_producer(config: &StreamConfig) -> Result<FutureProducer> {
    let mut client = ClientConfig::new();
    client.set("bootstrap.servers", &config.brokers).set("linger.ms", "5");
    if config.delivery == DeliveryGuarantee::ExactlyOnce {
        client.set("transactional.id", config.transactional_id.as_deref().unwrap_or_default());
    }
    for (key, value) in &config.kafka {
        client.set(key, value);
    }
    let producer: FutureProducer =
        client.create().map_err(|source| PipelineError::Kafka { context: "creating the producer".into(), source })?;
    if config.delivery == DeliveryGuarantee::ExactlyOnce {
        let producer = producer.clone();
        tokio::task::spawn_blocking(move || producer.init_transactions(Duration::from_secs(30)))
            .await
            .map_err(|e| PipelineError::Stream(e.to_string()))?
            .map_err(|source| PipelineError::Kafka { context: "initialising transactions".into(), source })?;
    }
    Ok(producer)
}

/// The consumer thread: polls every 100 ms whatever happens (so `max.poll.interval.ms` is never passed and
/// rebalances are served), pauses its partitions while `max_in_flight` messages are unacknowledged, and on
/// stop pauses everything and closes the channel so the batcher drains. It leaves the group when the
/// stage closes.
fn run_intake(
    consumer: Arc<StageConsumer>,
    sender: UnboundedSender<Envelope>,
    ledger: &OffsetLedger,
    metrics: &StageMetrics,
    control: &StageControl,
    config: &StreamConfig,
) {
    let mut sender = Some(sender);
    let mut paused = false;
    while !control.closing.load(Ordering::SeqCst) {
        let in_flight = ledger.in_flight();
        metrics.in_flight.set(in_flight as i64);
        let over_limit = in_flight >= config.max_in_flight;
        if control.stopping() || over_limit {
            sender = sender.filter(|_| !control.stopping());
            if let Ok(assignment) = consumer.assignment() {
                let _ = consumer.pause(&assignment);
            }
            paused = true;
        } else if paused && in_flight <= config.max_in_flight / 2 {
            if let Ok(assignment) = consumer.assignment() {
                let _ = consumer.resume(&assignment);
            }
            paused = false;
        }
        match consumer.poll(Duration::from_millis(100)) {
            None => {}
            Some(Err(error)) => tracing::warn!("consumer: {error}"),
            Some(Ok(message)) => {
                // While stopping, a message fetched before the pause is left to the partition's next
                // reader: it is neither registered nor committed.
                let Some(channel) = &sender else { continue };
                tracing::trace!("read {}:{}@{}", message.topic(), message.partition(), message.offset());
                metrics.messages_in.inc();
                ledger.register(message.topic(), message.partition(), message.offset());
                let envelope = Envelope {
                    source: SourceOffset { topic: message.topic().into(), partition: message.partition(), offset: message.offset() },
                    key: message.key().map(<[u8]>::to_vec),
                    headers: message.headers().map(|h| h.detach()),
                    received: Instant::now(),
                    content: decode_message(message.payload(), config).map_err(|reason| (reason, message.payload().map(<[u8]>::to_vec))),
                };
                if channel.send(envelope).is_err() {
                    sender = None;
                }
            }
        }
    }
    drop(sender);
    // Dropping the last handle closes the consumer here: revoke callback, final commit, LeaveGroup.
    drop(consumer);
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
        let records = oldest.await.map_err(|e| PipelineError::Stream(format!("the model task panicked: {e}")))??;
        match shared.config.delivery {
            DeliveryGuarantee::AtLeastOnce => {
                let pending = send_records(&shared, records).await?;
                deliveries.spawn(acknowledge_deliveries(shared.clone(), pending));
                while let Some(done) = deliveries.try_join_next() {
                    done.map_err(|e| PipelineError::Stream(e.to_string()))??;
                }
            }
            DeliveryGuarantee::ExactlyOnce => commit_in_transaction(&shared, records).await?,
        }
    }
    while let Some(done) = deliveries.join_next().await {
        done.map_err(|e| PipelineError::Stream(e.to_string()))??;
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

/// Annotates a batch's texts in one call and turns every message into its output or dead-letter record.
/// If the model fails on the batch, each text is retried alone, and those that fail again become dead
/// letters.
async fn enrich_batch(shared: Arc<StageShared>, batch: Vec<Envelope>) -> Result<Vec<OutgoingRecord>> {
    let texts: Vec<String> = batch.iter().filter_map(|e| e.content.as_ref().ok().and_then(|m| m.text.clone())).collect();
    let annotator = shared.annotator.clone();
    let annotated: Vec<std::result::Result<Vec<Entity>, String>> = tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        match annotator.annotate(&refs) {
            Ok(entities) => Ok(entities.into_iter().map(Ok).collect()),
            Err(AnnotateError::Model(_)) => Ok(refs
                .iter()
                .map(|text| match annotator.annotate(&[text]) {
                    Ok(mut one) => Ok(one.pop().unwrap_or_default()),
                    Err(error) => Err(error.to_string()),
                })
                .collect()),
            Err(error) => Err(error),
        }
    })
    .await
    .map_err(|e| PipelineError::Stream(format!("the model task panicked: {e}")))?
    .map_err(|source| PipelineError::Stream(format!("the model stopped: {source}")))?;

    let mut annotated = annotated.into_iter();
    let model_id = shared.annotator.model_id();
    let config = &shared.config;
    let mut records = Vec::with_capacity(batch.len());
    for envelope in batch {
        let mut headers = envelope.headers.unwrap_or_default();
        headers = headers
            .insert(Header { key: headers::SOURCE_TOPIC, value: Some(envelope.source.topic.as_str()) })
            .insert(Header { key: headers::SOURCE_PARTITION, value: Some(envelope.source.partition.to_string().as_str()) })
            .insert(Header { key: headers::SOURCE_OFFSET, value: Some(envelope.source.offset.to_string().as_str()) });
        let outcome = match envelope.content {
            Ok(DecodedMessage { text, mut fields }) => {
                let entities = match text {
                    None => Ok(Value::Null),
                    Some(_) => match annotated.next().expect("one result per text") {
                        Ok(entities) => Ok(serde_json::to_value(entities).expect("entities serialise")),
                        Err(model_error) => Err(DeadLetterReason::ModelFailed(model_error)),
                    },
                };
                match entities {
                    Ok(entities) => {
                        fields.insert(config.entities_field.clone(), entities);
                        fields.insert(config.model_field.clone(), Value::String(model_id.to_string()));
                        Ok(serde_json::to_vec(&fields).expect("a JSON object serialises"))
                    }
                    Err(reason) => Err((reason, Some(serde_json::to_vec(&fields).expect("a JSON object serialises")))),
                }
            }
            Err(dead) => Err(dead),
        };
        records.push(match outcome {
            Ok(payload) => OutgoingRecord {
                source: envelope.source,
                received: envelope.received,
                key: envelope.key,
                headers,
                payload: Some(payload),
                dead: None,
            },
            Err((reason, payload)) => OutgoingRecord {
                source: envelope.source,
                received: envelope.received,
                key: envelope.key,
                headers: headers
                    .insert(Header { key: headers::ERROR, value: Some(reason.to_string().as_str()) })
                    .insert(Header { key: headers::ERROR_KIND, value: Some(reason.kind()) }),
                payload,
                dead: Some(reason.kind()),
            },
        });
    }
    Ok(records)
}

/// Hands the records to the producer, waiting while its queue is full.
async fn send_records(shared: &StageShared, records: Vec<OutgoingRecord>) -> Result<Vec<(OutgoingRecord, DeliveryFuture)>> {
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
async fn acknowledge_deliveries(shared: Arc<StageShared>, pending: Vec<(OutgoingRecord, DeliveryFuture)>) -> Result<()> {
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

fn record_acknowledged(shared: &StageShared, record: &OutgoingRecord) {
    let source = &record.source;
    shared.ledger.acknowledge(&source.topic, source.partition, source.offset);
    match record.dead {
        None => shared.metrics.messages_out.inc(),
        Some(kind) => shared.metrics.messages_dead.get_or_create(&ReasonLabel { reason: kind.into() }).inc(),
    };
    shared.metrics.latency.observe(record.received.elapsed().as_secs_f64());
}

/// Exactly-once: the batch's records and its input offsets in one transaction. Any failure aborts it and
/// stops the stage; a restart resumes from the last committed transaction.
async fn commit_in_transaction(shared: &Arc<StageShared>, records: Vec<OutgoingRecord>) -> Result<()> {
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
                Err(_) => return Err(PipelineError::Stream("the producer was closed".into())),
            }
            let next = next_offsets.entry((record.source.topic.clone(), record.source.partition)).or_insert(0);
            *next = (*next).max(record.source.offset + 1);
            delivered.push(record);
        }
        let offsets: Vec<_> = next_offsets.into_iter().collect();
        let group = shared.consumer.group_metadata().ok_or_else(|| PipelineError::Stream("the consumer has no group metadata".into()))?;
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

async fn blocking<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(work).await.map_err(|e| PipelineError::Stream(format!("a Kafka call panicked: {e}")))
}

/// At-least-once: commits the acknowledged offsets every `commit_interval_ms` until the stage stops.
async fn run_committer(shared: Arc<StageShared>) {
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
            metrics.dead_total(),
            shared.ledger.in_flight(),
            metrics.total_lag(),
            out as f64 / started.elapsed().as_secs_f64()
        );
    }
}
