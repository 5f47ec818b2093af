//! Runs the Kafka enrichment stage from code: read JSON messages with an `abstract` field from one
//! topic, annotate them in batches, and write each message with an `entities` field to another topic
//! (messages that cannot be annotated go to a dead-letter topic, with the reason in headers). Ctrl-C
//! stops it cleanly: in-flight work finishes, offsets are committed, the consumer leaves the group.
//!
//! ```text
//! cargo run --release --example kafka_stage -- BROKERS INPUT_TOPIC OUTPUT_TOPIC
//! ```
//! e.g. `localhost:9092 abstracts abstracts-ner`. `sru-ner stream` is the same stage with its settings
//! from a TOML file and flags (`pipelines/stream.toml`).
use std::sync::Arc;

use sru_ner::runtime::{ModelRuntime, ModelSource, RuntimeOptions};
use sru_ner_pipelines::stream::{run_stream_stage, DeliveryGuarantee, MessageFormat, StreamConfig};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [brokers, input, output] = args.as_slice() else {
        return Err("usage: kafka_stage BROKERS INPUT_TOPIC OUTPUT_TOPIC".into());
    };
    let config = StreamConfig {
        brokers: brokers.clone(),
        group: "sru-ner-example".into(),
        input_topics: vec![input.clone()],
        output_topic: output.clone(),
        dead_letter_topic: format!("{output}-dead"),
        format: MessageFormat::Json,
        text_field: "abstract".into(),
        // At-least-once: an input offset is committed once its output is acknowledged. ExactlyOnce
        // writes each batch's records and offsets in one transaction.
        delivery: DeliveryGuarantee::AtLeastOnce,
        ..StreamConfig::default()
    };
    let model = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/default");
    let runtime = ModelRuntime::start(ModelSource::Directory(model), RuntimeOptions { precision: None, ..RuntimeOptions::default() })?;

    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let summary = run_stream_stage(config, Arc::new(runtime), shutdown).await?;
    println!(
        "{} messages in, {} out, {} dead letters in {:.1} s",
        summary.messages_in,
        summary.messages_out,
        summary.messages_dead,
        summary.elapsed.as_secs_f64()
    );
    Ok(())
}
