use crate::Entity;

/// Why a batch of texts could not be annotated.
#[derive(Debug, thiserror::Error)]
pub enum AnnotateError {
    /// The model runtime has stopped (its thread ended or was shut down); no more work is accepted.
    #[error("the model runtime is no longer running: {0}")]
    RuntimeStopped(String),
    /// The model failed on this batch (a libtorch error, out of memory, ...).
    #[error("the model failed on a batch: {0}")]
    Model(String),
}

/// A batch of documents in, their entity mentions out: the one interface every surface calls.
///
/// Implementations are shared between threads (DataFusion partitions, Kafka consumers, the bulk job) and
/// batch the work of all callers together on one model. The `sru-ner` crate's `ModelRuntime` is the
/// real one; anything else that finds mentions can serve every surface the same way:
///
/// ```
/// use sru_ner_schemas::{AnnotateError, Annotator, Entity};
///
/// /// Tags the word "aspirin" wherever it starts a text.
/// struct AspirinAtStart;
///
/// impl Annotator for AspirinAtStart {
///     fn annotate(&self, texts: &[&str]) -> Result<Vec<Vec<Entity>>, AnnotateError> {
///         let tag = |text: &str| match text.starts_with("aspirin") {
///             true => vec![Entity { start: 0, end: 7, label: "Chemical".into(), text: "aspirin".into(), score: 1.0 }],
///             false => Vec::new(),
///         };
///         Ok(texts.iter().map(|text| tag(text)).collect())
///     }
///
///     fn model_id(&self) -> &str {
///         "aspirin-at-start"
///     }
/// }
///
/// let entities = AspirinAtStart.annotate(&["aspirin helps", "nothing here"])?;
/// assert_eq!(entities.iter().map(Vec::len).collect::<Vec<_>>(), [1, 0]);
/// # Ok::<(), AnnotateError>(())
/// ```
pub trait Annotator: Send + Sync {
    /// Annotates `texts`; the result has one entry per input text, in input order, each holding that
    /// text's mentions sorted by `(start, -end, label)` ([`Entity::sort_in_document_order`]). An empty or whitespace-only text gives no
    /// mentions.
    fn annotate(&self, texts: &[&str]) -> Result<Vec<Vec<Entity>>, AnnotateError>;

    /// An identifier of the model behind this annotator (name and version), for provenance columns.
    fn model_id(&self) -> &str;
}
