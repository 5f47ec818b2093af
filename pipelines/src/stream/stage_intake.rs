//! Intake: the consumer thread reads, decodes and registers input messages, and pauses its partitions
//! while too many are in flight.
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::consumer::Consumer;
use rdkafka::Message;
use tokio::sync::mpsc::UnboundedSender;

use super::broker_health::BrokerHealth;
use super::message_decoder::decode_message;
use super::offset_ledger::OffsetLedger;
use super::stage_consumer_context::StageConsumerContext;
use super::stage_messages::{DeadLetter, Envelope, SourceOffset};
use super::stage_metrics::StageMetrics;
use super::stage_shared::{StageConsumer, StageControl};
use super::stream_config::{DeliveryGuarantee, StreamConfig};
use crate::{PipelineError, Result};

/// How long a fetch may wait at the broker for messages, in ms (librdkafka's `fetch.wait.max.ms`, 500 by
/// default; `[kafka]` overrides it). A broker that answers as soon as a message arrives (Apache Kafka)
/// only polls more often when the topic is idle with a lower value; tansu always holds a fetch for at
/// least half this time, so at 500 ms every message waited 250–500 ms on each consumer.
pub const FETCH_WAIT_MS: &str = "100";

/// The consumer with manual commits, subscribed to the input topics.
pub(super) fn create_consumer(
    config: &StreamConfig,
    ledger: Arc<OffsetLedger>,
    metrics: Arc<StageMetrics>,
    health: Arc<BrokerHealth>,
) -> Result<StageConsumer> {
    let mut client = ClientConfig::new();
    client
        .set("bootstrap.servers", &config.brokers)
        .set("group.id", &config.group)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .set("statistics.interval.ms", "5000")
        .set("isolation.level", "read_committed")
        .set("fetch.wait.max.ms", FETCH_WAIT_MS);
    for (key, value) in &config.kafka {
        client.set(key, value);
    }
    let context = StageConsumerContext {
        ledger,
        metrics,
        commits_offsets: config.delivery == DeliveryGuarantee::AtLeastOnce,
        drain_timeout: Duration::from_secs(config.drain_timeout_secs),
        health,
    };
    let consumer: StageConsumer =
        client.create_with_context(context).map_err(|source| PipelineError::Kafka { context: "creating the consumer".into(), source })?;
    let topics: Vec<&str> = config.input_topics.iter().map(String::as_str).collect();
    consumer
        .subscribe(&topics)
        .map_err(|source| PipelineError::Kafka { context: format!("subscribing to {}", topics.join(",")), source })?;
    Ok(consumer)
}

/// The consumer thread: polls every 100 ms whatever happens (so `max.poll.interval.ms` is never passed and
/// rebalances are served), pauses its partitions while `max_in_flight` messages are unacknowledged, and on
/// stop pauses everything and closes the channel so the batcher drains. It leaves the group when the
/// stage closes.
pub(super) fn run_intake(
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
                    content: decode_message(message.payload(), config)
                        .map_err(|reason| DeadLetter { reason, payload: message.payload().map(<[u8]>::to_vec) }),
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
