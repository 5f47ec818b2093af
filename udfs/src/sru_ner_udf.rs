use std::hash::{Hash, Hasher};
use std::sync::{Arc, LazyLock};

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{exec_datafusion_err, exec_err, Result, ScalarValue};
use datafusion::logical_expr::{ColumnarValue, DocSection, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};
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

/// What `sru_ner` tells DataFusion about itself (`SHOW FUNCTIONS`, generated function docs).
static DOCUMENTATION: LazyLock<Documentation> = LazyLock::new(|| {
    let section = DocSection { include: true, label: "Text Mining Functions", description: None };
    Documentation::builder(
        section,
        "Finds the named entities of a text, nested ones included (SRU-NER). Returns one list per row \
         of structs {start, end, label, text, score}: character offsets into the text (end exclusive, \
         so substr(text, start + 1, end - start) = text), the entity type, the covered text, and the \
         model's confidence. NULL in gives NULL out; an empty text gives an empty list. All calls of a \
         query share one model, which batches the rows of every partition together."
            .to_owned(),
        "sru_ner(text)".to_owned(),
    )
    .with_argument("text", "A string column or literal (Utf8, LargeUtf8 or Utf8View): the document to annotate.")
    .with_sql_example(
        "```sql\n\
         > SELECT pmid, sru_ner(abstract) AS entities FROM pubmed;\n\
         > SELECT pmid, e.label, e.text FROM (SELECT pmid, unnest(sru_ner(abstract)) AS e FROM pubmed);\n\
         ```",
    )
    .build()
});

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

    fn documentation(&self) -> Option<&Documentation> {
        Some(&DOCUMENTATION)
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

#[cfg(test)]
mod tests {
    use super::*;
    use sru_ner_schemas::{AnnotateError, Entity};

    struct NoEntities;

    impl Annotator for NoEntities {
        fn annotate(&self, texts: &[&str]) -> std::result::Result<Vec<Vec<Entity>>, AnnotateError> {
            Ok(vec![Vec::new(); texts.len()])
        }
        fn model_id(&self) -> &str {
            "none"
        }
    }

    #[test]
    fn documents_its_syntax_argument_and_result() {
        let udf = SruNerUdf::new(Arc::new(NoEntities));
        let doc = udf.documentation().expect("sru_ner is documented");
        assert_eq!(doc.syntax_example, "sru_ner(text)");
        let arguments = doc.arguments.as_ref().expect("arguments");
        assert_eq!(arguments.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>(), ["text"]);
        for field in ["start", "end", "label", "text", "score"] {
            assert!(doc.description.contains(field), "{field} missing from: {}", doc.description);
        }
        assert!(doc.sql_example.as_deref().is_some_and(|example| example.contains("sru_ner(abstract)")));
    }
}
