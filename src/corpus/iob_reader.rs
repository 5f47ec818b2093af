use std::path::Path;

use super::{CorpusSentence, LabeledSpan};
use crate::error::{read_to_string, Result, SruNerError};

/// Reads a CoNLL-style file of one token per line (`TOKEN ... TAG`, tab or space separated: the token is
/// the first column, the tag the last), sentences separated by blank lines.
///
/// Tags may be IOB2, IOB1 (CoNLL-2003) or BIOES: a mention starts at `B-X` or `S-X`, or at an `I-X`/`E-X`
/// that does not continue an `X` mention (so IOB1 and IOB2 read the same way), and ends after `E-X`/`S-X`
/// or before any tag that does not continue it. `-DOCSTART-` lines and `###MEDLINE:<id>` lines mark
/// documents. A malformed line is an error naming the file and line.
pub fn read_iob(path: &Path) -> Result<Vec<CorpusSentence>> {
    let text = read_to_string(path)?;
    let mut sentences = Vec::new();
    let mut document: Option<String> = None;
    let mut n_docstart = 0;
    let mut words: Vec<String> = Vec::new();
    let mut tags: Vec<(usize, String)> = Vec::new();
    let flush = |words: &mut Vec<String>,
                 tags: &mut Vec<(usize, String)>,
                 document: &Option<String>,
                 out: &mut Vec<CorpusSentence>|
     -> Result<()> {
        if !words.is_empty() {
            let spans = spans_from_tags(path, tags)?;
            let mut sentence = CorpusSentence::from_words(words, spans);
            sentence.document_id = document.clone();
            out.push(sentence);
        }
        words.clear();
        tags.clear();
        Ok(())
    };
    for (index, line) in text.lines().enumerate() {
        let line_no = index + 1;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            flush(&mut words, &mut tags, &document, &mut sentences)?;
            continue;
        }
        if let Some(id) = line.strip_prefix("###MEDLINE:") {
            flush(&mut words, &mut tags, &document, &mut sentences)?;
            document = Some(id.trim().to_string());
            continue;
        }
        let columns: Vec<&str> = line.split(['\t', ' ']).filter(|c| !c.is_empty()).collect();
        if columns.first() == Some(&"-DOCSTART-") {
            flush(&mut words, &mut tags, &document, &mut sentences)?;
            n_docstart += 1;
            document = Some(format!("doc{n_docstart}"));
            continue;
        }
        if columns.len() < 2 {
            return Err(malformed(path, line_no, format!("expected `TOKEN<TAB>TAG`, got {line:?}")));
        }
        words.push(columns[0].to_string());
        tags.push((line_no, columns[columns.len() - 1].to_string()));
    }
    flush(&mut words, &mut tags, &document, &mut sentences)?;
    Ok(sentences)
}

fn malformed(path: &Path, line: usize, reason: String) -> SruNerError {
    SruNerError::Corpus { path: path.to_path_buf(), line, reason }
}

/// Mentions from one sentence's tags (`(line number, tag)` per word).
fn spans_from_tags(path: &Path, tags: &[(usize, String)]) -> Result<Vec<LabeledSpan>> {
    let mut spans = Vec::new();
    let mut open: Option<(usize, &str)> = None;
    for (i, (line, tag)) in tags.iter().enumerate() {
        let (prefix, label) = match tag.as_str() {
            "O" => ("O", ""),
            t => match t.split_once('-') {
                Some((p @ ("B" | "I" | "E" | "S"), label)) if !label.is_empty() => (p, label),
                _ => return Err(malformed(path, *line, format!("tag {t:?} is not O, B-X, I-X, E-X or S-X"))),
            },
        };
        let continues = matches!(prefix, "I" | "E") && open.is_some_and(|(_, l)| l == label);
        if !continues {
            if let Some((start, l)) = open.take() {
                spans.push(LabeledSpan { start_word: start, end_word: i, label: l.to_string() });
            }
            if prefix != "O" {
                open = Some((i, label));
            }
        }
        if matches!(prefix, "E" | "S") {
            if let Some((start, l)) = open.take() {
                spans.push(LabeledSpan { start_word: start, end_word: i + 1, label: l.to_string() });
            }
        }
    }
    if let Some((start, l)) = open {
        spans.push(LabeledSpan { start_word: start, end_word: tags.len(), label: l.to_string() });
    }
    Ok(spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(tags: &[&str]) -> Vec<(usize, usize, String)> {
        let tags: Vec<(usize, String)> = tags.iter().enumerate().map(|(i, t)| (i + 1, t.to_string())).collect();
        spans_from_tags(Path::new("t"), &tags).unwrap().into_iter().map(|s| (s.start_word, s.end_word, s.label)).collect()
    }

    #[test]
    fn reads_iob2_iob1_and_bioes() {
        let x = |a, b| (a, b, "X".to_string());
        assert_eq!(spans(&["B-X", "I-X", "O", "B-X", "B-X"]), [x(0, 2), x(3, 4), x(4, 5)]);
        // IOB1: I-X opens a mention; B-X only separates adjacent ones.
        assert_eq!(spans(&["I-X", "I-X", "B-X", "O", "I-X"]), [x(0, 2), x(2, 3), x(4, 5)]);
        assert_eq!(spans(&["S-X", "B-X", "I-X", "E-X", "O"]), [x(0, 1), x(1, 4)]);
        // A type change inside a mention ends it.
        assert_eq!(spans(&["B-X", "I-Y"]), [x(0, 1), (1, 2, "Y".to_string())]);
    }

    #[test]
    fn a_bad_tag_names_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.tsv");
        std::fs::write(&path, "IL-2\tB-protein\ngene\tQ-DNA\n").unwrap();
        let error = read_iob(&path).unwrap_err().to_string();
        assert!(error.contains("bad.tsv:2"), "{error}");
        std::fs::write(&path, "IL-2\n").unwrap();
        assert!(read_iob(&path).unwrap_err().to_string().contains("bad.tsv:1"));
    }
}
