use std::ops::Range;

/// Splits raw text into words the way the biomedical training corpora are tokenised (the BioNLP /
/// MTL-Bioinformatics-2016 convention): a word is a maximal run of letters and digits, and every other
/// visible character is a word of its own, so `IL-2Ralpha` gives `IL`, `-`, `2Ralpha` and `(p < 0.05)`
/// gives `(`, `p`, `<`, `0`, `.`, `05`, `)`.
///
/// Whitespace and control characters separate words and belong to none. Combining marks, zero-width
/// joiners and variation selectors stay attached to the character before them, so an accented letter
/// or a composed emoji is never cut in two.
#[derive(Debug, Clone, Copy, Default)]
pub struct WordTokenizer;

impl WordTokenizer {
    /// The byte range of every word of `text`, in order.
    pub fn tokenize(&self, text: &str) -> Vec<Range<usize>> {
        let mut words: Vec<Range<usize>> = Vec::new();
        // Whether the word under construction (the last of `words`) is a letter/digit run that may grow.
        let mut open_alphanumeric = false;
        // Whether the previous character belongs to the last word (no separator in between).
        let mut adjacent = false;
        // Whether the previous character was a zero-width joiner, which glues the next one to it.
        let mut joined = false;
        for (byte, c) in text.char_indices() {
            let end = byte + c.len_utf8();
            if c.is_whitespace() || c.is_control() {
                open_alphanumeric = false;
                adjacent = false;
            } else if adjacent && (joined || is_continuation(c)) {
                if let Some(last) = words.last_mut() {
                    last.end = end;
                }
            } else if c.is_alphanumeric() {
                match words.last_mut() {
                    Some(last) if open_alphanumeric && adjacent => last.end = end,
                    _ => words.push(byte..end),
                }
                open_alphanumeric = true;
                adjacent = true;
            } else {
                words.push(byte..end);
                open_alphanumeric = false;
                adjacent = true;
            }
            joined = c == '\u{200D}';
        }
        words
    }
}

/// Characters that never start a word: combining marks, zero-width joiner, variation selectors and
/// emoji skin-tone modifiers.
fn is_continuation(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}' | '\u{200D}'
        | '\u{FE00}'..='\u{FE0F}' | '\u{1F3FB}'..='\u{1F3FF}' | '\u{E0020}'..='\u{E007F}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<&str> {
        WordTokenizer.tokenize(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn splits_biomedical_text_like_the_corpora() {
        assert_eq!(words("IL-2Ralpha"), ["IL", "-", "2Ralpha"]);
        assert_eq!(words("(p < 0.05)"), ["(", "p", "<", "0", ".", "05", ")"]);
        assert_eq!(words("given i.v. daily"), ["given", "i", ".", "v", ".", "daily"]);
        assert_eq!(words("Parkinson's disease"), ["Parkinson", "'", "s", "disease"]);
    }

    #[test]
    fn keeps_greek_letters_and_accents_inside_words() {
        assert_eq!(words("TNF-α and NF-κB"), ["TNF", "-", "α", "and", "NF", "-", "κB"]);
        assert_eq!(words("Se\u{301}quence"), ["Se\u{301}quence"]);
    }

    #[test]
    fn keeps_composed_emoji_whole_and_drops_control_characters() {
        assert_eq!(words("a 👩\u{200D}🔬 b"), ["a", "👩\u{200D}🔬", "b"]);
        assert_eq!(words("x\u{0007}y\u{0000}\tz"), ["x", "y", "z"]);
        assert!(words(" \n\t ").is_empty());
    }
}
