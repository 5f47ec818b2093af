use std::path::Path;

use super::{CorpusSentence, LabeledSpan};
use crate::error::{read_to_string, Result, SruNerError};

/// Reads the Lu & Roth (2015) nested-mention format: four lines per sentence (tokens separated by
/// spaces; POS tags; mentions `start,end TYPE|start,end TYPE|...` with 0-based word offsets, end
/// exclusive, possibly empty; a blank line). A `G#` prefix on types is dropped (`G#protein` → `protein`).
/// Malformed lines are errors naming the file and line.
pub fn read_lu_roth(path: &Path) -> Result<Vec<CorpusSentence>> {
    let text = read_to_string(path)?;
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let malformed = |line: usize, reason: String| SruNerError::Corpus { path: path.to_path_buf(), line, reason };
    let mut sentences = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim().is_empty() {
            i += 1;
            continue;
        }
        let tokens_line = i + 1;
        let words: Vec<String> = lines[i].split(' ').filter(|w| !w.is_empty()).map(str::to_string).collect();
        let Some(annotations) = lines.get(i + 2) else {
            return Err(malformed(tokens_line, "a sentence needs three lines: tokens, POS tags, mentions".into()));
        };
        let mut spans = Vec::new();
        for mention in annotations.split('|').filter(|m| !m.trim().is_empty()) {
            let parsed = mention.trim().split_once(' ').and_then(|(range, label)| {
                let (start, end) = range.split_once(',')?;
                Some((start.parse::<usize>().ok()?, end.parse::<usize>().ok()?, label.trim()))
            });
            match parsed {
                Some((start, end, label)) if start < end && end <= words.len() && !label.is_empty() => spans.push(LabeledSpan {
                    start_word: start,
                    end_word: end,
                    label: label.strip_prefix("G#").unwrap_or(label).to_string(),
                }),
                _ => {
                    return Err(malformed(
                        i + 3,
                        format!("bad mention {mention:?}: expected `start,end TYPE` with start < end <= {} words", words.len()),
                    ))
                }
            }
        }
        spans.sort();
        sentences.push(CorpusSentence::from_words(&words, spans));
        i += 3;
    }
    Ok(sentences)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nested_mentions_and_names_bad_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.data");
        std::fs::write(&path, "IL - 2 gene expression\nNN HYPH CD NN NN\n0,3 G#protein|0,4 G#DNA\n\nNo mentions here\nDT NNS RB\n\n\n")
            .unwrap();
        let sentences = read_lu_roth(&path).unwrap();
        assert_eq!(sentences.len(), 2);
        assert_eq!(sentences[0].text, "IL - 2 gene expression");
        let spans: Vec<_> = sentences[0].spans.iter().map(|s| (s.start_word, s.end_word, s.label.as_str())).collect();
        assert_eq!(spans, [(0, 3, "protein"), (0, 4, "DNA")]);
        assert!(sentences[1].spans.is_empty());

        std::fs::write(&path, "a b\nDT NN\n0,3 G#DNA\n\n").unwrap();
        let error = read_lu_roth(&path).unwrap_err().to_string();
        assert!(error.contains("x.data:3:"), "{error}");
    }
}
