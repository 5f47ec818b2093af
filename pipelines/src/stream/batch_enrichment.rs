//! Enrichment: one model call per batch, and each message's output or dead-letter record.
use std::sync::Arc;

use rdkafka::message::Header;
use serde_json::Value;
use sru_ner_schemas::{AnnotateError, Entity};

use super::message_decoder::{DeadLetterReason, DecodedMessage};
use super::stage_messages::{headers, DeadLetter, Envelope, OutgoingRecord};
use super::stage_shared::StageShared;
use crate::{PipelineError, Result};

/// Annotates a batch's texts in one call and turns every message into its output or dead-letter record.
/// If the model fails on the batch, each text is retried alone, and those that fail again become dead
/// letters.
pub(super) async fn enrich_batch(shared: Arc<StageShared>, batch: Vec<Envelope>) -> Result<Vec<OutgoingRecord>> {
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
    .map_err(|source| PipelineError::TaskFailed { task: "the model call", source })?
    .map_err(|source| PipelineError::ModelStopped { source })?;

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
                    Err(reason) => {
                        Err(DeadLetter { reason, payload: Some(serde_json::to_vec(&fields).expect("a JSON object serialises")) })
                    }
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
            Err(DeadLetter { reason, payload }) => OutgoingRecord {
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
