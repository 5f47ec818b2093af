"""Writes a BERT encoder folder with random weights, for speed runs of encoders we cannot download here.

    .venv/bin/python benches/make_random_encoder.py OUT_DIR [--shape large|base]

`large` is BioLinkBERT-large's shape (24 layers, hidden 1024, 16 heads, intermediate 4096, 512
positions); `base` is BERT-base's. The vocabulary and tokenizer are the default encoder's (30,522 word
pieces; BioLinkBERT's own has 28,895, which changes nothing measurable). Weights are safetensors, fp32.
"""
import argparse
import os
import shutil
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")
import torch  # noqa: E402
from transformers import BertConfig, BertModel  # noqa: E402

SHAPES = {
    "large": dict(num_hidden_layers=24, hidden_size=1024, num_attention_heads=16, intermediate_size=4096),
    "base": dict(num_hidden_layers=12, hidden_size=768, num_attention_heads=12, intermediate_size=3072),
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("out")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="large")
    parser.add_argument("--tokenizer-from", default=os.path.join(os.path.dirname(__file__), "..", ".venv", "encoder"))
    args = parser.parse_args()
    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, max_position_embeddings=512, **SHAPES[args.shape])
    model = BertModel(config, add_pooling_layer=False)
    model.save_pretrained(args.out, safe_serialization=True)
    for name in ("tokenizer.json", "vocab.txt", "tokenizer_config.json", "special_tokens_map.json"):
        source = os.path.join(args.tokenizer_from, name)
        if os.path.exists(source):
            shutil.copy(source, os.path.join(args.out, name))
    n = sum(p.numel() for p in model.parameters())
    print(f"{args.out}: random BERT-{args.shape}, {n / 1e6:.0f}M parameters", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
