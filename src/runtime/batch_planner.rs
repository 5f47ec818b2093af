/// Groups sentences into batches: sorted by length (longest first) so that a batch pads little, each
/// batch holding at most `max_sentences` sentences and at most `token_budget` tokens counted as
/// sentences × longest length. A sentence longer than the budget gets a batch of its own.
pub fn plan_batches(lengths: &[usize], token_budget: usize, max_sentences: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lengths.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(lengths[i]));
    let mut batches: Vec<Vec<usize>> = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    for i in order {
        // Sorted longest first, so the batch's first sentence is its longest.
        let longest = current.first().map_or(lengths[i], |&f| lengths[f]);
        if !current.is_empty() && ((current.len() + 1) * longest > token_budget || current.len() >= max_sentences) {
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
}
