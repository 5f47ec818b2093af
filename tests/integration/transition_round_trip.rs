//! `decode(oracle(spans)) == spans` for random nested span sets (model.md §1), and the hard cases.
use proptest::prelude::*;
use sru_ner::transition::{Action, ActionVocabulary, SpanDecoder, Timestep, TransitionOracle, WordSpan};

fn vocabulary(n_types: usize) -> ActionVocabulary {
    ActionVocabulary::new((0..n_types).map(|t| format!("T{t}")).collect())
}

/// Gold timesteps as probability rows: 1 for gold actions, 0 elsewhere.
fn as_probabilities(timesteps: &[Timestep], n_actions: usize) -> Vec<Vec<f32>> {
    timesteps.iter().map(|step| (0..n_actions).map(|a| if step.contains(&a) { 1.0 } else { 0.0 }).collect()).collect()
}

fn round_trip(spans: &[WordSpan], n_words: usize, n_types: usize) -> Vec<WordSpan> {
    let vocabulary = vocabulary(n_types);
    let timesteps = TransitionOracle::new(&vocabulary).timesteps(spans, n_words).expect("valid spans");
    let rows = as_probabilities(&timesteps, vocabulary.len());
    let decoded = SpanDecoder::new(&vocabulary).decode(rows.iter().map(Vec::as_slice), n_words);
    assert!(decoded.iter().all(|d| d.score == 1.0));
    decoded.into_iter().map(|d| d.span).collect()
}

fn canonical(spans: &[WordSpan]) -> Vec<WordSpan> {
    let mut spans = spans.to_vec();
    spans.sort_by_key(|s| (s.start, std::cmp::Reverse(s.end), s.label));
    spans.dedup();
    spans
}

fn span(start: usize, end: usize, label: usize) -> WordSpan {
    WordSpan { start, end, label }
}

/// Spans of the same type must nest or be disjoint (one stack per type); types overlap freely.
fn laminar_per_type(candidates: Vec<(usize, usize, usize)>) -> Vec<WordSpan> {
    let mut kept: Vec<WordSpan> = Vec::new();
    for (start, len, label) in candidates {
        let s = span(start, start + len, label);
        let compatible = kept.iter().filter(|k| k.label == label).all(|k| {
            let nested = (k.start <= s.start && s.end <= k.end) || (s.start <= k.start && k.end <= s.end);
            let disjoint = s.end <= k.start || k.end <= s.start;
            nested || disjoint
        });
        if compatible {
            kept.push(s);
        }
    }
    kept
}

fn nested_span_sets() -> impl Strategy<Value = (usize, usize, Vec<WordSpan>)> {
    (1usize..40, 1usize..5).prop_flat_map(|(n_words, n_types)| {
        let candidate = (0..n_words).prop_flat_map(move |start| (Just(start), 1..=n_words - start, 0..n_types));
        prop::collection::vec(candidate, 0..25).prop_map(move |c| (n_words, n_types, laminar_per_type(c)))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]
    #[test]
    fn oracle_then_decoder_gives_back_the_spans((n_words, n_types, spans) in nested_span_sets()) {
        prop_assert_eq!(round_trip(&spans, n_words, n_types), canonical(&spans));
    }

    #[test]
    fn every_timestep_is_a_valid_multilabel_row((n_words, n_types, spans) in nested_span_sets()) {
        let vocabulary = vocabulary(n_types);
        let timesteps = TransitionOracle::new(&vocabulary).timesteps(&spans, n_words).unwrap();
        let shifts = timesteps.iter().filter(|t| t == &&vec![ActionVocabulary::SH]).count();
        prop_assert_eq!(shifts, n_words);
        prop_assert_eq!(timesteps.last(), Some(&vec![ActionVocabulary::EOA]));
        for step in &timesteps {
            let mut unique = step.clone();
            unique.sort();
            unique.dedup();
            prop_assert_eq!(unique.len(), step.len(), "an index repeats inside a timestep");
            if step.contains(&ActionVocabulary::SH) || step.contains(&ActionVocabulary::EOA) {
                prop_assert_eq!(step.len(), 1);
            }
        }
    }
}

#[test]
fn three_spans_sharing_a_start() {
    let same_type = [span(2, 3, 0), span(2, 5, 0), span(2, 7, 0)];
    assert_eq!(round_trip(&same_type, 8, 1), canonical(&same_type));
    let mixed = [span(0, 1, 0), span(0, 4, 1), span(0, 6, 0), span(0, 6, 2)];
    assert_eq!(round_trip(&mixed, 6, 3), canonical(&mixed));
}

#[test]
fn spans_sharing_both_ends_with_different_types() {
    let spans = [span(1, 4, 0), span(1, 4, 1), span(1, 4, 2), span(2, 4, 1)];
    assert_eq!(round_trip(&spans, 5, 3), canonical(&spans));
}

#[test]
fn same_type_nesting_sharing_an_end_and_reopening_at_a_close() {
    // RE(t) and TR(t) at the same boundary, and two RE(t) at one boundary (a new timestep).
    let spans = [span(0, 3, 0), span(1, 3, 0), span(3, 5, 0), span(3, 4, 0)];
    assert_eq!(round_trip(&spans, 5, 1), canonical(&spans));
}

#[test]
fn duplicate_spans_are_kept_once() {
    let spans = [span(0, 2, 0), span(0, 2, 0)];
    assert_eq!(round_trip(&spans, 3, 1), vec![span(0, 2, 0)]);
}

#[test]
fn gold_sequence_matches_model_md_example() {
    // "IL-2 gene expression": DNA over words 0..2 containing protein 0..1.
    let vocabulary = ActionVocabulary::new(vec!["DNA".into(), "protein".into()]);
    let timesteps = TransitionOracle::new(&vocabulary).timesteps(&[span(0, 2, 0), span(0, 1, 1)], 3).unwrap();
    // TR(DNA)=2, RE(DNA)=3, TR(protein)=4, RE(protein)=5.
    assert_eq!(timesteps, vec![vec![2, 4], vec![1], vec![5], vec![1], vec![3], vec![1], vec![0]]);
}

#[test]
fn invalid_spans_are_rejected() {
    let vocabulary = vocabulary(1);
    let oracle = TransitionOracle::new(&vocabulary);
    assert!(oracle.timesteps(&[span(2, 2, 0)], 4).is_err());
    assert!(oracle.timesteps(&[span(2, 5, 0)], 4).is_err());
    assert!(oracle.timesteps(&[span(0, 1, 3)], 4).is_err());
}

#[test]
fn decoder_stops_at_eoa_drops_open_spans_and_ignores_stray_reduces() {
    let vocabulary = vocabulary(1);
    let decoder = SpanDecoder::new(&vocabulary);
    // RE with an empty stack, TR(0), SH, EOA: the open span is dropped, nothing is found.
    let rows: Vec<Vec<f32>> = vec![
        vec![0.1, 0.2, 0.1, 0.9],
        vec![0.1, 0.2, 0.8, 0.1],
        vec![0.1, 0.9, 0.1, 0.1],
        vec![0.9, 0.1, 0.1, 0.1],
        vec![0.1, 0.1, 0.1, 0.9],
    ];
    assert!(decoder.decode(rows.iter().map(Vec::as_slice), 3).is_empty());
    // TR(0) p=0.64, SH, RE(0) p=0.81: one span scored sqrt(0.64 * 0.81) = 0.72.
    let rows: Vec<Vec<f32>> = vec![vec![0.1, 0.2, 0.64, 0.1], vec![0.1, 0.9, 0.1, 0.1], vec![0.1, 0.2, 0.1, 0.81]];
    let spans = decoder.decode(rows.iter().map(Vec::as_slice), 1);
    assert_eq!(spans.len(), 1);
    assert_eq!(spans[0].span, span(0, 1, 0));
    assert!((spans[0].score - 0.72).abs() < 1e-6);
}

#[test]
fn a_lower_action_threshold_takes_the_second_action_of_a_timestep() {
    let vocabulary = vocabulary(2);
    let open = |t| vocabulary.index(Action::Open(t));
    let reduce = |t| vocabulary.index(Action::Reduce(t));
    // One action timestep opening type 0 (p 0.9) and type 1 (p 0.45), SH, one closing both, SH, EOA.
    let mut rows = vec![vec![0.05; vocabulary.len()]; 5];
    rows[0][open(0)] = 0.9;
    rows[0][open(1)] = 0.45;
    rows[1][ActionVocabulary::SH] = 0.9;
    rows[2][reduce(0)] = 0.8;
    rows[2][reduce(1)] = 0.7;
    rows[3][ActionVocabulary::SH] = 0.9;
    rows[4][ActionVocabulary::EOA] = 0.9;
    let labels = |decoder: SpanDecoder<'_>| decoder.decode(rows.iter().map(Vec::as_slice), 2).iter().map(|s| s.span).collect::<Vec<_>>();
    assert_eq!(labels(SpanDecoder::new(&vocabulary)), vec![span(0, 1, 0)]);
    assert_eq!(labels(SpanDecoder::new(&vocabulary).with_action_threshold(0.4)), vec![span(0, 1, 0), span(0, 1, 1)]);
    assert_eq!(labels(SpanDecoder::new(&vocabulary).with_action_threshold(0.75)), vec![span(0, 1, 0)]);
}
