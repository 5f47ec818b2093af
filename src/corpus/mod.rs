//! The Parquet corpus store (schema: [`sru_ner_schemas::corpus_schema`]) and the importers that fill it.

mod corpus_statistics;
mod corpus_store;
mod genia_xml_reader;
mod iob_reader;
mod lu_roth_reader;
mod pubtator_reader;

pub use corpus_statistics::{is_nested, CorpusStatistics};
pub use corpus_store::CorpusStore;
pub use genia_xml_reader::{genia_type, read_genia_xml, GeniaReadReport};
pub use iob_reader::read_iob;
pub use lu_roth_reader::read_lu_roth;
pub use pubtator_reader::{read_pubtator, PubtatorReadReport};

use std::ops::Range;

/// A gold mention over the words of a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LabeledSpan {
    /// First word.
    pub start_word: usize,
    /// One past the last word.
    pub end_word: usize,
    /// Entity type.
    pub label: String,
}

/// One annotated sentence of a corpus: a row of the store.
#[derive(Debug, Clone, PartialEq)]
pub struct CorpusSentence {
    /// Corpus name.
    pub corpus: String,
    /// Split name.
    pub split: String,
    /// Source document, when the format has one.
    pub document_id: Option<String>,
    /// Index within the corpus split.
    pub sentence_id: i64,
    /// The sentence text.
    pub text: String,
    /// Character ranges (Unicode scalar values) of the words in `text`.
    pub words: Vec<Range<usize>>,
    /// Gold mentions.
    pub spans: Vec<LabeledSpan>,
    /// The corpus's type set.
    pub types: Vec<String>,
}

impl CorpusSentence {
    /// A sentence from pre-tokenised words: `text` is the words joined by single spaces.
    pub fn from_words(words: &[String], spans: Vec<LabeledSpan>) -> Self {
        let mut text = String::new();
        let mut ranges = Vec::with_capacity(words.len());
        let mut offset = 0;
        for (i, w) in words.iter().enumerate() {
            if i > 0 {
                text.push(' ');
                offset += 1;
            }
            text.push_str(w);
            let len = w.chars().count();
            ranges.push(offset..offset + len);
            offset += len;
        }
        Self {
            corpus: String::new(),
            split: String::new(),
            document_id: None,
            sentence_id: 0,
            text,
            words: ranges,
            spans,
            types: Vec::new(),
        }
    }

    /// A sentence of raw text with its words (character ranges) and mentions; corpus, split, ids and
    /// type set are filled in by the store.
    pub fn from_text(text: String, words: Vec<Range<usize>>, spans: Vec<LabeledSpan>) -> Self {
        Self { corpus: String::new(), split: String::new(), document_id: None, sentence_id: 0, text, words, spans, types: Vec::new() }
    }

    /// The words as strings.
    pub fn word_texts(&self) -> Vec<String> {
        let chars: Vec<char> = self.text.chars().collect();
        self.words.iter().map(|r| chars[r.clone()].iter().collect()).collect()
    }
}
