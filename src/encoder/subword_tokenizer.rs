use std::path::Path;

use tokenizers::{InputSequence, Tokenizer};

use crate::error::{Result, SruNerError};

/// The encoder's `tokenizer.json` applied to words we already split: word pieces per word.
///
/// Truncation and padding stored in the file are switched off (we batch and split ourselves). A word the
/// tokenizer turns into nothing (a lone control or combining character) becomes `[UNK]`, so every word
/// has a vector.
#[derive(Debug, Clone)]
pub struct SubwordTokenizer {
    tokenizer: Tokenizer,
    cls: u32,
    sep: u32,
    unk: u32,
    pad: u32,
}

impl SubwordTokenizer {
    /// Loads `tokenizer.json`.
    pub fn from_file(path: &Path) -> Result<Self> {
        let fail = |e: &dyn std::fmt::Display| SruNerError::Tokenizer(format!("{}: {e}", path.display()));
        let mut tokenizer = Tokenizer::from_file(path).map_err(|e| fail(&e))?;
        tokenizer.with_truncation(None).map_err(|e| fail(&e))?;
        tokenizer.with_padding(None);
        let id = |names: &[&str]| {
            names.iter().find_map(|n| tokenizer.token_to_id(n)).ok_or_else(|| fail(&format!("no special token among {names:?}")))
        };
        let (cls, sep, unk, pad) = (id(&["[CLS]", "<s>"])?, id(&["[SEP]", "</s>"])?, id(&["[UNK]", "<unk>"])?, id(&["[PAD]", "<pad>"])?);
        Ok(Self { tokenizer, cls, sep, unk, pad })
    }

    /// The `[CLS]` id.
    pub fn cls(&self) -> u32 {
        self.cls
    }

    /// The `[SEP]` id.
    pub fn sep(&self) -> u32 {
        self.sep
    }

    /// The `[PAD]` id.
    pub fn pad(&self) -> u32 {
        self.pad
    }

    /// Word-piece ids of each word (never empty), without special tokens.
    pub fn word_pieces(&self, words: &[&str]) -> Result<Vec<Vec<u32>>> {
        let mut pieces = vec![Vec::new(); words.len()];
        if words.is_empty() {
            return Ok(pieces);
        }
        let input: InputSequence<'_> = words.into();
        let encoding = self
            .tokenizer
            .encode(input, false)
            .map_err(|e| SruNerError::Tokenizer(format!("encoding a sentence of {} words: {e}", words.len())))?;
        for (&id, word) in encoding.get_ids().iter().zip(encoding.get_word_ids()) {
            if let Some(w) = word.and_then(|w| pieces.get_mut(w as usize)) {
                w.push(id);
            }
        }
        for word in pieces.iter_mut().filter(|w| w.is_empty()) {
            word.push(self.unk);
        }
        Ok(pieces)
    }
}
