use std::ops::Range;

/// Groups words into sentences with rules that suit scientific abstracts.
///
/// A sentence ends after `.`, `!` or `?` (and any closing brackets or quotes glued to it) when
/// whitespace follows and the next word starts like a sentence (upper-case letter, digit, opening
/// bracket or quote), unless the word before the full stop is an abbreviation: a single letter
/// (`J. Smith`, `i.v.`, `e.g.`) or one of [`ABBREVIATIONS`]. A blank line always ends a sentence, and so
/// does a line break before a word that starts like a sentence (a title line followed by its abstract).
#[derive(Debug, Clone, Copy, Default)]
pub struct SentenceSplitter;

/// Words that are followed by a full stop without ending a sentence.
pub const ABBREVIATIONS: &[&str] = &[
    "al", "approx", "ca", "cf", "Co", "Corp", "Dr", "Drs", "Eq", "Eqs", "et", "etc", "Fig", "Figs", "Inc", "Jr", "Ltd", "Mr", "Mrs", "Ms",
    "No", "Nos", "Prof", "Ref", "Refs", "resp", "Sr", "St", "Suppl", "vs", "Vol", "wt",
];

impl SentenceSplitter {
    /// Splits `words` (byte ranges into `text`, as [`super::WordTokenizer`] gives them) into sentences,
    /// each a non-empty range of word indices; together they cover every word once, in order.
    pub fn split(&self, text: &str, words: &[Range<usize>]) -> Vec<Range<usize>> {
        let mut sentences = Vec::new();
        let mut start = 0;
        for i in 0..words.len().saturating_sub(1) {
            if self.ends_sentence(text, words, i) {
                sentences.push(start..i + 1);
                start = i + 1;
            }
        }
        if start < words.len() {
            sentences.push(start..words.len());
        }
        sentences
    }

    /// Whether a sentence ends after word `i` (which is not the last word).
    fn ends_sentence(&self, text: &str, words: &[Range<usize>], i: usize) -> bool {
        let gap = &text[words[i].end..words[i + 1].start];
        let next = &text[words[i + 1].clone()];
        if gap.matches('\n').count() >= 2 {
            return true;
        }
        if gap.contains('\n') && starts_like_sentence(next) {
            return true;
        }
        if gap.is_empty() || !starts_like_sentence(next) {
            return false;
        }
        // Walk back over closing brackets and quotes glued to the terminal punctuation.
        let mut j = i;
        while j > 0 && is_closing(&text[words[j].clone()]) && words[j - 1].end == words[j].start {
            j -= 1;
        }
        match &text[words[j].clone()] {
            "!" | "?" => true,
            "." => !(j > 0 && words[j - 1].end == words[j].start && is_abbreviation(&text[words[j - 1].clone()])),
            _ => false,
        }
    }
}

fn starts_like_sentence(word: &str) -> bool {
    word.chars().next().is_some_and(|c| c.is_uppercase() || c.is_numeric() || matches!(c, '(' | '[' | '"' | '\'' | '“'))
}

fn is_closing(word: &str) -> bool {
    matches!(word, ")" | "]" | "\"" | "'" | "”" | "’")
}

fn is_abbreviation(word: &str) -> bool {
    word.chars().count() == 1 && word.chars().all(char::is_alphabetic) || ABBREVIATIONS.contains(&word)
}

#[cfg(test)]
mod tests {
    use super::super::SegmentedDocument;

    fn sentences(text: &str) -> Vec<String> {
        let doc = SegmentedDocument::segment(text);
        doc.sentences.iter().map(|s| text[doc.words[s.start].start..doc.words[s.end - 1].end].to_string()).collect()
    }

    #[test]
    fn splits_at_full_stops_before_capitals() {
        assert_eq!(
            sentences("IL-2 binds IL-2Ralpha. It was given i.v. daily. Results (p < 0.05) were shown."),
            ["IL-2 binds IL-2Ralpha.", "It was given i.v. daily.", "Results (p < 0.05) were shown."]
        );
    }

    #[test]
    fn keeps_abbreviations_and_initials_inside_sentences() {
        assert_eq!(
            sentences("As shown by Smith et al. In 1990 J. Smith used e.g. Fig. 2 data."),
            ["As shown by Smith et al. In 1990 J. Smith used e.g. Fig. 2 data."]
        );
    }

    #[test]
    fn splits_after_closing_brackets_and_title_lines() {
        assert_eq!(sentences("It binds (see above.) Then it stops!"), ["It binds (see above.)", "Then it stops!"]);
        assert_eq!(sentences("A title without stop\nThe abstract starts."), ["A title without stop", "The abstract starts."]);
        assert_eq!(sentences("wrapped line\ncontinues here."), ["wrapped line\ncontinues here."]);
    }

    #[test]
    fn empty_text_has_no_sentences() {
        assert!(sentences("").is_empty());
        assert!(sentences("   \n ").is_empty());
    }
}
