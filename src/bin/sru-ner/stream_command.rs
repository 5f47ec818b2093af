//! `sru-ner stream`: the Kafka enrichment stage, configured by a TOML file and flags.
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::Args;
use sru_ner::Annotator;
use sru_ner_pipelines::stream::{run_stream_stage, DeliveryGuarantee, MessageFormat, StreamConfig};

use crate::model_args::{runtime_warning, ModelArgs};

/// Reads text messages from Kafka, annotates them, and writes enriched JSON messages.
///
/// Each output message carries the input's key and headers, the input's fields at the top level (all, or
/// those of --copy-field), the entities under --entities-field (the SQL struct's shape: start, end,
/// label, text, score; character offsets) and the model id under --model-field, with the headers
/// sru_ner.source.topic, sru_ner.source.partition and sru_ner.source.offset. Messages that cannot be
/// annotated (not UTF-8, not JSON, no text field, text too long) go to the dead-letter topic, unchanged,
/// with sru_ner.error and sru_ner.error.kind headers. A JSON null text gives "entities": null.
///
/// At-least-once by default: an offset is committed only after its record is acknowledged. SIGINT or
/// SIGTERM stops fetching, finishes in-flight work, commits and leaves the group. Instances started with
/// the same --group share the partitions.
#[derive(Debug, Args)]
pub struct StreamArgs {
    /// TOML file with the settings below (see pipelines/stream.toml); flags override it.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Bootstrap brokers, host:port[,host:port...] [default: localhost:9092].
    #[arg(long)]
    brokers: Option<String>,
    /// Consumer group [default: sru-ner].
    #[arg(long)]
    group: Option<String>,
    /// Input topic (repeat for several).
    #[arg(long = "input-topic")]
    input_topics: Vec<String>,
    /// Output topic for the enriched messages.
    #[arg(long)]
    output_topic: Option<String>,
    /// Topic for the messages that cannot be annotated.
    #[arg(long)]
    dead_letter_topic: Option<String>,
    /// Payload format [default: json].
    #[arg(long, value_parser = ["json", "text"])]
    format: Option<String>,
    /// JSON field (or dotted path) holding the text [default: text].
    #[arg(long)]
    text_field: Option<String>,
    /// Input field to carry to the output (repeat; none given carries all).
    #[arg(long = "copy-field")]
    copy_fields: Vec<String>,
    /// Output field for the entities [default: entities].
    #[arg(long)]
    entities_field: Option<String>,
    /// Output field for the model id [default: sru_ner_model].
    #[arg(long)]
    model_field: Option<String>,
    /// Most messages per model batch [default: 256].
    #[arg(long)]
    batch_size: Option<usize>,
    /// Milliseconds a batch waits to fill [default: 50].
    #[arg(long)]
    linger_ms: Option<u64>,
    /// Unacknowledged messages above which the consumer pauses [default: 4096].
    #[arg(long)]
    max_in_flight: Option<usize>,
    /// Texts over this many bytes go to the dead-letter topic [default: 1000000].
    #[arg(long)]
    max_text_bytes: Option<usize>,
    /// Delivery guarantee [default: at-least-once].
    #[arg(long, value_parser = ["at-least-once", "exactly-once"])]
    delivery: Option<String>,
    /// Producer transactional.id, required for exactly-once: unique per instance, stable across restarts.
    #[arg(long)]
    transactional_id: Option<String>,
    /// Milliseconds between offset commits [default: 1000].
    #[arg(long)]
    commit_interval_ms: Option<u64>,
    /// Prometheus endpoint address, or "off" [default: 127.0.0.1:9464].
    #[arg(long)]
    metrics_addr: Option<String>,
    /// Seconds between progress log lines, 0 for none [default: 10].
    #[arg(long)]
    log_interval_secs: Option<u64>,
    /// Seconds a partition revocation waits for in-flight messages [default: 30].
    #[arg(long)]
    drain_timeout_secs: Option<u64>,
    /// librdkafka property for both clients, KEY=VALUE (repeat), e.g. security.protocol=SASL_SSL.
    #[arg(long = "kafka", value_name = "KEY=VALUE")]
    kafka: Vec<String>,
    #[command(flatten)]
    model: ModelArgs,
}

impl StreamArgs {
    /// The file's settings with the flags applied over them.
    fn stream_config(&self) -> Result<StreamConfig> {
        let mut config = match &self.config {
            Some(path) => StreamConfig::from_file(path)?,
            None => StreamConfig::default(),
        };
        fn set<T: Clone>(target: &mut T, flag: &Option<T>) {
            if let Some(value) = flag {
                *target = value.clone();
            }
        }
        set(&mut config.brokers, &self.brokers);
        set(&mut config.group, &self.group);
        if !self.input_topics.is_empty() {
            config.input_topics = self.input_topics.clone();
        }
        set(&mut config.output_topic, &self.output_topic);
        set(&mut config.dead_letter_topic, &self.dead_letter_topic);
        if let Some(format) = &self.format {
            config.format = if format == "text" { MessageFormat::Text } else { MessageFormat::Json };
        }
        set(&mut config.text_field, &self.text_field);
        if !self.copy_fields.is_empty() {
            config.copy_fields = self.copy_fields.clone();
        }
        set(&mut config.entities_field, &self.entities_field);
        set(&mut config.model_field, &self.model_field);
        set(&mut config.batch_size, &self.batch_size);
        set(&mut config.linger_ms, &self.linger_ms);
        set(&mut config.max_in_flight, &self.max_in_flight);
        set(&mut config.max_text_bytes, &self.max_text_bytes);
        if let Some(delivery) = &self.delivery {
            config.delivery = if delivery == "exactly-once" { DeliveryGuarantee::ExactlyOnce } else { DeliveryGuarantee::AtLeastOnce };
        }
        if self.transactional_id.is_some() {
            config.transactional_id = self.transactional_id.clone();
        }
        set(&mut config.commit_interval_ms, &self.commit_interval_ms);
        set(&mut config.metrics_addr, &self.metrics_addr);
        set(&mut config.log_interval_secs, &self.log_interval_secs);
        set(&mut config.drain_timeout_secs, &self.drain_timeout_secs);
        for property in &self.kafka {
            let (key, value) = property.split_once('=').with_context(|| format!("--kafka {property:?}: expected KEY=VALUE"))?;
            config.kafka.insert(key.trim().to_string(), value.to_string());
        }
        config.validate()?;
        Ok(config)
    }
}

/// Runs the stage until SIGINT or SIGTERM.
pub fn run(args: StreamArgs) -> Result<()> {
    let config = args.stream_config()?;
    let runtime = Arc::new(args.model.start_runtime()?);
    runtime_warning(&runtime);
    let tokio = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting tokio")?;
    let result = tokio.block_on(async {
        let annotator = Arc::clone(&runtime) as Arc<dyn Annotator>;
        run_stream_stage(config, annotator, stop_signal()).await
    });
    drop(tokio);
    runtime.shutdown();
    let summary = result?;
    eprintln!(
        "sru-ner stream: stopped: {} in, {} out, {} dead letters, {:.1} s",
        summary.messages_in,
        summary.messages_out,
        summary.messages_dead,
        summary.elapsed.as_secs_f64()
    );
    Ok(())
}

/// Resolves on SIGINT or SIGTERM.
async fn stop_signal() {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match terminate.as_mut() { Some(s) => { s.recv().await; } None => std::future::pending().await } } => {}
    }
}
