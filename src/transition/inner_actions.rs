use std::ops::Range;

use super::{ActionVocabulary, Timestep};

/// Per gold timestep, the `TR`/`RE` actions of the given types that would open or close a span nested
/// inside one of the `outer` word ranges (`start..end`, end exclusive; each with the type indices
/// whose mentions are unannotated inside it), and are not gold at that timestep.
///
/// A corpus that keeps only the outermost of nested mentions (JNLPBA, flattened from GENIA) annotates
/// "CXCR1 gene" as DNA and says nothing about the gene name inside it, so those actions are unknown
/// there rather than wrong (model.md §3). A timestep at boundary b (b words shifted before it) could
/// open a nested span when some outer range has `start <= b < end`, and close one when
/// `start < b <= end`. The result is sorted.
///
/// ```
/// use sru_ner::transition::{inner_actions, ActionVocabulary, TransitionOracle, WordSpan};
/// // Types 0 = DNA, 1 = Gene: "CXCR1 gene expression", gold DNA over words 0..2.
/// let vocabulary = ActionVocabulary::new(vec!["DNA".into(), "Gene".into()]);
/// let gold = TransitionOracle::new(&vocabulary).timesteps(&[WordSpan { start: 0, end: 2, label: 0 }], 3).unwrap();
/// assert_eq!(gold, vec![vec![2], vec![1], vec![1], vec![3], vec![1], vec![0]]);
/// // Inside the DNA, a Gene's TR (4) and RE (5) are unknown; a DNA nested in it stays a negative.
/// let inner = inner_actions(&gold, &[(0..2, vec![1])]);
/// assert_eq!(inner, vec![vec![4], vec![4], vec![4, 5], vec![5], vec![5], vec![]]);
/// ```
pub fn inner_actions(timesteps: &[Timestep], outer: &[(Range<usize>, Vec<usize>)]) -> Vec<Timestep> {
    let mut boundary = 0;
    timesteps
        .iter()
        .map(|step| {
            let b = boundary;
            if step.contains(&ActionVocabulary::SH) {
                boundary += 1;
            }
            let mut actions = Vec::new();
            for (range, types) in outer {
                for &t in types {
                    if range.start <= b && b < range.end {
                        actions.push(ActionVocabulary::open_index(t));
                    }
                    if range.start < b && b <= range.end {
                        actions.push(ActionVocabulary::reduce_index(t));
                    }
                }
            }
            actions.retain(|a| !step.contains(a));
            actions.sort_unstable();
            actions.dedup();
            actions
        })
        .collect()
}
