use tch::{Device, Tensor};

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
    /// For every token: the flat slot `b * (Q + 1) + slot` it pools into; padding tokens go to the
    /// extra slot Q, which is dropped. (B·T).
    slot_index: Tensor,
    dims: [i64; 3],
}

impl WordPooling {
    /// Builds the batch for sentences given as word pieces per word (each word non-empty).
    pub fn batch(&self, sentences: &[&[Vec<u32>]], device: Device) -> WordPoolingBatch {
        let b = sentences.len();
        let tokens = |s: &[Vec<u32>]| 2 + s.iter().map(Vec::len).sum::<usize>();
        let t = sentences.iter().map(|s| tokens(s)).max().unwrap_or(2);
        let q = sentences.iter().map(|s| s.len() + 2).max().unwrap_or(2);

        let mut ids = vec![i64::from(self.pad); b * t];
        let mut mask = vec![0i64; b * t];
        let mut slot_mask = vec![0f32; b * q];
        let mut slot_index = vec![0i64; b * t];
        for (i, sentence) in sentences.iter().enumerate() {
            let (row, slots) = (i * t, (i * (q + 1)) as i64);
            slot_index[row..row + t].fill(slots + q as i64);
            ids[row] = i64::from(self.cls);
            slot_index[row] = slots;
            let mut position = 1;
            for (w, pieces) in sentence.iter().enumerate() {
                for &id in pieces {
                    ids[row + position] = i64::from(id);
                    slot_index[row + position] = slots + w as i64 + 1;
                    position += 1;
                }
            }
            ids[row + position] = i64::from(self.sep);
            slot_index[row + position] = slots + sentence.len() as i64 + 1;
            mask[row..=row + position].fill(1);
            slot_mask[i * q..i * q + sentence.len() + 2].fill(1.0);
        }
        let (bi, ti, qi) = (b as i64, t as i64, q as i64);
        WordPoolingBatch {
            input_ids: Tensor::from_slice(&ids).view([bi, ti]).to_device(device),
            attention_mask: Tensor::from_slice(&mask).view([bi, ti]).to_device(device),
            slot_mask: Tensor::from_slice(&slot_mask).view([bi, qi]).to_device(device),
            n_words: sentences.iter().map(|s| s.len()).collect(),
            slot_index: Tensor::from_slice(&slot_index).to_device(device),
            dims: [bi, ti, qi],
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

    /// Pools encoder output (B, T, d) into the sentence matrix S (B, Q, d): each slot is the element-wise
    /// max of its tokens (`scatter_reduce` "amax", differentiable); padding slots are zero.
    pub fn pool(&self, hidden: &Tensor) -> Tensor {
        let [b, t, q] = self.dims;
        let d = hidden.size()[2];
        let slots = Tensor::zeros([b * (q + 1), d], (hidden.kind(), hidden.device()));
        let index = self.slot_index.unsqueeze(1).expand([b * t, d], false);
        // `internal_scatter_reduce` is ATen's `scatter_reduce.two` (with include_self).
        let pooled = slots.internal_scatter_reduce(0, &index, &hidden.reshape([b * t, d]), "amax", false);
        pooled.view([b, q + 1, d]).narrow(1, 0, q)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    #[test]
    fn slots_are_the_max_over_their_tokens_and_padding_is_zero() {
        let pooling = WordPooling { cls: 101, sep: 102, pad: 0 };
        let a: Vec<Vec<u32>> = vec![vec![7, 8, 9], vec![10]];
        let b: Vec<Vec<u32>> = vec![vec![11]];
        let batch = pooling.batch(&[&a, &b], Device::Cpu);
        assert_eq!(batch.input_ids.size(), [2, 6]);
        let ids: Vec<i64> = Vec::try_from(batch.input_ids.view([-1])).unwrap();
        assert_eq!(ids, [101, 7, 8, 9, 10, 102, 101, 11, 102, 0, 0, 0]);
        let hidden = Tensor::randn([2, 6, 4], (Kind::Float, Device::Cpu));
        let s = batch.pool(&hidden);
        assert_eq!(s.size(), [2, 4, 4]);
        let expect =
            |b: i64, tokens: &[i64]| Tensor::stack(&tokens.iter().map(|&t| hidden.get(b).get(t)).collect::<Vec<_>>(), 0).amax([0], false);
        let close = |x: Tensor, y: Tensor| (x - y).abs().max().double_value(&[]) < 1e-7;
        assert!(close(s.get(0).get(0), expect(0, &[0])), "CLS");
        assert!(close(s.get(0).get(1), expect(0, &[1, 2, 3])), "word of three pieces");
        assert!(close(s.get(0).get(2), expect(0, &[4])));
        assert!(close(s.get(0).get(3), expect(0, &[5])), "SEP");
        assert!(close(s.get(1).get(1), expect(1, &[1])));
        assert!(close(s.get(1).get(2), expect(1, &[2])), "SEP of the short sentence");
        assert_eq!(s.get(1).get(3).abs().sum(Kind::Float).double_value(&[]), 0.0, "padding slot");
        let mask: Vec<f32> = Vec::try_from(batch.slot_mask.view([-1])).unwrap();
        assert_eq!(mask, [1., 1., 1., 1., 1., 1., 1., 0.]);
    }
}
