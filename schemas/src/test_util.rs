//! Deterministic stand-ins for a model, so that the surfaces (SQL, bulk, stream) can be tested without
//! libtorch or a trained model. Behind the `test-util` feature.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crate::{AnnotateError, Annotator, Entity};

/// An [`Annotator`] that tags every whole-word occurrence of the phrases it was given.
///
/// A match must not touch a letter or digit on either side ("IL-2" is found in "IL-2 gene", not in
/// "IL-22"). Offsets are in characters, as [`Entity`] documents; every score is 1. A phrase that
/// contains another yields both mentions, nested, as the real model may. If any text contains the
/// failure marker (see [`LexiconAnnotator::failing_on`]), the whole batch fails, as a model error would.
///
/// ```
/// use sru_ner_schemas::test_util::LexiconAnnotator;
/// use sru_ner_schemas::Annotator;
///
/// let lexicon = LexiconAnnotator::new(&[("aspirin", "Chemical"), ("breast cancer", "Disease")]);
/// let entities = lexicon.annotate(&["aspirin and breast cancer", ""]).unwrap();
/// let found: Vec<_> = entities[0].iter().map(|e| (e.start, e.end, e.label.as_str())).collect();
/// assert_eq!(found, [(0, 7, "Chemical"), (12, 25, "Disease")]);
/// assert!(entities[1].is_empty());
/// ```
///
/// It counts the texts it was asked to annotate ([`LexiconAnnotator::texts_annotated`]), so a test can
/// check how many rows reached the model; clones share the count.
#[derive(Debug, Clone)]
pub struct LexiconAnnotator {
    phrases: Vec<(Vec<char>, String)>,
    failure_marker: Option<String>,
    model_id: String,
    texts_annotated: Arc<AtomicUsize>,
}

impl LexiconAnnotator {
    /// Tags each `(phrase, label)` pair (case-sensitive).
    pub fn new(entries: &[(&str, &str)]) -> Self {
        let phrases = entries.iter().filter(|(p, _)| !p.is_empty()).map(|(p, l)| (p.chars().collect(), l.to_string())).collect();
        Self { phrases, failure_marker: None, model_id: "lexicon-test-annotator".into(), texts_annotated: Arc::default() }
    }

    /// How many texts (rows) all calls of this annotator and its clones were given, failed batches
    /// included.
    pub fn texts_annotated(&self) -> usize {
        self.texts_annotated.load(Ordering::SeqCst)
    }

    /// The same annotator, except that a batch in which some text contains `marker` fails with
    /// [`AnnotateError::Model`].
    pub fn failing_on(mut self, marker: &str) -> Self {
        self.failure_marker = Some(marker.to_string());
        self
    }

    fn annotate_one(&self, text: &str) -> Vec<Entity> {
        let chars: Vec<char> = text.chars().collect();
        let is_word = |i: usize| chars.get(i).is_some_and(|c| c.is_alphanumeric());
        let mut entities = Vec::new();
        for (phrase, label) in &self.phrases {
            for start in 0..chars.len().saturating_sub(phrase.len() - 1) {
                let end = start + phrase.len();
                let bounded = (start == 0 || !is_word(start - 1)) && !is_word(end);
                if bounded && chars[start..end] == phrase[..] {
                    entities.push(Entity { start, end, label: label.clone(), text: phrase.iter().collect(), score: 1.0 });
                }
            }
        }
        Entity::sort_in_document_order(&mut entities);
        entities
    }
}

impl Annotator for LexiconAnnotator {
    fn annotate(&self, texts: &[&str]) -> Result<Vec<Vec<Entity>>, AnnotateError> {
        self.texts_annotated.fetch_add(texts.len(), Ordering::SeqCst);
        if let Some(marker) = &self.failure_marker {
            if let Some(row) = texts.iter().position(|t| t.contains(marker.as_str())) {
                return Err(AnnotateError::Model(format!("test failure requested by text {row} of the batch")));
            }
        }
        Ok(texts.iter().map(|text| self.annotate_one(text)).collect())
    }

    fn model_id(&self) -> &str {
        &self.model_id
    }
}

/// The files of the workspace's `fuzz/corpus/<target>/`, in name order, with their bytes: the committed
/// seeds (and regressions) of a generated-input property, which its test replays before the generated
/// cases (fuzz/README.md). Panics, naming the folder, when it holds fewer than `at_least` files.
///
/// ```
/// let seeds = sru_ner_schemas::test_util::seed_corpus("message_decoder", 8);
/// assert!(seeds.iter().all(|(path, _)| path.parent().is_some_and(|dir| dir.ends_with("fuzz/corpus/message_decoder"))));
/// ```
pub fn seed_corpus(target: &str, at_least: usize) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target);
    let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("the seed corpus {}: {e}", dir.display()));
    let mut files: Vec<_> = entries.map(|e| e.expect("a directory entry").path()).collect();
    files.sort();
    assert!(files.len() >= at_least, "the seed corpus in {} has {} files, expected at least {at_least}", dir.display(), files.len());
    files.into_iter().map(|f| (f.clone(), std::fs::read(&f).unwrap_or_else(|e| panic!("seed {}: {e}", f.display())))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_whole_words_only_with_character_offsets_and_nesting() {
        let lexicon = LexiconAnnotator::new(&[("IL-2", "protein"), ("IL-2 gene", "DNA")]);
        let [found, partial] = &lexicon.annotate(&["é IL-2 gene", "IL-22 and xIL-2"]).unwrap()[..] else { panic!("two rows") };
        let spans: Vec<_> = found.iter().map(|e| (e.start, e.end, e.label.as_str(), e.text.as_str())).collect();
        assert_eq!(spans, [(2, 11, "DNA", "IL-2 gene"), (2, 6, "protein", "IL-2")]);
        assert!(partial.is_empty(), "{partial:?}");
    }

    #[test]
    fn fails_the_batch_that_holds_the_marker() {
        let lexicon = LexiconAnnotator::new(&[("a", "X")]).failing_on("FAIL");
        assert_eq!(lexicon.annotate(&["a"]).unwrap()[0].len(), 1);
        let error = lexicon.clone().annotate(&["a", "please FAIL"]).unwrap_err();
        assert!(matches!(error, AnnotateError::Model(ref m) if m.contains("text 1")), "{error}");
        assert_eq!(lexicon.texts_annotated(), 3, "clones share the count");
    }
}
