/// The shortest sentence a batch takes, as a share of its longest (2/3): padding stays under a third of
/// any row. Without it, the few dozen sentences of a small call (a handful of abstracts: the Kafka
/// stage at low load) went into one batch padded to the longest, and 8 abstracts per call encoded
/// 1.8× slower than 64 (issue 17). A large call is split by the token budget first, so this changes
/// little there.
const MIN_LENGTH_SHARE: (usize, usize) = (2, 3);

/// Groups sentences into batches: sorted by length (longest first), each batch holding at most
/// `max_sentences` sentences and at most `token_budget` tokens counted as sentences × longest length,
/// and no sentence shorter than two thirds of its batch's longest (`MIN_LENGTH_SHARE`). A sentence longer than the
/// budget gets a batch of its own.
pub fn plan_batches(lengths: &[usize], token_budget: usize, max_sentences: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(lengths[i]));
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    for i in order {
        // Sorted longest first, so the batch's first sentence is its longest.
        let longest = current.first().map_or(lengths[i], |&f| lengths[f]);
        let (numerator, denominator) = MIN_LENGTH_SHARE;
        let too_short = lengths[i] * denominator < longest * numerator;
        if !current.is_empty() && ((current.len() + 1) * longest > token_budget || current.len() >= max_sentences || too_short) {
            batches.push(std::mem::take(&mut current));
        }
        current.push(i);
    }
    if !current.is_empty() {
        batches.push(current);
    }
    batches
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sentence_once_within_budget() {
        let lengths = [5, 40, 7, 7, 100, 3, 12, 40];
        let batches = plan_batches(&lengths, 90, 3);
        let mut seen: Vec<usize> = batches.iter().flatten().copied().collect();
        seen.sort();
        assert_eq!(seen, (0..lengths.len()).collect::<Vec<_>>());
        for b in &batches {
            let longest = b.iter().map(|&i| lengths[i]).max().unwrap();
            assert!(b.len() <= 3);
            assert!(b.len() == 1 || b.len() * longest <= 90, "{b:?}");
        }
        // The over-budget sentence is alone, and batches go from long to short.
        assert_eq!(batches[0], vec![4]);
    }

    #[test]
    fn a_batch_takes_no_sentence_shorter_than_two_thirds_of_its_longest() {
        let lengths = [30, 21, 20, 19, 14, 13, 9, 3];
        let batches = plan_batches(&lengths, 10_000, 100);
        assert_eq!(batches, vec![vec![0, 1, 2], vec![3, 4, 5], vec![6], vec![7]]);
    }
}
