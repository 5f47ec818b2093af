use std::collections::BTreeMap;
use std::fmt;

use super::{CorpusSentence, LabeledSpan};

/// Counts of a set of sentences: what `import` prints and what PROVENANCE files state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CorpusStatistics {
    /// Sentences.
    pub sentences: usize,
    /// Words.
    pub words: usize,
    /// Mentions per type.
    pub mentions: BTreeMap<String, usize>,
    /// Mentions that lie inside another mention of the same sentence (same boundaries count when the
    /// type differs).
    pub nested: usize,
}

impl CorpusStatistics {
    /// Counts `sentences`.
    pub fn of(sentences: &[CorpusSentence]) -> Self {
        let mut stats = Self::default();
        for s in sentences {
            stats.sentences += 1;
            stats.words += s.words.len();
            for span in &s.spans {
                *stats.mentions.entry(span.label.clone()).or_default() += 1;
            }
            stats.nested += s.spans.iter().filter(|span| is_nested(span, &s.spans)).count();
        }
        stats
    }

    /// All mentions.
    pub fn total_mentions(&self) -> usize {
        self.mentions.values().sum()
    }
}

/// Whether `span` lies inside another span of `all`.
pub fn is_nested(span: &LabeledSpan, all: &[LabeledSpan]) -> bool {
    all.iter().any(|other| {
        other != span
            && other.start_word <= span.start_word
            && span.end_word <= other.end_word
            && (other.end_word - other.start_word > span.end_word - span.start_word || other.label != span.label)
    })
}

impl fmt::Display for CorpusStatistics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let per_type: Vec<String> = self.mentions.iter().map(|(t, n)| format!("{t} {n}")).collect();
        write!(
            f,
            "{} sentences, {} words, {} mentions ({}), {} nested",
            self.sentences,
            self.words,
            self.total_mentions(),
            per_type.join(", "),
            self.nested
        )
    }
}
