use sru_ner_schemas::{AnnotateError, Annotator, Entity};

/// The [`Annotator`] of processes that plan `sru_ner` but never run it: a cluster's client and
/// scheduler. Planning needs only the function's name and types; the rows are annotated on the
/// executors. A call that reaches it anyway is an error, never an empty result.
#[derive(Debug, Clone, Copy, Default)]
pub struct PlanningOnlyAnnotator;

impl Annotator for PlanningOnlyAnnotator {
    fn annotate(&self, _texts: &[&str]) -> Result<Vec<Vec<Entity>>, AnnotateError> {
        Err(AnnotateError::Model("this process only plans sru_ner; it runs on the cluster's executors (sru-ner cluster executor)".into()))
    }

    fn model_id(&self) -> &str {
        "planning-only"
    }
}
