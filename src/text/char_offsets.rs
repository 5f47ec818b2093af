/// Converts byte offsets of a string into offsets in Unicode scalar values (`char`s).
///
/// For ASCII text the two are equal and no table is built.
#[derive(Debug, Clone)]
pub struct CharOffsets {
    /// Byte offset at which each `char` starts; `None` when the text is ASCII.
    char_starts: Option<Vec<usize>>,
    len_bytes: usize,
}

impl CharOffsets {
    /// Indexes `text`.
    pub fn new(text: &str) -> Self {
        let char_starts = (!text.is_ascii()).then(|| text.char_indices().map(|(b, _)| b).collect());
        Self { char_starts, len_bytes: text.len() }
    }

    /// The character offset of byte offset `byte`, which must be a char boundary of the text (or its
    /// length).
    pub fn char_offset(&self, byte: usize) -> usize {
        match &self.char_starts {
            None => byte,
            Some(starts) if byte >= self.len_bytes => starts.len(),
            Some(starts) => starts.partition_point(|&b| b < byte),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_bytes_to_chars_in_mixed_text() {
        let text = "αβ IL-2 🧬x";
        let offsets = CharOffsets::new(text);
        for (char_index, (byte, _)) in text.char_indices().enumerate() {
            assert_eq!(offsets.char_offset(byte), char_index);
        }
        assert_eq!(offsets.char_offset(text.len()), text.chars().count());
    }

    #[test]
    fn ascii_is_identity() {
        let offsets = CharOffsets::new("abc def");
        assert_eq!(offsets.char_offset(4), 4);
        assert_eq!(offsets.char_offset(7), 7);
    }
}
