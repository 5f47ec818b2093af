//! The consumer's callbacks: partition revocation drains and commits, statistics feed the lag gauge and
//! the broker count, errors go to [`BrokerHealth`].
use std::sync::Arc;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::statistics::Statistics;
use rdkafka::{ClientContext, TopicPartitionList};

use super::broker_health::BrokerHealth;
use super::offset_ledger::{OffsetLedger, TopicPartition};
use super::stage_metrics::{PartitionLabels, StageMetrics};

/// Callbacks of the stage's consumer. They run on the consumer thread, inside its `poll`.
pub struct StageConsumerContext {
    pub(crate) ledger: Arc<OffsetLedger>,
    pub(crate) metrics: Arc<StageMetrics>,
    /// Whether the stage commits offsets through the consumer (at-least-once) rather than in
    /// transactions.
    pub(crate) commits_offsets: bool,
    pub(crate) drain_timeout: Duration,
    pub(crate) health: Arc<BrokerHealth>,
}

impl ClientContext for StageConsumerContext {
    fn stats(&self, statistics: Statistics) {
        let lags: Vec<(String, i32, i64)> = statistics
            .topics
            .iter()
            .flat_map(|(topic, stats)| stats.partitions.iter().map(move |(partition, stats)| (topic, *partition, stats.consumer_lag)))
            .filter(|(_, partition, lag)| *partition >= 0 && *lag >= 0)
            .map(|(topic, partition, lag)| (topic.clone(), partition, lag))
            .collect();
        self.metrics.set_consumer_lag(&lags);
        self.health.on_statistics(&statistics);
    }

    fn error(&self, error: rdkafka::error::KafkaError, reason: &str) {
        self.health.on_error("consumer", &error, reason);
    }
}

impl ConsumerContext for StageConsumerContext {
    /// Before partitions are taken away: wait for their in-flight messages (the batcher and the delivery
    /// tasks run on other threads), commit what was acknowledged, then forget them. Their next owner
    /// starts exactly after the last acknowledged output.
    fn pre_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Revoke(list) => {
                let partitions = partitions_of(list);
                let left = self.ledger.wait_drained(&partitions, self.drain_timeout);
                if left > 0 {
                    tracing::warn!("{left} messages of revoked partitions still in flight after {:?}; their outputs may be duplicated by the next owner", self.drain_timeout);
                }
                if self.commits_offsets {
                    let offsets = self.ledger.offsets_to_commit(Some(&partitions));
                    if !offsets.is_empty() {
                        if let Err(error) = consumer.commit(&offset_list(&offsets), CommitMode::Sync) {
                            tracing::warn!("committing revoked partitions failed: {error}");
                        }
                    }
                }
                self.ledger.forget(&partitions);
                for (topic, partition) in &partitions {
                    self.metrics.consumer_lag.remove(&PartitionLabels { topic: topic.clone(), partition: partition.to_string() });
                }
                tracing::info!("partitions revoked: {}", describe(&partitions));
            }
            Rebalance::Assign(list) => tracing::info!("partitions assigned: {}", describe(&partitions_of(list))),
            Rebalance::Error(error) => tracing::warn!("rebalance error: {error}"),
        }
    }

    fn commit_callback(&self, result: rdkafka::error::KafkaResult<()>, offsets: &TopicPartitionList) {
        if let Err(error) = result {
            tracing::warn!("offset commit failed for {}: {error}", describe(&partitions_of(offsets)));
        }
    }
}

/// The partitions of a list.
pub fn partitions_of(list: &TopicPartitionList) -> Vec<TopicPartition> {
    list.elements().iter().map(|e| (e.topic().to_string(), e.partition())).collect()
}

/// A list of offsets to commit.
pub fn offset_list(offsets: &[(TopicPartition, i64)]) -> TopicPartitionList {
    let mut list = TopicPartitionList::with_capacity(offsets.len());
    for ((topic, partition), offset) in offsets {
        list.add_partition_offset(topic, *partition, rdkafka::Offset::Offset(*offset)).expect("a fresh list accepts any partition");
    }
    list
}

fn describe(partitions: &[TopicPartition]) -> String {
    let mut names: Vec<String> = partitions.iter().map(|(t, p)| format!("{t}:{p}")).collect();
    names.sort();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(",")
    }
}
