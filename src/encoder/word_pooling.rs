use tch::{Device, Kind, Tensor};

/// How sub-word vectors become word vectors: the sentence matrix `S` of model.md §2 has one slot for
/// `[CLS]`, one per word (the element-wise max over its sub-word vectors), and one for `[SEP]`, so a
/// sentence of N words has Q = N + 2 slots.
#[derive(Debug, Clone, Copy)]
pub struct WordPooling {
    /// The `[CLS]` id.
    pub cls: u32,
    /// The `[SEP]` id.
    pub sep: u32,
    /// The `[PAD]` id.
    pub pad: u32,
}

/// A padded batch of sentences ready for the encoder, and the index that pools its output into words.
#[derive(Debug)]
pub struct WordPoolingBatch {
    /// Token ids, (B, T).
    pub input_ids: Tensor,
    /// 1 for tokens, 0 for padding, (B, T).
    pub attention_mask: Tensor,
    /// 1.0 for the slots of each sentence (CLS, words, SEP), 0.0 for padding, (B, Q).
    pub slot_mask: Tensor,
    /// Number of words of each sentence.
    pub n_words: Vec<usize>,
    /// For every (sentence, slot, piece): the flat position `b * T + t` of the token to take; (B·Q·K).
    gather_index: Tensor,
    dims: [i64; 4],
}

impl WordPooling {
    /// Builds the batch for sentences given as word pieces per word (each word non-empty).
    pub fn batch(&self, sentences: &[&[Vec<u32>]], device: Device) -> WordPoolingBatch {
        let b = sentences.len();
        let tokens = |s: &[Vec<u32>]| 2 + s.iter().map(Vec::len).sum::<usize>();
        let t = sentences.iter().map(|s| tokens(s)).max().unwrap_or(2);
        let q = sentences.iter().map(|s| s.len() + 2).max().unwrap_or(2);
        let k = sentences.iter().flat_map(|s| s.iter().map(Vec::len)).max().unwrap_or(1).max(1);

        let mut ids = vec![i64::from(self.pad); b * t];
        let mut mask = vec![0i64; b * t];
        let mut slot_mask = vec![0f32; b * q];
        let mut gather = vec![0i64; b * q * k];
        for (i, sentence) in sentences.iter().enumerate() {
            let row = i * t;
            let slot_of = |slot: usize| (i * q + slot) * k;
            ids[row] = i64::from(self.cls);
            let mut position = 1;
            for (w, pieces) in sentence.iter().enumerate() {
                let slot = slot_of(w + 1);
                for j in 0..k {
                    // Repeat the first piece to fill K: the max is unchanged.
                    let piece = if j < pieces.len() { j } else { 0 };
                    gather[slot + j] = (row + position + piece) as i64;
                }
                for &id in pieces {
                    ids[row + position] = i64::from(id);
                    position += 1;
                }
            }
            ids[row + position] = i64::from(self.sep);
            mask[row..=row + position].fill(1);
            gather[slot_of(0)..slot_of(0) + k].fill(row as i64);
            let sep_slot = slot_of(sentence.len() + 1);
            gather[sep_slot..sep_slot + k].fill((row + position) as i64);
            slot_mask[i * q..i * q + sentence.len() + 2].fill(1.0);
            for pad_slot in sentence.len() + 2..q {
                gather[slot_of(pad_slot)..slot_of(pad_slot) + k].fill(row as i64);
            }
        }
        let (bi, ti, qi, ki) = (b as i64, t as i64, q as i64, k as i64);
        WordPoolingBatch {
            input_ids: Tensor::from_slice(&ids).view([bi, ti]).to_device(device),
            attention_mask: Tensor::from_slice(&mask).view([bi, ti]).to_device(device),
            slot_mask: Tensor::from_slice(&slot_mask).view([bi, qi]).to_device(device),
            n_words: sentences.iter().map(|s| s.len()).collect(),
            gather_index: Tensor::from_slice(&gather).to_device(device),
            dims: [bi, ti, qi, ki],
        }
    }
}

impl WordPoolingBatch {
    /// Number of sentences.
    pub fn len(&self) -> usize {
        self.n_words.len()
    }

    /// Whether the batch has no sentence.
    pub fn is_empty(&self) -> bool {
        self.n_words.is_empty()
    }

    /// Pools encoder output (B, T, d) into the sentence matrix S (B, Q, d); padding slots are zero.
    pub fn pool(&self, hidden: &Tensor) -> Tensor {
        let [b, t, q, k] = self.dims;
        let d = hidden.size()[2];
        let pieces = hidden.reshape([b * t, d]).index_select(0, &self.gather_index).view([b, q, k, d]);
        let (words, _) = pieces.max_dim(2, false);
        words * self.slot_mask.unsqueeze(-1).to_kind(Kind::Float).to_kind(hidden.kind())
    }
}
