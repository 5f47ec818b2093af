"""Reference last hidden states from Hugging Face `transformers` for the encoder parity test.

Usage: bert_hidden_states.py ENCODER_DIR INPUTS.safetensors OUTPUT.safetensors

INPUTS holds `input_ids` and `attention_mask` (int64, B x T) built by the Rust side; OUTPUT gets
`last_hidden_state` (float32, B x T x d) from `transformers.BertModel` in eval mode, and `word_ids`
checks: for every sentence listed in INPUTS as `words_<i>` (utf-8 bytes, NUL-separated words), the
ids that the HF tokenizer gives with is_split_into_words=True, as `hf_ids_<i>`.
"""
import sys

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoTokenizer, BertModel


def main() -> None:
    encoder_dir, inputs_path, output_path = sys.argv[1:4]
    inputs = load_file(inputs_path)
    model = BertModel.from_pretrained(encoder_dir, add_pooling_layer=False, attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(encoder_dir)
    outputs = {}
    with torch.no_grad():
        hidden = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"]).last_hidden_state
    outputs["last_hidden_state"] = hidden.float().contiguous()
    for name, tensor in inputs.items():
        if name.startswith("words_"):
            words = bytes(tensor.tolist()).decode("utf-8").split("\0")
            ids = tokenizer(words, is_split_into_words=True, add_special_tokens=True)["input_ids"]
            outputs["hf_ids_" + name[len("words_"):]] = torch.tensor(ids, dtype=torch.int64)
    save_file(outputs, output_path)


if __name__ == "__main__":
    main()
