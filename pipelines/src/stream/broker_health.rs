//! Broker outages, as the stage sees them: librdkafka's error callbacks (both clients) count each error
//! by code and log it; the consumer's statistics count the brokers that are up, and say when they are
//! back. The stage itself keeps running through an outage: librdkafka reconnects, the producer keeps
//! its queue, and the offsets of messages not yet acknowledged stay uncommitted.
use std::sync::{Arc, Mutex};
use std::time::Instant;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::statistics::Statistics;
use rdkafka::ClientContext;

use super::stage_metrics::StageMetrics;

/// Tracks whether the brokers are reachable and reports the changes.
pub struct BrokerHealth {
    metrics: Arc<StageMetrics>,
    /// When the brokers were last seen all unreachable; `None` while they are up.
    down_since: Mutex<Option<Instant>>,
}

impl BrokerHealth {
    /// Reports to `metrics`.
    pub fn new(metrics: Arc<StageMetrics>) -> Self {
        Self { metrics, down_since: Mutex::new(None) }
    }

    /// An error from librdkafka's error callback of `client` ("consumer" or "producer").
    pub fn on_error(&self, client: &str, error: &KafkaError, reason: &str) {
        let code = error.rdkafka_error_code();
        self.metrics.count_broker_error(&code.map_or_else(|| "other".to_string(), |c| format!("{c:?}")));
        if code == Some(RDKafkaErrorCode::AllBrokersDown) {
            let mut down = self.down_since.lock().unwrap_or_else(|p| p.into_inner());
            if down.is_none() {
                *down = Some(Instant::now());
                self.metrics.brokers_up.set(0);
                tracing::warn!("broker outage: all brokers unreachable ({client}: {reason}); messages wait and librdkafka reconnects");
            }
        } else {
            tracing::warn!("broker error ({client}): {error}: {reason}");
        }
    }

    /// The consumer's statistics: the brokers it is connected to (known brokers, bootstrap entries aside).
    pub fn on_statistics(&self, statistics: &Statistics) {
        let up = statistics.brokers.values().filter(|b| b.nodeid >= 0 && b.state == "UP").count();
        self.metrics.brokers_up.set(up as i64);
        if up > 0 {
            let mut down = self.down_since.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(since) = down.take() {
                tracing::info!("broker outage over: {up} broker(s) up again after {:.1} s", since.elapsed().as_secs_f64());
            }
        }
    }
}

/// The producer's callbacks: its errors go to [`BrokerHealth`].
pub struct StageProducerContext {
    pub(crate) health: Arc<BrokerHealth>,
}

impl ClientContext for StageProducerContext {
    fn error(&self, error: KafkaError, reason: &str) {
        self.health.on_error("producer", &error, reason);
    }
}
