//! Span evaluation (model.md §4): a prediction is right when sentence, start word, end word and type
//! all match a gold mention, or with [`SpanMatch::Characters`] when its ends are each near a gold
//! mention's.

mod action_probe;
mod span_scores;

pub use action_probe::{probe_gold_actions, ActionProbe, GoldActionCounts};
pub use span_scores::{EvaluationMode, EvaluationReport, SpanMatch, SpanScores};

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

/// How predictions are scored against a corpus split.
#[derive(Debug, Clone, Default)]
pub struct Scoring {
    /// What happens to predicted types the corpus does not annotate.
    pub mode: EvaluationMode,
    /// Predicted types scored as another type first (see [`relabel_predictions`]); empty: the model's
    /// own types.
    pub count_as: BTreeMap<String, String>,
    /// When a prediction matches a gold mention.
    pub span_match: SpanMatch,
    /// Score only the outermost predictions: a prediction inside another prediction of a type the
    /// corpus annotates is left out, for a corpus that keeps only the outermost of nested mentions
    /// (JNLPBA), where a nested prediction can be right and still absent from the gold.
    pub outermost_only: bool,
}

/// Leaves out of `predictions` every span that lies inside another one whose type is in `types`
/// ([`is_nested`](crate::corpus::is_nested)).
///
/// ```
/// use sru_ner::corpus::LabeledSpan;
/// use sru_ner::evaluation::outermost_predictions;
///
/// let span = |s, e, label: &str| LabeledSpan { start_word: s, end_word: e, label: label.into() };
/// let mut predictions = vec![vec![span(0, 2, "DNA"), span(0, 1, "Gene_or_protein"), span(3, 4, "Gene_or_protein")]];
/// outermost_predictions(&mut predictions, &["DNA".to_string(), "Gene_or_protein".to_string()]);
/// assert_eq!(predictions[0], vec![span(0, 2, "DNA"), span(3, 4, "Gene_or_protein")]);
/// ```
pub fn outermost_predictions(predictions: &mut [Vec<LabeledSpan>], types: &[String]) {
    for spans in predictions.iter_mut() {
        let outer: Vec<LabeledSpan> = spans.iter().filter(|s| types.contains(&s.label)).cloned().collect();
        spans.retain(|span| !crate::corpus::is_nested(span, &outer));
    }
}

/// Predicts and scores `sentences` (one corpus split) as `scoring` says.
pub fn evaluate(
    model: &SruNerModel,
    sentences: &[CorpusSentence],
    scoring: &Scoring,
    options: &RuntimeOptions,
) -> crate::Result<EvaluationReport> {
    let mut reports = evaluate_all(model, sentences, std::slice::from_ref(scoring), options)?;
    Ok(reports.remove(0))
}

/// Predicts `sentences` once and scores the predictions once per entry of `scorings`, in order.
pub fn evaluate_all(
    model: &SruNerModel,
    sentences: &[CorpusSentence],
    scorings: &[Scoring],
    options: &RuntimeOptions,
) -> crate::Result<Vec<EvaluationReport>> {
    let predicted = predict_spans(model, sentences, options)?;
    let corpus_types: Vec<String> =
        sentences.iter().flat_map(|s| s.types.iter().cloned()).collect::<std::collections::BTreeSet<_>>().into_iter().collect();
    Ok(scorings
        .iter()
        .map(|scoring| {
            let mut predictions = predicted.clone();
            relabel_predictions(&mut predictions, &scoring.count_as);
            if scoring.outermost_only {
                outermost_predictions(&mut predictions, &corpus_types);
            }
            // A type that predictions are counted as is one the model predicts, even when it is not its own.
            let mut types = model.vocabulary().types().to_vec();
            types.extend(scoring.count_as.values().filter(|t| !types.contains(t)).cloned().collect::<Vec<_>>());
            EvaluationReport::score(sentences, &predictions, &types, scoring.mode, scoring.span_match)
        })
        .collect())
}
