/// The shortest sentence a batch takes, as a share of its longest (2/3): padding stays under a third of
/// any row. Without it, the few dozen sentences of a small call (a handful of abstracts: the Kafka
/// stage at low load) went into one batch padded to the longest, and 8 abstracts per call encoded
/// 1.8× slower than 64. A large call is split by the token budget first, so this changes
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

/// Groups consecutive batches of [`plan_batches`] (longest first) for one decoding loop each: a group
/// takes batches while its sentences × its longest length stay within `token_budget`, and always at
/// least one batch, so a budget of 0 decodes every batch alone.
pub fn plan_decode_groups(batches: &[Vec<usize>], lengths: &[usize], token_budget: usize) -> Vec<std::ops::Range<usize>> {
    let mut groups = Vec::new();
    let mut start = 0;
    while start < batches.len() {
        let longest = batches[start].iter().map(|&i| lengths[i]).max().unwrap_or(0);
        let mut rows = batches[start].len();
        let mut end = start + 1;
        while end < batches.len() && (rows + batches[end].len()) * longest <= token_budget {
            rows += batches[end].len();
            end += 1;
        }
        groups.push(start..end);
        start = end;
    }
    groups
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

    #[test]
    fn decode_groups_take_consecutive_batches_within_their_budget() {
        let lengths = [30, 21, 20, 19, 14, 13, 9, 3];
        let batches = plan_batches(&lengths, 10_000, 100);
        assert_eq!(plan_decode_groups(&batches, &lengths, 0), vec![0..1, 1..2, 2..3, 3..4]);
        // 30 × (3 + 3) = 180 fits, 30 × 7 does not; then 9 × (1 + 1) fits.
        assert_eq!(plan_decode_groups(&batches, &lengths, 180), vec![0..2, 2..4]);
        assert_eq!(plan_decode_groups(&batches, &lengths, 10_000), vec![0..4]);
        assert!(plan_decode_groups(&[], &lengths, 100).is_empty());
    }
}
