use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, Schema};

/// Fields of one word in the corpus store: its text and character offsets (Unicode scalar values, end
/// exclusive) in the sentence text.
pub fn word_fields() -> Fields {
    Fields::from(vec![
        Field::new("text", DataType::Utf8, false),
        Field::new("start", DataType::Int32, false),
        Field::new("end", DataType::Int32, false),
    ])
}

/// Fields of one gold mention: word offsets (end exclusive), character offsets in the sentence text, type.
pub fn span_fields() -> Fields {
    Fields::from(vec![
        Field::new("start_word", DataType::Int32, false),
        Field::new("end_word", DataType::Int32, false),
        Field::new("start", DataType::Int32, false),
        Field::new("end", DataType::Int32, false),
        Field::new("label", DataType::Utf8, false),
    ])
}

/// The Arrow schema of the corpus store: one row per annotated sentence.
///
/// | column | type | meaning |
/// | --- | --- | --- |
/// | corpus | Utf8 | corpus name, e.g. `bc5cdr` |
/// | split | Utf8 | `train`, `dev`, `test`, ... |
/// | document_id | Utf8, nullable | source document (PMID, MEDLINE id, ...) when the format has one |
/// | sentence_id | Int64 | index of the sentence within its corpus split, from 0 |
/// | text | Utf8 | the sentence; words joined by single spaces for pre-tokenised formats |
/// | words | List<Struct<text, start, end>> | the words with character offsets into `text` |
/// | spans | List<Struct<start_word, end_word, start, end, label>> | gold mentions, possibly nested |
/// | types | List<Utf8> | the type set the corpus annotates (types it never labels are not negatives) |
pub fn corpus_schema() -> Arc<Schema> {
    let list_of =
        |name: &str, fields: Fields| Field::new(name, DataType::List(Arc::new(Field::new("item", DataType::Struct(fields), false))), false);
    Arc::new(Schema::new(vec![
        Field::new("corpus", DataType::Utf8, false),
        Field::new("split", DataType::Utf8, false),
        Field::new("document_id", DataType::Utf8, true),
        Field::new("sentence_id", DataType::Int64, false),
        Field::new("text", DataType::Utf8, false),
        list_of("words", word_fields()),
        list_of("spans", span_fields()),
        Field::new("types", DataType::List(Arc::new(Field::new("item", DataType::Utf8, false))), false),
    ]))
}
