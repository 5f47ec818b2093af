//! What travels between the stage's steps: an input message with its source coordinates
//! ([`Envelope`]), the record it becomes ([`OutgoingRecord`]), and the header names written on records.
use std::time::Instant;

use rdkafka::message::OwnedHeaders;

use super::message_decoder::{DeadLetterReason, DecodedMessage};

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

/// Where a record came from.
#[derive(Debug, Clone)]
pub(super) struct SourceOffset {
    pub(super) topic: String,
    pub(super) partition: i32,
    pub(super) offset: i64,
}

/// A message that goes to the dead-letter topic: why, and the payload to write there (the original
/// payload, or the decoded fields when the model failed on the text).
#[derive(Debug)]
pub(super) struct DeadLetter {
    pub(super) reason: DeadLetterReason,
    pub(super) payload: Option<Vec<u8>>,
}

/// One input message on its way through the stage.
pub(super) struct Envelope {
    pub(super) source: SourceOffset,
    pub(super) key: Option<Vec<u8>>,
    pub(super) headers: Option<OwnedHeaders>,
    pub(super) received: Instant,
    /// The decoded message, or the dead letter it becomes.
    pub(super) content: std::result::Result<DecodedMessage, DeadLetter>,
}

/// A record to produce, enriched or dead.
pub(super) struct OutgoingRecord {
    pub(super) source: SourceOffset,
    pub(super) received: Instant,
    pub(super) key: Option<Vec<u8>>,
    pub(super) headers: OwnedHeaders,
    pub(super) payload: Option<Vec<u8>>,
    /// `Some(kind)` for a dead-letter record.
    pub(super) dead: Option<&'static str>,
}
