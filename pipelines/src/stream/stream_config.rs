//! The Kafka stage's settings: a TOML file (`pipelines/stream.toml`) whose every key is also a flag of
//! `sru-ner stream`.
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::{PipelineError, Result};

/// How input message payloads are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum MessageFormat {
    /// A JSON object; the text is at [`StreamConfig::text_field`] and every (or each copied) field is
    /// carried to the output.
    Json,
    /// The whole payload is the UTF-8 text; the output carries it as `text`.
    Text,
}

/// What the stage promises about outputs per input offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DeliveryGuarantee {
    /// Every input offset has at least one output (or dead-letter record): an offset is committed only
    /// once its record is acknowledged by the broker. A crash may produce duplicates.
    AtLeastOnce,
    /// Every input offset has exactly one output visible to `read_committed` consumers: each batch's
    /// records and its input offsets are committed in one Kafka transaction. Needs a broker with
    /// transactions.
    ExactlyOnce,
}

/// Everything `sru-ner stream` needs. Defaults are those of `pipelines/stream.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StreamConfig {
    /// Bootstrap brokers, `host:port[,host:port...]`.
    pub brokers: String,
    /// Consumer group; instances in one group share the input partitions.
    pub group: String,
    /// Topics to read.
    pub input_topics: Vec<String>,
    /// Topic the enriched messages go to.
    pub output_topic: String,
    /// Topic the messages that cannot be annotated go to, with the reason in headers.
    pub dead_letter_topic: String,
    /// Payload format of the input topics.
    pub format: MessageFormat,
    /// Where the text is in a JSON message: a field name, or a dotted path such as `article.abstract`.
    pub text_field: String,
    /// The top-level input fields carried to the output; empty carries them all.
    pub copy_fields: Vec<String>,
    /// The output field holding the entities.
    pub entities_field: String,
    /// The output field holding the model id.
    pub model_field: String,
    /// Most messages in one model batch.
    pub batch_size: usize,
    /// How long a batch waits to fill before it is annotated anyway, in milliseconds.
    pub linger_ms: u64,
    /// Most messages read but not yet acknowledged; above it the consumer pauses its partitions (and
    /// keeps polling, so `max.poll.interval.ms` is never passed).
    pub max_in_flight: usize,
    /// Texts longer than this many bytes go to the dead-letter topic.
    pub max_text_bytes: usize,
    /// At-least-once (default) or exactly-once with transactions.
    pub delivery: DeliveryGuarantee,
    /// The producer's `transactional.id`, required in exactly-once mode: unique per instance and the same
    /// across its restarts, so a restarted instance fences its crashed predecessor and aborts its open
    /// transaction at once.
    pub transactional_id: Option<String>,
    /// How often acknowledged offsets are committed (at-least-once), in milliseconds.
    pub commit_interval_ms: u64,
    /// Address of the Prometheus text endpoint (`GET /metrics`); `off` disables it; port 0 picks one.
    pub metrics_addr: String,
    /// Seconds between progress log lines; 0 disables them.
    pub log_interval_secs: u64,
    /// How long a partition revocation waits for its in-flight messages before committing what is done.
    pub drain_timeout_secs: u64,
    /// librdkafka properties passed to both the consumer and the producer (security settings, timeouts,
    /// ...); they override the stage's own.
    pub kafka: BTreeMap<String, String>,
}

impl Default for StreamConfig {
    fn default() -> Self {
        Self {
            brokers: "localhost:9092".into(),
            group: "sru-ner".into(),
            input_topics: Vec::new(),
            output_topic: String::new(),
            dead_letter_topic: String::new(),
            format: MessageFormat::Json,
            text_field: "text".into(),
            copy_fields: Vec::new(),
            entities_field: "entities".into(),
            model_field: "sru_ner_model".into(),
            batch_size: 256,
            linger_ms: 50,
            max_in_flight: 4096,
            max_text_bytes: 1_000_000,
            delivery: DeliveryGuarantee::AtLeastOnce,
            transactional_id: None,
            commit_interval_ms: 1000,
            metrics_addr: "127.0.0.1:9464".into(),
            log_interval_secs: 10,
            drain_timeout_secs: 30,
            kafka: BTreeMap::new(),
        }
    }
}

impl StreamConfig {
    /// Reads a TOML file; unknown keys are refused with the file's name.
    pub fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|source| PipelineError::Io { path: path.to_path_buf(), source })?;
        toml::from_str(&text).map_err(|e| PipelineError::StreamConfig(format!("{}: {e}", path.display())))
    }

    /// Checks the settings that have no usable default.
    pub fn validate(&self) -> Result<()> {
        let missing = |what: &str, flag: &str| Err(PipelineError::StreamConfig(format!("no {what}: set {flag}")));
        if self.brokers.trim().is_empty() {
            return missing("brokers", "--brokers or `brokers`");
        }
        if self.input_topics.is_empty() {
            return missing("input topic", "--input-topic or `input_topics`");
        }
        if self.output_topic.is_empty() {
            return missing("output topic", "--output-topic or `output_topic`");
        }
        if self.dead_letter_topic.is_empty() {
            return missing("dead-letter topic", "--dead-letter-topic or `dead_letter_topic`");
        }
        if self.input_topics.iter().any(|t| *t == self.output_topic || *t == self.dead_letter_topic) {
            return Err(PipelineError::StreamConfig("an input topic is also the output or dead-letter topic".into()));
        }
        if self.batch_size == 0 || self.max_in_flight == 0 {
            return Err(PipelineError::StreamConfig("batch_size and max_in_flight must be at least 1".into()));
        }
        if self.text_field.is_empty() || self.entities_field.is_empty() || self.model_field.is_empty() {
            return Err(PipelineError::StreamConfig("text_field, entities_field and model_field must not be empty".into()));
        }
        if self.delivery == DeliveryGuarantee::ExactlyOnce && self.transactional_id.as_deref().unwrap_or("").is_empty() {
            return missing(
                "transactional id for exactly-once delivery",
                "--transactional-id (unique per instance, stable across its restarts)",
            );
        }
        Ok(())
    }

    /// The batch linger time.
    pub fn linger(&self) -> Duration {
        Duration::from_millis(self.linger_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_shipped_example_and_refuses_unknown_keys() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("stream.toml");
        let config = StreamConfig::from_file(&path).unwrap();
        assert_eq!(config.text_field, "abstract");
        assert_eq!(config.delivery, DeliveryGuarantee::AtLeastOnce);
        config.validate().unwrap();

        let dir = tempfile::tempdir().unwrap();
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "brokers = 'x:1'\nbatch_sise = 3\n").unwrap();
        let error = StreamConfig::from_file(&bad).unwrap_err().to_string();
        assert!(error.contains("bad.toml") && error.contains("batch_sise"), "{error}");
    }

    #[test]
    fn validation_names_the_missing_setting() {
        let config = StreamConfig { input_topics: vec!["in".into()], output_topic: "out".into(), ..Default::default() };
        let error = config.validate().unwrap_err().to_string();
        assert!(error.contains("--dead-letter-topic"), "{error}");
        let looping = StreamConfig { dead_letter_topic: "in".into(), ..config };
        assert!(looping.validate().is_err());
    }
}
