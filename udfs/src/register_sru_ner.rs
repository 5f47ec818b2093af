use std::sync::Arc;

use datafusion::logical_expr::ScalarUDF;
use datafusion::optimizer::OptimizerRule;
use datafusion::prelude::SessionContext;
use sru_ner_schemas::Annotator;

use crate::{AnnotateAfterTopK, SruNerUdf};

/// Registers `sru_ner(text)` on `ctx`, served by `annotator` (for example a `ModelRuntime` from the
/// `sru-ner` crate), and the optimizer rule [`AnnotateAfterTopK`] (once per context). Every query of the
/// context shares that one annotator.
///
/// ```
/// use std::sync::Arc;
///
/// use datafusion::arrow::array::AsArray;
/// use datafusion::arrow::datatypes::UInt64Type;
/// use datafusion::prelude::SessionContext;
/// use sru_ner_schemas::test_util::LexiconAnnotator;
/// use sru_ner_udfs::register_sru_ner;
///
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let ctx = SessionContext::new();
/// // A stand-in that tags one word; a real program passes the sru-ner crate's ModelRuntime.
/// register_sru_ner(&ctx, Arc::new(LexiconAnnotator::new(&[("aspirin", "Chemical")])));
/// let batches = ctx.sql("SELECT cardinality(sru_ner('aspirin, then aspirin again')) AS n").await?.collect().await?;
/// assert_eq!(batches[0].column(0).as_primitive::<UInt64Type>().value(0), 2);
/// # Ok::<(), datafusion::error::DataFusionError>(())
/// # }).unwrap();
/// ```
pub fn register_sru_ner(ctx: &SessionContext, annotator: Arc<dyn Annotator>) {
    ctx.register_udf(ScalarUDF::from(SruNerUdf::new(annotator)));
    let rule = AnnotateAfterTopK;
    if !ctx.state().optimizers().iter().any(|r| r.name() == rule.name()) {
        ctx.add_optimizer_rule(Arc::new(rule));
    }
}
