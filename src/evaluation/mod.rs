//! Strict span evaluation (model.md §4): a prediction is right when sentence, start word, end word and
//! type all match a gold mention.

mod action_probe;
mod span_scores;

pub use action_probe::{probe_gold_actions, ActionProbe, GoldActionCounts};
pub use span_scores::{EvaluationMode, EvaluationReport, SpanScores};

use std::collections::BTreeMap;

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

/// Renames predicted types before scoring: a prediction whose type is a key of `count_as` is scored as
/// the value's type. For a corpus whose type covers several of the model's types (BC2GM's `GENE` names
/// genes, proteins and their DNA and RNA, which JNLPBA splits into `Gene_or_protein`, `DNA` and `RNA`),
/// `DNA → Gene_or_protein` and `RNA → Gene_or_protein` score a gene predicted as DNA as found. Spans
/// that become identical are one prediction.
///
/// ```
/// use std::collections::BTreeMap;
/// use sru_ner::corpus::LabeledSpan;
/// use sru_ner::evaluation::relabel_predictions;
///
/// let span = |label: &str| LabeledSpan { start_word: 0, end_word: 2, label: label.into() };
/// let mut predictions = vec![vec![span("DNA"), span("Gene_or_protein"), span("Chemical")]];
/// let count_as = BTreeMap::from([("DNA".to_string(), "Gene_or_protein".to_string())]);
/// relabel_predictions(&mut predictions, &count_as);
/// assert_eq!(predictions[0], vec![span("Gene_or_protein"), span("Chemical")]);
/// ```
pub fn relabel_predictions(predictions: &mut [Vec<LabeledSpan>], count_as: &BTreeMap<String, String>) {
    for spans in predictions.iter_mut() {
        for span in spans.iter_mut() {
            if let Some(target) = count_as.get(&span.label) {
                span.label = target.clone();
            }
        }
        let mut seen = std::collections::HashSet::new();
        spans.retain(|span| seen.insert(span.clone()));
    }
}

/// Predicts and scores `sentences` (one corpus split) in the given mode.
/// `count_as` renames predicted types first (see [`relabel_predictions`]); pass an empty map to score the
/// model's own types.
pub fn evaluate(
    model: &SruNerModel,
    sentences: &[CorpusSentence],
    mode: EvaluationMode,
    count_as: &BTreeMap<String, String>,
    options: &RuntimeOptions,
) -> crate::Result<EvaluationReport> {
    let mut predictions = predict_spans(model, sentences, options)?;
    relabel_predictions(&mut predictions, count_as);
    Ok(EvaluationReport::score(sentences, &predictions, model.vocabulary().types(), mode))
}
