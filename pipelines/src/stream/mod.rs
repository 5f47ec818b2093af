//! The Kafka enrichment stage (`sru-ner stream`): a consumer group reads text messages, the shared model
//! annotates them in batches across partitions, and enriched JSON messages go to an output topic with
//! the source coordinates in headers; messages that cannot be annotated go to a dead-letter topic with
//! the reason.
//!
//! Delivery is at-least-once by default: an input offset is committed only after its output (or
//! dead-letter record) is acknowledged by the broker ([`OffsetLedger`]). Exactly-once commits each
//! batch's records and offsets in one Kafka transaction. Partition revocation drains and commits; a stop
//! request stops fetching, finishes in-flight work, commits and leaves the group.
//!
//! The stage's parts, in the order a message meets them: `stage_intake` (consumer thread, decoding,
//! back-pressure), `batch_enrichment` (one model call per batch, output and dead-letter records),
//! `record_delivery` (produce, acknowledge, commit or transact), tied together by `stream_stage`. The
//! steps share only `stage_shared` (flags, clients, ledger, metrics) and `stage_messages` (what passes
//! between them); the stage loop sits on top and nothing below imports it.
mod batch_enrichment;
mod broker_health;
mod message_decoder;
mod offset_ledger;
mod record_delivery;
mod stage_consumer_context;
mod stage_intake;
mod stage_messages;
mod stage_metrics;
mod stage_shared;
mod stream_config;
mod stream_stage;

pub use message_decoder::{decode_message, DeadLetterReason, DecodedMessage};
pub use offset_ledger::{OffsetLedger, TopicPartition};
pub use stage_intake::FETCH_WAIT_MS;
pub use stage_messages::headers;
pub use stage_metrics::{MetricsEndpoint, StageMetrics};
pub use stream_config::{DeliveryGuarantee, MessageFormat, StreamConfig};
pub use stream_stage::{run_stream_stage, StreamSummary};
