use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::corpus::{is_nested, CorpusSentence, LabeledSpan};

/// True positives, false positives and false negatives of strict span matching.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SpanScores {
    /// Predicted spans that match a gold span.
    pub tp: usize,
    /// Predicted spans that match none.
    pub fp: usize,
    /// Gold spans that no prediction matches (`fn` in JSON).
    #[serde(rename = "fn")]
    pub fn_: usize,
}

impl SpanScores {
    /// tp / (tp + fp), 0 when nothing was predicted.
    pub fn precision(&self) -> f64 {
        ratio(self.tp, self.tp + self.fp)
    }
    /// tp / (tp + fn), 0 when there is no gold mention.
    pub fn recall(&self) -> f64 {
        ratio(self.tp, self.tp + self.fn_)
    }
    /// Harmonic mean of precision and recall.
    pub fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
    fn add(&mut self, other: SpanScores) {
        self.tp += other.tp;
        self.fp += other.fp;
        self.fn_ += other.fn_;
    }
    fn json(&self) -> serde_json::Value {
        serde_json::json!({"precision": self.precision(), "recall": self.recall(), "f1": self.f1(),
                           "tp": self.tp, "fp": self.fp, "fn": self.fn_})
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        0.0
    } else {
        a as f64 / b as f64
    }
}

/// How predicted types that the corpus does not annotate are treated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EvaluationMode {
    /// Drop them (the paper's per-corpus evaluation): the corpus never labels them, so they are neither
    /// right nor wrong.
    #[default]
    Disjoint,
    /// Keep them: every prediction counts, so a type outside the corpus's set is a false positive.
    Merged,
}

/// When a prediction matches a gold mention of its type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanMatch {
    /// Same start and end word (model.md §4).
    #[default]
    Strict,
    /// Start and end each within this many characters of a gold mention's (counted over the words
    /// without the spaces between them), each gold mention matched at most once: the cross-corpus
    /// scorer of HunFlair2 uses 1, so that a corpus's convention on an edge bracket or hyphen does not
    /// decide.
    Characters(usize),
}

/// Scores of one corpus split.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluationReport {
    /// Sentences scored.
    pub sentences: usize,
    /// Micro-averaged over all mentions.
    pub micro: SpanScores,
    /// Per gold/predicted type.
    pub per_type: BTreeMap<String, SpanScores>,
    /// Only gold mentions nested inside another gold mention, and predictions at positions nested inside a
    /// gold mention.
    pub nested: SpanScores,
    /// Corpus types the model does not know: excluded from scoring instead of counted as misses.
    pub unknown_types: Vec<String>,
    /// The mode used.
    pub mode: EvaluationMode,
    /// The match rule used.
    pub span_match: SpanMatch,
}

impl EvaluationReport {
    /// Scores predictions against the gold spans of `sentences`; `model_types` is the model's type set.
    pub fn score(
        sentences: &[CorpusSentence],
        predictions: &[Vec<LabeledSpan>],
        model_types: &[String],
        mode: EvaluationMode,
        span_match: SpanMatch,
    ) -> Self {
        let corpus_types: BTreeSet<&String> = sentences.iter().flat_map(|s| &s.types).collect();
        let unknown: BTreeSet<String> = corpus_types.iter().filter(|t| !model_types.contains(t)).map(|t| t.to_string()).collect();
        let mut report = Self {
            sentences: sentences.len(),
            micro: SpanScores::default(),
            per_type: BTreeMap::new(),
            nested: SpanScores::default(),
            unknown_types: unknown.iter().cloned().collect(),
            mode,
            span_match,
        };
        for (sentence, predicted) in sentences.iter().zip(predictions) {
            // Sorted and without duplicates: a span counts once, and matching goes in span order.
            let mut gold: Vec<&LabeledSpan> = sentence.spans.iter().filter(|s| !unknown.contains(&s.label)).collect();
            gold.sort();
            gold.dedup();
            let mut kept: Vec<&LabeledSpan> =
                predicted.iter().filter(|p| mode == EvaluationMode::Merged || sentence.types.contains(&p.label)).collect();
            kept.sort();
            kept.dedup();
            let inside_gold = |span: &LabeledSpan| is_nested(span, &sentence.spans);
            // Where each word starts, counted over the words without the spaces between them.
            let offsets = match span_match {
                SpanMatch::Strict => Vec::new(),
                SpanMatch::Characters(_) => word_offsets(sentence),
            };
            let mut found = vec![false; gold.len()];
            for p in &kept {
                let hit = match span_match {
                    SpanMatch::Strict => gold.iter().position(|g| g == p),
                    SpanMatch::Characters(tolerance) => {
                        let near = |g: &&LabeledSpan| g.label == p.label && chars_within(&offsets, g, p, tolerance);
                        gold.iter().enumerate().position(|(i, g)| !found[i] && near(g))
                    }
                };
                if let Some(i) = hit {
                    found[i] = true;
                }
                let scores = SpanScores { tp: hit.is_some() as usize, fp: hit.is_none() as usize, fn_: 0 };
                report.count(&p.label, scores, inside_gold(p));
            }
            for (g, _) in gold.iter().zip(&found).filter(|(_, &found)| !found) {
                report.count(&g.label, SpanScores { tp: 0, fp: 0, fn_: 1 }, inside_gold(g));
            }
        }
        report
    }

    fn count(&mut self, label: &str, scores: SpanScores, nested: bool) {
        self.micro.add(scores);
        self.per_type.entry(label.to_string()).or_default().add(scores);
        if nested {
            self.nested.add(scores);
        }
    }

    /// The JSON of `sru-ner eval --json`: `micro`, `per_type`, `nested` objects with precision, recall,
    /// f1 (0-1) and counts, plus `unknown_types`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "sentences": self.sentences,
            "mode": self.mode,
            "micro": self.micro.json(),
            "per_type": self.per_type.iter().map(|(t, s)| (t.clone(), s.json())).collect::<serde_json::Map<_, _>>(),
            "nested": self.nested.json(),
            "unknown_types": self.unknown_types,
            "span_match": self.span_match,
        })
    }
}

/// Where each word of `sentence` starts, and at the end where its last word ends, counting the
/// characters of its words without the spaces between them: the stores hold tokenised text ("( IL -
/// 2 )"), where the original joins a bracket or hyphen to its word, so such a token at an edge costs
/// one character, as in the original text.
fn word_offsets(sentence: &CorpusSentence) -> Vec<usize> {
    let ends = sentence.words.iter().scan(0, |end, word| {
        *end += word.len();
        Some(*end)
    });
    std::iter::once(0).chain(ends).collect()
}

/// Whether `a` and `b` start and end within `tolerance` characters of each other, by `offsets` from
/// [`word_offsets`].
fn chars_within(offsets: &[usize], a: &LabeledSpan, b: &LabeledSpan, tolerance: usize) -> bool {
    let ends = |s: &LabeledSpan| match (offsets.get(s.start_word), offsets.get(s.end_word)) {
        (Some(&start), Some(&end)) if s.start_word < s.end_word => Some((start, end)),
        _ => None,
    };
    match (ends(a), ends(b)) {
        (Some((a0, a1)), Some((b0, b1))) => a0.abs_diff(b0) <= tolerance && a1.abs_diff(b1) <= tolerance,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(s: usize, e: usize, l: &str) -> LabeledSpan {
        LabeledSpan { start_word: s, end_word: e, label: l.into() }
    }

    #[test]
    fn strict_match_modes_nested_and_unknown_types() {
        let mut sentence = CorpusSentence::from_words(
            &["a".into(), "b".into(), "c".into(), "d".into()],
            vec![span(0, 3, "DNA"), span(0, 1, "protein"), span(3, 4, "RNA")],
        );
        sentence.types = vec!["DNA".into(), "protein".into(), "RNA".into()];
        let predicted = vec![span(0, 3, "DNA"), span(0, 1, "DNA"), span(1, 2, "Chemical")];
        let model_types: Vec<String> = ["DNA", "protein", "Chemical"].iter().map(|s| s.to_string()).collect();
        let disjoint = EvaluationReport::score(
            std::slice::from_ref(&sentence),
            std::slice::from_ref(&predicted),
            &model_types,
            EvaluationMode::Disjoint,
            SpanMatch::Strict,
        );
        // RNA is unknown to the model: not scored. Chemical is not a corpus type: dropped.
        assert_eq!(disjoint.unknown_types, ["RNA"]);
        assert_eq!(disjoint.micro, SpanScores { tp: 1, fp: 1, fn_: 1 });
        assert_eq!(disjoint.per_type["protein"], SpanScores { tp: 0, fp: 0, fn_: 1 });
        // Nested: gold protein (0,1) inside DNA (0,3) is missed; predicted DNA (0,1) sits inside gold DNA.
        assert_eq!(disjoint.nested, SpanScores { tp: 0, fp: 1, fn_: 1 });
        let merged = EvaluationReport::score(&[sentence], &[predicted], &model_types, EvaluationMode::Merged, SpanMatch::Strict);
        assert_eq!(merged.micro, SpanScores { tp: 1, fp: 2, fn_: 1 });
        assert!((disjoint.micro.f1() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn a_character_tolerance_forgives_a_joined_bracket_or_hyphen_at_either_end_only() {
        // "( IL - 2 ) gene", tokenised; the words joined are "(IL-2)gene". Gold Gene "IL - 2": 1..5.
        let words: Vec<String> = ["(", "IL", "-", "2", ")", "gene"].iter().map(|w| w.to_string()).collect();
        let mut sentence = CorpusSentence::from_words(&words, vec![span(1, 4, "Gene")]);
        sentence.types = vec!["Gene".into()];
        let types = vec!["Gene".to_string()];
        let score = |predicted: Vec<LabeledSpan>, rule| {
            EvaluationReport::score(std::slice::from_ref(&sentence), &[predicted], &types, EvaluationMode::Disjoint, rule).micro
        };
        let tolerant = SpanMatch::Characters(1);
        // "( IL - 2 )": one bracket at each end, one character each.
        assert_eq!(score(vec![span(0, 5, "Gene")], tolerant), SpanScores { tp: 1, fp: 0, fn_: 0 });
        assert_eq!(score(vec![span(0, 5, "Gene")], SpanMatch::Characters(0)), SpanScores { tp: 0, fp: 1, fn_: 1 });
        assert_eq!(score(vec![span(0, 5, "Gene")], SpanMatch::Strict), SpanScores { tp: 0, fp: 1, fn_: 1 });
        // "IL - 2 ) gene" ends 5 characters late; "IL" alone ends 2 early.
        assert_eq!(score(vec![span(1, 6, "Gene")], tolerant), SpanScores { tp: 0, fp: 1, fn_: 1 });
        assert_eq!(score(vec![span(1, 2, "Gene")], tolerant), SpanScores { tp: 0, fp: 1, fn_: 1 });
        // Two near predictions, one gold mention: one match, one false positive.
        assert_eq!(score(vec![span(1, 4, "Gene"), span(0, 4, "Gene")], tolerant), SpanScores { tp: 1, fp: 1, fn_: 0 });
        // The type must match.
        assert_eq!(score(vec![span(1, 4, "DNA")], tolerant).tp, 0);
    }
}
