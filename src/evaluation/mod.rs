//! Strict span evaluation (model.md §4): a prediction is right when sentence, start word, end word and
//! type all match a gold mention.

mod action_probe;
mod span_scores;

pub use action_probe::{probe_gold_actions, ActionProbe, GoldActionCounts};
pub use span_scores::{EvaluationMode, EvaluationReport, SpanScores};

use crate::corpus::{CorpusSentence, LabeledSpan};
use crate::model::SruNerModel;
use crate::runtime::{annotate_sentences, RuntimeOptions, SentenceChunk, StageTimings};

/// The model's spans for each sentence of the store, on the store's own words (no re-tokenisation).
/// Sentences longer than the encoder are cut into chunks and their spans shifted back.
pub fn predict_spans(model: &SruNerModel, sentences: &[CorpusSentence], options: &RuntimeOptions) -> crate::Result<Vec<Vec<LabeledSpan>>> {
    let max = model.manifest().max_word_pieces;
    let mut chunks: Vec<(usize, SentenceChunk)> = Vec::new();
    for (i, sentence) in sentences.iter().enumerate() {
        let words = sentence.word_texts();
        let pieces = model.tokenizer().word_pieces(&words.iter().map(String::as_str).collect::<Vec<_>>())?;
        chunks.extend(SentenceChunk::split(0, pieces, max).into_iter().map(|c| (i, c)));
    }
    let refs: Vec<&[Vec<u32>]> = chunks.iter().map(|(_, c)| c.pieces.as_slice()).collect();
    let decoded = annotate_sentences(model, &refs, options, &StageTimings::default());
    let types = model.vocabulary().types();
    let mut spans = vec![Vec::new(); sentences.len()];
    for ((sentence, chunk), found) in chunks.iter().zip(decoded) {
        spans[*sentence].extend(found.into_iter().map(|d| LabeledSpan {
            start_word: chunk.first_word + d.span.start,
            end_word: chunk.first_word + d.span.end,
            label: types[d.span.label].clone(),
        }));
    }
    Ok(spans)
}

/// Predicts and scores `sentences` (one corpus split) in the given mode.
pub fn evaluate(
    model: &SruNerModel,
    sentences: &[CorpusSentence],
    mode: EvaluationMode,
    options: &RuntimeOptions,
) -> crate::Result<EvaluationReport> {
    let predictions = predict_spans(model, sentences, options)?;
    Ok(EvaluationReport::score(sentences, &predictions, model.vocabulary().types(), mode))
}
