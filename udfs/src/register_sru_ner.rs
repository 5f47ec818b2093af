use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;
use datafusion::prelude::SessionContext;
use sru_ner_schemas::Annotator;

use crate::SruNerUdf;

/// Registers `sru_ner(text)` on `ctx`, served by `annotator` (for example a `ModelRuntime` from the
/// `sru-ner` crate). Every query of the context shares that one annotator.
pub fn register_sru_ner(ctx: &SessionContext, annotator: Arc<dyn Annotator>) {
    ctx.register_udf(ScalarUDF::from(SruNerUdf::new(annotator)));
}
