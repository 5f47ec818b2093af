//! An epoch's batches: corpus-balanced sampling with replacement (model.md §3), then either the
//! sampling order or length-sorted batches.

use rand::distr::weighted::WeightedIndex;
use rand::distr::Distribution;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;
use serde::Deserialize;

/// A training sentence: (corpus index, sentence index within the corpus).
pub type ExampleId = (usize, usize);

/// How an epoch's sampled sentences are grouped into batches of `batch_size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Batching {
    /// In sampling order, each batch padded to its longest sentence (an older trainer's, 3× slower).
    Sampled,
    /// The same sampled sentences, sorted by length within pools of `sort_pool_batches` batches and cut
    /// into batches that are shuffled within their pool: little padding in the encoder and the head.
    /// Each batch's loss is its mean over its own timesteps, as with `sampled`.
    #[default]
    LengthSorted,
}

/// One batch of an epoch: its sentences.
pub type PlannedBatch = Vec<ExampleId>;

/// How one corpus's sentences are drawn once the corpus is chosen.
#[derive(Debug, Clone)]
pub enum SentenceSampler {
    /// Every one of the corpus's `n` sentences equally.
    Uniform(usize),
    /// By weight: sentences without a gold mention get a smaller one (see [`SentenceSampler::new`]).
    Weighted(WeightedIndex<f64>),
}

impl SentenceSampler {
    /// A sampler over sentences of which `has_mention[i]` says whether sentence i holds a gold
    /// mention. A sentence without one is drawn `empty_weight` times as often as one with a mention:
    /// 1.0 is uniform (and draws exactly what [`SentenceSampler::Uniform`] draws). A corpus with no
    /// mentions at all, or a weight that is not positive and finite, is sampled uniformly.
    pub fn new(has_mention: &[bool], empty_weight: f64) -> Self {
        let uniform = empty_weight == 1.0 || !empty_weight.is_finite() || empty_weight <= 0.0;
        if uniform || !has_mention.contains(&true) {
            return SentenceSampler::Uniform(has_mention.len());
        }
        let weights = has_mention.iter().map(|&mention| if mention { 1.0 } else { empty_weight });
        WeightedIndex::new(weights).map_or(SentenceSampler::Uniform(has_mention.len()), SentenceSampler::Weighted)
    }

    fn sample(&self, rng: &mut StdRng) -> usize {
        match self {
            SentenceSampler::Uniform(n) => rng.random_range(0..*n),
            SentenceSampler::Weighted(index) => index.sample(rng),
        }
    }
}

/// How the corpus of each drawn sentence is chosen.
#[derive(Debug, Clone)]
pub enum CorpusSampler {
    /// Each of `n` corpora equally often (model.md §3).
    Uniform(usize),
    /// By the corpora's relative weights.
    Weighted(WeightedIndex<f64>),
}

impl CorpusSampler {
    /// A sampler drawing corpus c `weights[c]` times as often as a corpus of weight 1. Equal weights
    /// draw exactly what [`CorpusSampler::Uniform`] draws, so a run without weights samples as before
    /// they existed; weights that are not all positive and finite fall back to uniform.
    pub fn new(weights: &[f64]) -> Self {
        let equal = weights.windows(2).all(|w| w[0] == w[1]);
        if equal || weights.iter().any(|w| !(w.is_finite() && *w > 0.0)) {
            return CorpusSampler::Uniform(weights.len());
        }
        WeightedIndex::new(weights.iter().copied()).map_or(CorpusSampler::Uniform(weights.len()), CorpusSampler::Weighted)
    }

    fn sample(&self, rng: &mut StdRng) -> usize {
        match self {
            CorpusSampler::Uniform(n) => rng.random_range(0..*n),
            CorpusSampler::Weighted(index) => index.sample(rng),
        }
    }
}

/// Draws `steps × batch_size` sentences (a corpus by `corpus_sampler`, then one of its sentences by
/// its entry of `corpora`, with replacement) and groups them by `batching`; `timesteps(id)` is a
/// sentence's gold length, the sort key. Deterministic for the state of `rng`.
#[allow(clippy::too_many_arguments)]
pub fn plan_epoch(
    corpus_sampler: &CorpusSampler,
    corpora: &[SentenceSampler],
    timesteps: impl Fn(ExampleId) -> usize,
    steps: usize,
    batch_size: usize,
    batching: Batching,
    sort_pool_batches: usize,
    rng: &mut StdRng,
) -> Vec<PlannedBatch> {
    let sampled: Vec<ExampleId> = (0..steps * batch_size)
        .map(|_| {
            let corpus = corpus_sampler.sample(rng);
            (corpus, corpora[corpus].sample(rng))
        })
        .collect();
    match batching {
        Batching::Sampled => sampled.chunks(batch_size).map(<[ExampleId]>::to_vec).collect(),
        Batching::LengthSorted => {
            let mut batches = Vec::with_capacity(steps);
            for pool in sampled.chunks(batch_size * sort_pool_batches.max(1)) {
                let mut pool = pool.to_vec();
                pool.sort_by_key(|&id| timesteps(id));
                let mut cut: Vec<PlannedBatch> = pool.chunks(batch_size).map(<[ExampleId]>::to_vec).collect();
                cut.shuffle(rng);
                batches.extend(cut);
            }
            batches
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn plan(batching: Batching, seed: u64) -> Vec<PlannedBatch> {
        let corpora = [50, 7, 300].map(SentenceSampler::Uniform);
        plan_epoch(
            &CorpusSampler::Uniform(3),
            &corpora,
            |(c, i)| (c * 31 + i * 7) % 40 + 1,
            20,
            8,
            batching,
            4,
            &mut StdRng::seed_from_u64(seed),
        )
    }

    #[test]
    fn length_sorted_batches_hold_the_sampled_sentences() {
        let sampled = plan(Batching::Sampled, 3);
        let sorted = plan(Batching::LengthSorted, 3);
        assert_eq!(sorted.len(), 20);
        assert!(sorted.iter().all(|b| b.len() == 8));
        let mut a: Vec<ExampleId> = sampled.concat();
        let mut b: Vec<ExampleId> = sorted.concat();
        assert_ne!(a, b, "the order changes");
        a.sort();
        b.sort();
        assert_eq!(a, b, "the same multiset of sentences");
        assert_eq!(plan(Batching::LengthSorted, 3), sorted, "deterministic for a seed");
    }

    #[test]
    fn length_sorted_batches_pad_less_and_stay_in_their_pool() {
        let key = |(c, i): ExampleId| (c * 31 + i * 7) % 40 + 1;
        let padded =
            |plan: &[PlannedBatch]| -> usize { plan.iter().map(|b| b.len() * b.iter().map(|&id| key(id)).max().unwrap_or(0)).sum() };
        let (sampled, sorted) = (plan(Batching::Sampled, 9), plan(Batching::LengthSorted, 9));
        assert!(padded(&sorted) * 5 < padded(&sampled) * 4, "{} vs {}", padded(&sorted), padded(&sampled));
        // Each pool of 4 batches holds the same sentences as the sampling order's 4 batches.
        for (a, b) in sorted.chunks(4).zip(sampled.chunks(4)) {
            let (mut a, mut b) = (a.concat(), b.concat());
            a.sort();
            b.sort();
            assert_eq!(a, b);
        }
    }

    #[test]
    fn sentences_without_mentions_are_drawn_by_their_weight() {
        // 100 sentences, every fourth with a mention: 25 with, 75 without.
        let has_mention: Vec<bool> = (0..100).map(|i| i % 4 == 0).collect();
        let drawn_share = |weight: f64| {
            let corpora = [SentenceSampler::new(&has_mention, weight)];
            let plan = plan_epoch(&CorpusSampler::Uniform(1), &corpora, |_| 1, 500, 8, Batching::Sampled, 1, &mut StdRng::seed_from_u64(1));
            let ids = plan.concat();
            ids.iter().filter(|&&(_, i)| has_mention[i]).count() as f64 / ids.len() as f64
        };
        // Expected shares of sentences with a mention: 25 / (25 + 75 w).
        assert!((drawn_share(1.0) - 0.25).abs() < 0.03, "{}", drawn_share(1.0));
        assert!((drawn_share(0.2) - 25.0 / 40.0).abs() < 0.03, "{}", drawn_share(0.2));
        // Weight 1 draws exactly the uniform sampler's sentences.
        let uniform = plan_epoch(
            &CorpusSampler::Uniform(1),
            &[SentenceSampler::Uniform(100)],
            |_| 1,
            10,
            8,
            Batching::Sampled,
            1,
            &mut StdRng::seed_from_u64(5),
        );
        let weighted = plan_epoch(
            &CorpusSampler::Uniform(1),
            &[SentenceSampler::new(&has_mention, 1.0)],
            |_| 1,
            10,
            8,
            Batching::Sampled,
            1,
            &mut StdRng::seed_from_u64(5),
        );
        assert_eq!(uniform, weighted);
    }

    #[test]
    fn corpora_are_drawn_by_their_weight() {
        let corpora = [SentenceSampler::Uniform(10), SentenceSampler::Uniform(10), SentenceSampler::Uniform(10)];
        let shares = |sampler: &CorpusSampler, seed: u64| {
            let plan = plan_epoch(sampler, &corpora, |_| 1, 600, 8, Batching::Sampled, 1, &mut StdRng::seed_from_u64(seed));
            let ids = plan.concat();
            (0..3).map(|c| ids.iter().filter(|&&(corpus, _)| corpus == c).count() as f64 / ids.len() as f64).collect::<Vec<_>>()
        };
        // Weights 2 : 1 : 1 draw the first corpus half the time.
        let weighted = shares(&CorpusSampler::new(&[2.0, 1.0, 1.0]), 4);
        assert!((weighted[0] - 0.5).abs() < 0.03 && (weighted[1] - 0.25).abs() < 0.03, "{weighted:?}");
        // Equal weights draw exactly what the uniform sampler draws.
        let draw =
            |sampler: &CorpusSampler| plan_epoch(sampler, &corpora, |_| 1, 10, 8, Batching::Sampled, 1, &mut StdRng::seed_from_u64(7));
        assert_eq!(draw(&CorpusSampler::new(&[1.5, 1.5, 1.5])), draw(&CorpusSampler::Uniform(3)));
        assert!(matches!(CorpusSampler::new(&[1.0, f64::NAN, 1.0]), CorpusSampler::Uniform(3)));
    }
}
