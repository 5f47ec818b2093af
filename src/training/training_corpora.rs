//! The training data of a run: every corpus's training sentences as word pieces and gold timesteps,
//! its dev sample, and what its loss leaves out (the types it does not annotate, and those it leaves
//! unannotated inside its own mentions).
use std::collections::BTreeMap;
use std::path::Path;

use super::CorpusSpec;
use crate::corpus::CorpusSentence;
use crate::error::{Result, SruNerError};
use crate::evaluation::Scoring;
use crate::model::SruNerModel;
use crate::transition::{inner_actions, ActionVocabulary, Timestep};

/// A training sentence ready for batching.
pub(super) struct Example {
    pub(super) pieces: Vec<Vec<u32>>,
    pub(super) gold: Vec<Timestep>,
    /// Per gold timestep, the actions that would nest a mention the corpus leaves unannotated inside a
    /// gold one (`unannotated_inside`; else empty).
    pub(super) inner: Vec<Timestep>,
    pub(super) corpus: usize,
}

impl Example {
    /// Whether the sentence holds a gold mention the run trains on: some timestep opens a span (`TR`
    /// and `RE` are the actions from `TR(0)` on).
    pub(super) fn has_mention(&self) -> bool {
        self.gold.iter().flatten().any(|&action| action >= ActionVocabulary::open_index(0))
    }
}

pub(super) struct TrainingCorpus {
    pub(super) name: String,
    pub(super) examples: Vec<Example>,
    pub(super) dev: Vec<CorpusSentence>,
    /// 1.0 for the TR/RE actions of types this corpus does not annotate.
    pub(super) foreign: Vec<f32>,
    /// How dev predictions are scored: on the outermost ones where the corpus leaves mentions
    /// unannotated inside its own, since a right nested prediction has no gold there.
    pub(super) dev_scoring: Scoring,
}

/// At most `n` of `sentences`, evenly spaced over the split (all of them when there are no more than
/// `n`). A dev split is ordered by document, so its first sentences are a few documents: Linnaeus's
/// first 500 dev sentences hold 190 mentions, 118 of them "wheat" or "potato", and its dev F1 swung
/// between 0.19 and 0.64 from one epoch to the next with whether the model tagged those two words.
pub(super) fn evenly_spaced<T>(sentences: Vec<T>, n: usize) -> Vec<T> {
    let len = sentences.len();
    if len <= n {
        return sentences;
    }
    let mut next = 0;
    let mut picked = Vec::with_capacity(n);
    for (i, sentence) in sentences.into_iter().enumerate() {
        if next < n && i == next * len / n {
            picked.push(sentence);
            next += 1;
        }
    }
    picked
}

/// Word pieces and gold timesteps of every training sentence; foreign-action masks per corpus; and for
/// a corpus with `unannotated_inside`, the actions per timestep that would nest a mention of an inner
/// type inside a gold mention of its outer type.
pub(super) fn prepare_corpora(
    model: &SruNerModel,
    loaded: Vec<(String, Vec<CorpusSentence>, Vec<CorpusSentence>)>,
    specs: &[CorpusSpec],
    store: &Path,
) -> Result<Vec<TrainingCorpus>> {
    let vocabulary = model.vocabulary();
    let max = model.manifest().max_word_pieces;
    let mut corpora = Vec::new();
    for (index, (name, train, dev)) in loaded.into_iter().enumerate() {
        let mut unannotated_inside: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (outer, inner) in &specs[index].unannotated_inside {
            let ids = inner
                .iter()
                .map(|t| {
                    vocabulary.type_id(t).ok_or_else(|| SruNerError::Config {
                        path: store.to_path_buf(),
                        reason: format!(
                            "corpus {name}: unannotated_inside names {t}, which is not a type of the run ({:?})",
                            vocabulary.types()
                        ),
                    })
                })
                .collect::<Result<Vec<usize>>>()?;
            unannotated_inside.insert(outer.as_str(), ids);
        }
        let mut examples = Vec::with_capacity(train.len());
        let mut skipped = 0;
        for (i, sentence) in train.iter().enumerate() {
            match model.gold_input(sentence, i)? {
                Some((pieces, gold)) => {
                    let outer: Vec<_> = sentence
                        .spans
                        .iter()
                        .filter_map(|s| unannotated_inside.get(s.label.as_str()).map(|types| (s.start_word..s.end_word, types.clone())))
                        .collect();
                    let inner = if unannotated_inside.is_empty() { Vec::new() } else { inner_actions(&gold, &outer) };
                    examples.push(Example { pieces, gold, inner, corpus: index })
                }
                None => skipped += 1,
            }
        }
        if skipped > 0 {
            tracing::warn!("{name}: skipped {skipped} training sentences longer than {max} word pieces");
        }
        let declared = train.first().map(|s| s.types.clone()).unwrap_or_default();
        let mut foreign = vec![0f32; vocabulary.len()];
        for (t, type_name) in vocabulary.types().iter().enumerate() {
            if !declared.contains(type_name) {
                foreign[ActionVocabulary::open_index(t)] = 1.0;
                foreign[ActionVocabulary::reduce_index(t)] = 1.0;
            }
        }
        let dev_scoring = Scoring { outermost_only: !unannotated_inside.is_empty(), ..Scoring::default() };
        corpora.push(TrainingCorpus { name, examples, dev, foreign, dev_scoring });
    }
    Ok(corpora)
}

#[cfg(test)]
mod tests {
    use super::evenly_spaced;

    #[test]
    fn dev_sample_spans_the_whole_split() {
        let picked = evenly_spaced((0..10).collect(), 4);
        assert_eq!(picked, vec![0, 2, 5, 7]);
        assert_eq!(evenly_spaced((0..3).collect::<Vec<_>>(), 5), vec![0, 1, 2]);
        let picked = evenly_spaced((0..4078).collect::<Vec<_>>(), 500);
        assert_eq!(picked.len(), 500);
        assert!(picked.windows(2).all(|w| w[0] < w[1]));
        assert!(*picked.last().unwrap() > 4000, "{:?}", picked.last());
    }
}
