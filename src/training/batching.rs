//! An epoch's batches: corpus-balanced sampling with replacement (model.md §3), then either the
//! sampling order or length-sorted batches.

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
    /// In sampling order, each batch padded to its longest sentence (the trainer before issue 12).
    Sampled,
    /// The same sampled sentences, sorted by length within pools of `sort_pool_batches` batches and cut
    /// into batches that are shuffled within their pool: little padding in the encoder and the head.
    /// Each batch's loss is its mean over its own timesteps, as with `sampled`.
    #[default]
    LengthSorted,
}

/// One batch of an epoch: its sentences.
pub type PlannedBatch = Vec<ExampleId>;

/// Draws `steps × batch_size` sentences from corpora of `corpus_sizes` sentences (a corpus uniformly,
/// then one of its sentences uniformly, with replacement) and groups them by `batching`;
/// `timesteps(id)` is a sentence's gold length, the sort key. Deterministic for the state of `rng`.
pub fn plan_epoch(
    corpus_sizes: &[usize],
    timesteps: impl Fn(ExampleId) -> usize,
    steps: usize,
    batch_size: usize,
    batching: Batching,
    sort_pool_batches: usize,
    rng: &mut StdRng,
) -> Vec<PlannedBatch> {
    let sampled: Vec<ExampleId> = (0..steps * batch_size)
        .map(|_| {
            let corpus = rng.random_range(0..corpus_sizes.len());
            (corpus, rng.random_range(0..corpus_sizes[corpus]))
        })
        .collect();
    match batching {
        Batching::Sampled => {
            sampled.chunks(batch_size).map(<[ExampleId]>::to_vec).collect()
        }
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
        let sizes = [50, 7, 300];
        plan_epoch(&sizes, |(c, i)| (c * 31 + i * 7) % 40 + 1, 20, 8, batching, 4, &mut StdRng::seed_from_u64(seed))
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
        let padded = |plan: &[PlannedBatch]| -> usize {
            plan.iter().map(|b| b.len() * b.iter().map(|&id| key(id)).max().unwrap_or(0)).sum()
        };
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
}
