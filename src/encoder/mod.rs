//! The sentence encoder: any HF BERT-family checkpoint (`config.json`, `model.safetensors`,
//! `tokenizer.json`), and the alignment of its sub-words to our words.

mod bert;
mod encoder_files;
mod int8_linear;
mod subword_tokenizer;
mod word_pooling;

pub use bert::{load_hf_weights, BertConfig, BertEncoder, HiddenAct, PositionEmbeddingType};
pub use encoder_files::{default_encoder_dir, EncoderFiles};
pub use int8_linear::Int8Linear;
pub use subword_tokenizer::SubwordTokenizer;
pub use word_pooling::{WordPooling, WordPoolingBatch};
