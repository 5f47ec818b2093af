//! Generated Arrow text columns through `annotate_column`, the path of `sru_ner(text)` and of the bulk
//! job: Utf8, LargeUtf8 and Utf8View arrays with nulls, sliced at any offset, each row
//! answered exactly as the annotator answers that text alone, with character offsets that cut the
//! entity's text out of the row, and never a panic.
//!
//! The seeds in `fuzz/corpus/entity_columns/` (one text per file) are replayed first, as one column in
//! each of the three string types. Generated cases: `PROPTEST_CASES` (proptest's default 256 is CI's smoke
//! pass).
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Array, LargeStringArray, StringArray, StringViewArray, StructArray};
use proptest::prelude::*;
use sru_ner_schemas::test_util::LexiconAnnotator;
use sru_ner_schemas::{annotate_column, Annotator};

fn lexicon() -> LexiconAnnotator {
    LexiconAnnotator::new(&[("IL-2", "protein"), ("IL-2 gene", "DNA"), ("TNF-α", "protein"), ("naïve T cells", "cell_type"), ("日本", "X")])
}

/// The same rows as each Arrow string type.
fn as_every_string_type(rows: &[Option<String>]) -> Vec<ArrayRef> {
    vec![
        Arc::new(StringArray::from(rows.to_vec())),
        Arc::new(LargeStringArray::from(rows.to_vec())),
        Arc::new(StringViewArray::from(rows.iter().map(|r| r.as_deref()).collect::<Vec<_>>())),
    ]
}

/// Checks the entity column of `texts` (whose rows are `rows`) against the annotator, row by row.
fn check(texts: &dyn Array, rows: &[Option<String>]) -> Result<(), TestCaseError> {
    let annotator = lexicon();
    let column = annotate_column(&annotator, texts).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(column.len(), rows.len());
    for (row, text) in rows.iter().enumerate() {
        let Some(text) = text else {
            prop_assert!(column.is_null(row), "row {} is null in, so null out", row);
            continue;
        };
        prop_assert!(column.is_valid(row));
        let expected = &annotator.annotate(&[text.as_str()]).map_err(|e| TestCaseError::fail(e.to_string()))?[0];
        let entities = column.value(row);
        let entities = entities.as_any().downcast_ref::<StructArray>().expect("a list of entity structs");
        prop_assert_eq!(entities.len(), expected.len(), "row {}: {:?}", row, text);
        let int = |i: usize| entities.column(i).as_any().downcast_ref::<Int32Array>().expect("int32").clone();
        let (starts, ends) = (int(0), int(1));
        let (labels, texts) = (entities.column(2).as_string::<i32>(), entities.column(3).as_string::<i32>());
        let chars: Vec<char> = text.chars().collect();
        for (i, want) in expected.iter().enumerate() {
            let (start, end) = (starts.value(i) as usize, ends.value(i) as usize);
            prop_assert_eq!((start, end, labels.value(i)), (want.start, want.end, want.label.as_str()), "row {}", row);
            prop_assert!(start < end && end <= chars.len(), "row {}: {}..{} outside {} characters", row, start, end, chars.len());
            prop_assert_eq!(chars[start..end].iter().collect::<String>(), texts.value(i), "row {}: offsets cut the entity text", row);
        }
    }
    Ok(())
}

/// Texts built from the lexicon's phrases, word boundaries that do and do not count, and any Unicode.
fn text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "IL-2",
        "IL-2 gene",
        "IL-22",
        "xIL-2",
        "TNF-α",
        "naïve T cells",
        "日本",
        " ",
        "\n",
        ".",
        "-",
        "é\u{301}",
        "🧬",
        "\u{a0}",
        "cells",
    ]);
    prop_oneof![3 => prop::collection::vec(pieces, 0..12).prop_map(|p| p.concat()), 1 => any::<String>()]
}

#[test]
fn the_seed_corpus_gives_each_row_its_own_entities_in_every_string_type() {
    let mut rows: Vec<Option<String>> = sru_ner_schemas::test_util::seed_corpus("entity_columns", 5)
        .into_iter()
        .map(|(path, bytes)| Some(String::from_utf8(bytes).unwrap_or_else(|_| panic!("{} is not UTF-8", path.display()))))
        .collect();
    rows.insert(1, None);
    assert!(lexicon().annotate(&rows.iter().flatten().map(String::as_str).collect::<Vec<_>>()).unwrap().iter().any(|e| !e.is_empty()));
    for texts in as_every_string_type(&rows) {
        check(texts.as_ref(), &rows).unwrap_or_else(|e| panic!("{}: {e}", texts.data_type()));
    }
}

proptest! {
    #[test]
    fn any_text_column_gives_each_row_its_own_entities(
        rows in prop::collection::vec(prop::option::weighted(0.8, text()), 0..24),
        slice in (any::<prop::sample::Index>(), any::<prop::sample::Index>()),
    ) {
        // A slice of the column, as DataFusion hands a function a window of a larger batch.
        let offset = if rows.is_empty() { 0 } else { slice.0.index(rows.len() + 1) };
        let length = slice.1.index(rows.len() - offset + 1);
        for texts in as_every_string_type(&rows) {
            let sliced = texts.slice(offset, length);
            check(sliced.as_ref(), &rows[offset..offset + length])?;
        }
    }
}
