//! Raw text to sentences of words, keeping exact offsets into the original string.
//!
//! Offsets are byte ranges internally (cheap slicing) and Unicode scalar values at every public
//! boundary ([`CharOffsets`] converts).

mod char_offsets;
mod sentence_splitter;
mod word_tokenizer;

pub use char_offsets::CharOffsets;
pub use sentence_splitter::SentenceSplitter;
pub use word_tokenizer::WordTokenizer;

use std::ops::Range;

/// A document split into words and sentences.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentedDocument {
    /// Byte range of every word in the document, in order.
    pub words: Vec<Range<usize>>,
    /// Each sentence as a range of indices into [`SegmentedDocument::words`]; never empty.
    pub sentences: Vec<Range<usize>>,
}

impl SegmentedDocument {
    /// Splits `text` into words ([`WordTokenizer`]) and the words into sentences ([`SentenceSplitter`]).
    pub fn segment(text: &str) -> Self {
        let words = WordTokenizer.tokenize(text);
        let sentences = SentenceSplitter.split(text, &words);
        Self { words, sentences }
    }
}
