use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type};
use arrow_array::{Array, ArrayRef, Int32Array, Int64Array, ListArray, RecordBatch, StringArray, StructArray};
use arrow_buffer::OffsetBuffer;
use arrow_schema::{ArrowError, DataType, Field, Fields};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use sru_ner_schemas::{corpus_schema, span_fields, word_fields};

use super::{CorpusSentence, LabeledSpan};
use crate::error::{Result, SruNerError};

/// A folder of Parquet files in the corpus schema: `STORE/<corpus>/<split>/part-NNNNN.parquet`.
/// Appending adds a part (written to a temporary name, then renamed); reading concatenates the parts in
/// order.
#[derive(Debug, Clone)]
pub struct CorpusStore {
    dir: PathBuf,
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> SruNerError + '_ {
    move |source| SruNerError::Io { path: path.to_path_buf(), source }
}

fn parquet_error(path: &Path) -> impl FnOnce(parquet::errors::ParquetError) -> SruNerError + '_ {
    move |e| SruNerError::Store { path: path.to_path_buf(), reason: e.to_string() }
}

impl CorpusStore {
    /// The store rooted at `dir` (created on first append).
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    fn split_dir(&self, corpus: &str, split: &str) -> PathBuf {
        self.dir.join(corpus).join(split)
    }

    fn parts(&self, corpus: &str, split: &str) -> Result<Vec<PathBuf>> {
        let dir = self.split_dir(corpus, split);
        if !dir.is_dir() {
            return Ok(Vec::new());
        }
        let mut parts: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(io_error(&dir))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
            .collect();
        parts.sort();
        Ok(parts)
    }

    /// Appends sentences to `corpus`/`split` as a new part; sentence ids continue after the existing ones.
    /// Returns the part's path.
    pub fn append(&self, corpus: &str, split: &str, types: &[String], sentences: &mut [CorpusSentence]) -> Result<PathBuf> {
        let first_id = self.count(corpus, split)?;
        for (i, s) in sentences.iter_mut().enumerate() {
            s.corpus = corpus.to_string();
            s.split = split.to_string();
            s.sentence_id = first_id + i as i64;
            s.types = types.to_vec();
        }
        let dir = self.split_dir(corpus, split);
        std::fs::create_dir_all(&dir).map_err(io_error(&dir))?;
        let path = dir.join(format!("part-{:05}.parquet", self.parts(corpus, split)?.len()));
        let temporary = path.with_extension("parquet.tmp");
        let batch = to_record_batch(sentences).map_err(|e| SruNerError::Store { path: path.clone(), reason: e.to_string() })?;
        let file = File::create(&temporary).map_err(io_error(&temporary))?;
        let mut writer = ArrowWriter::try_new(file, batch.schema(), None).map_err(parquet_error(&temporary))?;
        writer.write(&batch).map_err(parquet_error(&temporary))?;
        writer.close().map_err(parquet_error(&temporary))?;
        std::fs::rename(&temporary, &path).map_err(io_error(&path))?;
        Ok(path)
    }

    /// Number of sentences in `corpus`/`split`, from the parts' Parquet footers (nothing is decoded).
    pub fn count(&self, corpus: &str, split: &str) -> Result<i64> {
        let mut rows = 0;
        for part in self.parts(corpus, split)? {
            let file = File::open(&part).map_err(io_error(&part))?;
            let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(parquet_error(&part))?;
            rows += builder.metadata().file_metadata().num_rows();
        }
        Ok(rows)
    }

    /// Every sentence of `corpus`/`split`, in order (empty if there is none).
    pub fn read(&self, corpus: &str, split: &str) -> Result<Vec<CorpusSentence>> {
        let mut sentences = Vec::new();
        for part in self.parts(corpus, split)? {
            let file = File::open(&part).map_err(io_error(&part))?;
            let reader = ParquetRecordBatchReaderBuilder::try_new(file).and_then(|b| b.build()).map_err(parquet_error(&part))?;
            for batch in reader {
                let batch = batch.map_err(|e| SruNerError::Store { path: part.clone(), reason: e.to_string() })?;
                from_record_batch(&batch, &mut sentences).map_err(|reason| SruNerError::Store { path: part.clone(), reason })?;
            }
        }
        Ok(sentences)
    }
}

fn int32(values: impl Iterator<Item = usize>) -> ArrayRef {
    Arc::new(Int32Array::from_iter_values(values.map(|v| v as i32)))
}

fn strings<'a>(values: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from(values.collect::<Vec<&str>>()))
}

/// A `List<Struct<fields>>` column: `lengths[i]` items for row i, the struct columns holding all items.
fn list_of_structs(fields: Fields, lengths: Vec<usize>, columns: Vec<ArrayRef>) -> std::result::Result<ArrayRef, ArrowError> {
    let values = StructArray::try_new(fields.clone(), columns, None)?;
    let item = Arc::new(Field::new("item", DataType::Struct(fields), false));
    Ok(Arc::new(ListArray::try_new(item, OffsetBuffer::from_lengths(lengths), Arc::new(values), None)?))
}

fn to_record_batch(sentences: &[CorpusSentence]) -> std::result::Result<RecordBatch, ArrowError> {
    let word_texts: Vec<String> = sentences.iter().flat_map(CorpusSentence::word_texts).collect();
    let words = list_of_structs(
        word_fields(),
        sentences.iter().map(|s| s.words.len()).collect(),
        vec![
            strings(word_texts.iter().map(String::as_str)),
            int32(sentences.iter().flat_map(|s| s.words.iter().map(|w| w.start))),
            int32(sentences.iter().flat_map(|s| s.words.iter().map(|w| w.end))),
        ],
    )?;
    let spans = list_of_structs(
        span_fields(),
        sentences.iter().map(|s| s.spans.len()).collect(),
        vec![
            int32(sentences.iter().flat_map(|s| s.spans.iter().map(|x| x.start_word))),
            int32(sentences.iter().flat_map(|s| s.spans.iter().map(|x| x.end_word))),
            int32(sentences.iter().flat_map(|s| s.spans.iter().map(|x| s.words[x.start_word].start))),
            int32(sentences.iter().flat_map(|s| s.spans.iter().map(|x| s.words[x.end_word - 1].end))),
            strings(sentences.iter().flat_map(|s| s.spans.iter().map(|x| x.label.as_str()))),
        ],
    )?;
    let types_item = Arc::new(Field::new("item", DataType::Utf8, false));
    let types = ListArray::try_new(
        types_item,
        OffsetBuffer::from_lengths(sentences.iter().map(|s| s.types.len())),
        strings(sentences.iter().flat_map(|s| s.types.iter().map(String::as_str))),
        None,
    )?;
    RecordBatch::try_new(
        corpus_schema(),
        vec![
            strings(sentences.iter().map(|s| s.corpus.as_str())),
            strings(sentences.iter().map(|s| s.split.as_str())),
            Arc::new(StringArray::from_iter(sentences.iter().map(|s| s.document_id.as_deref()))),
            Arc::new(Int64Array::from_iter_values(sentences.iter().map(|s| s.sentence_id))),
            strings(sentences.iter().map(|s| s.text.as_str())),
            words,
            spans,
            Arc::new(types),
        ],
    )
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> std::result::Result<&'a ArrayRef, String> {
    batch.column_by_name(name).ok_or_else(|| format!("no column {name:?}: not a corpus-store file"))
}

fn from_record_batch(batch: &RecordBatch, out: &mut Vec<CorpusSentence>) -> std::result::Result<(), String> {
    let text_of = |name: &str| column(batch, name).and_then(|c| c.as_string_opt::<i32>().ok_or(format!("{name} is not Utf8")));
    let list_of = |name: &str| column(batch, name).and_then(|c| c.as_list_opt::<i32>().ok_or(format!("{name} is not a list")));
    let (corpus, split, document, text) = (text_of("corpus")?, text_of("split")?, text_of("document_id")?, text_of("text")?);
    let ids = column(batch, "sentence_id")?.as_primitive_opt::<Int64Type>().ok_or("sentence_id is not Int64")?;
    let (words, spans, types) = (list_of("words")?, list_of("spans")?, list_of("types")?);
    let struct_field = |a: &StructArray, i: usize| a.column(i).clone();
    for row in 0..batch.num_rows() {
        let w = words.value(row);
        let w = w.as_struct_opt().ok_or("words items are not structs")?;
        let (starts, ends) = (struct_field(w, 1), struct_field(w, 2));
        let (starts, ends) = (starts.as_primitive::<Int32Type>(), ends.as_primitive::<Int32Type>());
        let s = spans.value(row);
        let s = s.as_struct_opt().ok_or("spans items are not structs")?;
        let (span_starts, span_ends, labels) = (struct_field(s, 0), struct_field(s, 1), struct_field(s, 4));
        let (span_starts, span_ends, labels) =
            (span_starts.as_primitive::<Int32Type>(), span_ends.as_primitive::<Int32Type>(), labels.as_string::<i32>());
        let t = types.value(row);
        let t = t.as_string_opt::<i32>().ok_or("types items are not Utf8")?;
        out.push(CorpusSentence {
            corpus: corpus.value(row).to_string(),
            split: split.value(row).to_string(),
            document_id: document.is_valid(row).then(|| document.value(row).to_string()),
            sentence_id: ids.value(row),
            text: text.value(row).to_string(),
            words: (0..w.len()).map(|i| starts.value(i) as usize..ends.value(i) as usize).collect(),
            spans: (0..s.len())
                .map(|i| LabeledSpan {
                    start_word: span_starts.value(i) as usize,
                    end_word: span_ends.value(i) as usize,
                    label: labels.value(i).to_string(),
                })
                .collect(),
            types: (0..t.len()).map(|i| t.value(i).to_string()).collect(),
        });
    }
    Ok(())
}
