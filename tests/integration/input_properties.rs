//! Property tests on generated input: the segmenter keeps its offset invariants on
//! any string, and every importer answers any file with a corpus or an error naming `file:line`, never
//! a panic. Each property first replays its seeds in `fuzz/corpus/{segmentation,importers}/` (a failing
//! generated case is added there as a regression). Cases per property: `PROPTEST_CASES` (proptest's
//! default 256; CI's smoke pass uses that).
use std::io::Write;
use std::path::Path;

use proptest::prelude::*;
use sru_ner::corpus::{read_genia_xml, read_iob, read_lu_roth, read_pubtator, CorpusSentence};
use sru_ner::text::{CharOffsets, SegmentedDocument};
use sru_ner::SruNerError;

/// Text that exercises the segmenter: abbreviations, decimals, brackets, non-ASCII letters and
/// combining marks, line breaks, and arbitrary Unicode.
fn biomedical_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "IL-2",
        "e.g.",
        "Fig. 3",
        "3.5",
        "mg/kg",
        "(",
        ")",
        "[",
        "]",
        ".",
        "?",
        "!",
        ";",
        " ",
        "  ",
        "\n",
        "\n\n",
        "\t",
        "TNF-α",
        "β-catenin",
        "naïve",
        "Müller",
        "e\u{301}",
        "日本",
        "🧬",
        "Dr.",
        "U.S.",
        "A.",
        "p<0.05",
        "'",
        "\"",
        "cells",
        "The",
        "aspirin",
        "-",
        "–",
        "/",
        "\u{a0}",
        "\r\n",
    ]);
    prop_oneof![prop::collection::vec(pieces, 0..60).prop_map(|p| p.concat()), any::<String>(),]
}

/// The segmenter's invariants on `text`: words on character boundaries, ordered, disjoint and not
/// blank; sentences cover the words once, in order; character offsets agree with counting chars.
fn check_segmentation(text: &str) -> Result<(), TestCaseError> {
    let document = SegmentedDocument::segment(text);
    let mut previous_end = 0;
    for word in &document.words {
        prop_assert!(word.start < word.end, "empty word {word:?}");
        prop_assert!(previous_end <= word.start, "words overlap or go back: {word:?}");
        prop_assert!(text.is_char_boundary(word.start) && text.is_char_boundary(word.end), "{word:?} cuts a char");
        prop_assert!(!text[word.clone()].trim().is_empty(), "whitespace word {word:?}");
        previous_end = word.end;
    }
    // Sentences are non-empty and cover the words exactly once, in order.
    let mut next = 0;
    for sentence in &document.sentences {
        prop_assert!(sentence.start == next && sentence.start < sentence.end, "{:?}", document.sentences);
        next = sentence.end;
    }
    prop_assert_eq!(next, document.words.len());
    // Character offsets agree with counting chars.
    let offsets = CharOffsets::new(text);
    for word in &document.words {
        prop_assert_eq!(offsets.char_offset(word.start), text[..word.start].chars().count());
        prop_assert_eq!(offsets.char_offset(word.end), text[..word.end].chars().count());
    }
    Ok(())
}

/// The committed seeds of a property (at least 5 files).
fn seeds(target: &str) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    sru_ner_schemas::test_util::seed_corpus(target, 5)
}

#[test]
fn the_segmentation_seeds_keep_the_offset_invariants() {
    for (path, bytes) in seeds("segmentation") {
        let text = String::from_utf8_lossy(&bytes);
        check_segmentation(&text).unwrap_or_else(|e| panic!("seed {}: {e}", path.display()));
    }
}

proptest! {
    #[test]
    fn segmentation_keeps_its_offset_invariants(text in biomedical_text()) {
        check_segmentation(&text)?;
    }
}

/// Lines made of the pieces the formats are built from, so that generated files get past the first
/// line and reach the interesting branches.
fn corpus_lines() -> impl Strategy<Value = String> {
    let line = prop::sample::select(vec![
        "",
        "word\tO",
        "IL-2\tB-protein",
        "gene\tI-protein",
        "x\tI-DNA",
        "y\tE-DNA",
        "z\tS-Chemical",
        "w\tL-x",
        "a b\tO",
        "-DOCSTART-\tO",
        "-DOCSTART- -X- O O",
        "EU NNP B-NP B-ORG",
        "word NN I-NP O",
        "\tO",
        "word\t",
        "word",
        "12345|t|A title.",
        "12345|a|An abstract about aspirin.",
        "12345\t0\t5\tA tit\tChemical\tD001",
        "12345\t3\t99\tx\tDisease\tD1",
        "12345\t-1\t2\tx\tDisease",
        "12345\tx\ty\tz",
        "99|t|",
        "|a|",
        "IL-2 gene expression",
        "G#protein G#DNA",
        "0,4 G#protein",
        "0,2 G#DNA|5,9 G#protein",
        "3,1 G#RNA",
        "<set>",
        "</set>",
        "<article>",
        "<sentence>IL-2 <cons lex=\"IL-2\" sem=\"G#protein\">IL-2</cons></sentence>",
        "<cons sem=\"G#DNA\">",
        "</cons>",
        "</sentence>",
        "<title>",
        "x\u{0}y",
        "é\tB-Species",
    ]);
    prop_oneof![prop::collection::vec(line, 0..25).prop_map(|l| l.join("\n")), any::<String>(),]
}

/// Writes `content` to a temporary file and runs `read` on it.
fn read_generated<T>(content: &str, read: impl Fn(&Path) -> sru_ner::Result<T>) -> (tempfile::NamedTempFile, sru_ner::Result<T>) {
    let mut file = tempfile::NamedTempFile::new().expect("temporary file");
    file.write_all(content.as_bytes()).expect("write");
    file.flush().expect("flush");
    let result = read(file.path());
    (file, result)
}

/// An importer's answer is valid sentences or an error that names the file (and, for malformed
/// content, a line inside it).
fn check_answer(path: &Path, content: &str, result: sru_ner::Result<Vec<CorpusSentence>>) -> Result<(), TestCaseError> {
    match result {
        Ok(sentences) => {
            for sentence in sentences {
                let chars = sentence.text.chars().count();
                for word in &sentence.words {
                    prop_assert!(word.start < word.end && word.end <= chars, "word {word:?} outside {:?}", sentence.text);
                }
                for span in &sentence.spans {
                    prop_assert!(
                        span.start_word < span.end_word && span.end_word <= sentence.words.len(),
                        "span {span:?} outside the {} words of {:?}",
                        sentence.words.len(),
                        sentence.text
                    );
                }
            }
        }
        Err(SruNerError::Corpus { path: named, line, reason }) => {
            prop_assert_eq!(named.as_path(), path);
            let lines = content.lines().count().max(1);
            prop_assert!((1..=lines + 1).contains(&line), "line {line} of {lines}: {reason}");
        }
        Err(other) => {
            let message = other.to_string();
            prop_assert!(message.contains(&path.display().to_string()), "an error that does not name the file: {message}");
        }
    }
    Ok(())
}

/// Every importer on `content`: a corpus or an error naming the file (and a line inside it).
fn check_importers(content: &str) -> Result<(), TestCaseError> {
    let (file, result) = read_generated(content, read_iob);
    check_answer(file.path(), content, result)?;
    let (file, result) = read_generated(content, read_lu_roth);
    check_answer(file.path(), content, result)?;
    let (file, result) = read_generated(content, |p| read_pubtator(p).map(|(s, _)| s));
    check_answer(file.path(), content, result)?;
    let (file, result) = read_generated(content, |p| read_genia_xml(p).map(|(s, _)| s));
    check_answer(file.path(), content, result)
}

#[test]
fn the_importer_seeds_give_a_corpus_or_a_located_error() {
    for (path, bytes) in seeds("importers") {
        check_importers(&String::from_utf8_lossy(&bytes)).unwrap_or_else(|e| panic!("seed {}: {e}", path.display()));
    }
}

proptest! {
    #[test]
    fn importers_answer_any_file_with_a_corpus_or_a_located_error(content in corpus_lines()) {
        check_importers(&content)?;
    }
}
