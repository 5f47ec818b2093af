use std::sync::Arc;

use arrow_array::builder::{Float32Builder, Int32Builder, ListBuilder, StringBuilder, StructBuilder};
use arrow_array::ListArray;
use arrow_schema::{DataType, Field, FieldRef, Fields};

use crate::Entity;

/// Fields of one entity in Arrow: `start`, `end` (character offsets, end exclusive), `label`, `text`,
/// `score`. None of them is ever null.
pub fn entity_fields() -> Fields {
    Fields::from(vec![
        Field::new("start", DataType::Int32, false),
        Field::new("end", DataType::Int32, false),
        Field::new("label", DataType::Utf8, false),
        Field::new("text", DataType::Utf8, false),
        Field::new("score", DataType::Float32, false),
    ])
}

/// The list item field: a non-null entity struct.
fn entity_item_field() -> FieldRef {
    Arc::new(Field::new("item", DataType::Struct(entity_fields()), false))
}

/// `List<Struct<start: Int32, end: Int32, label: Utf8, text: Utf8, score: Float32>>`: the type of the
/// `entities` column that the SQL function, the bulk job and the Kafka stage produce. A row is null only
/// when its text was null.
pub fn entity_list_type() -> DataType {
    DataType::List(entity_item_field())
}

/// Builds an `entities` column row by row (see [`entity_list_type`]).
///
/// ```
/// use arrow_array::Array;
/// use sru_ner_schemas::{entity_list_type, Entity, EntityListBuilder};
///
/// let aspirin = Entity { start: 0, end: 7, label: "Chemical".into(), text: "Aspirin".into(), score: 0.9 };
/// let mut builder = EntityListBuilder::with_capacity(3);
/// builder.append(&[aspirin])?; // a text with one mention
/// builder.append_null(); // a null text
/// builder.append(&[])?; // a text without mentions
/// let column = builder.finish();
/// assert_eq!(column.data_type(), &entity_list_type());
/// assert_eq!((column.len(), column.null_count(), column.value_length(0)), (3, 1, 1));
/// # Ok::<(), sru_ner_schemas::OffsetOverflow>(())
/// ```
#[derive(Debug)]
pub struct EntityListBuilder {
    list: ListBuilder<StructBuilder>,
}

/// An entity offset that does not fit the column's `Int32`.
#[derive(Debug, thiserror::Error)]
#[error("entity offset {0} is over the Int32 range of the entities column")]
pub struct OffsetOverflow(pub usize);

impl EntityListBuilder {
    /// A builder for about `rows` rows.
    pub fn with_capacity(rows: usize) -> Self {
        let item = StructBuilder::from_fields(entity_fields(), rows * 4);
        Self { list: ListBuilder::with_capacity(item, rows).with_field(entity_item_field()) }
    }

    /// Appends one row holding `entities` (an empty slice gives an empty list).
    pub fn append(&mut self, entities: &[Entity]) -> Result<(), OffsetOverflow> {
        // Check every offset first so that a failed row leaves the builder unchanged.
        for e in entities {
            for offset in [e.start, e.end] {
                i32::try_from(offset).map_err(|_| OffsetOverflow(offset))?;
            }
        }
        let item = self.list.values();
        for e in entities {
            item.field_builder::<Int32Builder>(0).expect("start is Int32").append_value(e.start as i32);
            item.field_builder::<Int32Builder>(1).expect("end is Int32").append_value(e.end as i32);
            item.field_builder::<StringBuilder>(2).expect("label is Utf8").append_value(&e.label);
            item.field_builder::<StringBuilder>(3).expect("text is Utf8").append_value(&e.text);
            item.field_builder::<Float32Builder>(4).expect("score is Float32").append_value(e.score);
            item.append(true);
        }
        self.list.append(true);
        Ok(())
    }

    /// Appends a null row (the text was null).
    pub fn append_null(&mut self) {
        self.list.append(false);
    }

    /// The column built so far; the builder is left empty for reuse.
    pub fn finish(&mut self) -> ListArray {
        self.list.finish()
    }
}

#[cfg(test)]
mod tests {
    use arrow_array::{Array, Float32Array, Int32Array, StringArray, StructArray};

    use super::*;

    #[test]
    fn builds_rows_of_nested_entities_with_nulls_and_empty_lists() {
        let aspirin = Entity { start: 0, end: 7, label: "Chemical".into(), text: "Aspirin".into(), score: 0.9 };
        let mut builder = EntityListBuilder::with_capacity(3);
        builder.append(std::slice::from_ref(&aspirin)).unwrap();
        builder.append_null();
        builder.append(&[]).unwrap();
        let column = builder.finish();
        assert_eq!(column.data_type(), &entity_list_type());
        assert_eq!(column.len(), 3);
        assert!(column.is_valid(0) && column.is_null(1) && column.is_valid(2));
        assert_eq!(column.value_length(0), 1);
        assert_eq!(column.value_length(2), 0);
        let first = column.value(0);
        let first = first.as_any().downcast_ref::<StructArray>().unwrap();
        let int = |i: usize| first.column(i).as_any().downcast_ref::<Int32Array>().unwrap().value(0);
        let string = |i: usize| first.column(i).as_any().downcast_ref::<StringArray>().unwrap().value(0).to_string();
        assert_eq!((int(0), int(1)), (0, 7));
        assert_eq!((string(2), string(3)), ("Chemical".to_string(), "Aspirin".to_string()));
        assert_eq!(first.column(4).as_any().downcast_ref::<Float32Array>().unwrap().value(0), 0.9);
    }

    #[test]
    fn refuses_offsets_over_int32_and_leaves_the_builder_unchanged() {
        let huge = Entity { start: 1 << 31, end: (1 << 31) + 1, label: "x".into(), text: "y".into(), score: 1.0 };
        let mut builder = EntityListBuilder::with_capacity(1);
        assert!(builder.append(&[huge]).is_err());
        builder.append(&[]).unwrap();
        assert_eq!(builder.finish().len(), 1);
    }
}
