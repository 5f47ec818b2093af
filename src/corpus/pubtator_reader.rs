use std::path::Path;

use super::{CorpusSentence, LabeledSpan};
use crate::error::{read_to_string, Result, SruNerError};
use crate::text::{CharOffsets, SegmentedDocument};

/// What [`read_pubtator`] found besides the sentences.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PubtatorReadReport {
    /// Documents read.
    pub documents: usize,
    /// Mention lines read.
    pub mentions: usize,
    /// Mentions that our sentence splitter cuts in two; they cannot be stored and are listed here
    /// (`PMID start-end text`) instead of dropped silently.
    pub crossing_sentences: Vec<String>,
    /// Mentions whose span does not start or end at a word boundary; widened to the words they touch.
    pub widened: usize,
}

/// Reads PubTator: per document `PMID|t|title`, `PMID|a|abstract`, then `PMID<TAB>start<TAB>end<TAB>text
/// <TAB>type[<TAB>ids]` mention lines (character offsets into title + " " + abstract, end exclusive);
/// relation lines (`PMID<TAB>CID<TAB>...`) are skipped; documents are separated by blank lines.
/// Documents are split into sentences and words by our own segmenter ([`SegmentedDocument`]). A mention
/// whose text differs from the document at its offsets is an error naming the file and line.
pub fn read_pubtator(path: &Path) -> Result<(Vec<CorpusSentence>, PubtatorReadReport)> {
    let content = read_to_string(path)?;
    let mut report = PubtatorReadReport::default();
    let mut sentences = Vec::new();
    let mut document: Option<(String, String, Vec<CharMention>)> = None;
    let malformed = |line: usize, reason: String| SruNerError::Corpus { path: path.to_path_buf(), line, reason };
    for (index, line) in content.lines().chain(std::iter::once("")).enumerate() {
        let line_no = index + 1;
        let line = line.trim_end_matches('\r');
        if line.trim().is_empty() {
            if let Some((pmid, text, mentions)) = document.take() {
                report.documents += 1;
                sentences.extend(document_sentences(&pmid, &text, &mentions, &mut report));
            }
            continue;
        }
        if let Some((pmid, rest)) = line.split_once('|') {
            if let Some((kind, body)) = rest.split_once('|').filter(|(k, _)| *k == "t" || *k == "a") {
                let entry = document.get_or_insert_with(|| (pmid.to_string(), String::new(), Vec::new()));
                if entry.0 != pmid {
                    return Err(malformed(line_no, format!("PMID {pmid} inside document {} (missing blank line?)", entry.0)));
                }
                if kind == "a" {
                    entry.1.push(' ');
                }
                entry.1.push_str(body);
                continue;
            }
        }
        let columns: Vec<&str> = line.split('\t').collect();
        if columns.len() == 4 && columns[1].chars().all(|c| c.is_ascii_uppercase()) {
            continue; // a relation line: PMID CID chemical disease
        }
        let Some((pmid, text, mentions)) = document.as_mut() else {
            return Err(malformed(line_no, "a mention line before any |t| title line".into()));
        };
        let parsed = (columns.len() >= 5).then(|| Some((columns[1].parse::<usize>().ok()?, columns[2].parse::<usize>().ok()?))).flatten();
        let Some((start, end)) = parsed.filter(|(s, e)| s < e) else {
            return Err(malformed(line_no, format!("expected PMID<TAB>start<TAB>end<TAB>text<TAB>type, got {line:?}")));
        };
        if columns[0] != pmid {
            return Err(malformed(line_no, format!("mention of PMID {} inside document {pmid}", columns[0])));
        }
        let found: String = text.chars().skip(start).take(end - start).collect();
        if found != columns[3] {
            return Err(malformed(line_no, format!("mention {:?} at {start}..{end}, but the text there is {found:?}", columns[3])));
        }
        report.mentions += 1;
        mentions.push((start, end, columns[4].to_string()));
    }
    Ok((sentences, report))
}

/// A mention line of a document: character start, end (exclusive) and type.
type CharMention = (usize, usize, String);

/// The sentences of one document, with the mentions that fall inside each.
fn document_sentences(pmid: &str, text: &str, mentions: &[CharMention], report: &mut PubtatorReadReport) -> Vec<CorpusSentence> {
    let document = SegmentedDocument::segment(text);
    let offsets = CharOffsets::new(text);
    let words: Vec<std::ops::Range<usize>> =
        document.words.iter().map(|w| offsets.char_offset(w.start)..offsets.char_offset(w.end)).collect();
    let mut out: Vec<CorpusSentence> = document
        .sentences
        .iter()
        .map(|s| {
            let start = words[s.start].start;
            let sentence_words: Vec<_> = words[s.clone()].iter().map(|w| w.start - start..w.end - start).collect();
            let text = text.chars().skip(start).take(words[s.end - 1].end - start).collect();
            let mut sentence = CorpusSentence::from_text(text, sentence_words, Vec::new());
            sentence.document_id = Some(pmid.to_string());
            sentence
        })
        .collect();
    for (start, end, label) in mentions {
        let first = words.partition_point(|w| w.end <= *start);
        let last = words.partition_point(|w| w.start < *end);
        if first >= last {
            continue;
        }
        if words[first].start != *start || words[last - 1].end != *end {
            report.widened += 1;
        }
        let sentence = document.sentences.partition_point(|s| s.end <= first);
        let range = &document.sentences[sentence];
        if last > range.end {
            let mention: String = text.chars().skip(*start).take(end - start).collect();
            report.crossing_sentences.push(format!("{pmid} {start}-{end} {mention:?}"));
            continue;
        }
        out[sentence].spans.push(LabeledSpan { start_word: first - range.start, end_word: last - range.start, label: label.clone() });
    }
    for sentence in &mut out {
        sentence.spans.sort();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_documents_into_sentences_with_mentions() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.PubTator.txt");
        std::fs::write(
            &path,
            "1|t|Famotidine-associated delirium.\n1|a|Famotidine is an antagonist. It caused delirium.\n\
1\t0\t10\tFamotidine\tChemical\tD015738\n1\t22\t30\tdelirium\tDisease\tD003693\n1\t32\t42\tFamotidine\tChemical\tD015738\n\
1\t71\t79\tdelirium\tDisease\tD003693\n1\tCID\tD015738\tD003693\n\n",
        )
        .unwrap();
        let (sentences, report) = read_pubtator(&path).unwrap();
        assert_eq!(report.documents, 1);
        assert_eq!(report.mentions, 4);
        assert!(report.crossing_sentences.is_empty());
        let texts: Vec<&str> = sentences.iter().map(|s| s.text.as_str()).collect();
        assert_eq!(texts, ["Famotidine-associated delirium.", "Famotidine is an antagonist.", "It caused delirium."]);
        let labels: Vec<Vec<(String, String)>> = sentences
            .iter()
            .map(|s| {
                let w = s.word_texts();
                s.spans.iter().map(|x| (w[x.start_word..x.end_word].join(" "), x.label.clone())).collect()
            })
            .collect();
        assert_eq!(labels[0], [("Famotidine".to_string(), "Chemical".to_string()), ("delirium".into(), "Disease".into())]);
        assert_eq!(labels[1], [("Famotidine".to_string(), "Chemical".to_string())]);
        assert_eq!(labels[2], [("delirium".to_string(), "Disease".to_string())]);

        std::fs::write(&path, "1|t|Aspirin works.\n1\t0\t7\tAspirim\tChemical\tD1\n").unwrap();
        let error = read_pubtator(&path).unwrap_err().to_string();
        assert!(error.contains("x.PubTator.txt:2:") && error.contains("Aspirim"), "{error}");
    }
}
