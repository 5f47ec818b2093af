//! The stage's Prometheus metrics and the `GET /metrics` endpoint that serves them.
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::{PipelineError, Result};

/// Labels of a dead-letter count.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabel {
    /// [`DeadLetterReason::kind`](super::DeadLetterReason::kind).
    pub reason: String,
}

/// Labels of a per-partition gauge.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PartitionLabels {
    /// Input topic.
    pub topic: String,
    /// Input partition.
    pub partition: String,
}

/// Counters, gauges and histograms of one stage instance.
#[derive(Debug)]
pub struct StageMetrics {
    registry: Registry,
    /// Messages read from the input topics.
    pub messages_in: Counter,
    /// Enriched messages acknowledged by the broker.
    pub messages_out: Counter,
    /// Dead-letter records acknowledged by the broker, by reason; counted only through
    /// [`StageMetrics::count_dead_letter`], which keeps `dead_letters` equal to its sum.
    messages_dead: Family<ReasonLabel, Counter>,
    /// Messages per model batch.
    pub batch_size: Histogram,
    /// Seconds from reading a message to the broker's acknowledgement of its output.
    pub latency: Histogram,
    /// Messages read and not yet acknowledged.
    pub in_flight: Gauge,
    /// Errors librdkafka reported on the broker connections (disconnects, timeouts, all brokers down),
    /// by error code; counted only through [`StageMetrics::count_broker_error`].
    broker_errors: Family<ReasonLabel, Counter>,
    /// Brokers the consumer is connected to, from librdkafka's statistics; 0 during an outage.
    pub brokers_up: Gauge,
    /// Consumer lag per input partition, from librdkafka's statistics.
    pub consumer_lag: Family<PartitionLabels, Gauge>,
    /// Dead-letter records over all reasons (the sum of `messages_dead`, for the summary and the log).
    dead_letters: AtomicU64,
    /// Consumer lag summed over the partitions of the latest statistics.
    total_lag: AtomicI64,
}

impl Default for StageMetrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("sru_ner_stream");
        let messages_in = Counter::default();
        let messages_out = Counter::default();
        let messages_dead = Family::<ReasonLabel, Counter>::default();
        let batch_size = Histogram::new(exponential_buckets(1.0, 2.0, 12));
        let latency = Histogram::new(exponential_buckets(0.005, 2.0, 14));
        let in_flight = Gauge::default();
        let broker_errors = Family::<ReasonLabel, Counter>::default();
        let brokers_up = Gauge::default();
        let consumer_lag = Family::<PartitionLabels, Gauge>::default();
        registry.register("messages_in", "Messages read from the input topics", messages_in.clone());
        registry.register("messages_out", "Enriched messages acknowledged by the broker", messages_out.clone());
        registry.register("messages_dead", "Dead-letter records acknowledged by the broker, by reason", messages_dead.clone());
        registry.register("batch_size", "Messages per model batch", batch_size.clone());
        registry.register("latency_seconds", "Seconds from reading a message to the acknowledgement of its output", latency.clone());
        registry.register("in_flight", "Messages read and not yet acknowledged", in_flight.clone());
        registry.register("broker_errors", "Errors on the broker connections, by librdkafka error code", broker_errors.clone());
        registry.register("brokers_up", "Brokers the consumer is connected to (0 during an outage)", brokers_up.clone());
        registry.register("consumer_lag", "Messages behind the partition's end, from librdkafka statistics", consumer_lag.clone());
        Self {
            registry,
            messages_in,
            messages_out,
            messages_dead,
            batch_size,
            latency,
            in_flight,
            broker_errors,
            brokers_up,
            consumer_lag,
            dead_letters: AtomicU64::new(0),
            total_lag: AtomicI64::new(0),
        }
    }
}

impl StageMetrics {
    /// The metrics in the Prometheus text exposition format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry).expect("writing to a String cannot fail");
        text
    }

    /// Counts an error on the broker connections, by its librdkafka code.
    pub fn count_broker_error(&self, code: &str) {
        self.broker_errors.get_or_create(&ReasonLabel { reason: code.into() }).inc();
    }

    /// Counts an acknowledged dead-letter record of reason `kind`.
    pub fn count_dead_letter(&self, kind: &str) {
        self.messages_dead.get_or_create(&ReasonLabel { reason: kind.into() }).inc();
        self.dead_letters.fetch_add(1, Ordering::Relaxed);
    }

    /// Dead-letter records over all reasons.
    pub fn dead_letters(&self) -> u64 {
        self.dead_letters.load(Ordering::Relaxed)
    }

    /// Records the lag of one statistics report: each partition's gauge and their sum.
    pub fn set_consumer_lag(&self, lags: &[(String, i32, i64)]) {
        for (topic, partition, lag) in lags {
            self.consumer_lag.get_or_create(&PartitionLabels { topic: topic.clone(), partition: partition.to_string() }).set(*lag);
        }
        self.total_lag.store(lags.iter().map(|(_, _, lag)| lag).sum(), Ordering::Relaxed);
    }

    /// Total consumer lag over the partitions of the latest statistics report.
    pub fn total_lag(&self) -> i64 {
        self.total_lag.load(Ordering::Relaxed)
    }
}

/// The HTTP endpoint serving [`StageMetrics`] at `GET /metrics`, on its own thread.
pub struct MetricsEndpoint {
    server: Option<Arc<tiny_http::Server>>,
    thread: Option<JoinHandle<()>>,
    /// The address it listens on (the real port when 0 was asked).
    pub address: SocketAddr,
}

impl MetricsEndpoint {
    /// Listens on `address` and serves until dropped.
    pub fn start(address: &str, metrics: Arc<StageMetrics>) -> Result<Self> {
        let server =
            tiny_http::Server::http(address).map_err(|e| PipelineError::StreamConfig(format!("metrics endpoint {address}: {e}")))?;
        let address = server
            .server_addr()
            .to_ip()
            .ok_or_else(|| PipelineError::StreamConfig(format!("metrics endpoint {address}: not an IP address")))?;
        let server = Arc::new(server);
        let serving = server.clone();
        let thread = std::thread::Builder::new()
            .name("sru-ner-metrics".into())
            .spawn(move || {
                for request in serving.incoming_requests() {
                    let response = if request.url() == "/metrics" {
                        let header = tiny_http::Header::from_bytes("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
                            .expect("a valid header");
                        tiny_http::Response::from_string(metrics.encode()).with_header(header)
                    } else {
                        tiny_http::Response::from_string("see /metrics\n").with_status_code(404)
                    };
                    let _ = request.respond(response);
                }
            })
            .map_err(|source| PipelineError::ThreadSpawn { thread: "metrics endpoint", source })?;
        Ok(Self { server: Some(server), thread: Some(thread), address })
    }
}

impl Drop for MetricsEndpoint {
    /// Stops serving and returns once the port is free again (at most [`PORT_RELEASE_WAIT`]):
    /// tiny_http closes its listener on its own accept thread some time after the server is dropped,
    /// and a stage started right after this one in the same process listens on the same address.
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.unblock();
            if let Some(thread) = self.thread.take() {
                let _ = thread.join();
            }
        }
        let deadline = Instant::now() + PORT_RELEASE_WAIT;
        while std::net::TcpListener::bind(self.address).is_err() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// How long dropping a [`MetricsEndpoint`] waits for its port to be released.
const PORT_RELEASE_WAIT: Duration = Duration::from_secs(2);

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn serves_the_counters_over_http() {
        let metrics = Arc::new(StageMetrics::default());
        metrics.messages_in.inc_by(3);
        for kind in ["invalid_json", "text_too_large", "text_too_large"] {
            metrics.count_dead_letter(kind);
        }
        assert_eq!(metrics.dead_letters(), 3);
        metrics.set_consumer_lag(&[("abstracts".into(), 0, 5), ("abstracts".into(), 1, 7)]);
        assert_eq!(metrics.total_lag(), 12);
        let endpoint = MetricsEndpoint::start("127.0.0.1:0", metrics).unwrap();
        let mut stream = std::net::TcpStream::connect(endpoint.address).unwrap();
        stream.write_all(b"GET /metrics HTTP/1.0\r\n\r\n").unwrap();
        let mut body = String::new();
        stream.read_to_string(&mut body).unwrap();
        assert!(body.starts_with("HTTP/1.0 200") || body.starts_with("HTTP/1.1 200"), "{body}");
        assert!(body.contains("sru_ner_stream_messages_in_total 3"), "{body}");
        assert!(body.contains("sru_ner_stream_messages_dead_total{reason=\"invalid_json\"} 1"), "{body}");
        assert!(body.contains("sru_ner_stream_messages_dead_total{reason=\"text_too_large\"} 2"), "{body}");
        assert!(body.contains("sru_ner_stream_consumer_lag{topic=\"abstracts\",partition=\"1\"} 7"), "{body}");
        assert!(body.contains("# TYPE sru_ner_stream_latency_seconds histogram"), "{body}");
    }

    #[test]
    fn a_stopped_endpoint_frees_its_port_for_the_next_stage() {
        // A stage started in the same process right after another (the stream bench's half-load run)
        // listens on the same address: the first endpoint must have closed it when its drop returns.
        let first = MetricsEndpoint::start("127.0.0.1:0", Arc::new(StageMetrics::default())).unwrap();
        let address = first.address.to_string();
        drop(first);
        for round in 0..20 {
            let endpoint = MetricsEndpoint::start(&address, Arc::new(StageMetrics::default()));
            assert!(endpoint.is_ok(), "round {round}: {:?}", endpoint.err());
        }
    }
}
