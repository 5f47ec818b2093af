use super::{Action, ActionVocabulary, WordSpan};

/// A decoded span with its confidence.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DecodedSpan {
    /// The span over the sentence's words.
    pub span: WordSpan,
    /// Geometric mean of the probabilities of the span's `TR` and `RE` actions.
    pub score: f32,
}

/// Turns per-timestep action probabilities into spans (model.md §1), one stack of open spans per type.
///
/// Each timestep: if its most probable action is `EOA`, stop; if `SH`, advance the word counter;
/// otherwise first every `RE(t)` with p > θ pops type t's stack (the span is kept if non-empty and
/// inside the sentence), then every `TR(t)` with p > θ opens a span of type t at the counter. Spans
/// still open at the end are dropped; a span found twice is kept once, with its best score. θ is 0.5
/// (the paper's rule) unless set with [`SpanDecoder::with_action_threshold`].
#[derive(Debug, Clone, Copy)]
pub struct SpanDecoder<'a> {
    vocabulary: &'a ActionVocabulary,
    action_threshold: f32,
}

impl<'a> SpanDecoder<'a> {
    /// The paper's decision rule: an action whose sigmoid probability exceeds 0.5 is taken.
    pub const PAPER_ACTION_THRESHOLD: f32 = 0.5;

    /// A decoder over this vocabulary, with the paper's threshold.
    pub fn new(vocabulary: &'a ActionVocabulary) -> Self {
        Self { vocabulary, action_threshold: Self::PAPER_ACTION_THRESHOLD }
    }

    /// The same decoder taking the `TR`/`RE` actions of an action timestep whose probability exceeds
    /// `threshold` instead of 0.5. A lower threshold takes the second action of a timestep that the
    /// head ranks likely but below 0.5, such as the inner `TR` where two mentions open at one word.
    pub fn with_action_threshold(self, threshold: f32) -> Self {
        Self { action_threshold: threshold, ..self }
    }

    /// Decodes the timesteps of one sentence of `n_words` words; `probabilities` holds one row of
    /// |A| sigmoid probabilities per timestep. Spans come sorted by `(start, -end, label)`.
    pub fn decode<'p>(&self, probabilities: impl IntoIterator<Item = &'p [f32]>, n_words: usize) -> Vec<DecodedSpan> {
        let n_types = self.vocabulary.types().len();
        let mut stacks: Vec<Vec<(usize, f32)>> = vec![Vec::new(); n_types];
        let mut spans: Vec<DecodedSpan> = Vec::new();
        let mut counter = 0;
        for p in probabilities {
            match argmax(p) {
                ActionVocabulary::EOA => break,
                ActionVocabulary::SH => counter += 1,
                _ => {
                    for (index, &prob) in p.iter().enumerate().skip(2) {
                        if let (Action::Reduce(t), true) = (self.vocabulary.action(index), prob > self.action_threshold) {
                            if let Some((start, open_prob)) = stacks[t].pop() {
                                if start < counter && counter <= n_words {
                                    let span = WordSpan { start, end: counter, label: t };
                                    add_span(&mut spans, DecodedSpan { span, score: (open_prob * prob).sqrt() });
                                }
                            }
                        }
                    }
                    for (index, &prob) in p.iter().enumerate().skip(2) {
                        if let (Action::Open(t), true) = (self.vocabulary.action(index), prob > self.action_threshold) {
                            stacks[t].push((counter, prob));
                        }
                    }
                }
            }
        }
        spans.sort_by_key(|s| (s.span.start, std::cmp::Reverse(s.span.end), s.span.label));
        spans
    }
}

/// Index of the largest value (the first one on ties).
fn argmax(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

fn add_span(spans: &mut Vec<DecodedSpan>, new: DecodedSpan) {
    match spans.iter_mut().find(|s| s.span == new.span) {
        Some(existing) => existing.score = existing.score.max(new.score),
        None => spans.push(new),
    }
}
