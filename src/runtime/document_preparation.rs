use sru_ner_schemas::Entity;

use crate::encoder::SubwordTokenizer;
use crate::error::Result;
use crate::text::{CharOffsets, SegmentedDocument};
use crate::transition::DecodedSpan;

/// A sentence, or a piece of a sentence too long for the encoder, ready for the model.
#[derive(Debug, Clone, PartialEq)]
pub struct SentenceChunk {
    /// Index of its first word in the document's word list.
    pub first_word: usize,
    /// Word pieces of each of its words.
    pub pieces: Vec<Vec<u32>>,
}

impl SentenceChunk {
    /// Cuts a sentence (word pieces per word, its first word at `first_word`) into chunks of at most
    /// `max_pieces` pieces at word boundaries; a single word longer than that keeps its first
    /// `max_pieces` pieces.
    pub fn split(first_word: usize, pieces: Vec<Vec<u32>>, max_pieces: usize) -> Vec<SentenceChunk> {
        let mut chunks = Vec::new();
        let mut chunk = SentenceChunk { first_word, pieces: Vec::new() };
        let mut used = 0;
        for (offset, mut word) in pieces.into_iter().enumerate() {
            word.truncate(max_pieces);
            if used + word.len() > max_pieces && !chunk.pieces.is_empty() {
                let next = SentenceChunk { first_word: first_word + offset, pieces: Vec::new() };
                chunks.push(std::mem::replace(&mut chunk, next));
                used = 0;
            }
            used += word.len();
            chunk.pieces.push(word);
        }
        chunks.push(chunk);
        chunks
    }
}

/// A document split into chunks that fit the encoder.
#[derive(Debug, Clone, PartialEq)]
pub struct PreparedDocument {
    /// Words and sentences.
    pub segmented: SegmentedDocument,
    /// The model's units of work, in document order.
    pub chunks: Vec<SentenceChunk>,
}

impl PreparedDocument {
    /// [`PreparedDocument::prepare`] for each text, in parallel on the current rayon pool, in order; the
    /// first error wins.
    pub fn prepare_all(texts: &[&str], tokenizer: &SubwordTokenizer, max_pieces: usize) -> Result<Vec<Self>> {
        use rayon::prelude::*;
        texts.par_iter().map(|text| Self::prepare(text, tokenizer, max_pieces)).collect()
    }

    /// Segments `text` and cuts sentences longer than `max_pieces` word pieces at word boundaries (a
    /// single word longer than that keeps only its first `max_pieces` pieces).
    pub fn prepare(text: &str, tokenizer: &SubwordTokenizer, max_pieces: usize) -> Result<Self> {
        let segmented = SegmentedDocument::segment(text);
        let mut chunks = Vec::new();
        for sentence in &segmented.sentences {
            let words: Vec<&str> = segmented.words[sentence.clone()].iter().map(|r| &text[r.clone()]).collect();
            chunks.extend(SentenceChunk::split(sentence.start, tokenizer.word_pieces(&words)?, max_pieces));
        }
        Ok(Self { segmented, chunks })
    }

    /// Turns the spans found in each chunk into entities with character offsets into `text`, sorted by
    /// `(start, -end, label)`.
    pub fn entities(&self, text: &str, spans: &[Vec<DecodedSpan>], types: &[String]) -> Vec<Entity> {
        let offsets = &CharOffsets::new(text);
        let words = &self.segmented.words;
        let mut entities: Vec<Entity> = self
            .chunks
            .iter()
            .zip(spans)
            .flat_map(|(chunk, spans)| {
                spans.iter().map(move |s| {
                    let bytes = words[chunk.first_word + s.span.start].start..words[chunk.first_word + s.span.end - 1].end;
                    Entity {
                        start: offsets.char_offset(bytes.start),
                        end: offsets.char_offset(bytes.end),
                        label: types[s.span.label].clone(),
                        text: text[bytes].to_string(),
                        score: s.score,
                    }
                })
            })
            .collect();
        Entity::sort_in_document_order(&mut entities);
        entities
    }
}
