use std::collections::{BTreeMap, BTreeSet, HashSet};

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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EvaluationMode {
    /// Drop them (the paper's per-corpus evaluation): the corpus never labels them, so they are neither
    /// right nor wrong.
    Disjoint,
    /// Keep them: every prediction counts, so a type outside the corpus's set is a false positive.
    Merged,
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
}

impl EvaluationReport {
    /// Scores predictions against the gold spans of `sentences`; `model_types` is the model's type set.
    pub fn score(sentences: &[CorpusSentence], predictions: &[Vec<LabeledSpan>], model_types: &[String], mode: EvaluationMode) -> Self {
        let corpus_types: BTreeSet<&String> = sentences.iter().flat_map(|s| &s.types).collect();
        let unknown: BTreeSet<String> = corpus_types.iter().filter(|t| !model_types.contains(t)).map(|t| t.to_string()).collect();
        let mut report = Self {
            sentences: sentences.len(),
            micro: SpanScores::default(),
            per_type: BTreeMap::new(),
            nested: SpanScores::default(),
            unknown_types: unknown.iter().cloned().collect(),
            mode,
        };
        for (sentence, predicted) in sentences.iter().zip(predictions) {
            let gold: HashSet<&LabeledSpan> = sentence.spans.iter().filter(|s| !unknown.contains(&s.label)).collect();
            let kept: HashSet<&LabeledSpan> =
                predicted.iter().filter(|p| mode == EvaluationMode::Merged || sentence.types.contains(&p.label)).collect();
            let inside_gold = |span: &LabeledSpan| is_nested(span, &sentence.spans);
            for p in &kept {
                let hit = gold.contains(p);
                let scores = SpanScores { tp: hit as usize, fp: !hit as usize, fn_: 0 };
                report.count(&p.label, scores, inside_gold(p));
            }
            for g in gold.iter().filter(|g| !kept.contains(*g)) {
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
        })
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
        );
        // RNA is unknown to the model: not scored. Chemical is not a corpus type: dropped.
        assert_eq!(disjoint.unknown_types, ["RNA"]);
        assert_eq!(disjoint.micro, SpanScores { tp: 1, fp: 1, fn_: 1 });
        assert_eq!(disjoint.per_type["protein"], SpanScores { tp: 0, fp: 0, fn_: 1 });
        // Nested: gold protein (0,1) inside DNA (0,3) is missed; predicted DNA (0,1) sits inside gold DNA.
        assert_eq!(disjoint.nested, SpanScores { tp: 0, fp: 1, fn_: 1 });
        let merged = EvaluationReport::score(&[sentence], &[predicted], &model_types, EvaluationMode::Merged);
        assert_eq!(merged.micro, SpanScores { tp: 1, fp: 2, fn_: 1 });
        assert!((disjoint.micro.f1() - 0.5).abs() < 1e-12);
    }
}
