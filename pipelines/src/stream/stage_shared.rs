//! State shared by the stage's threads and tasks: the stop and failure flags ([`StageControl`]) and the
//! clients, ledger and metrics that the batcher and its delivery tasks use ([`StageShared`]). The steps
//! (intake, enrichment, delivery) import it; the stage loop builds it.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rdkafka::consumer::BaseConsumer;
use rdkafka::producer::FutureProducer;
use sru_ner_schemas::Annotator;

use super::broker_health::StageProducerContext;
use super::offset_ledger::OffsetLedger;
use super::stage_consumer_context::StageConsumerContext;
use super::stage_metrics::StageMetrics;
use super::stream_config::StreamConfig;
use crate::PipelineError;

/// The stage's consumer, with the callbacks of [`StageConsumerContext`].
pub(super) type StageConsumer = BaseConsumer<StageConsumerContext>;

/// Stop and failure flags shared by the stage's threads and tasks.
#[derive(Default)]
pub(super) struct StageControl {
    stopping: AtomicBool,
    pub(super) closing: AtomicBool,
    failure: Mutex<Option<PipelineError>>,
}

impl StageControl {
    pub(super) fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }
    pub(super) fn stopping(&self) -> bool {
        self.stopping.load(Ordering::SeqCst)
    }
    /// Records the first fatal error and stops the stage.
    pub(super) fn fail(&self, error: PipelineError) {
        tracing::error!("{error}");
        let mut failure = self.failure.lock().unwrap_or_else(|p| p.into_inner());
        failure.get_or_insert(error);
        self.stop();
    }
    pub(super) fn take_failure(&self) -> Option<PipelineError> {
        self.failure.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

/// Everything the batcher and its delivery tasks share.
pub(super) struct StageShared {
    pub(super) config: StreamConfig,
    pub(super) annotator: Arc<dyn Annotator>,
    pub(super) producer: FutureProducer<StageProducerContext>,
    pub(super) consumer: Arc<StageConsumer>,
    pub(super) ledger: Arc<OffsetLedger>,
    pub(super) metrics: Arc<StageMetrics>,
    pub(super) control: Arc<StageControl>,
}
