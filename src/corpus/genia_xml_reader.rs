use std::path::Path;

use quick_xml::events::Event;
use quick_xml::Reader;

use super::{CorpusSentence, LabeledSpan};
use crate::error::{read_to_string, Result, SruNerError};
use crate::text::{CharOffsets, WordTokenizer};

/// The five GENIA types of the nested-NER benchmark, in the order they are matched against a term's
/// `sem` attribute (Shibuya & Hovy's `parse_genia.py`): the first whose `G#` name is a substring wins,
/// so `G#DNA_domain_or_region` → DNA, `G#protein_molecule` → protein, and a coordinated term
/// `(AND G#protein_molecule G#protein_molecule)` → protein. Every other `sem` is not a mention.
const GENIA_TYPES: [(&str, &str); 5] =
    [("G#DNA", "DNA"), ("G#RNA", "RNA"), ("G#protein", "protein"), ("G#cell_line", "cell_line"), ("G#cell_type", "cell_type")];

/// The benchmark type of a GENIA `sem` attribute, if it has one.
pub fn genia_type(sem: &str) -> Option<&'static str> {
    GENIA_TYPES.iter().find(|(pattern, _)| sem.contains(pattern)).map(|(_, name)| *name)
}

/// What [`read_genia_xml`] found besides the sentences.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GeniaReadReport {
    /// Terms whose character span does not start or end at a word boundary of our tokenizer; they are
    /// widened to the words they touch.
    pub widened: usize,
    /// Identical (start word, end word, type) mentions in one sentence, kept once (a term nested in a
    /// term of the same span and type, or two terms that widen to the same words).
    pub duplicates: usize,
}

/// Reads the GENIA term corpus (GPML XML, `GENIAcorpus3.02.xml`): one sentence per `<sentence>` element
/// in document order (titles included), tokenised with [`WordTokenizer`], mentions from the `<cons>`
/// elements whose `sem` maps to one of the five types (see [`genia_type`]); nesting is XML nesting.
/// Coordinated terms (`sem="(AND G#x G#y)"`) are one mention over the whole coordination; the inner
/// fragments of a coordination carry no `sem` and are not mentions. The document id is the article's
/// `MEDLINE:` id. XML errors name the file and line.
pub fn read_genia_xml(path: &Path) -> Result<(Vec<CorpusSentence>, GeniaReadReport)> {
    let xml = read_to_string(path)?;
    let line_of = |byte: u64| xml.as_bytes()[..(byte as usize).min(xml.len())].iter().filter(|&&b| b == b'\n').count() + 1;
    let mut reader = Reader::from_str(&xml);
    let mut report = GeniaReadReport::default();
    let mut sentences = Vec::new();
    let mut document: Option<String> = None;
    let mut in_bibliomisc = false;
    // The sentence being read: its text, and the open terms (type, start in chars) with those closed.
    let mut sentence: Option<String> = None;
    let mut open: Vec<(Option<&'static str>, usize)> = Vec::new();
    let mut closed: Vec<(usize, usize, &'static str)> = Vec::new();
    loop {
        let position = reader.buffer_position();
        let error = |reason: String| SruNerError::Corpus { path: path.to_path_buf(), line: line_of(position), reason };
        let event = reader.read_event().map_err(|e| error(format!("XML error: {e}")))?;
        match event {
            Event::Start(e) => match e.name().as_ref() {
                b"article" => document = None,
                b"bibliomisc" => in_bibliomisc = true,
                b"sentence" => {
                    sentence = Some(String::new());
                    open.clear();
                    closed.clear();
                }
                b"cons" => {
                    let text = sentence.as_ref().ok_or_else(|| error("<cons> outside a <sentence>".into()))?;
                    let sem = e.try_get_attribute("sem").map_err(|e| error(format!("bad attribute: {e}")))?;
                    let sem = match sem {
                        Some(a) => Some(a.unescape_value().map_err(|e| error(format!("bad sem: {e}")))?.into_owned()),
                        None => None,
                    };
                    open.push((sem.as_deref().and_then(genia_type), text.chars().count()));
                }
                _ => {}
            },
            Event::End(e) => match e.name().as_ref() {
                b"bibliomisc" => in_bibliomisc = false,
                b"cons" => {
                    let (label, start) = open.pop().ok_or_else(|| error("</cons> without <cons>".into()))?;
                    let end = sentence.as_ref().map_or(0, |t| t.chars().count());
                    if let Some(label) = label.filter(|_| end > start) {
                        closed.push((start, end, label));
                    }
                }
                b"sentence" => {
                    let text = sentence.take().ok_or_else(|| error("</sentence> without <sentence>".into()))?;
                    let mut built = sentence_with_mentions(text, &closed, &mut report);
                    built.document_id = document.clone();
                    sentences.push(built);
                }
                _ => {}
            },
            Event::Text(t) => {
                let text = t.decode().map_err(|e| error(format!("bad text: {e}")))?;
                if let Some(s) = sentence.as_mut() {
                    s.push_str(&text);
                } else if in_bibliomisc {
                    document = Some(text.trim().trim_start_matches("MEDLINE:").to_string());
                }
            }
            Event::GeneralRef(r) => {
                let c = match r.resolve_char_ref().map_err(|e| error(format!("bad reference: {e}")))? {
                    Some(c) => c,
                    None => match r.decode().map_err(|e| error(format!("bad reference: {e}")))?.as_ref() {
                        "amp" => '&',
                        "lt" => '<',
                        "gt" => '>',
                        "quot" => '"',
                        "apos" => '\'',
                        other => return Err(error(format!("unknown entity &{other};"))),
                    },
                };
                if let Some(s) = sentence.as_mut() {
                    s.push(c);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok((sentences, report))
}

/// Tokenises `text` and maps character-span terms onto its words.
fn sentence_with_mentions(text: String, terms: &[(usize, usize, &'static str)], report: &mut GeniaReadReport) -> CorpusSentence {
    let offsets = CharOffsets::new(&text);
    let words: Vec<std::ops::Range<usize>> =
        WordTokenizer.tokenize(&text).into_iter().map(|r| offsets.char_offset(r.start)..offsets.char_offset(r.end)).collect();
    let mut spans: Vec<LabeledSpan> = Vec::new();
    for &(start, end, label) in terms {
        let first = words.partition_point(|w| w.end <= start);
        let last = words.partition_point(|w| w.start < end);
        if first >= last {
            continue; // a term of whitespace only
        }
        if words[first].start != start || words[last - 1].end != end {
            report.widened += 1;
        }
        spans.push(LabeledSpan { start_word: first, end_word: last, label: label.to_string() });
    }
    spans.sort();
    let before = spans.len();
    spans.dedup();
    report.duplicates += before - spans.len();
    CorpusSentence::from_text(text, words, spans)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_nested_and_coordinated_terms_with_the_five_type_mapping() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("genia.xml");
        std::fs::write(
            &path,
            r#"<set><article><articleinfo><bibliomisc>MEDLINE:95369245</bibliomisc></articleinfo>
<title><sentence><cons sem="G#other_name"><cons sem="G#DNA_domain_or_region">IL-2 gene</cons> expression</cons> in <cons sem="G#cell_type">T cells</cons>.</sentence></title>
<abstract><sentence><cons sem="(AND G#protein_molecule G#protein_molecule)"><cons>IL-2</cons> and <cons>IL-4</cons></cons> bind &lt;p&gt;.</sentence></abstract>
</article></set>"#,
        )
        .unwrap();
        let (sentences, report) = read_genia_xml(&path).unwrap();
        assert_eq!(sentences.len(), 2);
        assert_eq!(sentences[0].text, "IL-2 gene expression in T cells.");
        assert_eq!(sentences[0].document_id.as_deref(), Some("95369245"));
        let spans = |s: &CorpusSentence| -> Vec<(String, String)> {
            let words = s.word_texts();
            s.spans.iter().map(|x| (words[x.start_word..x.end_word].join(" "), x.label.clone())).collect()
        };
        assert_eq!(spans(&sentences[0]), [("IL - 2 gene".into(), "DNA".into()), ("T cells".into(), "cell_type".into())]);
        assert_eq!(sentences[1].text, "IL-2 and IL-4 bind <p>.");
        assert_eq!(spans(&sentences[1]), [("IL - 2 and IL - 4".into(), "protein".into())]);
        assert_eq!(report, GeniaReadReport::default());
        assert_eq!(genia_type("G#RNA_family_or_group"), Some("RNA"));
        assert_eq!(genia_type("G#lipid"), None);
    }
}
