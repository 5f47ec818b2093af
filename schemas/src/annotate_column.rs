use arrow_array::cast::AsArray;
use arrow_array::{Array, ListArray};
use arrow_schema::DataType;

use crate::{AnnotateError, Annotator, EntityListBuilder, OffsetOverflow};

/// Why a text column could not be annotated.
#[derive(Debug, thiserror::Error)]
pub enum AnnotateColumnError {
    /// The column does not hold strings.
    #[error("expected a string column (Utf8, LargeUtf8 or Utf8View), got {0}")]
    NotText(DataType),
    /// The annotator failed.
    #[error(transparent)]
    Annotate(#[from] AnnotateError),
    /// An entity offset does not fit the column.
    #[error("row {row}: {source}")]
    Offset {
        /// The row, counted in the column.
        row: usize,
        /// The underlying error.
        source: OffsetOverflow,
    },
    /// The annotator answered with fewer documents than it was sent.
    #[error("the annotator returned {got} results for {sent} texts")]
    ShortAnswer {
        /// Texts sent.
        sent: usize,
        /// Results returned.
        got: usize,
    },
}

/// The `entities` column for a column of texts: one request to `annotator` with every non-null text,
/// then one list per row (null where the text is null, empty where it has no entity). Accepts Utf8,
/// LargeUtf8, Utf8View and all-null columns. The SQL function and the bulk job both call this.
pub fn annotate_column(annotator: &dyn Annotator, texts: &dyn Array) -> Result<ListArray, AnnotateColumnError> {
    let rows: Vec<Option<&str>> = match texts.data_type() {
        DataType::Utf8 => texts.as_string::<i32>().iter().collect(),
        DataType::LargeUtf8 => texts.as_string::<i64>().iter().collect(),
        DataType::Utf8View => texts.as_string_view().iter().collect(),
        DataType::Null => vec![None; texts.len()],
        other => return Err(AnnotateColumnError::NotText(other.clone())),
    };
    let present: Vec<&str> = rows.iter().flatten().copied().collect();
    let answers = if present.is_empty() { Vec::new() } else { annotator.annotate(&present)? };
    if answers.len() != present.len() {
        return Err(AnnotateColumnError::ShortAnswer { sent: present.len(), got: answers.len() });
    }
    let mut answers = answers.into_iter();
    let mut column = EntityListBuilder::with_capacity(rows.len());
    for (row, text) in rows.iter().enumerate() {
        match text.and_then(|_| answers.next()) {
            Some(entities) => column.append(&entities).map_err(|source| AnnotateColumnError::Offset { row, source })?,
            None => column.append_null(),
        }
    }
    Ok(column.finish())
}
