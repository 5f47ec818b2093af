use std::hash::{Hash, Hasher};
use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_datafusion_err, exec_err, Result, ScalarValue};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};
use sru_ner_schemas::{annotate_column, entity_list_type, Annotator};

/// The `sru_ner(text)` scalar function: one list of entity structs per text (see the crate docs).
///
/// Each call sends the non-null texts of the batch to the [`Annotator`] in one request; the
/// annotator merges concurrent requests from all partitions into length-sorted model batches.
#[derive(Clone)]
pub struct SruNerUdf {
    annotator: Arc<dyn Annotator>,
    signature: Signature,
}

impl SruNerUdf {
    /// The function, served by `annotator`.
    pub fn new(annotator: Arc<dyn Annotator>) -> Self {
        // One string argument (Utf8, LargeUtf8, Utf8View; NULL is coerced); other types are refused at
        // planning. The same text always gives the same entities, so a literal call may be folded.
        let signature = Signature::string(1, Volatility::Immutable);
        Self { annotator, signature }
    }

    /// Entities of every row of `texts`, nulls kept as nulls.
    fn annotate_array(&self, texts: &ArrayRef) -> Result<ArrayRef> {
        let entities = annotate_column(self.annotator.as_ref(), texts.as_ref()).map_err(|e| exec_datafusion_err!("sru_ner: {e}"))?;
        Ok(Arc::new(entities))
    }
}

impl std::fmt::Debug for SruNerUdf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SruNerUdf").field("model", &self.annotator.model_id()).finish()
    }
}

/// Two instances are the same function when they share the same annotator.
impl PartialEq for SruNerUdf {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.annotator, &other.annotator)
    }
}

impl Eq for SruNerUdf {}

impl Hash for SruNerUdf {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.annotator.model_id().hash(state);
    }
}

impl ScalarUDFImpl for SruNerUdf {
    fn name(&self) -> &str {
        "sru_ner"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(entity_list_type())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [text] = args.args.as_slice() else {
            return exec_err!("sru_ner takes one argument (the text), got {}", args.args.len());
        };
        match text {
            ColumnarValue::Array(texts) => Ok(ColumnarValue::Array(self.annotate_array(texts)?)),
            ColumnarValue::Scalar(scalar) => {
                let entities = self.annotate_array(&scalar.to_array()?)?;
                Ok(ColumnarValue::Scalar(ScalarValue::try_from_array(&entities, 0)?))
            }
        }
    }
}
